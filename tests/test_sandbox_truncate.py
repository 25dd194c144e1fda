"""The `truncate=N` fault must always leave a *detectably* broken export body.

A body cut exactly at a line boundary (after a ``\\n``), or just before one (a complete record
without its newline), would look like a shorter but valid export to a lenient client — a day
silently lost. The sandbox therefore cuts strictly inside a line: the body never ends with
``\\n`` and its last line is never a complete JSON object.
"""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import given, strategies as st

from mpql.sandbox._server import _truncate

_record = st.dictionaries(st.sampled_from("abcxyz"), st.integers() | st.text(max_size=6),
                          max_size=3).map(lambda d: json.dumps({"event": "e", "properties": d},
                                                              separators=(",", ":")).encode())


def _assert_detectably_cut(body: bytes, full: bytes) -> None:
    assert full.startswith(body)
    assert body and not body.endswith(b"\n"), body[-60:]
    *complete, partial = body.split(b"\n")
    assert all(isinstance(json.loads(line), dict) for line in complete)
    with pytest.raises(ValueError):
        json.loads(partial)


@given(lines=st.lists(_record, min_size=1, max_size=12), sizes=st.lists(st.integers(1, 200),
       min_size=1, max_size=6), data=st.data())
def test_cut_is_always_inside_a_line(lines, sizes, data):
    """Whatever the grouping of lines into blocks and the limit, the cut lands strictly
    inside a line."""
    full = b"".join(line + b"\n" for line in lines)
    # limits near a line boundary are the interesting ones: draw them often
    ends = [i for i, b in enumerate(full) if b == 0x0A]
    limit = data.draw(st.one_of(st.integers(1, len(full) + 50),
                                st.sampled_from(ends).flatmap(
                                    lambda e: st.integers(max(1, e - 1), e + 2))))
    # blocks of whole lines, as the dataset yields them, with varied grouping
    blocks, i, k = [], 0, 0
    while i < len(lines):
        n = sizes[k % len(sizes)] % 4 + 1
        blocks.append(b"".join(line + b"\n" for line in lines[i:i + n]))
        i, k = i + n, k + 1
    body = b"".join(_truncate(iter(blocks), limit))
    _assert_detectably_cut(body, full)
    assert abs(len(body) - min(limit, len(full))) <= len(full)  # never longer than the body
    if limit < len(full) - 2:
        assert abs(len(body) - limit) <= 2  # "after N bytes", give or take the boundary nudge


@given(lines=st.lists(_record, min_size=1, max_size=8), data=st.data())
def test_cut_inside_arbitrary_blocks(lines, data):
    """Blocks need not hold whole lines (a gzip/`where` path may split them anywhere)."""
    full = b"".join(line + b"\n" for line in lines)
    cuts = sorted(set(data.draw(st.lists(st.integers(1, len(full) - 1), max_size=6))))
    edges = [0, *cuts, len(full)]
    blocks = [full[a:b] for a, b in zip(edges, edges[1:])]
    limit = data.draw(st.integers(1, len(full) + 50))
    body = b"".join(_truncate(iter(blocks), limit))
    _assert_detectably_cut(body, full)


def _export(sb, **params):
    ds = sb.dataset
    params = {"project_id": sb.credentials.project_id, "from_date": ds.last_date.isoformat(),
              "to_date": ds.last_date.isoformat(), **params}
    return requests.get(f"{sb.url}/api/2.0/export", params=params,
                        headers={"Accept-Encoding": "identity"},
                        auth=(sb.credentials.username, sb.credentials.secret), timeout=10)


def test_truncate_at_every_line_boundary_over_http(sandbox):
    """The regression behind the flaky fault matrix: `truncate=N` with N at, just before and
    just after each newline of a real export body."""
    full = _export(sandbox, limit="6").content
    newlines = [i for i, b in enumerate(full) if b == 0x0A]
    assert len(newlines) == 6
    for nl in newlines:
        for limit in (nl - 1, nl, nl + 1, nl + 2):
            if limit < 1:
                continue
            sandbox.add_faults(f"export#1:truncate={limit}")
            body = _export(sandbox, limit="6").content
            sandbox.clear_faults()
            _assert_detectably_cut(body, full)

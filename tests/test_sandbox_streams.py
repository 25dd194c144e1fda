"""Properties of the byte-level stream helpers the server relies on instead of parsing lines."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mpql.sandbox._data import _DUMPS, _event_line, _read_line_blocks, event_name_of, to_ms_form
from mpql.sandbox._server import _terminate_early, _truncate

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)
# Property names that try to fool the regex: a nested {"properties": {"time": …}} object.
tricky = st.fixed_dictionaries({"properties": st.fixed_dictionaries({"time": st.integers(0, 10**10)})})
props = st.dictionaries(st.sampled_from(["a", "properties", "time\"", "x", '"properties":{"time":1}']),
                        st.one_of(json_values, tricky), max_size=4)
events = st.lists(st.tuples(st.text(max_size=15), st.integers(0, 4_000_000_000), st.integers(0, 999), props),
                  min_size=1, max_size=8)


@given(events)
def test_ms_form_equals_json_rewrite(evs):
    block = b"".join(_event_line(name, secs, p) + b"\n" for name, secs, _, p in evs)
    digits = [b"%03d" % ms for _, _, ms, _ in evs]
    expected = b"".join(
        _DUMPS({"event": name, "properties": {"time": secs * 1000 + ms, **p}}).encode() + b"\n"
        for name, secs, ms, p in evs
    )
    assert to_ms_form(block, digits) == expected
    no_sidecar = b"".join(
        _DUMPS({"event": name, "properties": {"time": secs * 1000, **p}}).encode() + b"\n"
        for name, secs, _, p in evs
    )
    assert to_ms_form(block, None) == no_sidecar


@given(events)
def test_event_name_without_parsing(evs):
    for name, secs, _, p in evs:
        line = _event_line(name, secs, p)
        assert event_name_of(line) == json.loads(line)["event"] == name


lines_st = st.lists(st.binary(min_size=1, max_size=30).map(lambda b: b.replace(b"\n", b"x") + b"\n"),
                    min_size=1, max_size=20)


def _blocks(lines, sizes):
    """Blocks of whole lines (what the dataset reader yields), ``sizes`` lines at a time."""
    out, i = [], 0
    for n in sizes:
        if i >= len(lines):
            break
        out.append(b"".join(lines[i:i + n]))
        i += n
    if i < len(lines):
        out.append(b"".join(lines[i:]))
    return out


@given(lines_st, st.lists(st.integers(1, 5), max_size=6), st.integers(1, 800))
def test_truncate_is_a_prefix_ending_mid_line(lines, sizes, limit):
    data = b"".join(lines)
    out = b"".join(_truncate(iter(_blocks(lines, sizes)), limit))
    assert data.startswith(out) and len(out) < len(data)
    assert out and not out.endswith(b"\n")  # never a clean line boundary: the cut is detectable

    def inside(p: int) -> bool:  # strictly inside a line: neither just after nor just before \n
        return 0 < p < len(data) and data[p - 1:p] != b"\n" and data[p:p + 1] != b"\n"

    if all(len(line) > 2 for line in lines):  # every line has a point strictly inside it
        assert inside(len(out))  # not even a complete line without its newline
        if limit < len(data) and inside(limit):
            assert len(out) == limit
        elif limit < len(data):  # moved off the boundary by a byte or two
            assert abs(len(out) - limit) <= 2
    elif limit < len(data):
        assert abs(len(out) - limit) <= 2 * max(map(len, lines))
    if limit >= len(data):  # a short body loses part of its last line, and nothing else
        assert len(out) > data.rstrip(b"\n").rfind(b"\n")


@given(lines_st, st.lists(st.integers(1, 5), max_size=6), st.integers(0, 25))
def test_terminate_early_keeps_n_whole_lines(lines, sizes, n):
    out = b"".join(_terminate_early(iter(_blocks(lines, sizes)), n))
    kept = lines[:n]
    assert out == b"".join(kept) + b"terminated early\n"


@given(lines_st, st.integers(1, 64))
def test_read_line_blocks_returns_whole_lines(tmp_path_factory, lines, block_size):
    path = tmp_path_factory.getbasetemp() / "blocks.jsonl"
    path.write_bytes(b"".join(lines))
    blocks = list(_read_line_blocks(path, block_size))
    assert b"".join(blocks) == b"".join(lines)
    assert all(b.endswith(b"\n") for b in blocks)

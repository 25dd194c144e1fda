"""Lint baselines: record today's findings so that only new ones are reported.

A baseline lets a codebase adopt ``mpql lint`` without fixing every old finding first
(``mpql lint --write-baseline FILE``, then ``mpql lint --baseline FILE`` in CI). Entries are
keyed by file, rule code and a *fingerprint* that does not contain line numbers, so edits
elsewhere in a file (lines inserted above, reformatting of other expressions) do not
un-baseline a finding. The fingerprint hashes:

- the rule code,
- the expression the finding is in, normalised: printed canonically (``wire`` style) when it
  parses, else with ``#`` comment lines dropped and whitespace runs collapsed,
- the flagged source text (the diagnostic's span, whitespace collapsed; for an empty span, the
  stripped source line).

Identical findings (same file, code and fingerprint) are told apart by an ``occurrence``
counter in source order; matching is a multiset subtraction, so N baselined copies hide at
most N current ones. File format (version 1)::

    {"version": 1, "tool": "mpql lint",
     "entries": [{"file": "queries/a.mpql", "code": "T001", "fingerprint": "…16 hex…",
                  "occurrence": 0, "message": "…"}]}

``file`` is relative to the baseline file's folder (POSIX separators) when the linted file is
under it, else as given. ``message`` is for people reading the file; it is not matched.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from functools import lru_cache
import json
import os
import re
from collections import Counter
from pathlib import Path

from ..errors import ConfigError, read_errors
from ..language.parser import parse
from ..language.printer import format_expr
from .extract import EVERYTHING, HostError, extract, file_kind

__all__ = ["VERSION", "fingerprint", "entries_for", "write_baseline", "load_baseline",
           "Baseline"]

VERSION = 1
_WS = re.compile(r"\s+")


def _collapse(text: str) -> str:
    return _WS.sub(" ", text).strip()


@lru_cache(maxsize=4096)  # several findings in one expression share one parse
def normalise_expression(text: str) -> str:
    try:
        return format_expr(parse(text), style="wire")
    except Exception:  # noqa: BLE001 - unparsable (or unprintable): fall back to the text
        lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
        return _collapse("\n".join(lines))


def _units(text: str, name: str, single: bool):
    if single:
        return [(0, len(text), text)]
    try:
        # Every call and JSON key counts here: a superset of the units the linter saw,
        # whatever the extraction config, so each finding finds its expression.
        units = extract(file_kind(name) if name not in ("<stdin>", "<expr>") else "mpql",
                        text, [], calls=EVERYTHING)
    except HostError:
        return []
    except Exception:  # noqa: BLE001 - a host the extractor cannot read: no expression context
        return []
    return [(u.start, u.end, u.text) for u in units]


def fingerprint(code: str, expression: str, flagged: str) -> str:
    data = "\x1f".join((code, normalise_expression(expression), _collapse(flagged)))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def _flagged(d, text: str) -> str:
    start, end = d.span.start, d.span.end
    if end > start:
        return text[start:end]
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    return text[line_start: len(text) if line_end < 0 else line_end]


def entries_for(diagnostics, text: str, name: str, key: str, *, single: bool = False) -> list:
    """Baseline entries ``(key, code, fingerprint, occurrence, message)`` of one source's
    diagnostics (all with spans in ``text``), in source order."""
    units = sorted(_units(text, name, single)) if diagnostics else []
    starts = [u[0] for u in units]
    seen: Counter = Counter()
    out = []
    for d in sorted(diagnostics, key=lambda d: (d.span.start, d.span.end, d.code)):
        expression = ""
        # The unit starting last at or before the finding (units do not overlap): a bisect,
        # not a scan, so a file with thousands of findings stays linear.
        i = bisect_right(starts, d.span.start) - 1
        if i >= 0:
            start, end, unit_text = units[i]
            if d.span.end <= max(end, start + 1):
                expression = unit_text
        fp = fingerprint(d.code, expression, _flagged(d, text))
        occurrence = seen[(d.code, fp)]
        seen[(d.code, fp)] += 1
        out.append((key, d.code, fp, occurrence, d.message, d))
    return out


def file_key(source_path: Path | None, name: str, base_dir: Path) -> str:
    """How a source is named in a baseline: relative to the baseline's folder if possible."""
    if source_path is None:
        return name
    absolute = Path(os.path.abspath(source_path))
    try:
        return absolute.relative_to(Path(os.path.abspath(base_dir))).as_posix()
    except ValueError:
        return absolute.as_posix()


def write_baseline(path: Path, entries) -> int:
    rows = [{"file": k, "code": c, "fingerprint": fp, "occurrence": n, "message": m}
            for k, c, fp, n, m, _ in sorted(entries, key=lambda e: e[:4])]
    data = {"version": VERSION, "tool": "mpql lint", "entries": rows}
    try:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"baseline {path}: cannot write: {exc.strerror}") from None
    return len(rows)


class Baseline:
    """The recorded findings, as a multiset of ``(file, code, fingerprint)``."""

    def __init__(self, path: Path, counts: Counter):
        self.path = path
        self.counts = counts

    def filter(self, entries, linted) -> tuple[list, int]:
        """(diagnostics not in the baseline, baseline entries that no longer match).

        Only entries of files in ``linted`` (the keys of this run's sources) can be stale: a
        pre-commit run lints only the changed files, and the others' entries are not fixed."""
        left = Counter(self.counts)
        new = []
        for key, code, fp, _, _, d in entries:
            k = (key, code, fp)
            if left[k] > 0:
                left[k] -= 1
            else:
                new.append(d)
        return new, sum(v for k, v in left.items() if v > 0 and k[0] in linted)


def load_baseline(path: Path) -> Baseline:
    def bad(what: str) -> ConfigError:
        return ConfigError(f"baseline {path}: {what}; write a new one with "
                           f"`mpql lint --write-baseline {path} …`")

    with read_errors(f"baseline {path}", ConfigError, expect="a JSON file",
                     missing_hint=f"; create it with `mpql lint --write-baseline {path} …`",
                     encoding_hint=f"; write a new one with `mpql lint --write-baseline {path} …`"):
        raw = path.read_text(encoding="utf-8")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise bad(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(data, dict) or "version" not in data:
        raise bad("expected a JSON object with a `version` field (an mpql lint baseline), "
                  f"found {type(data).__name__}" if not isinstance(data, dict) else
                  "expected a `version` field, found none")
    if data["version"] != VERSION:
        raise ConfigError(f"baseline {path}: version {data['version']!r} is not supported "
                          f"(this mpql reads version {VERSION}); regenerate it with "
                          f"`mpql lint --write-baseline {path} …`")
    rows = data.get("entries")
    if not isinstance(rows, list):
        raise bad(f"`entries` must be a list, found {type(rows).__name__}")
    counts: Counter = Counter()
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not all(
                isinstance(row.get(f), str) for f in ("file", "code", "fingerprint")):
            raise bad(f"entry {i} must be an object with string `file`, `code` and "
                      f"`fingerprint`, found {row!r}")
        counts[(row["file"], row["code"], row["fingerprint"])] += 1
    return Baseline(path, counts)

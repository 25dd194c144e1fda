"""Diagnostics: the one shape every finding takes, from a syntax error to a lint warning.

A :class:`Diagnostic` has a stable ``code``, a kebab-case ``name``, a ``severity``, a one-line
``message``, the ``span`` it points at in ``source``, an optional ``help`` line and an optional
:class:`Fix` (a list of :class:`Edit`). The parser raises them wrapped in ``ParseError``; the
checker returns lists of them; the CLI renders them in the formats ``mpql lint`` offers.

Rendering follows ruff's "full" format::

    E101 `===` is not an operator
     --> filters.mpql:3:17
      |
    3 | properties["a"] === 1
      |                 ^^^
      |
      = help: use `==`
"""

from __future__ import annotations

import bisect
from typing import Sequence

import attrs

from ._convert import to_tuple
from .language.ast import Span

__all__ = ["Diagnostic", "Edit", "Fix", "Severity", "line_col", "apply_edits"]


class Severity:
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    ALL = ("error", "warning", "info")


@attrs.frozen
class Edit:
    """Replace ``span`` of the source with ``replacement``."""

    span: Span
    replacement: str


@attrs.frozen
class Fix:
    message: str
    edits: tuple = attrs.field(converter=to_tuple)
    #: "safe" fixes keep meaning and run with --fix; "unsafe" need --unsafe-fixes.
    applicability: str = "safe"


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a 0-based ``offset`` in ``text``; columns count characters.

    For a long text (a whole file) the line starts are indexed once and kept for the last
    text seen: a file with thousands of diagnostics would otherwise be scanned from its start
    for each of them (quadratic)."""
    global _last_index
    offset = max(0, min(offset, len(text)))
    if len(text) > _INDEX_FROM:
        last = _last_index
        if last is None or last[0] is not text:
            last = _last_index = (text, LineIndex(text))
        return last[1].line_col(offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


_INDEX_FROM = 4096  # characters; below that a scan is cheaper than building an index
_last_index = None  # (text, its LineIndex): the text itself is kept so identity stays valid


class LineIndex:
    """Fast offset → (line, column) for a large file (one bisect per lookup)."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        pos = text.find("\n")
        while pos != -1:
            self.starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    def line_col(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


@attrs.frozen
class Diagnostic:
    code: str
    message: str
    span: Span
    #: The text the span indexes into (an expression, or a whole file).
    source: str = attrs.field(eq=False, repr=False)
    severity: str = Severity.ERROR
    name: str = ""
    help: str | None = None
    fix: Fix | None = None
    filename: str | None = None

    @property
    def line(self) -> int:
        return line_col(self.source, self.span.start)[0]

    @property
    def column(self) -> int:
        return line_col(self.source, self.span.start)[1]

    @property
    def end_line(self) -> int:
        return line_col(self.source, self.span.end)[0]

    @property
    def end_column(self) -> int:
        return line_col(self.source, self.span.end)[1]

    def with_source(self, source: str, offset: int, filename: str | None = None) -> "Diagnostic":
        """The same diagnostic re-anchored inside a larger text (e.g. an expression found at
        ``offset`` of a file), with fix edits moved along."""
        def move(span: Span) -> Span:
            return Span(span.start + offset, span.end + offset)

        fix = self.fix
        if fix is not None:
            fix = attrs.evolve(fix, edits=[Edit(move(e.span), e.replacement) for e in fix.edits])
        return attrs.evolve(
            self, span=move(self.span), source=source, fix=fix,
            filename=filename if filename is not None else self.filename,
        )

    def render(self, filename: str | None = None) -> str:
        """ruff-style block: code and message, location, the source line(s), carets, help."""
        name = filename or self.filename or "<expr>"
        line, col = self.line, self.column
        start = min(self.span.start, len(self.source))
        first = self.source.rfind("\n", 0, start) + 1
        last = self.source.find("\n", first)
        text_line = self.source[first:] if last == -1 else self.source[first:last]
        end_line, end_col = self.end_line, self.end_column
        if end_line != line:
            end_col = len(text_line) + 1
        width = max(1, end_col - col)
        gutter = " " * len(str(line))
        out = [
            f"{self.code} {self.message}",
            f"{gutter}--> {name}:{line}:{col}",
            f"{gutter} |",
            f"{line} | {text_line.expandtabs(1)}",
            f"{gutter} | {' ' * (col - 1)}{'^' * width}",
        ]
        if self.help:
            out.append(f"{gutter} |")
            out.append(f"{gutter} = help: {self.help}")
        return "\n".join(out)

    def render_concise(self, filename: str | None = None) -> str:
        name = filename or self.filename or "<expr>"
        return f"{name}:{self.line}:{self.column}: {self.code} {self.message}"

    def to_dict(self) -> dict:
        """The stable JSON shape (documented in docs/lint.md)."""
        fix = None
        if self.fix is not None:
            fix = {
                "message": self.fix.message,
                "applicability": self.fix.applicability,
                "edits": [
                    {
                        "start": _loc(self.source, e.span.start),
                        "end": _loc(self.source, e.span.end),
                        "content": e.replacement,
                    }
                    for e in self.fix.edits
                ],
            }
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "filename": self.filename,
            "location": _loc(self.source, self.span.start),
            "end_location": _loc(self.source, self.span.end),
            "help": self.help,
            "fix": fix,
        }


def _loc(text: str, offset: int) -> dict:
    line, col = line_col(text, offset)
    return {"row": line, "column": col, "offset": offset}


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits (any order); overlapping ones after the first are skipped,
    as ruff does, and picked up by the next pass of ``--fix``."""
    chosen: list[Edit] = []
    last_end = -1
    for edit in sorted(edits, key=lambda e: (e.span.start, e.span.end)):
        if edit.span.start < last_end:
            continue
        chosen.append(edit)
        last_end = edit.span.end
    out, pos = [], 0
    for edit in chosen:
        out.append(text[pos : edit.span.start])
        out.append(edit.replacement)
        pos = edit.span.end
    out.append(text[pos:])
    return "".join(out)

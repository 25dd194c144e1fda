"""Splitting ``.mpql`` files into expressions.

A ``.mpql`` file holds one or more expressions separated by blank lines (a line with nothing
but whitespace). An expression may span several lines; ``#`` starts a comment that runs to the
end of the line. A block that holds only comments (a file header, or a directive such as
``# mpql: endpoint=export``) is not an expression. Offsets are kept so that diagnostics point
into the file, not into the fragment.
"""

from __future__ import annotations

import attrs

from .._lazyre import LazyRegex

__all__ = ["Chunk", "split_mpql", "is_blank", "comment_start", "string_end"]

_COMMENT = LazyRegex(r"#[^\n]*")


@attrs.frozen
class Chunk:
    """One expression's text and the offset where it starts in the file."""

    text: str
    offset: int


def is_blank(text: str) -> bool:
    """True when ``text`` holds nothing but whitespace and comments."""
    return not _COMMENT.sub("", text).strip()


def string_end(text: str, start: int) -> int:
    """For the string literal whose quote (``"`` or ``'``) is at ``text[start]``: the offset
    of its closing quote, or — unterminated — of the newline or end of text where it stops
    (a string cannot span lines). Backslash escapes are skipped."""
    quote, i, n = text[start], start + 1, len(text)
    while i < n and text[i] != quote and text[i] != "\n":
        i += 2 if text[i] == "\\" else 1
    return min(i, n)


def comment_start(line: str) -> int | None:
    """Offset of the `#` that starts a comment on ``line`` (outside string literals, single-
    or double-quoted), or None."""
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in "\"'":
            i = string_end(line, i) + 1
        elif c == "#":
            return i
        else:
            i += 1
    return None


def split_mpql(text: str) -> list[Chunk]:
    chunks: list[Chunk] = []
    start = None  # offset of the first line of the current block
    pos = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            if start is None:
                start = pos
        elif start is not None:
            _add(chunks, text, start, pos)
            start = None
        pos += len(line)
    if start is not None:
        _add(chunks, text, start, len(text))
    return chunks


def _add(chunks: list[Chunk], text: str, start: int, end: int) -> None:
    block = text[start:end].rstrip("\r\n")
    if not is_blank(block):
        chunks.append(Chunk(block, start))

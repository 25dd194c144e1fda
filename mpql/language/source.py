"""Splitting ``.mpql`` files into expressions.

A ``.mpql`` file holds one or more expressions separated by blank lines (a line with nothing
but whitespace). An expression may span several lines; ``#`` starts a comment that runs to the
end of the line. A block that holds only comments (a file header, or a directive such as
``# mpql: endpoint=export``) is not an expression. Offsets are kept so that diagnostics point
into the file, not into the fragment.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["Chunk", "split_mpql", "is_blank"]

_COMMENT = re.compile(r"#[^\n]*")


@attrs.frozen
class Chunk:
    """One expression's text and the offset where it starts in the file."""

    text: str
    offset: int


def is_blank(text: str) -> bool:
    """True when ``text`` holds nothing but whitespace and comments."""
    return not _COMMENT.sub("", text).strip()


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

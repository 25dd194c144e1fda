"""Byte-level JSONL framing for export bodies, with Mixpanel's failure modes made explicit.

Why not ``Response.iter_lines()`` or ``str.splitlines()``: the former yields phantom empty lines
at chunk boundaries (psf/requests #2431 and friends) and the latter also splits on U+2028 and
other characters that are legal inside JSON strings (U+2028, U+2029, U+0085, …). We split the *bytes* on
``b"\\n"`` only and keep the unterminated tail for the next chunk.

A chunk of an export has failed (and must be retried as a whole) when:

* a line is the literal ``terminated early`` sentinel Mixpanel sometimes appends (docs/mixpanel-reference.md §3.3);
* the last line is not terminated (the body was cut): when it does not parse as a JSON object,
  and — unless the client was told otherwise — also when it does (a cut at a record boundary:
  Mixpanel ends every line with ``\n``, and a clean HTTP or gzip end does not prove that the
  export upstream finished; see ``_client`` and docs/executor.md);
* a gzip body ends before the gzip trailer (checked by the caller, see ``_client``);
* a middle line is not a JSON object (a record split across lines — retried, then reported).
"""

from __future__ import annotations

import json

from mpql.errors import TransportError

__all__ = ["LineSplitter", "StreamBroken", "check_line", "TERMINATED_EARLY", "dedupe_key"]

TERMINATED_EARLY = b"terminated early"


class StreamBroken(TransportError):
    """The body of a response was incomplete or malformed; the request should be retried."""


class LineSplitter:
    """Feed byte chunks, get complete lines (without ``\\n``); ``close()`` returns the tail."""

    __slots__ = ("_tail",)

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        if not chunk:
            return []
        data = self._tail + chunk if self._tail else chunk
        lines = data.split(b"\n")
        self._tail = lines.pop()
        return lines

    def feed_block(self, chunk: bytes) -> bytes:
        """Like ``feed``, but the complete lines come back as one block of bytes ending with
        ``\n`` (or ``b""``), without splitting them."""
        data = self._tail + chunk if self._tail else chunk
        cut = data.rfind(b"\n") + 1
        self._tail = data[cut:]
        return data[:cut]

    def close(self) -> bytes:
        tail, self._tail = self._tail, b""
        return tail


def check_line(line: bytes, *, last: bool = False, parse: bool = False):
    """Validate one line of an export body; returns the parsed record when ``parse`` is set
    (or when the cheap structural check is not conclusive), else ``None``.

    Raises ``StreamBroken`` for the sentinel or a line that is not a JSON object. The cheap
    check (starts with ``{``, ends with ``}``) is enough for a line that was terminated by
    ``\\n`` — the server finished writing it; an unterminated last line is always parsed,
    because a cut can happen right after an inner ``}``.
    """
    if line.endswith(b"\r"):
        line = line[:-1]
    if line == TERMINATED_EARLY:
        raise StreamBroken("the export stream ended with `terminated early` (Mixpanel aborted "
                           "the export part-way); the chunk will be retried")
    if not parse and not last and line[:1] == b"{" and line[-1:] == b"}":
        return None
    try:
        record = json.loads(line)
    except ValueError:
        what = "last line" if last else "a line"
        raise StreamBroken(
            f"the export stream's {what} is not complete JSON ({len(line)} bytes, "
            f"starting {line[:40]!r}); the body was truncated or a record was split"
        ) from None
    if not isinstance(record, dict):
        raise StreamBroken(f"expected a JSON object per line, found {type(record).__name__}")
    return record


def dedupe_key(record: dict) -> tuple:
    """Mixpanel's duplicate identity for exported events (docs/mixpanel-reference.md §3.3, [S12]):
    (event name, distinct_id, time, ``$insert_id``)."""
    props = record.get("properties") or {}
    return (
        record.get("event"),
        json.dumps(props.get("distinct_id"), sort_keys=True),
        json.dumps(props.get("time")),
        json.dumps(props.get("$insert_id")),
    )

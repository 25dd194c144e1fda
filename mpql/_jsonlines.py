"""The one JSON reader for user data files: `mpql filter`, the REPL's data loader and
`mpql schema infer` decode records with it, so a file means the same thing to all three.

Policy (docs/semantics.md, "Reading data files"):

* Only JSON: ``NaN``, ``Infinity`` and ``-Infinity`` (which Python's ``json`` accepts by
  default) are rejected, and so is a number too large for a double (``1e999``, which
  ``json`` would silently turn into infinity): Mixpanel's numbers are finite doubles, so no
  real export contains them, and accepting them would give values no Mixpanel filter can see.
  An integer of more than 4300 digits is rejected with a clear reason (Python's own limit).
* Lines are split on ``\\n`` only (``str.splitlines`` would also split inside a JSON string
  holding a raw U+2028, which JSON allows); a ``\\r`` before it, surrounding whitespace and a
  UTF-8 byte-order mark at the start of the file are not part of the record; blank lines are
  not records.
* ``terminated early`` on a line of its own is the sentinel Mixpanel appends to an export it
  could not finish (docs/mixpanel-reference.md §3.3): each reader reports it, never as a record.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import InputError

__all__ = ["JsonLineError", "loads", "TERMINATED_EARLY", "BOM"]

#: The line Mixpanel's export appends when it stopped before sending every event.
TERMINATED_EARLY = "terminated early"
BOM = "\ufeff"


class JsonLineError(InputError, ValueError):
    """Text that is not one JSON value under mpql's policy. ``reason`` says why (without a
    location: callers add the file and line); ``line`` (within the decoded text) and
    ``column`` are 1-based when known."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(reason if column is None else f"{reason} (column {column})")
        self.reason = reason
        self.line = line
        self.column = column


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON (Mixpanel has no NaN or infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if value - value != 0:  # inf - inf is nan
        raise ValueError(f"the number {text[:40]} is out of range (Mixpanel numbers are doubles)")
    return value


# One decoder for every line: json.loads(line, parse_constant=…) would build one per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def loads(text: str) -> Any:
    """One JSON value (a line, or a whole document) under the policy above."""
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise JsonLineError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise JsonLineError("nested too deeply") from None
    except ValueError as exc:
        message = str(exc)
        if "integer string conversion" in message:  # Python's guard against huge ints
            message = "an integer with more than 4300 digits (Mixpanel numbers are doubles)"
        raise JsonLineError(message.splitlines()[0] if message else "not valid JSON") from None

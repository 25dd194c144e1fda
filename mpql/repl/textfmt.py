"""Small text helpers for the REPL's reports: aligned columns, counts, values, times."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

__all__ = ["align", "plural", "fmt_json", "as_datetime", "fmt_time"]


_NUMERIC = re.compile(r"[\d,.]+%?\Z")


def align(rows: list[list[str]], width: int = 160, *, header: bool = False) -> list[str]:
    """Rows of columns as lines, columns padded to a common width, lines cut at ``width``.
    Numeric columns are right-aligned; ``header``: the first row names the columns (it does
    not make a numeric column textual)."""
    widths: dict[int, int] = {}
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths.get(i, 0), len(cell))
    body = rows[1:] if header else rows
    numeric = {i for i in widths
               if all(i >= len(row) or row[i] == "" or _NUMERIC.match(row[i]) for row in body)
               and any(i < len(row) and row[i] != "" for row in body)}
    lines = []
    for row in rows:
        line = "  ".join(cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
                         for i, cell in enumerate(row)).rstrip()
        lines.append(line if len(line) <= width else line[: width - 1] + "…")
    return lines


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def fmt_json(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def as_datetime(value) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    seconds = value / 1000 if value > 4294967295 else value  # ms above 2^32, like datetime()
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def fmt_time(value) -> str:
    dt = as_datetime(value)
    return dt.strftime("%Y-%m-%d %H:%M:%S") if dt else f"time={fmt_json(value)}"

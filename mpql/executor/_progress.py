"""A one-line progress display on stderr: units, records, bytes, retries, rate, ETA.

Shown only when stderr is a terminal (and not ``--quiet``), redrawn at most 5 times a second
with ``\\r``. No dependency: the line is small and a library (tqdm, rich) would add start-up
time to every ``mpql run`` for what is a dozen lines here. It never shows a request — only
counters — so no secret can reach it.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

__all__ = ["Progress"]


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


class Progress:
    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None,
                 interval: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.interval = interval
        self._last = 0.0
        self._width = 0
        self._lock = threading.Lock()  # called from the run and from its ticker thread

    def render(self, stats) -> str:
        elapsed = max(time.monotonic() - stats.started, 1e-6)
        total = stats.units_total
        units = f"{stats.units_done}/{total}" if total else f"{stats.units_done}"
        eta = ""
        if total and stats.units_done:
            left = elapsed / stats.units_done * (total - stats.units_done)
            eta = f", ETA {left:.0f}s"
        return (f"mpql: {units} chunks/pages, {stats.records:,} records, {_size(stats.bytes)} "
                f"({_size(stats.bytes / elapsed)}/s), {stats.retries} retries{eta}")

    def __call__(self, stats, *, force: bool = False) -> None:
        if not self.enabled:
            return
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last < self.interval:
                return
            self._last = now
            line = self.render(stats)
            pad = max(0, self._width - len(line))
            self._width = len(line)
            self.stream.write("\r" + line + " " * pad)
            self.stream.flush()

    def close(self, stats) -> None:
        if self.enabled:
            self(stats, force=True)
            self.stream.write("\n")
            self.stream.flush()

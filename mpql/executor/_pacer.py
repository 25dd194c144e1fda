"""Client-side pacing: stay inside Mixpanel's rate limits instead of provoking 429s.

Mixpanel documents (docs/mixpanel-reference.md §3.4, §5.4): the Raw Export API allows 60 requests per hour, 3 per
second and 100 concurrent; the Query API (which includes ``/engage``) 60 per hour and 5
concurrent, per project, where engage pages that carry a ``session_id`` are not counted.
Projects on some plans have raised quotas, so every number is a field of ``Limits``.

Each rate limit is a sliding-window log (at most *limit* sends in any window of *period*
seconds). That is at least as strict as the fixed windows a server may use, and a small
``margin`` (a fraction of each window) absorbs the difference between our send time and the
server's arrival time. The clock and sleep are injectable for tests; ``hour``/``second`` let a
test shrink time to match a sandbox running with a scaled clock.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from typing import Callable, Iterator

import attrs

from ..errors import ArgumentError

__all__ = ["Limits", "Pacer"]


@attrs.frozen
class Limits:
    """Rate limits and parallelism. Defaults are Mixpanel's documented limits.

    ``workers``: how many export date chunks are downloaded at once (further bounded by
    ``export_concurrency``); engage pages after the first use up to ``query_concurrency``.
    ``hour`` and ``second``: the length of those windows in seconds (scale them down only to
    match a sandbox whose clock is scaled the same way). Each window is lengthened by
    ``margin`` (a fraction) plus ``slack`` (seconds): the server counts a request when it
    arrives, which can be a few milliseconds after we sent it, and two requests can arrive in
    another order or closer together than they were sent (thread scheduling, network).
    """

    export_per_second: int = 3
    export_per_hour: int = 60
    export_concurrency: int = 100
    query_per_hour: int = 60
    query_concurrency: int = 5
    workers: int = 4
    hour: float = 3600.0
    second: float = 1.0
    margin: float = 0.02
    slack: float = 0.02

    @classmethod
    def scaled(cls, factor: float, **overrides) -> "Limits":
        """Mixpanel's limits with every window multiplied by ``factor`` (e.g. 1/1000)."""
        return cls(hour=3600.0 * factor, second=1.0 * factor, **overrides)

    def minimum_duration(self, requests: int, rate_class: str = "export") -> float:
        """Least wall time between the first and the last of ``requests`` paced requests.

        Sending each request as early as every window allows (which is what the pacer does)
        is optimal for sliding windows, so this simulates it with this ``margin`` and
        ``slack`` (use ``margin=0, slack=0`` for the bound the server's limits allow).
        """
        if requests <= 0:
            return 0.0
        windows = ([_Window(self.export_per_second, self.second),
                    _Window(self.export_per_hour, self.hour)] if rate_class == "export"
                   else [_Window(self.query_per_hour, self.hour)])
        now = 0.0
        for _ in range(requests):
            now += max(0.0, max(w.wait(now, self.margin, self.slack) for w in windows))
            for w in windows:
                w.times.append(now)
        return now


class _Window:
    """At most ``limit`` events in any ``period`` seconds (a sliding log of send times)."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.times: collections.deque[float] = collections.deque()

    def wait(self, now: float, margin: float, slack: float = 0.0) -> float:
        span = self.period * (1.0 + margin) + slack
        while self.times and self.times[0] <= now - span:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + span - now


class Pacer:
    """Hands out permission to send: a concurrency slot plus a token from every rate window.

    ``slot(rate_class, counted=True)`` is a context manager held for the whole request
    (including streaming the body, because a concurrent query lasts until its response ends).
    ``counted=False`` skips the rate windows (engage pages with a ``session_id``).
    """

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits = limits or Limits()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._windows = {
            "export": [_Window(limits.export_per_second, limits.second),
                       _Window(limits.export_per_hour, limits.hour)],
            "query": [_Window(limits.query_per_hour, limits.hour)],
        }
        self._slots = {
            "export": threading.BoundedSemaphore(max(1, limits.export_concurrency)),
            "query": threading.BoundedSemaphore(max(1, limits.query_concurrency)),
        }
        self.waited = 0.0  # total seconds spent waiting for a rate token (for progress)
        self.sent = collections.Counter()

    def _take(self, rate_class: str, sleep: Callable[[float], None]) -> None:
        windows = self._windows[rate_class]
        while True:
            with self._lock:
                now = self._clock()
                wait = max(w.wait(now, self.limits.margin, self.limits.slack) for w in windows)
                if wait <= 0:
                    for w in windows:
                        w.times.append(now)
                    self.sent[rate_class] += 1
                    return
                self.waited += wait
            sleep(wait)

    @contextlib.contextmanager
    def slot(self, rate_class: str, counted: bool = True,
             sleep: Callable[[float], None] | None = None) -> Iterator[None]:
        if rate_class not in self._windows:
            raise ArgumentError(f"rate class: expected 'export' or 'query', found {rate_class!r}")
        sem = self._slots[rate_class]
        sem.acquire()
        try:
            if counted:
                self._take(rate_class, sleep or self._sleep)
            yield
        finally:
            sem.release()

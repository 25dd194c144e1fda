"""Rate limits as Mixpanel documents them, on a clock that tests can speed up.

Query API (engage): 60 requests per hour and 5 concurrent, per project. Export: 60 per hour,
3 per second, 100 concurrent. Accounting follows the official client's notes (docs/mixpanel-reference.md §5.4):
requests rejected with 429 do not count, nor do 401s (authentication runs first); engage pages
that carry a ``session_id`` do not count against the hourly budget (they do occupy a concurrency
slot). Windows slide: a request counts for exactly one window length after it was accepted.

``time_scale`` multiplies every window: with ``time_scale=0.001`` an hour lasts 3.6 s and a
second 1 ms. Header values (``w=``, ``t=``, ``Retry-After``) are given in scaled, real seconds,
rounded up, because that is what a client has to wait.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Callable

import attrs

from ..errors import ArgumentError

__all__ = ["Limits", "RateLimiter", "Rejection"]


@attrs.frozen
class Limits:
    """Quotas per project (None = no limit). ``retry_after``: whether natural 429s carry a
    ``Retry-After`` header (Mixpanel's behaviour is disputed, docs/mixpanel-reference.md §5.4; the RateLimit and
    RateLimit-Policy headers are always sent)."""

    query_per_hour: int | None = 60
    query_concurrent: int | None = 5
    export_per_hour: int | None = 60
    export_per_second: int | None = 3
    export_concurrent: int | None = 100
    retry_after: bool = True

    @classmethod
    def unlimited(cls) -> Limits:
        return cls(None, None, None, None, None)


@attrs.frozen
class Rejection:
    """Why a request got a 429: which limit, the message and the headers to send."""

    limit: str  # "hour", "second" or "concurrency"
    message: str
    headers: tuple  # ((name, value), …)


class _Window:
    """At most ``quota`` requests whose arrival times lie within ``seconds`` of each other."""

    #: how long (real seconds) a stamp is kept beyond its window, for requests that arrived
    #: earlier but reach the limiter later (a thread that was slow to get here).
    LATE_SLACK = 5.0

    def __init__(self, quota: int, seconds: float) -> None:
        self.quota, self.seconds = quota, seconds
        # Arrival times, sorted. Requests are admitted in the order their threads get here,
        # which is not always the order they arrived in, hence insort rather than append.
        self.stamps: list[float] = []

    def _first_in_window(self, at: float) -> int:
        return bisect.bisect_right(self.stamps, at - self.seconds)

    def remaining(self, at: float) -> int:
        return max(0, self.quota - (len(self.stamps) - self._first_in_window(at)))

    def reset_in(self, at: float) -> float:
        i = self._first_in_window(at)
        return max(0.0, self.stamps[i] + self.seconds - at) if i < len(self.stamps) else 0.0

    def add(self, at: float, now: float) -> None:
        bisect.insort(self.stamps, at)
        cut = bisect.bisect_right(self.stamps, now - self.seconds - self.LATE_SLACK)
        if cut:
            del self.stamps[:cut]


class _Class:
    """The limits of one API family ("query" or "export")."""

    def __init__(self, name, per_hour, per_second, concurrent, scale) -> None:
        self.name = name
        self.hour = _Window(per_hour, 3600 * scale) if per_hour is not None else None
        self.second = _Window(per_second, 1 * scale) if per_second is not None else None
        self.concurrent = concurrent
        self.in_flight = 0


def _ceil(seconds: float) -> int:
    return max(0, math.ceil(seconds - 1e-9))


class RateLimiter:
    def __init__(self, limits: Limits, time_scale: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if time_scale <= 0:
            raise ArgumentError(f"time_scale must be > 0, found {time_scale}")
        self.limits = limits
        self.scale = time_scale
        self._clock = clock
        self._lock = threading.Lock()
        self._classes = {
            "query": _Class("project", limits.query_per_hour, None, limits.query_concurrent, time_scale),
            "export": _Class("export", limits.export_per_hour, limits.export_per_second,
                             limits.export_concurrent, time_scale),
        }

    def acquire(self, rate_class: str, *, counts: bool = True, at: float | None = None) -> Rejection | None:
        """Admit a request (None) or say why not. An admitted request holds a concurrency slot
        until ``release``; ``counts=False`` skips the hourly budget (engage pages > 0). ``at``
        is when the request arrived (on this limiter's clock; default: now) — the server
        passes the moment it read the request line, so the time spent reading headers, body
        and checking credentials does not shift a request into a later window."""
        c = self._classes[rate_class]
        with self._lock:
            clock_now = self._clock()
            now = clock_now if at is None else min(at, clock_now)
            if c.concurrent is not None and c.in_flight >= c.concurrent:
                return self._reject(c, now, "concurrency",
                                    f"Too many concurrent requests: at most {c.concurrent} "
                                    f"concurrent {rate_class} requests per project", retry=1)
            if c.second is not None and c.second.remaining(now) <= 0:
                return self._reject(c, now, "second",
                                    f"Rate limit exceeded: at most {c.second.quota} {rate_class} "
                                    "requests per second per project", retry=c.second.reset_in(now))
            if counts and c.hour is not None and c.hour.remaining(now) <= 0:
                return self._reject(c, now, "hour",
                                    f"Rate limit exceeded: at most {c.hour.quota} {rate_class} "
                                    "requests per hour per project", retry=c.hour.reset_in(now))
            if c.second is not None:
                c.second.add(now, clock_now)
            if counts and c.hour is not None:
                c.hour.add(now, clock_now)
            c.in_flight += 1
            return None

    def release(self, rate_class: str) -> None:
        with self._lock:
            self._classes[rate_class].in_flight -= 1

    def policy_headers(self, rate_class: str, tripped: str | None = None) -> list[tuple[str, str]]:
        """RateLimit-Policy and RateLimit headers describing every limit of the class."""
        c = self._classes[rate_class]
        with self._lock:
            return self._headers(c, self._clock(), tripped)

    def _headers(self, c: _Class, now: float, tripped: str | None) -> list[tuple[str, str]]:
        policy, state = [], []
        if c.hour is not None:
            policy.append(f'"{c.name}";q={c.hour.quota};w={max(1, _ceil(c.hour.seconds))}')
            r = 0 if tripped == "hour" else c.hour.remaining(now)
            state.append(f'"{c.name}";r={r};t={_reset(c.hour, now, tripped == "hour")}')
        if c.second is not None:
            policy.append(f'"{c.name}-second";q={c.second.quota};w={max(1, _ceil(c.second.seconds))}')
            r = 0 if tripped == "second" else c.second.remaining(now)
            state.append(f'"{c.name}-second";r={r};t={_reset(c.second, now, tripped == "second")}')
        if c.concurrent is not None:
            policy.append(f'"{c.name}-concurrency";q={c.concurrent};qu="concurrent-requests"')
            r = 0 if tripped == "concurrency" else max(0, c.concurrent - c.in_flight)
            state.append(f'"{c.name}-concurrency";r={r}')
        headers = []
        if policy:
            headers.append(("RateLimit-Policy", ", ".join(policy)))
            headers.append(("RateLimit", ", ".join(state)))
        return headers

    def _reject(self, c: _Class, now: float, limit: str, message: str, retry: float) -> Rejection:
        headers = self._headers(c, now, limit)
        if self.limits.retry_after:
            headers.append(("Retry-After", str(max(1, _ceil(retry)))))
        return Rejection(limit, message, tuple(headers))


def _reset(window, now: float, tripped: bool) -> int:
    """``t`` of a RateLimit item. On the limit that tripped it is at least 1, like Retry-After:
    an injected 429 on an empty window would otherwise say "r=0, free again in 0 s" and invite
    an immediate retry."""
    t = _ceil(window.reset_in(now))
    return max(1, t) if tripped else t

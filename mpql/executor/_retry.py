"""When and how long to wait before retrying a Mixpanel request.

One small, immutable policy object (the design of google-api-core's ``Retry``) instead of
urllib3's ``Retry``: the executor must retry things urllib3 cannot see (a stream that ended
with ``terminated early``, a truncated last line), and two retry layers would multiply.
The transport therefore runs with urllib3 retries off and every decision is made here.

Backoff is AWS "full jitter": attempt *n* (0-based) sleeps ``uniform(0, min(cap, base·2ⁿ))``.
A ``Retry-After`` header, when Mixpanel sends one, replaces the computed delay (capped at
``retry_after_max``). The clock, the sleep function and the random generator are injectable so
that tests of the policy take no wall time.
"""

from __future__ import annotations

import email.utils
import random
import time
from typing import Callable

import attrs

from .._convert import to_frozenset
from ..errors import ArgumentError

__all__ = ["RetryPolicy", "RETRYABLE_STATUSES", "parse_retry_after"]

#: Statuses worth retrying: rate limited, or a server-side problem that is usually transient.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@attrs.frozen
class RetryPolicy:
    """Retry budget and backoff.

    ``max_attempts``: total tries of one request (first try included). ``base`` and ``cap``:
    full-jitter backoff bounds in seconds. ``retry_after_max``: a server-sent ``Retry-After``
    longer than this is clamped (a misbehaving proxy must not park a run for hours).
    ``deadline``: seconds for the whole run (``None``: no deadline); a retry whose wait would
    end past it raises ``DeadlineExceeded`` instead of sleeping.
    """

    max_attempts: int = attrs.field(default=8)
    base: float = 1.0
    cap: float = 60.0
    retry_after_max: float = 120.0
    deadline: float | None = None
    statuses: frozenset = attrs.field(default=RETRYABLE_STATUSES, converter=to_frozenset)
    rng: random.Random = attrs.field(factory=random.Random, eq=False, repr=False)
    clock: Callable[[], float] = attrs.field(default=time.monotonic, eq=False, repr=False)
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False, repr=False)

    @max_attempts.validator
    def _check_attempts(self, attribute, value):
        if value < 1:
            raise ArgumentError(f"max_attempts: expected an integer >= 1, found {value!r}")

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_max))
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 62)))
        return self.rng.uniform(0.0, ceiling)

    def with_(self, **changes) -> "RetryPolicy":
        return attrs.evolve(self, **changes)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; ``None`` if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))

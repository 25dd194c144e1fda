"""Time buckets in the project timezone: the series of an aggregate answer.

A ``Buckets`` holds the start instants (Unix seconds) of consecutive buckets covering
``from_date 00:00`` to ``to_date 24:00`` local time, and their labels. ``index(t)`` is one
``bisect`` — the only per-event cost of bucketing. Buckets are cut in local wall-clock time
(zoneinfo), so a DST day has 23 or 25 hour buckets and every day starts at local midnight.

Labels (``Semantics.bucket_label``): "mixpanel" gives ``2024-01-31`` for day/week/month
(week: its first day, month: the 1st) and ``2024-01-31 13:00:00`` for hours and minutes;
"iso" gives ``2024-01-31T13:00:00`` for hours and minutes.
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_right
from typing import Sequence

from ..evaluator.semantics import resolve_timezone

__all__ = ["Buckets", "local_midnight", "add_months"]


def local_midnight(day: _dt.date, tz) -> int:
    """Unix seconds of ``day`` 00:00 in ``tz`` (the first instant of that local day)."""
    return _to_seconds(_dt.datetime(day.year, day.month, day.day, tzinfo=tz))


def _to_seconds(local: _dt.datetime) -> int:
    return int(local.timestamp())


def add_months(day: _dt.date, n: int) -> _dt.date:
    """First of the month ``n`` months after ``day``'s month."""
    m = day.month - 1 + n
    return _dt.date(day.year + m // 12, m % 12 + 1, 1)


def _week_start(day: _dt.date, week_start: str) -> _dt.date:
    shift = day.weekday() if week_start == "monday" else (day.weekday() + 1) % 7
    return day - _dt.timedelta(days=shift)


class Buckets:
    """Consecutive time buckets. ``starts``: Unix seconds of each bucket's first instant
    plus one final end instant; ``labels``: one per bucket."""

    __slots__ = ("starts", "labels", "unit", "tz", "n", "_end")

    def __init__(self, starts: Sequence[int], labels: Sequence[str], unit: str, tz) -> None:
        self.starts = list(starts)
        self.labels = list(labels)
        self.unit = unit
        self.tz = tz
        self.n = len(self.labels)
        self._end = self.starts[-1]

    @classmethod
    def make(cls, from_date: _dt.date, to_date: _dt.date, unit: str = "day", *,
             interval: int | None = None, timezone="UTC", label: str = "mixpanel",
             week_start: str = "monday") -> "Buckets":
        """Buckets of ``unit`` (minute/hour/day/week/month) covering the local dates
        ``from_date..to_date``; ``interval`` N (days) instead makes N-day buckets starting at
        ``from_date``. Week and month buckets start on the week's / month's first day, which
        may precede ``from_date``; events before ``from_date`` are still outside the series."""
        tz = resolve_timezone(timezone)
        first = local_midnight(from_date, tz)
        end = local_midnight(to_date + _dt.timedelta(days=1), tz)
        starts: list[int] = []
        labels: list[str] = []
        if interval is not None:
            day = from_date
            while day <= to_date:
                starts.append(local_midnight(day, tz))
                labels.append(day.isoformat())
                day += _dt.timedelta(days=interval)
        elif unit in ("day", "week", "month"):
            if unit == "day":
                day, step = from_date, (lambda d: d + _dt.timedelta(days=1))
            elif unit == "week":
                day = _week_start(from_date, week_start)
                step = (lambda d: d + _dt.timedelta(days=7))
            else:
                day, step = from_date.replace(day=1), (lambda d: add_months(d, 1))
            while day <= to_date:
                starts.append(local_midnight(day, tz))
                labels.append(day.isoformat())
                day = step(day)
            starts[0] = max(starts[0], first)  # the series begins at from_date
        elif unit in ("hour", "minute"):
            width = 3600 if unit == "hour" else 60
            sep = "T" if label == "iso" else " "
            t = first
            while t < end:
                starts.append(t)
                local = _dt.datetime.fromtimestamp(t, tz)
                labels.append(local.strftime(f"%Y-%m-%d{sep}%H:%M:00"))
                t += width
        else:  # pragma: no cover - units are validated before
            raise ValueError(f"unknown unit {unit!r}")
        starts.append(end)
        return cls(starts, labels, unit if interval is None else "interval", tz)

    def index(self, seconds) -> int:
        """The bucket of an instant, or -1 outside the series."""
        if seconds < self.starts[0] or seconds >= self._end:
            return -1
        return bisect_right(self.starts, seconds) - 1

    @property
    def first_instant(self) -> int:
        return self.starts[0]

    @property
    def end_instant(self) -> int:
        return self._end

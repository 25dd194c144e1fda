"""/retention (birth and compounded) and /retention/addiction (frequency) from raw events.

Answer shapes (docs.mixpanel.com/reference/retention-query, …/retention-frequency-query)::

    retention   {date: {"counts": [c0, c1, …, c_interval_count], "first": cohort size}}
                with on: {segment: {date: {...}}}                       (UNCONFIRMED shape)
    addiction   {"data": {date: [users active in ≥1, ≥2, … addiction units]}}
                with on: {"data": {date: {segment: [...]}}}             (UNCONFIRMED shape)

Users are told apart by ``distinct_id``; events without one cannot belong to a user and are
not counted. Which choices are UNCONFIRMED, and the switch for each: docs/aggregates.md.
"""

from __future__ import annotations

import datetime as _dt
import math

from ..errors import QueryError
from . import _params as P
from ._common import Compiled, compile_optional, distinct_id_of, semantics_of, timed, top_segments
from ._time import Buckets, local_midnight

__all__ = ["retention", "frequency"]

_UNIT_SECONDS = {"day": 86400, "week": 7 * 86400}


def _buckets(start, end, unit, sem, timezone):
    tz = sem.timezone if timezone is None else timezone
    try:
        return Buckets.make(start, end, unit, timezone=tz, label=sem.bucket_label,
                            week_start=sem.week_start)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


class _Intervals:
    """Which retention interval (0, 1, …) a return at ``t`` falls in, for a birth at ``b``."""

    def __init__(self, unit, interval, mode, tz, week_start):
        self.unit, self.interval, self.mode, self.tz = unit, interval, mode, tz
        self.week_start = week_start

    def _local(self, t):
        return _dt.datetime.fromtimestamp(t, self.tz)

    def number(self, b, t) -> int:
        if t < b:
            return -1
        unit, every = self.unit, self.interval
        if self.mode == "elapsed":
            if unit in _UNIT_SECONDS:
                return int((t - b) // (_UNIT_SECONDS[unit] * every))
            lb, lt = self._local(b), self._local(t)
            months = (lt.year - lb.year) * 12 + lt.month - lb.month
            # not a whole month yet if the day/time of month has not come round again
            if (lt.day, lt.time()) < (lb.day, lb.time()):
                months -= 1
            return months // every
        db, dt_ = self._local(b).date(), self._local(t).date()
        if unit == "day":
            diff = (dt_ - db).days
        elif unit == "week":
            shift = 0 if self.week_start == "monday" else 1
            diff = ((dt_.toordinal() + 6 + shift) // 7) - ((db.toordinal() + 6 + shift) // 7)
            # toordinal 1 is a Monday; (ordinal + 6) // 7 numbers Monday-based weeks
        else:
            diff = (dt_.year - db.year) * 12 + dt_.month - db.month
        return diff // every


def retention(events, *, from_date, to_date, retention_type="birth", born_event=None,
              event=None, born_where=None, where=None, interval=1, interval_count=1,
              unit="day", unbounded_retention=False, on=None, limit=None, profiles=None,
              semantics=None, timezone=None, now=None) -> dict:
    """Mixpanel's /retention answer computed from raw export lines.

    Birth retention: each user's birth is their first ``born_event`` (passing ``born_where``)
    in ``from_date..to_date``; the cohort is the ``unit`` bucket of the birth. ``counts[n]``
    is how many of the cohort did ``event`` (any event if None; passing ``where``) in interval
    ``n`` (n = 0 … ``interval_count``; an interval is ``interval`` units) after their birth,
    the birth event itself excepted. Compounded retention: every bucket in which a user did
    ``event`` makes them a member of that bucket's cohort, born at their first such event
    there. ``unbounded_retention``: ``counts[n]`` counts users who came back in interval n or
    any later one. ``on`` segments users by its value on their birth event."""
    start, end = P.check_range(from_date, to_date)
    sem = semantics_of(semantics)
    P.check_choice("retention_type", retention_type, ("birth", "compounded"),
                   endpoint="retention")
    P.check_unit("retention", unit, server=False)
    interval = P.check_int("interval", 1 if interval is None else interval, 1,
                           P.MAX_RETENTION_DAYS if unit == "day" else None,
                           hint="Mixpanel's limit for daily intervals")
    interval_count = P.check_int("interval_count", 1 if interval_count is None else interval_count,
                                 1, 10_000)
    unbounded = P.check_bool("unbounded_retention", unbounded_retention)
    if retention_type == "birth":
        if not isinstance(born_event, str) or not born_event:
            raise QueryError("birth retention needs born_event= (the event that puts a user "
                             "in a cohort); or use retention_type='compounded'")
    for name, value in (("event", event),):
        if value is not None and (not isinstance(value, str) or not value):
            raise QueryError(f"{name} must be an event name, got {value!r}")
    limit = P.check_limit("retention", limit, on is not None, strict=False)
    buckets = _buckets(start, end, unit, sem, timezone)
    compiled = Compiled(where, on, semantics=sem, profiles=profiles, now=now)
    born_keep = compile_optional("born_where", born_where, sem, compiled.profiles, now)
    where_keep = compiled.keep
    where_on_return = sem.retention_where in ("return", "both")
    where_on_born = sem.retention_where in ("born", "both")
    birth = retention_type == "birth"
    value, key = compiled.value, compiled.key
    lo, hi = buckets.first_instant, buckets.end_instant

    users: dict = {}
    for _n, name, t, rec, props in timed(events):
        did = distinct_id_of(props)
        if did is None:
            continue
        is_return = (event is None or name == event) and (
            not where_on_return or where_keep is None or where_keep(rec))
        if birth:
            is_born = name == born_event and (born_keep is None or born_keep(rec)) and (
                not where_on_born or where_keep is None or where_keep(rec))
        else:
            is_born = is_return and lo <= t < hi
        if not (is_born or is_return):
            continue
        k = key(value(rec)) if (value is not None and is_born) else None
        users.setdefault(did, []).append((t, is_born, is_return, k))

    intervals = _Intervals(unit, interval, sem.retention_intervals, buckets.tz, sem.week_start)
    width = interval_count + 1
    # segment → bucket index → [first, counts]
    table: dict = {}

    def add(seg, cohort, b_t, b_pos, evs):
        row = table.setdefault(seg, {}).setdefault(cohort, [0, [0] * width])
        row[0] += 1
        hits = set()
        for pos, (t, _born, is_ret, _k) in enumerate(evs):
            if pos == b_pos or not is_ret or t < b_t:
                continue
            m = intervals.number(b_t, t)
            if 0 <= m < width:
                hits.add(m)
        if unbounded and hits:
            top = max(hits)
            hits = range(top + 1)
        for m in hits:
            row[1][m] += 1

    for evs in users.values():
        # Ties in time (the input is unsorted): born events first, then by segment key, so
        # the birth event, and so the segment, never depend on the input order.
        evs.sort(key=lambda e: (e[0], not e[1], e[3] is not None, e[3] or ""))
        if birth:
            b_pos = None
            for pos, (t, is_born, _r, _k) in enumerate(evs):
                if not is_born:
                    continue
                if sem.retention_birth == "first-seen":
                    b_pos = pos if lo <= t < hi else None
                    break
                if lo <= t < hi:
                    b_pos = pos
                    break
            if b_pos is None:
                continue
            b_t, k = evs[b_pos][0], evs[b_pos][3]
            add(k, buckets.index(b_t), b_t, b_pos, evs)
        else:
            seen = set()
            for pos, (t, is_born, _r, k) in enumerate(evs):
                if not is_born:
                    continue
                cohort = buckets.index(t)
                if cohort in seen:
                    continue
                seen.add(cohort)
                add(k, cohort, t, pos, evs)

    def dates(rows: dict) -> dict:
        out = {}
        for i, label in enumerate(buckets.labels):
            first, counts = rows.get(i, (0, [0] * width))
            out[label] = {"counts": list(counts), "first": first}
        return out

    if value is None:
        return dates(table.get(None, {}))
    totals = {seg: sum(r[0] for r in rows.values()) for seg, rows in table.items()}
    return {seg: dates(table[seg]) for seg in top_segments(totals, limit)}


def frequency(events, *, from_date, to_date, unit, addiction_unit, event=None, where=None,
              on=None, limit=None, profiles=None, semantics=None, timezone=None,
              now=None) -> dict:
    """Mixpanel's /retention/addiction ("frequency") answer from raw export lines.

    For each ``unit`` bucket (day/week/month) and each user who did ``event`` (any event if
    None; passing ``where``) in it, count the distinct ``addiction_unit`` periods (hours or
    days, local time) in which they did it. Entry k of a bucket's list is the number of users
    active in at least k+1 periods (``Semantics.frequency_counts``: or exactly k+1); the list
    has one entry per period in the bucket (24 for a day by the hour). ``on`` segments users
    by its value on their first such event in the bucket."""
    start, end = P.check_range(from_date, to_date)
    sem = semantics_of(semantics)
    P.check_unit("retention/addiction", unit, server=False)
    P.check_choice("addiction_unit", addiction_unit, P.ADDICTION_UNITS,
                   endpoint="retention/addiction")
    if event is not None and (not isinstance(event, str) or not event):
        raise QueryError(f"event must be an event name, got {event!r}")
    limit = P.check_limit("retention/addiction", limit, on is not None, strict=False)
    buckets = _buckets(start, end, unit, sem, timezone)
    compiled = Compiled(where, on, semantics=sem, profiles=profiles, now=now)
    keep, value, key = compiled.keep, compiled.value, compiled.key
    tz = buckets.tz
    index = buckets.index
    starts = buckets.starts
    day_starts: list = []
    if addiction_unit == "day":
        # local midnights across the series, to number days within a bucket
        d = start - _dt.timedelta(days=40)
        while d <= end + _dt.timedelta(days=1):
            day_starts.append(local_midnight(d, tz))
            d += _dt.timedelta(days=1)
    from bisect import bisect_right

    # (bucket, user) → [segment key, set of periods]
    seen: dict = {}
    names = None if event is None else {event}
    for _n, _name, t, rec, props in timed(events, names):
        i = index(t)
        if i < 0:
            continue
        did = distinct_id_of(props)
        if did is None or (keep is not None and not keep(rec)):
            continue
        if addiction_unit == "hour":
            period = int((t - starts[i]) // 3600)
        else:
            period = bisect_right(day_starts, t) - bisect_right(day_starts, starts[i])
        entry = seen.get((i, did))
        if entry is None:
            entry = seen[(i, did)] = [key(value(rec)) if value is not None else None, set(), t]
        elif value is not None and t <= entry[2]:
            k = key(value(rec))  # the earliest event's key; a tie goes to the smaller key
            if t < entry[2] or k < entry[0]:
                entry[0], entry[2] = k, t
        entry[1].add(period)

    def periods(i) -> int:
        if addiction_unit == "hour":
            return max(1, math.ceil((starts[i + 1] - starts[i]) / 3600))
        first = bisect_right(day_starts, starts[i])
        return max(1, bisect_right(day_starts, starts[i + 1] - 1) - first + 1)

    table: dict = {}
    for (i, _did), (seg, ps, _t) in seen.items():
        table.setdefault(seg, {}).setdefault(i, []).append(len(ps))

    def row(i, actives) -> list:
        n = periods(i)
        hist = [0] * n
        for a in actives:
            hist[min(a, n) - 1] += 1
        if sem.frequency_counts == "exactly":
            return hist
        out, run = [0] * n, 0
        for k in range(n - 1, -1, -1):
            run += hist[k]
            out[k] = run
        return out

    if value is None:
        rows = table.get(None, {})
        return {"data": {label: row(i, rows.get(i, ())) for i, label in enumerate(buckets.labels)}}
    totals = {seg: sum(len(v) for v in rows.values()) for seg, rows in table.items()}
    keys = top_segments(totals, limit)
    return {"data": {label: {seg: row(i, table[seg].get(i, ())) for seg in keys}
                     for i, label in enumerate(buckets.labels)}}

"""/funnels from raw events: saved funnels and ad-hoc step lists alike.

Answer shape (docs.mixpanel.com/reference/funnels-query)::

    {"meta": {"dates": [date, …]},
     "data": {date: {"steps": [{"count", "avg_time", "avg_time_from_start", "step_conv_ratio",
                                "overall_conv_ratio", "goal", "event", "step_label"?}, …],
                     "analysis": {"completion", "starting_amount", "steps", "worst"}}}}

with ``on``: ``data[date]`` is ``{"$overall": {...}, segment: {"steps", "analysis"}, …}``
(UNCONFIRMED shape, docs/aggregates.md).

A user enters the funnel at most once per date bucket, at a step-1 event in that bucket
(``Semantics.funnel_start``); later steps must follow in order, each at or after the one
before (``Semantics.funnel_same_second``), all within ``length`` ``length_unit``s of step 1 —
possibly after ``to_date``, as Mixpanel documents. Each event satisfies at most one step.
"""

from __future__ import annotations

from ..errors import QueryError
from . import _params as P
from ._common import Compiled, compile_optional, distinct_id_of, semantics_of, timed, top_segments
from ._time import Buckets

__all__ = ["funnel", "DEFAULT_LENGTH"]

DEFAULT_LENGTH = P.DEFAULT_LENGTH


def funnel(events, *, steps, from_date, to_date, length=None, length_unit=None, interval=None,
           unit=None, on=None, where=None, limit=None, profiles=None, semantics=None,
           timezone=None, now=None) -> dict:
    """Mixpanel's /funnels answer computed from raw export lines.

    ``steps``: event names or ``{"event", "where", "label"}`` mappings (see
    ``normalize_steps``; a saved funnel's ``steps`` work as they are). ``where`` filters the
    events of every step. Buckets: ``unit`` (day/week/month) or ``interval`` days (default
    1). ``length``/``length_unit``: the conversion window (default 30 days, ≤ 90 days).
    ``on`` segments users by its value on their step-1 event (``Semantics.funnel_on_step``);
    ``limit`` keeps the top segments by users entering (default 255)."""
    start, end = P.check_range(from_date, to_date)
    sem = semantics_of(semantics)
    steps = P.normalize_steps(steps)
    if length is None and length_unit is None:
        length, length_unit = DEFAULT_LENGTH
    length, length_unit = P.check_length(DEFAULT_LENGTH[0] if length is None else length,
                                         length_unit or "day")
    window = P.length_seconds(length, length_unit)
    if unit is not None and interval is not None:
        raise QueryError("give either unit= or interval=, not both (interval is the number of "
                         "days per bucket; unit is day, week or month)")
    if unit is not None:
        P.check_unit("funnels", unit, server=False)
    interval = P.check_int("interval", interval, 1) if unit is None else None
    limit = P.check_limit("funnels", limit, on is not None, strict=False)
    tz = sem.timezone if timezone is None else timezone
    try:
        days = None if unit is not None or interval in (None, 1) else interval
        buckets = Buckets.make(start, end, unit or "day", interval=days,
                               timezone=tz, label=sem.bucket_label, week_start=sem.week_start)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    compiled = Compiled(where, on, semantics=sem, profiles=profiles, now=now)
    keep, value, key = compiled.keep, compiled.value, compiled.key
    step_keeps = [compile_optional(f"steps[{i + 1}].where", s["where"], sem, compiled.profiles, now)
                  for i, s in enumerate(steps)]
    by_name: dict = {}
    for i, s in enumerate(steps):
        by_name.setdefault(s["event"], []).append(i)
    n_steps = len(steps)

    users: dict = {}
    for _n, name, t, rec, props in timed(events, by_name):
        did = distinct_id_of(props)
        if did is None or (keep is not None and not keep(rec)):
            continue
        mask = 0
        for i in by_name[name]:
            k = step_keeps[i]
            if k is None or k(rec):
                mask |= 1 << i
        if mask:
            seg = key(value(rec)) if value is not None else None
            users.setdefault(did, []).append((t, mask, seg))

    same = sem.funnel_same_second
    lo, hi = buckets.first_instant, buckets.end_instant

    def attempt(evs, p):
        """Greedy: from step 1 at position p, the times of the steps reached and the
        segment keys of the events used."""
        t0 = evs[p][0]
        times, segs = [t0], [evs[p][2]]
        q = p + 1
        limit_t = t0 + window
        for j in range(1, n_steps):
            bit = 1 << j
            prev = times[-1]
            while q < len(evs):
                t, mask, seg = evs[q]
                q += 1
                if t >= limit_t:
                    return times, segs
                if mask & bit and (t > prev or (same and t == prev)):
                    times.append(t)
                    segs.append(seg)
                    break
            else:
                return times, segs
        return times, segs

    # segment → bucket → [counts, sum of step times, sum of times from start]
    table: dict = {}

    def record(seg, i, times):
        row = table.setdefault(seg, {}).get(i)
        if row is None:
            row = table[seg][i] = ([0] * n_steps, [0.0] * n_steps, [0.0] * n_steps)
        counts, gaps, froms = row
        for j, t in enumerate(times):
            counts[j] += 1
            if j:
                gaps[j] += t - times[j - 1]
                froms[j] += t - times[0]

    for evs in users.values():
        # Export output is unsorted, and events of one second have no order of their own:
        # ties go by the earliest step they can be, then segment key, so the answer never
        # depends on the input order (same-second steps convert, Semantics.funnel_same_second).
        evs.sort(key=_order)
        tried: dict = {}
        for p, (t, mask, _seg) in enumerate(evs):
            if not mask & 1 or not lo <= t < hi:
                continue
            i = buckets.index(t)
            if sem.funnel_start == "first":
                if i in tried:
                    continue
                tried[i] = attempt(evs, p)
            else:
                if i in tried and len(tried[i][0]) == n_steps:
                    continue  # already complete: a later start cannot do better
                got = attempt(evs, p)
                if i not in tried or len(got[0]) > len(tried[i][0]):
                    tried[i] = got
        for i, (times, segs) in tried.items():
            if value is None:
                record(None, i, times)
            else:
                seg = segs[0] if sem.funnel_on_step == "first" else segs[-1]
                record(seg, i, times)
                record("$overall", i, times)

    labels = buckets.labels

    def block(row) -> dict:
        counts, gaps, froms = row if row is not None else ([0] * n_steps, [0.0] * n_steps,
                                                           [0.0] * n_steps)
        out = []
        for j, s in enumerate(steps):
            c = counts[j]
            if j == 0:
                avg = avg_from = sem.funnel_first_avg_time
                step_ratio = overall = 1.0 if c else 0.0
            else:
                avg = round(gaps[j] / c) if c else None
                avg_from = round(froms[j] / c) if c else None
                step_ratio = c / counts[j - 1] if counts[j - 1] else 0.0
                overall = c / counts[0] if counts[0] else 0.0
            entry = {"count": c, "avg_time": avg, "avg_time_from_start": avg_from,
                     "step_conv_ratio": step_ratio, "goal": s["event"],
                     "overall_conv_ratio": overall, "event": s["event"]}
            if s["label"] is not None:
                entry["step_label"] = s["label"]
            out.append(entry)
        return {"steps": out, "analysis": {
            "completion": counts[-1], "starting_amount": counts[0], "steps": n_steps,
            "worst": _worst(counts, sem.funnel_worst)}}

    dates = list(dict.fromkeys(labels))
    if value is None:
        rows = table.get(None, {})
        return {"meta": {"dates": dates},
                "data": {label: block(rows.get(i)) for i, label in enumerate(labels)}}
    totals = {seg: sum(r[0][0] for r in rows.values()) for seg, rows in table.items()
              if seg != "$overall"}
    keys = ["$overall"] + top_segments(totals, limit)
    return {"meta": {"dates": dates},
            "data": {label: {seg: block(table.get(seg, {}).get(i)) for seg in keys}
                     for i, label in enumerate(labels)}}


def _order(e):
    t, mask, seg = e
    return (t, mask & -mask, seg is not None, seg or "")


def _worst(counts, rule) -> int:
    best, worst = None, 1
    for j in range(1, len(counts)):
        prev, c = counts[j - 1], counts[j]
        score = (c / prev if prev else 0.0) if rule == "ratio" else -(prev - c)
        if best is None or score < best:
            best, worst = score, j
    return worst

"""/segmentation, /segmentation/numeric, /segmentation/sum and /segmentation/average computed
from raw export lines, in one pass over the events.

Answer shapes are Mixpanel's documented examples (docs.mixpanel.com/reference/segmentation-query
and the numeric/sum/average pages)::

    segmentation, numeric   {"data": {"series": [dates], "values": {key: {date: n}}},
                             "legend_size": len(values)}
    sum                     {"status": "ok", "computed_at": ISO, "results": {date: total}}
    average                 {"results": {date: mean}, "status": "ok"}
"""

from __future__ import annotations

import datetime as _dt
import math
from bisect import bisect_right

from ..errors import QueryError
from . import _params as P
from ._common import Compiled, distinct_id_of, is_number, semantics_of, timed, top_segments
from ._time import Buckets

__all__ = ["segmentation", "segmentation_numeric", "segmentation_sum", "segmentation_average"]



def _setup(endpoint, event, from_date, to_date, unit, interval, semantics, timezone):
    if not isinstance(event, str) or not event:
        raise QueryError(f"event must be one event name (a non-empty string), got {event!r}")
    start, end = P.check_range(from_date, to_date)
    sem = semantics_of(semantics)
    interval = P.check_int("interval", interval, 1)
    if interval is None:
        P.check_unit(endpoint, unit, server=False)
    tz = sem.timezone if timezone is None else timezone
    try:
        buckets = Buckets.make(start, end, unit, interval=interval, timezone=tz,
                               label=sem.bucket_label, week_start=sem.week_start)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    return sem, buckets


def _scan(events, event, buckets, compiled):
    """Yield ``(bucket index, record, props)`` of the events named ``event`` inside the
    series that pass ``where`` — the shared single pass."""
    index = buckets.index
    keep = compiled.keep
    lo, hi = buckets.first_instant, buckets.end_instant
    for _n, _name, t, rec, props in timed(events, (event,)):
        if t < lo or t >= hi:
            continue
        if keep is not None and not keep(rec):
            continue
        yield index(t), rec, props


def _values_map(buckets, rows, zero_fill):
    labels = buckets.labels
    out = {}
    for i, v in enumerate(rows):
        if v or zero_fill:
            label = labels[i]
            out[label] = out.get(label, 0) + v
    return out


def _finish_rows(kind, acc_counts, acc_sets):
    if kind == "general":
        return acc_counts
    if kind == "unique":
        return [len(s) for s in acc_sets]
    # average: events per distinct user in the bucket
    return [(c / len(s)) if s else 0 for c, s in zip(acc_counts, acc_sets)]


def segmentation(events, *, event, from_date, to_date, on=None, where=None, unit="day",
                 interval=None, type="general", limit=None, profiles=None, semantics=None,
                 timezone=None, now=None) -> dict:
    """Mixpanel's /segmentation answer computed from raw export lines.

    Counts the events named ``event`` whose time falls in ``from_date..to_date`` (local dates
    in ``timezone``, default ``semantics.timezone``) and that pass ``where``, per ``unit``
    bucket (or per ``interval`` days), split by the value of the ``on`` expression. ``type``:
    "general" (events), "unique" (distinct users, by ``distinct_id``; events without one are
    not counted) or "average" (events per distinct user). ``limit`` keeps the top segments by
    total (default 60 with ``on``). ``profiles`` (Engage results or id → properties) feed
    ``user[...]``."""
    kind = type
    P.check_choice("type", kind, P.SEGMENTATION_TYPES, endpoint="segmentation")
    sem, buckets = _setup("segmentation", event, from_date, to_date, unit, interval, semantics,
                          timezone)
    limit = P.check_limit("segmentation", limit, on is not None, strict=False)
    compiled = Compiled(where, on, semantics=sem, profiles=profiles, now=now)
    n = buckets.n
    counts: dict = {}
    sets: dict = {}
    value, key = compiled.value, compiled.key
    # The one pass, written out rather than layered on _scan: this loop is what the 1M-event
    # benchmark measures (benchmarks/bench_aggregates.py), and a generator layer per event
    # costs a tenth of the whole.
    keep = compiled.keep
    starts = buckets.starts
    lo, hi = buckets.first_instant, buckets.end_instant
    general = kind == "general"
    for _n, _name, t, rec, props in timed(events, (event,)):
        if t < lo or t >= hi or (keep is not None and not keep(rec)):
            continue
        i = bisect_right(starts, t) - 1
        k = key(value(rec)) if value is not None else event
        if kind != "unique":
            rows = counts.get(k)
            if rows is None:
                rows = counts[k] = [0] * n
            rows[i] += 1
        if not general:
            srows = sets.get(k)
            if srows is None:
                srows = sets[k] = [set() for _ in range(n)]
            did = distinct_id_of(props)
            if did is not None:
                srows[i].add(did)
    keys = set(counts) | set(sets)
    rows_by_key = {k: _finish_rows(kind, counts.get(k, [0] * n), sets.get(k, [set()] * n))
                   for k in keys}
    if on is not None:
        totals = {k: sum(r) for k, r in rows_by_key.items()}
        keys = top_segments(totals, limit)
    else:
        keys = [event]
        rows_by_key.setdefault(event, [0] * n)
    values = {k: _values_map(buckets, rows_by_key[k], sem.segmentation_zero_fill) for k in keys}
    return {"data": {"series": _series(buckets), "values": values}, "legend_size": len(values)}


def _series(buckets) -> list:
    return list(dict.fromkeys(buckets.labels))


# ---------------------------------------------------------------------------------------------
# numeric


def nice_width(lo, hi, target: int):
    """The smallest width 1, 2 or 5 × 10^k such that [lo, hi] spans at most ``target`` ranges
    starting at multiples of the width."""
    span = hi - lo
    if span <= 0:
        return 1 if float(lo).is_integer() else 10 ** math.floor(math.log10(abs(lo) or 1))
    k = math.floor(math.log10(span / target)) - 1
    while True:
        for m in (1, 2, 5):
            w = m * 10 ** k if k >= 0 else m / 10 ** -k
            if math.floor(hi / w) - math.floor(lo / w) + 1 <= target:
                return w
        k += 1


def range_label(b: int, width) -> str:
    lo, hi = b * width, (b + 1) * width
    if float(width).is_integer():
        return f"{int(round(lo)):,} - {int(round(hi)):,}"
    digits = max(0, -math.floor(math.log10(width)))
    return f"{lo:,.{digits}f} - {hi:,.{digits}f}"


def segmentation_numeric(events, *, event, from_date, to_date, on, where=None, unit="day",
                         type="general", profiles=None, semantics=None, timezone=None,
                         now=None) -> dict:
    """Mixpanel's /segmentation/numeric: like ``segmentation`` with ``on`` (required, a
    number) placed into numeric ranges labelled ``"2,000 - 2,100"`` (lower bound included;
    width rule: ``Semantics.numeric_buckets``). Events whose ``on`` is not a number go to the
    ``Semantics.undefined_segment`` key."""
    kind = type
    if on is None:
        raise QueryError("segmentation_numeric needs on= (a numeric expression to bucket)")
    P.check_choice("type", kind, P.SEGMENTATION_TYPES, endpoint="segmentation/numeric")
    sem, buckets = _setup("segmentation/numeric", event, from_date, to_date, unit, None,
                          semantics, timezone)
    compiled = Compiled(where, on, semantics=sem, profiles=profiles, now=now)
    value = compiled.value
    rows = []
    lo = hi = None
    for i, rec, props in _scan(events, event, buckets, compiled):
        v = value(rec)
        if is_number(v):
            lo = v if lo is None or v < lo else lo
            hi = v if hi is None or v > hi else hi
        else:
            v = None
        rows.append((i, v, distinct_id_of(props) if kind != "general" else None))
    n = buckets.n
    counts: dict = {}
    sets: dict = {}
    width = nice_width(lo, hi, sem.numeric_buckets) if lo is not None else 1
    labels: dict = {}
    order: dict = {}
    for i, v, did in rows:
        if v is None:
            k, rank = sem.undefined_segment, math.inf
        else:
            b = math.floor(v / width)
            k = labels.get(b)
            if k is None:
                k = labels[b] = range_label(b, width)
            rank = b
        order[k] = rank
        if kind != "unique":
            counts.setdefault(k, [0] * n)[i] += 1
        if kind != "general":
            srows = sets.setdefault(k, [set() for _ in range(n)])
            if did is not None:
                srows[i].add(did)
    keys = sorted(set(counts) | set(sets), key=lambda k: order[k])
    values = {
        k: _values_map(buckets, _finish_rows(kind, counts.get(k, [0] * n),
                                             sets.get(k, [set()] * n)), sem.numeric_zero_fill)
        for k in keys
    }
    return {"data": {"series": _series(buckets), "values": values}, "legend_size": len(values)}


# ---------------------------------------------------------------------------------------------
# sum / average


def _measure(events, endpoint, event, from_date, to_date, on, where, unit, profiles,
             semantics, timezone, now):
    if on is None:
        raise QueryError(f"/{endpoint} needs on= (the numeric expression to "
                         f"{'sum' if endpoint.endswith('sum') else 'average'})")
    sem, buckets = _setup(endpoint, event, from_date, to_date, unit, None, semantics, timezone)
    compiled = Compiled(where, on, semantics=sem, profiles=profiles, now=now)
    value = compiled.value
    n = buckets.n
    totals = [0] * n
    counts = [0] * n
    for i, rec, _props in _scan(events, event, buckets, compiled):
        v = value(rec)
        if is_number(v):  # "If the expression is not numeric, a value of 0.0 is assumed."
            totals[i] += v
        counts[i] += 1
    return buckets, totals, counts


def _computed_at(computed_at) -> str:
    if computed_at is None:
        return _dt.datetime.now(_dt.timezone.utc).isoformat()
    if isinstance(computed_at, _dt.datetime):
        return computed_at.isoformat()
    return str(computed_at)


def segmentation_sum(events, *, event, from_date, to_date, on, where=None, unit="day",
                     profiles=None, semantics=None, timezone=None, now=None,
                     computed_at=None) -> dict:
    """Mixpanel's /segmentation/sum: the sum of ``on`` over the matching events per bucket
    (non-numbers count 0.0, as documented); every bucket is listed. ``computed_at``
    (default: now, UTC) is the answer's timestamp."""
    buckets, totals, _counts = _measure(events, "segmentation/sum", event, from_date, to_date,
                                        on, where, unit, profiles, semantics, timezone, now)
    results: dict = {}
    for i, label in enumerate(buckets.labels):
        results[label] = results.get(label, 0) + totals[i]
    return {"status": "ok", "computed_at": _computed_at(computed_at), "results": results}


def segmentation_average(events, *, event, from_date, to_date, on, where=None, unit="day",
                         profiles=None, semantics=None, timezone=None, now=None) -> dict:
    """Mixpanel's /segmentation/average: the mean of ``on`` over the matching events per
    bucket (non-numbers count 0.0); buckets without events are left out (no mean exists)."""
    buckets, totals, counts = _measure(events, "segmentation/average", event, from_date,
                                       to_date, on, where, unit, profiles, semantics,
                                       timezone, now)
    sums: dict = {}
    ns: dict = {}
    for i, label in enumerate(buckets.labels):
        if counts[i]:
            sums[label] = sums.get(label, 0) + totals[i]
            ns[label] = ns.get(label, 0) + counts[i]
    return {"results": {k: sums[k] / ns[k] for k in sums}, "status": "ok"}

"""Aggregate queries on the command line: the flags ``mpql run`` and ``mpql plan`` share for
``--segmentation EVENT``, ``--retention``, ``--frequency`` and ``--funnel ID`` / ``--steps``,
the ``Query`` they build, and the answer as rows (a table on a terminal, CSV, or JSON).

The flags are Mixpanel's parameter names spelled as options (``--on``, ``--unit``, ``--type``,
``--born-event``, ``--interval-count``, ``--length-unit`` …); every value is handed to
``Query.segmentation`` & co., which check Mixpanel's rules (QueryError → exit 2). The REPL's
``:segment`` prints its answers with ``answer_rows`` too.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

__all__ = ["add_aggregate_kinds", "add_aggregate_arguments", "aggregate_kind",
           "misplaced_aggregate", "check_aggregate_flags", "build_aggregate_query",
           "answer_rows", "render_answer", "AGGREGATE_FLAGS"]

KINDS = ("segmentation", "retention", "frequency", "funnel", "steps")
MEASURES = ("count", "numeric", "sum", "average")

#: flag → args attribute of the aggregate-only flags (refused with --events/--profiles)
AGGREGATE_FLAGS = (
    ("--on", "on"), ("--unit", "unit"), ("--interval", "interval"), ("--type", "agg_type"),
    ("--measure", "measure"), ("--born-event", "born_event"), ("--born-where", "born_where"),
    ("--retention-type", "retention_type"), ("--interval-count", "interval_count"),
    ("--unbounded", "unbounded"), ("--addiction-unit", "addiction_unit"),
    ("--length", "length"), ("--length-unit", "length_unit"), ("--strategy", "strategy"),
    ("--timezone", "timezone"),
)
#: which aggregate kinds each aggregate-only flag applies to
_APPLIES = {
    "on": KINDS, "unit": KINDS, "interval": ("segmentation", "retention", "funnel", "steps"),
    "agg_type": ("segmentation",), "measure": ("segmentation",),
    "born_event": ("retention",), "born_where": ("retention",),
    "retention_type": ("retention",), "interval_count": ("retention",),
    "unbounded": ("retention",), "addiction_unit": ("frequency",),
    "length": ("funnel", "steps"), "length_unit": ("funnel", "steps"),
    "strategy": KINDS, "timezone": KINDS,
}


def add_aggregate_kinds(group) -> None:
    """The aggregate kinds, as options of the command's (mutually exclusive) kind group."""
    group.add_argument("--segmentation", metavar="EVENT",
                       help="an aggregate: EVENT counted per --unit, split by --on "
                            "(/segmentation; --measure numeric|sum|average for the others)")
    group.add_argument("--retention", action="store_true",
                       help="an aggregate: users doing --event after --born-event (/retention)")
    group.add_argument("--frequency", action="store_true",
                       help="an aggregate: how many --addiction-unit periods users did --event "
                            "in (/retention/addiction)")
    group.add_argument("--funnel", type=int, metavar="ID",
                       help="an aggregate: the saved funnel ID (/funnels)")
    group.add_argument("--steps", nargs="+", metavar="EVENT",
                       help="an aggregate: an ad-hoc funnel of these events, in order "
                            "(computed from exported events)")


def add_aggregate_arguments(p) -> None:
    g = p.add_argument_group(
        "aggregates", "with --segmentation/--retention/--frequency/--funnel/--steps "
                      "(Mixpanel's parameter names; docs/aggregates.md)")
    g.add_argument("--on", metavar="EXPR", help="segment by the value of this expression")
    g.add_argument("--unit", metavar="UNIT",
                   help="bucket: minute, hour, day, week, month (each endpoint allows some)")
    g.add_argument("--interval", type=int, metavar="N",
                   help="segmentation: days per bucket (type unique/average); retention: "
                        "units per interval; funnels: days per bucket")
    g.add_argument("--type", dest="agg_type", choices=("general", "unique", "average"),
                   help="segmentation: events, distinct users, or events per user")
    g.add_argument("--measure", choices=MEASURES,
                   help="segmentation: count (default), or numeric buckets / sum / average "
                        "of a numeric --on")
    g.add_argument("--born-event", metavar="EVENT", help="retention: the cohort's first event")
    g.add_argument("--born-where", metavar="EXPR", help="retention: filter the born events")
    g.add_argument("--retention-type", choices=("birth", "compounded"),
                   help="retention: birth (first time, default) or compounded (recurring)")
    g.add_argument("--interval-count", type=int, metavar="N",
                   help="retention: intervals after the 0th (default 1)")
    g.add_argument("--unbounded", action="store_true",
                   help="retention: a return counts for every earlier interval too")
    g.add_argument("--addiction-unit", choices=("hour", "day"),
                   help="frequency: the periods counted within each --unit (default hour)")
    g.add_argument("--length", type=int, metavar="N", help="funnels: conversion window")
    g.add_argument("--length-unit", choices=("day", "hour", "minute", "second"),
                   help="funnels: unit of --length (default day)")
    g.add_argument("--strategy", choices=("auto", "server", "export"),
                   help="auto (default): Mixpanel's endpoint when it can answer exactly, else "
                        "export + local aggregation; server/export force one")
    g.add_argument("--timezone", metavar="ZONE",
                   help="the project's timezone, for date buckets of a local aggregation "
                        "(default UTC)")


def aggregate_kind(args) -> str | None:
    """"segmentation", "retention", "frequency", "funnel", "steps" — or None (events/profiles)."""
    if getattr(args, "segmentation", None) is not None:
        return "segmentation"
    for name in ("retention", "frequency"):
        if getattr(args, name, False):
            return name
    if getattr(args, "funnel", None) is not None:
        return "funnel"
    if getattr(args, "steps", None):
        return "steps"
    return None


def _given(args, attr: str) -> bool:
    value = getattr(args, attr, None)
    return value not in (None, False, [])


def misplaced_aggregate(args, kind: str | None) -> list[str]:
    """Aggregate flags that do not apply to this kind (``None``: events or profiles)."""
    return [flag for flag, attr in AGGREGATE_FLAGS
            if _given(args, attr) and (kind is None or kind not in _APPLIES[attr])]


def check_aggregate_flags(args, kind: str, extra_events=()) -> None:
    """QueryError naming every given flag that does not apply to this aggregate kind, and the
    missing dates — for ``mpql run`` and ``mpql plan`` alike. ``extra_events``: the command's
    own events-only flags (``--limit`` is an aggregate's top-segments limit, so it applies)."""
    from mpql.errors import QueryError

    from ._queryflags import misplaced

    wrong = misplaced_aggregate(args, kind)
    wrong += [f for f, attr in (("--output-property", "output_properties"),
                                ("--time-in-ms", "time_in_ms")) if getattr(args, attr, None)]
    if getattr(args, "engage_accessor", "as-written") != "as-written":
        wrong.append("--engage-accessor")
    wrong += misplaced(args, "events")  # the engage-only flags
    wrong += [f for f, attr in extra_events if f != "--limit" and getattr(args, attr, None)]
    if kind in ("segmentation", "funnel", "steps") and getattr(args, "event_names", None):
        wrong.append("--event")
    if wrong:
        raise QueryError(f"{', '.join(wrong)} do{'es' if len(wrong) == 1 else ''} not apply "
                         f"to --{kind}")
    if not args.from_date or not args.to_date:
        raise QueryError(f"--{kind} needs --from and --to (YYYY-MM-DD, inclusive); for the "
                         "embedded sandbox, `mpql sandbox info` shows its sample data's days")


def _one_event(args, what: str, required: bool) -> str | None:
    from mpql.errors import QueryError

    names = list(getattr(args, "event_names", None) or [])
    if len(names) > 1:
        raise QueryError(f"{what} takes one --event (the {'return' if what == '--retention' else 'counted'} "
                         f"event), found {len(names)}: {', '.join(names)}")
    if required and not names:
        raise QueryError(f"{what} needs --event NAME")
    return names[0] if names else None


def build_aggregate_query(args, kind: str, *, from_date: str, to_date: str, today=None,
                          limit: int | None = None):
    """The ``AggregateQuery`` these flags describe (QueryError names the flag at fault).
    ``limit``: the top ``--on`` segments."""
    from mpql.errors import QueryError
    from mpql.planner import Query

    common: dict[str, Any] = {"from_date": from_date, "to_date": to_date, "today": today}
    if args.where is not None:
        common["where"] = args.where
    if args.on is not None:
        common["on"] = args.on
    if args.strategy:
        common["strategy"] = args.strategy
    unit = args.unit
    if kind == "segmentation":
        measure = args.measure or "count"
        if measure == "count":
            return Query.segmentation(args.segmentation, unit=unit or "day",
                                      interval=args.interval, type=args.agg_type or "general",
                                      limit=limit, **common)
        wrong = [f for f, v in (("--interval", args.interval), ("--limit", limit)) if v is not None]
        if args.agg_type and measure != "numeric":
            wrong.append("--type")
        if wrong:
            raise QueryError(f"{', '.join(wrong)} do{'es' if len(wrong) == 1 else ''} not apply "
                             f"to --measure {measure}")
        if args.on is None:
            raise QueryError(f"--measure {measure} needs --on EXPR (a numeric expression, e.g. "
                             "'number(properties[\"amount\"])')")
        method = {"numeric": Query.segmentation_numeric, "sum": Query.segmentation_sum,
                  "average": Query.segmentation_average}[measure]
        extra = {"type": args.agg_type} if measure == "numeric" and args.agg_type else {}
        return method(args.segmentation, unit=unit or "day", **extra, **common)
    if kind == "retention":
        options = dict(common)
        for attr, name in (("born_where", "born_where"), ("retention_type", "retention_type"),
                           ("interval", "interval"), ("interval_count", "interval_count")):
            if getattr(args, attr) is not None:
                options[name] = getattr(args, attr)
        return Query.retention(args.born_event, _one_event(args, "--retention", False),
                               unit=unit or "day", unbounded=args.unbounded, limit=limit,
                               **options)
    if kind == "frequency":
        return Query.frequency(_one_event(args, "--frequency", False), unit=unit or "day",
                               addiction_unit=args.addiction_unit or "hour", limit=limit,
                               **common)
    options = dict(common)
    for name in ("length", "length_unit", "interval"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if kind == "funnel":
        return Query.funnel(funnel_id=args.funnel, unit=unit, limit=limit, **options)
    return Query.funnel(steps=list(args.steps), unit=unit, limit=limit, **options)


# -- the answer as rows ------------------------------------------------------------------------


def _num(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if not value.is_integer() else str(int(value))
    return str(value)


def _funnel_rows(date: str, segment: str | None, body: dict) -> list[list[str]]:
    rows = []
    for i, step in enumerate(body.get("steps", []), 1):
        row = [date] + ([segment] if segment is not None else [])
        row += [str(i), str(step.get("step_label") or step.get("event")), _num(step.get("count")),
                _num(step.get("step_conv_ratio")), _num(step.get("overall_conv_ratio")),
                _num(step.get("avg_time")), _num(step.get("avg_time_from_start"))]
        rows.append(row)
    return rows


def answer_rows(endpoint: str, answer: Any) -> tuple[list[str], list[list[str]]]:
    """Mixpanel's JSON answer of an aggregate endpoint as a header and rows of text: one row per
    date (segments as columns) for segmentation/numeric; per date for sum/average; per
    (segment,) date for retention and frequency; per (segment,) date and step for funnels."""
    if endpoint in ("segmentation", "segmentation/numeric"):
        data = answer.get("data", {})
        series, values = data.get("series", []), data.get("values", {})
        segments = list(values)
        header = ["date"] + segments
        return header, [[d] + [_num(values[s].get(d, 0)) for s in segments] for d in series]
    if endpoint in ("segmentation/sum", "segmentation/average"):
        name = endpoint.split("/")[1]
        return ["date", name], [[d, _num(v)] for d, v in answer.get("results", {}).items()]
    if endpoint == "retention":
        items = list(answer.items())
        segmented = bool(items) and all(
            isinstance(v, dict) and v and all(isinstance(x, dict) and "counts" in x
                                               for x in v.values()) for _, v in items)
        table = [(seg, d, b) for seg, by_date in items for d, b in by_date.items()] if segmented \
            else [(None, d, b) for d, b in items]
        width = max((len(b.get("counts", [])) for _, _, b in table), default=0)
        header = (["segment"] if segmented else []) + ["date", "first"] + \
            [f"interval {i}" for i in range(width)]
        rows = []
        for seg, d, b in table:
            counts = b.get("counts", [])
            rows.append(([seg] if segmented else []) + [d, _num(b.get("first"))]
                        + [_num(c) for c in counts] + [""] * (width - len(counts)))
        return header, rows
    if endpoint == "retention/addiction":
        data = answer.get("data", {})
        segmented = any(isinstance(v, dict) for v in data.values())
        table = [(d, seg, counts) for d, v in data.items() for seg, counts in v.items()] \
            if segmented else [(d, None, v) for d, v in data.items()]
        width = max((len(c) for _, _, c in table), default=0)
        header = ["date"] + (["segment"] if segmented else []) + \
            [f"{k}+ periods" for k in range(1, width + 1)]
        return header, [[d] + ([seg] if segmented else []) + [_num(c) for c in counts]
                        + [""] * (width - len(counts)) for d, seg, counts in table]
    if endpoint == "funnels":
        data = answer.get("data", {})
        segmented = any("steps" not in v for v in data.values() if isinstance(v, dict))
        header = ["date"] + (["segment"] if segmented else []) + [
            "step", "event", "count", "step_conv", "overall_conv", "avg_time",
            "avg_time_from_start"]
        rows: list[list[str]] = []
        for d, body in data.items():
            if segmented:
                for seg, sub in body.items():
                    rows += _funnel_rows(d, seg, sub)
            else:
                rows += _funnel_rows(d, None, body)
        return header, rows
    raise ValueError(f"no table form for /{endpoint}")


def render_answer(endpoint: str, answer: Any, fmt: str) -> str:
    """``fmt``: "json" (Mixpanel's document, as sent), "csv" or "table" (aligned columns)."""
    if fmt == "json":
        return json.dumps(answer, ensure_ascii=False, indent=2) + "\n"
    header, rows = answer_rows(endpoint, answer)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buf.getvalue()
    from mpql.repl.textfmt import align

    if not rows:
        return "(no data in this range)\n"
    lines = align([header] + rows, width=10_000, header=True)
    return "\n".join(lines[:1] + ["-" * len(lines[0])] + lines[1:]) + "\n"


def default_format(stream=None) -> str:
    stream = stream or sys.stdout
    try:
        return "table" if stream.isatty() else "json"
    except (AttributeError, ValueError):
        return "json"

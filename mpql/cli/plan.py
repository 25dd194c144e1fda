"""``mpql plan``: show the Mixpanel requests a query compiles to (text, JSON or curl).

No network and no credentials: the plan records only the project id (``--project-id`` or
``MP_PROJECT_ID``); curl output reads ``MP_USERNAME``/``MP_SECRET`` from the shell at run time.
Exit codes: 0 planned; 2 usage error, invalid query (QueryError), unplannable query
(PlanError) or an expression that does not parse (the diagnostic is printed).
"""

from __future__ import annotations

import datetime as _dt
import os
import sys

from ._aggregate import (add_aggregate_arguments, add_aggregate_kinds, aggregate_kind,
                         misplaced_aggregate)
from ._queryflags import add_query_arguments, misplaced, profile_options
from .common import make_parser

EXAMPLES = """examples:
  mpql plan --events --from 2024-01-01 --to 2024-01-31 \\
      --where 'user["customer_id"] == "hubspot-user-12345"' --format curl
  mpql plan --events --from 2024-01-01 --to 2024-01-07 --event Purchase \\
      --where 'properties["plan"] == "pro"' --chunk week
  mpql plan --profiles --where 'user["$email"] == "a@example.com"' --output-property '$email'
  mpql plan --profiles --where 'behaviors["bought"] >= 2' \\
      --behaviors @behaviors.json  # [{"name": "bought", "window": "30d", "event_selectors": …}]
  mpql plan --segmentation Purchase --on 'properties["$os"]' --from 2024-01-01 --to 2024-01-31
  mpql plan --steps 'Viewed Item' Purchase --length 7 --from 2024-01-01 --to 2024-01-31
"""


def build_parser(prog):
    p = make_parser(prog, "Show the Mixpanel requests a query compiles to.\n\n" + EXAMPLES)
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--events", action="store_true", help="an events query (/export)")
    kind.add_argument("--profiles", action="store_true", help="a profiles query (/engage)")
    add_aggregate_kinds(kind)
    p.add_argument("--where", metavar="EXPR", help="the filter expression")
    p.add_argument("--from", dest="from_date", metavar="YYYY-MM-DD", help="first day (events)")
    p.add_argument("--to", dest="to_date", metavar="YYYY-MM-DD", help="last day (events)")
    p.add_argument("--event", action="append", default=[], metavar="NAME",
                   help="only these events (repeatable)")
    p.add_argument("--limit", type=int, metavar="N",
                   help="at most N events (≤ 100000); aggregates: the top N --on segments")
    p.add_argument("--output-property", action="append", default=[], metavar="NAME",
                   help="profile properties to return (repeatable; profiles)")
    add_query_arguments(p)
    add_aggregate_arguments(p)
    p.add_argument("--region", default="us", choices=("us", "eu", "in"),
                   help="the project's data residency (default: us)")
    p.add_argument("--chunk", default="day", choices=("day", "week", "month", "none"),
                   help="export date chunks (default: day)")
    p.add_argument("--project-id", default=os.environ.get("MP_PROJECT_ID"), metavar="N",
                   help="project id (default: $MP_PROJECT_ID)")
    p.add_argument("--workspace-id", default=os.environ.get("MP_WORKSPACE_ID"), metavar="N",
                   help="workspace (data view) id (default: $MP_WORKSPACE_ID)")
    p.add_argument("--auth", default="service-account",
                   choices=("service-account", "project-secret"),
                   help="how the requests will authenticate (project secrets are deprecated)")
    p.add_argument("--distinct-id-property", default="$distinct_id", metavar="NAME",
                   help='how export\'s where spells the event distinct id (UNCONFIRMED; '
                        'default: $distinct_id)')
    p.add_argument("--engage-accessor", default="as-written",
                   choices=("as-written", "user", "properties"),
                   help="rewrite profile references in engage wheres")
    p.add_argument("--max-url-length", type=int, default=8000, metavar="N",
                   help="longest URL a request may have (default: 8000)")
    p.add_argument("--today", metavar="YYYY-MM-DD",
                   help="the date treated as today for the to_date check (default: UTC today)")
    p.add_argument("--ids", action="append", default=[], metavar="STEP=ID[,ID…]",
                   help="distinct ids found by an engage step (1-based), to fill in the curl "
                        "commands of the steps that consume them (repeatable)")
    p.add_argument("--strict", action="store_true",
                   help="fail (exit 2) if the checker finds an error in a where as sent")
    p.add_argument("--no-check", action="store_true",
                   help="do not run the checker on the wheres")
    p.add_argument("--format", default="text", choices=("text", "json", "curl"),
                   help="text (explain), json, or curl commands")
    return p


def run(args) -> int:
    from ..errors import ParseError
    from ..planner import Query

    agg = aggregate_kind(args)
    kind = agg or ("events" if args.events else "profiles")
    wrong = misplaced_aggregate(args, agg)
    if agg is not None:
        wrong += [f for f, v in (("--output-property", args.output_property),
                                 ("--time-in-ms", args.time_in_ms),
                                 ("--engage-accessor", args.engage_accessor != "as-written"))
                  if v]
        wrong += misplaced(args, "events")  # the engage-only flags
        if kind in ("segmentation", "funnel", "steps") and args.event:
            wrong.append("--event")
    elif kind == "events":
        wrong += [f for f, v in (("--output-property", args.output_property),) if v]
        wrong += misplaced(args, kind)
    else:
        wrong += [f for f, v in (("--from", args.from_date), ("--to", args.to_date),
                                 ("--event", args.event), ("--limit", args.limit)) if v]
        wrong += misplaced(args, kind)
    if args.ids and args.format != "curl":
        wrong.append("--ids (only with --format curl)")
    if wrong:
        return _usage(f"{', '.join(wrong)} do{'es' if len(wrong) == 1 else ''} not "
                      f"apply to --{kind}")
    if kind != "profiles" and (not args.from_date or not args.to_date):
        return _usage(f"--{kind} needs --from and --to (YYYY-MM-DD, inclusive)")
    today = None
    if args.today:
        try:
            today = _dt.date.fromisoformat(args.today)
        except ValueError:
            return _usage(f"--today must be YYYY-MM-DD, got {args.today!r}")
    if agg is not None:
        return _plan_aggregate(args, agg, today)
    try:
        if kind == "events":
            query = Query.events(args.where, from_date=args.from_date, to_date=args.to_date,
                                 events=args.event or None, limit=args.limit,
                                 time_in_ms=args.time_in_ms, today=today)
        else:
            query = Query.profiles(args.where, output_properties=args.output_property or None,
                                   **profile_options(args))
    except ParseError as exc:
        print(exc.render(filename="--where"), file=sys.stderr)
        return 2
    return _show(args, query, {"distinct_id_property": args.distinct_id_property,
                               "engage_accessor": args.engage_accessor})


def _plan_aggregate(args, kind: str, today) -> int:
    from ..errors import ParseError
    from ._aggregate import build_aggregate_query

    try:
        query = build_aggregate_query(args, kind, from_date=args.from_date,
                                      to_date=args.to_date, today=today)
    except ParseError as exc:
        print(exc.render(filename="--where"), file=sys.stderr)
        return 2
    options = {"timezone": args.timezone or "UTC", "today": today,
               "distinct_id_property": args.distinct_id_property}
    return _show(args, query, options)


def _show(args, query, options: dict) -> int:
    auth = args.auth.replace("-", "_")
    if auth == "project_secret":
        print("mpql plan: warning: project-secret authentication is deprecated and retires on "
              "2027-03-03; use a service account", file=sys.stderr)
    plan = query.plan(region=args.region, auth=auth, chunk=args.chunk,
                      project_id=args.project_id, workspace_id=args.workspace_id,
                      max_url_length=args.max_url_length, check=not args.no_check,
                      strict=args.strict, **options)
    if args.format == "json":
        sys.stdout.write(plan.to_json() + "\n")
    elif args.format == "curl":
        ids = {}
        for spec in args.ids:
            step, sep, values = spec.partition("=")
            if not sep or not step.isdigit() or not 1 <= int(step) <= len(plan.steps):
                return _usage(f"--ids takes STEP=ID[,ID…] with STEP from 1 to "
                              f"{len(plan.steps)}, got {spec!r}")
            ids.setdefault(int(step) - 1, []).extend(v for v in values.split(",") if v)
        sys.stdout.write(plan.to_curl(ids=ids or None))
    else:
        sys.stdout.write(plan.explain() + "\n")
    return 0


def _usage(message: str) -> int:
    print(f"mpql plan: error: {message}", file=sys.stderr)
    return 2

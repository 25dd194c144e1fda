"""``mpql plan``: show the Mixpanel requests a query compiles to (text, JSON or curl).

No network and no credentials: the plan records only the project id (``--project-id`` or
``MP_PROJECT_ID``); curl output reads ``MP_USERNAME``/``MP_SECRET`` from the shell at run time.
The query and planning flags are ``mpql run``'s, defined once in ``_queryflags.py``.
Exit codes: 0 planned; 2 usage error, invalid query (QueryError), unplannable query
(PlanError) or an expression that does not parse (the diagnostic is printed).
"""

from __future__ import annotations

import sys

from ._queryflags import add_query_arguments, build_query, check_kind_flags, plan_options
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
    add_query_arguments(p)
    p.add_argument("--limit", type=int, metavar="N",
                   help="events: at most N events in total, also sent as export's limit "
                        "(1 to 100000); aggregates: the top N --on segments")
    p.add_argument("--auth", default="service-account",
                   choices=("service-account", "project-secret"),
                   help="how the requests will authenticate (project secrets are deprecated)")
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

    check_kind_flags(args, extra_events=(("--limit", "limit"),))
    if args.ids and args.format != "curl":
        return _usage("--ids applies only with --format curl")
    try:
        query = build_query(args, limit=args.limit)
    except ParseError as exc:
        print(exc.render(filename="--where"), file=sys.stderr)
        return 2
    auth = args.auth.replace("-", "_")
    if auth == "project_secret":
        print("mpql plan: warning: project-secret authentication is deprecated and retires on "
              "2027-03-03; use a service account", file=sys.stderr)
    plan = query.plan(auth=auth, check=not args.no_check, strict=args.strict,
                      **plan_options(args))
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

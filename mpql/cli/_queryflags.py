"""The query and planning flags ``mpql run`` and ``mpql plan`` share, and their checks.

One definition for both commands (docs/cli.md, *Shared flags*): what to fetch (``--events`` /
``--profiles``, ``--where``, ``--from``/``--to``, ``--event``, ``--output-property``,
``--limit``), engage's ``distinct_ids`` / ``filter_by_cohort`` / ``include_all_users`` /
``behaviors`` / ``as_of_timestamp`` / ``data_group_id`` and export's ``time_in_ms``, and how to
plan it (``--region``, ``--chunk``, ``--project-id``, ``--workspace-id``,
``--distinct-id-property``, ``--engage-accessor``, ``--max-url-length``, ``--today``). The
values are checked here in one way for both (``check_kind_flags``, ``build_query``,
``plan_options``) and handed to ``Query.events`` / ``Query.profiles`` / ``Query.plan``, which do
the rest of the validation (QueryError / PlanError → exit 2).
"""

from __future__ import annotations

import argparse
import json
import os

__all__ = ["add_query_arguments", "misplaced", "profile_options", "event_options",
           "check_kind_flags", "build_query", "plan_options", "region_of", "query_flags"]

#: flag → args attribute, per kind of query the flag belongs to
EVENT_ONLY = (("--time-in-ms", "time_in_ms"),)
PROFILE_ONLY = (("--distinct-id", "distinct_id"), ("--cohort-id", "cohort_id"),
                ("--include-all-users", "include_all_users"), ("--group-key", "group_key"),
                ("--behaviors", "behaviors"), ("--as-of-timestamp", "as_of_timestamp"))
#: flags of an events query that a profiles query rejects (profiles have no dates)
EVENT_QUERY = (("--from", "from_date"), ("--to", "to_date"), ("--event", "event_names"),
               ("--chunk", "chunk"), ("--today", "today"))


def _chunk(text: str) -> str:
    from mpql.errors import PlanError
    from mpql.planner.query import check_chunk

    try:
        check_chunk(text)
    except PlanError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_query_arguments(p) -> None:
    """Add the flags ``mpql run`` and ``mpql plan`` share to parser ``p``."""
    from ._aggregate import add_aggregate_kinds

    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--events", action="store_true", help="raw events (/export)")
    kind.add_argument("--profiles", action="store_true", help="user profiles (/engage)")
    add_aggregate_kinds(kind)  # --segmentation, --retention, --frequency, --funnel, --steps
    p.add_argument("--where", metavar="EXPR", help="segmentation expression (the filter)")
    p.add_argument("--from", dest="from_date", metavar="YYYY-MM-DD",
                   help="events: first day (required with --events)")
    p.add_argument("--to", dest="to_date", metavar="YYYY-MM-DD",
                   help="events: last day, inclusive (required with --events)")
    p.add_argument("--event", dest="event_names", action="append", default=[], metavar="NAME",
                   help="events: only these event names (repeatable)")
    p.add_argument("--output-property", dest="output_properties", action="append",
                   default=[], metavar="NAME",
                   help="profiles: only return these properties (repeatable)")
    p.add_argument("--time-in-ms", action="store_true",
                   help="events: millisecond timestamps (export's time_in_ms)")
    p.add_argument("--distinct-id", action="append", default=[], metavar="ID",
                   help="profiles: fetch these profiles (repeatable; engage's distinct_ids)")
    p.add_argument("--cohort-id", type=int, metavar="N",
                   help="profiles: only members of this cohort (engage's filter_by_cohort)")
    p.add_argument("--include-all-users", action=argparse.BooleanOptionalAction,
                   default=None,
                   help="profiles, with --cohort-id: also cohort members without a profile "
                        "(default: --no-include-all-users, only those with one)")
    p.add_argument("--group-key", metavar="ID",
                   help="profiles: query this group key's group profiles (engage's "
                        "data_group_id)")
    p.add_argument("--behaviors", metavar="JSON|@FILE",
                   help='profiles: behavior definitions as JSON (a list, or one object), or '
                        '@FILE to read them; the where uses them as behaviors["name"]')
    p.add_argument("--as-of-timestamp", type=int, metavar="UNIX",
                   help="profiles, with --behaviors: count behaviors as of this Unix time "
                        "(seconds)")
    g = p.add_argument_group("planning (the same for mpql plan and mpql run)")
    g.add_argument("--region", choices=("us", "eu", "in"),
                   help="the project's data residency (default: $MP_REGION, else us)")
    g.add_argument("--chunk", type=_chunk, metavar="auto|day|week|month|Nd|none",
                   help="events: export date chunks (default auto: one request up to 13 days, "
                        "at most 12 requests of at most 31 days — docs/planner.md)")
    g.add_argument("--project-id", metavar="N",
                   help="project id (default: $MP_PROJECT_ID)")
    g.add_argument("--workspace-id", metavar="N",
                   help="workspace (data view) id (default: $MP_WORKSPACE_ID)")
    g.add_argument("--distinct-id-property", default="$distinct_id", metavar="NAME",
                   help="how export's where spells the event distinct id (UNCONFIRMED; "
                        "default: $distinct_id)")
    g.add_argument("--engage-accessor", default="as-written",
                   choices=("as-written", "user", "properties"),
                   help="rewrite profile references in engage wheres")
    g.add_argument("--max-url-length", type=int, default=8000, metavar="N",
                   help="longest URL a request may have (default: 8000)")
    g.add_argument("--today", metavar="YYYY-MM-DD",
                   help="events: the date treated as today for the to_date check "
                        "(default: UTC today)")
    from ._aggregate import add_aggregate_arguments

    add_aggregate_arguments(p)


def query_flags() -> frozenset:
    """Every option string ``add_query_arguments`` defines."""
    p = argparse.ArgumentParser(add_help=False)
    add_query_arguments(p)
    return frozenset(opt for action in p._actions for opt in action.option_strings)


def check_kind_flags(args, extra_events=()) -> None:
    """QueryError naming every given flag that does not apply to the query's kind, and, for
    events, the missing dates — the same checks, in the same words, for plan and run.
    ``extra_events``: the command's own events-only flags, as (flag, attribute) pairs."""
    from mpql.errors import QueryError

    from ._aggregate import aggregate_kind, check_aggregate_flags, misplaced_aggregate

    agg = aggregate_kind(args)
    if agg is not None:
        check_aggregate_flags(args, agg, extra_events)
        return
    kind = "events" if args.events else "profiles"
    wrong = misplaced_aggregate(args, None)
    if wrong:
        raise QueryError(f"{', '.join(wrong)} appl{'ies' if len(wrong) == 1 else 'y'} to "
                         f"aggregate queries (--segmentation, --retention, --frequency, "
                         f"--funnel, --steps), not --{kind}")
    wrong = misplaced(args, kind)
    if kind == "events":
        wrong += [f for f, attr in (("--output-property", "output_properties"),)
                  if getattr(args, attr)]
    else:
        wrong += [f for f, attr in EVENT_QUERY + tuple(extra_events) if getattr(args, attr)]
    if wrong:
        other = "profiles" if kind == "events" else "events"
        raise QueryError(f"{', '.join(wrong)} appl{'ies' if len(wrong) == 1 else 'y'} to "
                         f"--{other}, not --{kind}"
                         + (" (profiles have no dates)" if {"--from", "--to", "--chunk",
                                                            "--today"} & set(wrong) else ""))
    if kind == "events" and (not args.from_date or not args.to_date):
        raise QueryError("--events needs --from and --to (YYYY-MM-DD, inclusive); for the "
                         "embedded sandbox, `mpql sandbox info` shows its sample data's days")


def build_query(args, limit=None):
    """The ``Query`` the flags describe (after ``check_kind_flags``). ``limit``: export's
    per-request and overall record cap, or None."""
    import datetime as dt

    from mpql.errors import QueryError
    from mpql.planner import Query

    from ._aggregate import aggregate_kind, build_aggregate_query

    agg = aggregate_kind(args)
    if args.profiles:
        options = profile_options(args)
        if args.output_properties:
            options["output_properties"] = list(args.output_properties)
        return Query.profiles(where=args.where, **options)
    today = None
    if args.today:
        try:
            today = dt.date.fromisoformat(args.today)
        except ValueError:
            raise QueryError(f"--today must be YYYY-MM-DD, got {args.today!r}") from None
    if agg is not None:
        return build_aggregate_query(args, agg, from_date=args.from_date, to_date=args.to_date,
                                     today=today, limit=limit)
    options = event_options(args)
    if args.event_names:
        options["events"] = list(args.event_names)
    if limit is not None:
        options["limit"] = limit
    return Query.events(where=args.where, from_date=args.from_date, to_date=args.to_date,
                        today=today, **options)


def region_of(args) -> str:
    """``--region``, else ``MP_REGION`` (ConfigError for a value that is not a region), else
    us."""
    from mpql.planner.auth import region_from_env

    return args.region or region_from_env() or "us"


def plan_options(args) -> dict:
    """Keyword arguments of ``Query.plan`` from the planning flags (auth is the command's);
    an aggregate query's plan takes ``timezone`` and no ``engage_accessor``."""
    from ._aggregate import aggregate_kind

    options = {
        "region": region_of(args),
        "chunk": args.chunk or "auto",
        "project_id": args.project_id or os.environ.get("MP_PROJECT_ID") or None,
        "workspace_id": args.workspace_id or os.environ.get("MP_WORKSPACE_ID") or None,
        "distinct_id_property": args.distinct_id_property,
        "engage_accessor": args.engage_accessor,
        "max_url_length": args.max_url_length,
    }
    if aggregate_kind(args) is not None:
        del options["engage_accessor"]  # no engage where to rewrite
        options["timezone"] = args.timezone or "UTC"
    return options


def misplaced(args, kind: str) -> list[str]:
    """The shared flags given that do not apply to ``kind`` ("events" or "profiles")."""
    wrong = PROFILE_ONLY if kind == "events" else EVENT_ONLY
    # only --time-in-ms is a plain switch (False = not given); --no-include-all-users counts
    return [flag for flag, attr in wrong
            if getattr(args, attr) not in ((False,) if attr == "time_in_ms" else (None, []))]


def event_options(args) -> dict:
    return {"time_in_ms": True} if args.time_in_ms else {}


def profile_options(args) -> dict:
    """Keyword arguments for ``Query.profiles`` from the shared flags (unset ones left out)."""
    from mpql.errors import InputError, QueryError

    options = {}
    if args.distinct_id:
        options["distinct_ids"] = list(args.distinct_id)
    if args.cohort_id is not None:
        options["cohort_id"] = args.cohort_id
    if args.include_all_users is not None:
        options["include_all_users"] = args.include_all_users
    if args.group_key is not None:
        options["group_key"] = args.group_key
    if args.behaviors is not None:
        text, source = args.behaviors, "--behaviors"
        if text.startswith("@"):
            source = text[1:]
            try:
                with open(source, encoding="utf-8") as f:
                    text = f.read()
            except OSError as exc:
                raise InputError(f"--behaviors: cannot read {source} "
                                 f"({exc.strerror or exc})") from None
        try:
            options["behaviors"] = json.loads(text)
        except ValueError as exc:
            raise QueryError(f"{source}: expected JSON behavior definitions (a list of "
                             f'objects like {{"name": "bought", "window": "30d", '
                             f'"event_selectors": [{{"event": "Purchase"}}]}}), found invalid '
                             f"JSON ({exc})") from None
    if args.as_of_timestamp is not None:
        options["as_of_timestamp"] = args.as_of_timestamp
    return options

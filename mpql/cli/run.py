"""``mpql run``: run a query against Mixpanel — or the embedded sandbox — and write JSONL.

Credentials come only from the environment (``MP_USERNAME``, ``MP_SECRET``, ``MP_PROJECT_ID``,
``MP_REGION``), never from the command line, so a secret cannot end up in shell history or
``ps``. With no credentials, the embedded sandbox is started on a free loopback port and one
line on stderr says so.

Exit codes: 0 done; 2 bad input, a non-retryable Mixpanel error (400/401/402/403/404) or a run
that failed after its retries (use ``--resume`` to continue it); 130 interrupted (the state
file is kept, ``--resume`` continues).
"""

from __future__ import annotations

import sys

from .common import make_parser

EXIT_OK, EXIT_ERROR = 0, 2


def build_parser(prog):
    p = make_parser(
        prog,
        "Run a query and write its records as JSON lines (stdout, or -o FILE).\n\n"
        "Credentials: MP_USERNAME, MP_SECRET, MP_PROJECT_ID (service account) or MP_SECRET\n"
        "alone (project secret), MP_REGION. Without them the embedded sandbox is used.\n\n"
        "examples:\n"
        "  mpql run --events --where 'properties[\"$os\"] == \"iOS\"' --from 2024-01-01 "
        "--to 2024-01-07 -o ios.jsonl --resume\n"
        "  mpql run --profiles --where 'user[\"plan\"] == \"pro\"' --limit 10")
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--events", action="store_true", help="raw events (/export)")
    kind.add_argument("--profiles", action="store_true", help="user profiles (/engage)")
    p.add_argument("--where", metavar="EXPR", help="segmentation expression")
    p.add_argument("--from", dest="from_date", metavar="DATE", help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="to_date", metavar="DATE", help="last day, YYYY-MM-DD")
    p.add_argument("--event", dest="event_names", action="append", metavar="NAME",
                   help="only these event names (repeatable)")
    p.add_argument("--output-property", dest="output_properties", action="append",
                   metavar="NAME", help="profiles: only return these properties (repeatable)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run into -o FILE (uses FILE.mpql-state)")
    p.add_argument("--region", choices=("us", "eu", "in"),
                   help="data residency (default: MP_REGION, else us)")
    p.add_argument("--chunk", choices=("day", "week", "month"),
                   help="export date-chunk size (default: the planner's choice)")
    p.add_argument("--dedupe", action="store_true",
                   help="drop duplicate events (same event, distinct_id, time, $insert_id)")
    p.add_argument("--limit", type=int, metavar="N", help="stop after N records")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    lim = p.add_argument_group(
        "limits", "Mixpanel's documented limits are the defaults; raise them only if your "
                  "project's quota was raised")
    lim.add_argument("--export-per-hour", type=int, metavar="N", help="default 60")
    lim.add_argument("--export-per-second", type=int, metavar="N", help="default 3")
    lim.add_argument("--query-per-hour", type=int, metavar="N", help="default 60")
    lim.add_argument("--workers", type=int, metavar="N",
                     help="export chunks downloaded in parallel (default 4)")
    p.add_argument("--base-url", metavar="URL",
                   help="send requests to this Mixpanel-compatible server instead of "
                        "Mixpanel (e.g. `mpql sandbox serve`); credentials still from MP_*")
    return p


def limits_from(args):
    from mpql.errors import ConfigError
    from mpql.executor import Limits

    changes = {}
    for name in ("export_per_hour", "export_per_second", "query_per_hour", "workers"):
        value = getattr(args, name, None)
        if value is not None:
            if value < 1:
                raise ConfigError(f"--{name.replace('_', '-')}: expected a number >= 1, "
                                  f"found {value}")
            changes[name] = value
    return Limits(**changes)


def _say(args, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)


def start_sandbox(args):
    """The embedded sandbox with its sample data; returns (sandbox, credentials)."""
    from mpql.sandbox import Sandbox

    sandbox = Sandbox()
    sandbox.__enter__()
    print(f"mpql: no Mixpanel credentials (MP_USERNAME/MP_SECRET) — using the embedded sandbox "
          f"at {sandbox.url} with its sample data", file=sys.stderr)
    return sandbox


def sandbox_dates(sandbox) -> tuple[str | None, str | None]:
    data = getattr(sandbox, "dataset", None)
    for a, b in (("first_date", "last_date"),):
        if data is not None and hasattr(data, a) and hasattr(data, b):
            return str(getattr(data, a)), str(getattr(data, b))
    return None, None


def build_query(args, sandbox=None):
    from mpql.errors import QueryError
    from mpql.planner import Query

    if args.events:
        from_date, to_date = args.from_date, args.to_date
        if sandbox is not None and (from_date is None or to_date is None):
            a, b = sandbox_dates(sandbox)
            from_date, to_date = from_date or a, to_date or b
        if from_date is None or to_date is None:
            raise QueryError("--events needs --from DATE and --to DATE (YYYY-MM-DD)")
        options = {}
        if args.event_names:
            options["events"] = list(args.event_names)
        return Query.events(where=args.where, from_date=from_date, to_date=to_date, **options)
    if args.from_date or args.to_date or args.event_names:
        raise QueryError("--from/--to/--event apply to --events, not --profiles")
    options = {}
    if args.output_properties:
        options["output_properties"] = list(args.output_properties)
    return Query.profiles(where=args.where, **options)


def plan_for(query, region, auth, chunk=None):
    kwargs = {"region": region, "auth": auth}
    if chunk:
        kwargs["chunk"] = chunk
    return query.plan(**kwargs)


def run(args) -> int:
    from mpql.errors import ApiError, ConfigError, QueryError
    from mpql.executor import Client, Credentials
    from mpql.executor._auth import region_from_env
    from mpql.executor._progress import Progress

    if args.resume and not args.output:
        raise ConfigError("--resume needs -o FILE (the state is kept next to the output)")
    if args.limit is not None and args.limit < 0:
        raise QueryError(f"--limit: expected a number >= 0, found {args.limit}")
    _setup_logging(args)
    creds = Credentials.from_env()
    if creds is None and args.base_url:
        raise ConfigError("--base-url needs credentials for that server in MP_USERNAME, "
                          "MP_SECRET and MP_PROJECT_ID")
    region = args.region or region_from_env() or "us"
    sandbox = None
    try:
        if creds is None:
            sandbox = start_sandbox(args)
            creds = Credentials.from_auth(sandbox.credentials)
        auth = _planner_auth(creds)
        plan = plan_for(build_query(args, sandbox), region, auth, args.chunk)
        base_url = sandbox.url if sandbox else args.base_url
        client = Client(creds, region, base_url=base_url, limits=limits_from(args))
        progress = Progress(enabled=False if args.quiet else None)
        out = args.output if args.output else sys.stdout.buffer
        try:
            result = client.write(plan, out, resume=args.resume, dedupe=args.dedupe,
                                  limit=args.limit, on_progress=progress)
        except ApiError as exc:
            progress.close(client.last_stats) if client.last_stats else None
            print(f"mpql run: error: {exc}", file=sys.stderr)
            if exc.request:
                print(f"  request: {exc.request}", file=sys.stderr)
            if args.output:
                print("  (the output so far is kept; rerun with --resume to continue)",
                      file=sys.stderr)
            return EXIT_ERROR
        progress.close(client.last_stats)
        resumed = f", {result.resumed_units} resumed" if result.resumed_units else ""
        _say(args, f"mpql run: {result.records} records, {result.units} chunks/pages"
                   f"{resumed}, {result.requests} requests, {result.retries} retries, "
                   f"{result.seconds:.1f}s" + (f" -> {args.output}" if args.output else ""))
        return EXIT_OK
    finally:
        if sandbox is not None:
            sandbox.__exit__(None, None, None)


def _planner_auth(creds):
    from mpql.planner import ProjectSecret, ServiceAccount

    if creds.kind == "service_account":
        return ServiceAccount(creds.username, creds.secret, creds.project_id,
                              workspace_id=creds.workspace_id)
    return ProjectSecret(creds.secret)


def _setup_logging(args) -> None:
    """Retry notices go to stderr as one line each (already redacted by the executor)."""
    import logging

    logger = logging.getLogger("mpql.executor")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("mpql run: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.ERROR if args.quiet else logging.WARNING)

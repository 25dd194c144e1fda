"""``mpql run``: run a query against Mixpanel — or the embedded sandbox — and write JSONL.

Credentials come only from the environment (``MP_USERNAME``, ``MP_SECRET``, ``MP_PROJECT_ID``,
``MP_REGION``), never from the command line, so a secret cannot end up in shell history or
``ps``. With no credentials, the embedded sandbox is started on a free loopback port and one
line on stderr says so.

The ``--where`` is parsed and checked (``mpql lint``'s rules) before anything is sent: a syntax
error or a checker error stops the run (exit 2, the diagnostic with carets on stderr;
``--no-check`` sends a checker error anyway), warnings are shown and the run continues.

Exit codes: 0 done; 2 bad input, a non-retryable Mixpanel error (400/401/402/403/404) or a run
that failed after its retries (use ``--resume`` to continue it); 130 interrupted (the state
file is kept, ``--resume`` continues).
"""

from __future__ import annotations

import sys

from ._queryflags import add_query_arguments, event_options, misplaced, profile_options
from .common import make_parser

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 2, 130


def build_parser(prog):
    p = make_parser(
        prog,
        "Run a query and write its records as JSON lines (stdout, or -o FILE).\n\n"
        "Credentials: MP_USERNAME, MP_SECRET, MP_PROJECT_ID (service account) or MP_SECRET\n"
        "alone (project secret), MP_REGION. Without them the embedded sandbox is used.\n\n"
        "examples:\n"
        "  mpql run --events --where 'properties[\"$os\"] == \"iOS\"' --from 2024-01-01 "
        "--to 2024-01-07 -o ios.jsonl --resume\n"
        "  mpql run --profiles --where 'user[\"plan\"] == \"pro\"' --limit 10\n"
        "  mpql run --profiles --cohort-id 1001 --output-property '$email'")
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
    add_query_arguments(p)
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
    p.add_argument("--no-check", action="store_true",
                   help="send the --where even if the checker finds an error in it")
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


def sandbox_dates(sandbox) -> tuple[str, str]:
    """The sample data's first and last day: the default --from/--to on the sandbox."""
    return str(sandbox.dataset.first_date), str(sandbox.dataset.last_date)


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
        options = event_options(args)
        if args.event_names:
            options["events"] = list(args.event_names)
        return Query.events(where=args.where, from_date=from_date, to_date=to_date, **options)
    options = profile_options(args)
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

    if args.output == "-":  # the usual spelling of stdout
        args.output = None
    if args.resume and not args.output:
        raise ConfigError("--resume needs -o FILE (the state is kept next to the output)")
    if args.limit is not None and args.limit < 0:
        raise QueryError(f"--limit: expected a number >= 0, found {args.limit}")
    if args.events and args.output_properties:
        raise QueryError("--output-property applies to --profiles, not --events")
    wrong = misplaced(args, "events" if args.events else "profiles")
    if wrong:
        raise QueryError(f"{'/'.join(wrong)} appl{'ies' if len(wrong) == 1 else 'y'} to "
                         f"--{'profiles' if args.events else 'events'}, not "
                         f"--{'events' if args.events else 'profiles'}")
    if args.profiles:
        wrong = [name for name, value in (("--from", args.from_date), ("--to", args.to_date),
                                          ("--event", args.event_names), ("--chunk", args.chunk),
                                          ("--dedupe", args.dedupe)) if value]
        if wrong:
            raise QueryError(f"{'/'.join(wrong)} apply to --events, not --profiles (profiles "
                             f"have no dates; each $distinct_id comes once)")
    _setup_logging(args)
    if args.where is not None and not _where_ok(args):
        return EXIT_ERROR
    # a profiles query needs nothing from the sandbox: check it before one is started
    query = build_query(args) if args.profiles else None
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
        auth = creds.planner_auth()
        plan = plan_for(query or build_query(args, sandbox), region, auth, args.chunk)
        base_url = sandbox.url if sandbox else args.base_url
        client = Client(creds, region, base_url=base_url, limits=limits_from(args))
        progress = Progress(enabled=False if args.quiet else None)
        out = _open_output(args)
        try:
            try:
                result = client.write(plan, out, resume=args.resume, dedupe=args.dedupe,
                                      limit=args.limit, on_progress=progress)
            finally:
                if out is not sys.stdout.buffer and not isinstance(out, str):
                    out.close()
        except KeyboardInterrupt:
            if not isinstance(out, str):  # stdout or a pipe: nothing to resume
                raise
            progress.close(client.last_stats) if client.last_stats else None
            print(f"mpql run: {_resume_hint(client.last_stats, args.output)}", file=sys.stderr)
            return EXIT_INTERRUPTED
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


def _resume_hint(stats, output: str) -> str:
    """One line after Ctrl-C: where the run stopped and the flag that continues it."""
    done = stats.units_done if stats is not None else 0
    total = stats.units_total if stats is not None else None
    records = stats.records if stats is not None else 0
    where = (f"chunk {done + 1} of {total}" if total and done < total
             else f"after {done} completed chunk(s)/page(s)")
    return (f"interrupted; rerun the same command with --resume to continue from {where} "
            f"({records} records kept in {output})")


def _where_ok(args) -> bool:
    """Parse and lint ``--where`` before any request (or the sandbox) starts: False (after
    printing the diagnostics) when it must not be sent."""
    from mpql.errors import ParseError

    from mpql.checker import check

    try:
        diagnostics = check(args.where, endpoint="any")
    except ParseError as exc:
        print(exc.render(filename="--where"), file=sys.stderr)
        print("mpql run: error: --where is not a valid expression; nothing was sent",
              file=sys.stderr)
        return False
    from mpql.language.parser import SYNTAX_CODES

    errors = [d for d in diagnostics if d.severity == "error"]
    for d in diagnostics:
        if d in errors or not args.quiet:
            print(d.render(filename="--where"), file=sys.stderr)
    if any(d.code in SYNTAX_CODES for d in errors):
        print("mpql run: error: --where is not a valid expression; nothing was sent",
              file=sys.stderr)
        return False
    if errors and not args.no_check:
        print(f"mpql run: error: the checker found {len(errors)} error(s) in --where, so "
              f"Mixpanel would reject or misread it; nothing was sent (fix it — `mpql lint` "
              f"explains the rules — or pass --no-check to send it anyway)", file=sys.stderr)
        return False
    if len(diagnostics) > len(errors) and not args.quiet:
        print(f"mpql run: {len(diagnostics) - len(errors)} warning(s) in --where (above); "
              f"running it", file=sys.stderr)
    return True


def _open_output(args):
    """What ``Client.write`` writes to: stdout, a path (resumable), or — for a device or FIFO
    such as /dev/stdout, /dev/null or a named pipe, which cannot be truncated or resumed — an
    open stream."""
    import os
    import stat

    from mpql.errors import ConfigError, InputError

    if not args.output:
        return sys.stdout.buffer
    try:
        mode = os.stat(args.output).st_mode
    except OSError:
        mode = None
    if mode is None or stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        if args.resume:
            _say_resume(args)
        return args.output  # FileSink reports a directory or an unwritable path
    if args.resume:
        raise ConfigError(f"--resume: {args.output} is not a regular file (a device or pipe "
                          f"cannot be truncated back to the last complete chunk)")
    try:
        return open(args.output, "wb")
    except OSError as exc:
        raise InputError(f"{args.output}: cannot write the output ({exc.strerror or exc})") \
            from None


def _say_resume(args) -> None:
    """``--resume`` without a state file starts over (and rewrites the output): say so, since
    the user expected to continue something."""
    import os

    from mpql.executor._output import state_path

    if not os.path.exists(state_path(args.output)):
        existing = os.path.exists(args.output)
        _say(args, f"mpql run: no resume state ({state_path(args.output)}); starting from "
                   f"the beginning" + (f" and rewriting {args.output}" if existing else ""))


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

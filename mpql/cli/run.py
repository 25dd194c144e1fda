"""``mpql run``: run a query against Mixpanel — or the embedded sandbox — and write JSONL.

Credentials come only from the environment (``MP_USERNAME``, ``MP_SECRET``, ``MP_PROJECT_ID``,
``MP_REGION``), never from the command line, so a secret cannot end up in shell history or
``ps``. With no credentials, the embedded sandbox is started on a free loopback port and one
line on stderr says so.

The ``--where`` is parsed and checked (``mpql lint``'s rules) before anything is sent, against
the endpoint the plan sends it to (``mpql.planner.check_where``: export for events, engage for
profiles and for an events query's profile conditions): a syntax error or a checker error
stops the run (exit 2, the diagnostic with carets on stderr; ``--no-check`` sends a checker
error anyway), warnings are shown and the run continues. The query and planning flags are
``mpql plan``'s, defined once in ``_queryflags.py``.

Exit codes: 0 done; 2 bad input, a non-retryable Mixpanel error (400/401/402/403/404) or a run
that failed after its retries (use ``--resume`` to continue it); 130 interrupted (the state
file is kept, ``--resume`` continues).
"""

from __future__ import annotations

import sys

import os

from ._queryflags import add_query_arguments, build_query, check_kind_flags, plan_options
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
    add_query_arguments(p)
    p.add_argument("--limit", type=int, metavar="N",
                   help="stop after N records (events: N up to 100000 is also sent as "
                        "export's limit)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run into -o FILE (uses FILE.mpql-state)")
    p.add_argument("--dedupe", action="store_true",
                   help="drop duplicate events (same event, distinct_id, time, $insert_id)")
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


def _query(args):
    """The query, with export's ``limit`` when --limit fits it (fewer bytes downloaded; the
    executor enforces the cap either way)."""
    limit = args.limit if args.events and args.limit and args.limit <= 100_000 else None
    return build_query(args, limit=limit)


def run(args) -> int:
    from mpql.errors import ApiError, ConfigError, ParseError, QueryError
    from mpql.executor import Client, Credentials
    from mpql.executor._progress import Progress

    if args.output == "-":  # the usual spelling of stdout
        args.output = None
    if args.resume and not args.output:
        raise ConfigError("--resume needs -o FILE (the state is kept next to the output)")
    if args.limit is not None and args.limit < 0:
        raise QueryError(f"--limit: expected a number >= 0, found {args.limit}")
    check_kind_flags(args, extra_events=(("--dedupe", "dedupe"),))
    _setup_logging(args)
    # Everything is checked before the sandbox (or anything) starts: the query, the planning
    # flags, the credentials and the where as the plan will send it.
    try:
        query = _query(args)
    except ParseError as exc:
        print(exc.render(filename="--where"), file=sys.stderr)
        print("mpql run: error: --where is not a valid expression; nothing was sent",
              file=sys.stderr)
        return EXIT_ERROR
    options = plan_options(args)
    environ = dict(os.environ)
    for flag, name in (("project_id", "MP_PROJECT_ID"), ("workspace_id", "MP_WORKSPACE_ID")):
        if getattr(args, flag):  # --project-id / --workspace-id override the environment
            environ[name] = getattr(args, flag)
    creds = Credentials.from_env(environ)
    if creds is None and args.base_url:
        raise ConfigError("--base-url needs credentials for that server in MP_USERNAME, "
                          "MP_SECRET and MP_PROJECT_ID")
    if creds is None and (args.project_id or args.workspace_id):
        raise ConfigError("--project-id/--workspace-id name a Mixpanel project, but no "
                          "credentials are set (MP_USERNAME, MP_SECRET): the embedded sandbox "
                          "has its own project")
    if args.where is not None and not _where_ok(args, query):
        return EXIT_ERROR
    region = options.pop("region")
    del options["project_id"], options["workspace_id"]  # from the credentials
    # Plan once without the secret: a planning error (chunk, URL length, a where no request
    # can evaluate) stops the run before the sandbox starts.
    query.plan(region=region, auth=creds.kind if creds else "service_account", check=False,
               **options)
    sandbox = None
    try:
        if creds is None:
            sandbox = start_sandbox(args)
            creds = Credentials.from_auth(sandbox.credentials)
        plan = query.plan(region=region, auth=creds.planner_auth(), check=False, **options)
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


def _where_ok(args, query) -> bool:
    """Lint ``--where`` as the plan will send it (export, or engage for a profiles query and
    for an events query's profile conditions — ``mpql.planner.check_where``) before any request
    (or the sandbox) starts: False (after printing the diagnostics) when it must not be sent."""
    from mpql.planner import check_where

    behaviors = [b["name"] for b in query.behaviors] if query.behaviors else None
    diagnostics = check_where(args.where, query.kind, behaviors=behaviors,
                              distinct_ids=bool(query.distinct_ids))
    errors = [d for d in diagnostics if d.severity == "error"]
    for d in diagnostics:
        if d in errors or not args.quiet:
            print(d.render(filename="--where"), file=sys.stderr)
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

"""`mpql sandbox`: generate sample data, serve the local Mixpanel sandbox, describe a dataset.

    mpql sandbox generate --users N --days D --events-per-user-day K --seed S --out DIR
    mpql sandbox serve [--data DIR] [--port P] [--faults SPEC] [--time-scale X] [--no-limits]
    mpql sandbox info [--data DIR]

`serve` prints its URL and the sandbox's own dummy credentials (they open nothing but this
local server, so printing them is fine) and runs until Ctrl-C or SIGTERM, which stop it cleanly
(exit 0). The sandbox package is imported only when a subcommand runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .common import make_parser

EPILOG = """\
examples:
  mpql sandbox serve                                   # default data, a free port
  mpql sandbox serve --port 8765 --faults 'export#2:503; engage#1:429:retry-after=1'
  mpql sandbox generate --users 1000 --days 60 --seed 7 --out data/
  mpql sandbox serve --data data/ --time-scale 0.01    # an hour of rate limits lasts 36 s

exit codes: 0 ok (also after Ctrl-C on `serve`), 2 bad arguments, bad data or port in use
fault spec reference: docs/sandbox.md
"""


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = make_parser(prog, "Generate sample data or serve the local Mixpanel sandbox.")
    parser.epilog = EPILOG
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    gen = sub.add_parser("generate", help="write a deterministic sample dataset",
                         description="Write a deterministic sample dataset (same arguments, same bytes).")
    gen.add_argument("--users", type=_positive_int, default=150, help="profiles (default 150)")
    gen.add_argument("--days", type=_positive_int, default=30, help="days of events (default 30)")
    gen.add_argument("--events-per-user-day", type=_non_negative_float, default=3.0, metavar="K",
                     help="mean events per user per day (default 3)")
    gen.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    gen.add_argument("--end-date", metavar="YYYY-MM-DD",
                     help="last day with events (default yesterday, UTC; pass it for output that "
                          "is identical on every day)")
    gen.add_argument("--out", required=True, metavar="DIR", help="output directory (created)")
    gen.add_argument("--force", action="store_true", help="replace an existing dataset in DIR")

    serve = sub.add_parser("serve", help="serve engage and export on 127.0.0.1",
                           description="Serve /api/query/engage, /api/2.0/engage and /api/2.0/export "
                                       "on 127.0.0.1 until Ctrl-C.")
    serve.add_argument("--data", metavar="DIR", help="dataset directory (default: the built-in sample)")
    serve.add_argument("--port", type=_port, default=0, help="port (default: a free one)")
    serve.add_argument("--faults", metavar="SPEC", help="fault rules, e.g. 'export#2:429:retry-after=1'")
    serve.add_argument("--time-scale", type=_positive_float, default=1.0, metavar="X",
                       help="multiply rate-limit windows by X (0.001: an hour lasts 3.6 s)")
    serve.add_argument("--no-limits", action="store_true", help="turn rate limiting off")
    serve.add_argument("--page-size", type=_positive_int, default=1000, help="engage page size (default 1000)")
    serve.add_argument("--honour-page-size", action="store_true",
                       help="serve engage pages of the request's page_size (1 … --page-size) "
                            "instead of ignoring it (Mixpanel's behaviour is unconfirmed)")
    serve.add_argument("--now", metavar="TIME", type=_instant,
                       help="fix the sandbox clock (NOW in `where`, and \"today\" for to_date): "
                            "epoch seconds or an ISO date/time in UTC (default: the real clock)")
    serve.add_argument("--timezone", metavar="ZONE", default="UTC",
                       help="the project's timezone for the `to_date cannot be later than today` "
                            "check (default UTC)")
    serve.add_argument("--user-on-export", action="store_true",
                       help="let user[\"x\"] in an export `where` read the event's profile")
    serve.add_argument("--log", metavar="FILE",
                       help="append every request as a JSON line to FILE (method, path, params, "
                            "headers without Authorization, status, bytes, fault, …)")
    serve.add_argument("--quiet", "-q", action="store_true", help="do not log requests on stderr")

    info = sub.add_parser("info", help="describe a dataset")
    info.add_argument("--data", metavar="DIR", help="dataset directory (default: the built-in sample)")
    return parser


def _number(convert, accept, expected: str):
    """An argparse type: ``convert`` the text, keep it if ``accept`` holds, else say what was
    ``expected`` and what was found."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, found {text!r}")
        return value

    return parse


_positive_int = _number(int, lambda v: v >= 1, "a positive integer")
_port = _number(int, lambda v: 0 <= v <= 65535, "a port from 0 (any free one) to 65535")
# Comparisons are false for NaN, and infinities are refused: "inf events per user-day" would
# never finish generating.
_positive_float = _number(float, lambda v: 0 < v < float("inf"), "a positive number")
_non_negative_float = _number(float, lambda v: 0 <= v < float("inf"), "a number ≥ 0")


def _instant(text: str) -> float:
    from .._datetext import parse_datetime_literal

    try:
        return float(text)
    except ValueError:
        pass
    value = parse_datetime_literal(text)  # as a datetime("…") literal, in UTC
    if value is None:
        raise argparse.ArgumentTypeError(
            f"expected epoch seconds or an ISO date/time like 2026-11-01T12:00:00, found {text!r}")
    return value.timestamp()


def run(args: argparse.Namespace) -> int:
    return {"generate": _generate, "serve": _serve, "info": _info}[args.action](args)


def _generate(args: argparse.Namespace) -> int:
    from mpql.errors import InputError
    from mpql.sandbox import generate

    try:
        ds = generate(args.out, users=args.users, days=args.days,
                      events_per_user_day=args.events_per_user_day, seed=args.seed,
                      end_date=args.end_date, overwrite=args.force)
    except OSError as exc:
        raise InputError(f"--out {args.out}: cannot write the dataset "
                         f"({exc.strerror or exc}: {exc.filename or args.out})") from None
    m = ds.manifest
    print(f"wrote {m['events']} events ({ds.first_date}..{ds.last_date}) and "
          f"{m['profiles']} profiles to {ds.path}")
    return 0


def _open_dataset(path):
    from mpql.sandbox import Dataset, default_dataset

    return Dataset(path) if path else default_dataset()


def _info(args: argparse.Namespace) -> int:
    ds = _open_dataset(args.data)
    m = ds.manifest
    print(f"dataset:  {ds.path}")
    print(f"dates:    {ds.first_date}..{ds.last_date}")
    print(f"events:   {m.get('events')}")
    print(f"profiles: {m.get('profiles')}")
    if "generator" in m:
        g = m["generator"]
        print(f"generated with: --users {g['users']} --days {g['days']} "
              f"--events-per-user-day {g['events_per_user_day']} --seed {g['seed']} "
              f"--end-date {g['end_date']}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import json

    from mpql.errors import InputError

    log_file = None
    if args.log:
        try:
            log_file = open(args.log, "a", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputError(f"--log {args.log}: cannot open for appending ({exc.strerror})") from None
    lock = threading.Lock()

    def log(record) -> None:
        # Requests finish on many threads: one lock keeps log lines whole.
        with lock:
            if not args.quiet:
                extra = f" fault={record.fault!r}" if record.fault else ""
                sys.stderr.write(
                    f"{record.method} {record.path} → {record.status if record.status else 'reset'} "
                    f"{record.bytes_sent}B {record.records} records "
                    f"{record.duration * 1000:.0f}ms{extra}\n")
                sys.stderr.flush()
            if log_file is not None:
                log_file.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
                log_file.flush()

    try:
        return _run_server(args, log if (log_file is not None or not args.quiet) else None)
    finally:
        if log_file is not None:
            log_file.close()


def _run_server(args: argparse.Namespace, on_request) -> int:
    from mpql.sandbox import Limits, Sandbox

    sandbox = Sandbox(
        _open_dataset(args.data), port=args.port, faults=args.faults,
        time_scale=args.time_scale,
        limits=Limits.unlimited() if args.no_limits else None,
        page_size=args.page_size,
        honour_page_size=args.honour_page_size,
        on_request=on_request,
        now=args.now,
        user_on_export=args.user_on_export,
        timezone=args.timezone,
    )
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        stop.set()

    # Ctrl-C and SIGTERM only set a flag: the server then stops cleanly and the command exits
    # 0 (stopping a server on purpose is not a failure).
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with sandbox:
            _print_banner(sandbox)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:  # a SIGINT that arrived before our handler was installed
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("mpql sandbox: stopped", file=sys.stderr)
    return 0


def _print_banner(sandbox) -> None:
    ds, c = sandbox.dataset, sandbox.credentials
    # The example must work: its day may not be after the sandbox's today (--now in the past).
    day = max(min(ds.last_date, sandbox.today()), ds.first_date)
    print(f"mpql sandbox: serving {ds.manifest.get('events')} events ({ds.first_date}..{ds.last_date}) "
          f"and {ds.manifest.get('profiles')} profiles from {ds.path}")
    print(f"url:            {sandbox.url}")
    print(f"project_id:     {c.project_id}")
    print(f"username:       {c.username}")
    print(f"secret:         {c.secret}")
    print(f"project secret: {c.project_secret}")
    print("(these are the sandbox's own dummy credentials: they open nothing but this local server)")
    print(f"try: curl -u '{c.username}:{c.secret}' "
          f"'{sandbox.url}/api/2.0/export?project_id={c.project_id}"
          f"&from_date={day}&to_date={day}'")
    print(f"or:  MP_USERNAME='{c.username}' MP_SECRET='{c.secret}' MP_PROJECT_ID={c.project_id} "
          f"mpql run --base-url {sandbox.url} --events --from {day} --to {day} "
          "--where 'properties[\"$os\"] == \"iOS\"'")
    print("Ctrl-C stops the server.", flush=True)

"""``mpql schema infer EXPORT.jsonl``: write a property schema inferred from exported data
(raw export JSONL, or engage results one profile per line), for ``mpql lint --schema``.

``mpql schema pull``: the same schema file built from Mixpanel's metadata endpoints
(``/events/names`` → ``/events/properties/top`` per event → ``/events/properties/values`` per
property), against Mixpanel with MP_* credentials or the embedded sandbox without them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import InputError
from .common import make_parser, reading


def build_parser(prog):
    p = make_parser(prog, "Infer a property schema from sample data.")
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    infer = sub.add_parser("infer", help="infer a schema from JSONL records")
    infer.add_argument("paths", nargs="+", metavar="FILE",
                       help="JSONL files (`-` for standard input)")
    infer.add_argument("-o", "--output", metavar="FILE",
                       help="write the schema here (default: standard output)")
    pull = sub.add_parser(
        "pull", help="build a schema from Mixpanel's metadata endpoints (or the sandbox's)",
        description="Build an event-property schema from /events/names, /events/properties/top "
                    "and /events/properties/values. Credentials: MP_USERNAME, MP_SECRET, "
                    "MP_PROJECT_ID (or MP_SECRET alone), MP_REGION; without them the embedded "
                    "sandbox is used. Every call counts against the Query API's 60/hour: "
                    "1 + events + events x properties calls (--no-values: 1 + events).")
    pull.add_argument("-o", "--output", metavar="FILE",
                      help="write the schema here (default: standard output)")
    pull.add_argument("--event", dest="event_names", action="append", metavar="NAME",
                      help="only these events (repeatable; default: /events/names)")
    pull.add_argument("--events", dest="max_events", type=int, metavar="N", default=255,
                      help="at most N events from /events/names (default 255, its maximum "
                           "useful default)")
    pull.add_argument("--properties", dest="max_properties", type=int, metavar="N", default=100,
                      help="at most N properties per event (default 100; Mixpanel's own "
                           "default is 10)")
    pull.add_argument("--values", dest="max_values", type=int, metavar="N", default=20,
                      help="values sampled per property to type it (default 20)")
    pull.add_argument("--no-values", action="store_true",
                      help="names only: every property typed unknown, far fewer calls")
    pull.add_argument("--region", choices=("us", "eu", "in"),
                      help="data residency (default: MP_REGION, else us)")
    pull.add_argument("--base-url", metavar="URL",
                      help="a Mixpanel-compatible server instead of Mixpanel "
                           "(credentials still from MP_*)")
    pull.add_argument("--query-per-hour", type=int, metavar="N",
                      help="your project's Query API quota (default 60)")
    pull.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return p


def run(args) -> int:
    if args.action == "pull":
        return _pull(args)
    return _infer(args)


def _write(args, result) -> None:
    text = json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{args.output}: cannot write the schema: {exc.strerror}") from None
    else:
        sys.stdout.write(text)


def _pull(args) -> int:
    from ..checker.schema import schema_from_metadata
    from ..errors import ApiError, ConfigError
    from ..executor import Client, Credentials, Limits
    from ..executor._auth import region_from_env

    for name, flag in (("max_events", "--events"), ("max_properties", "--properties"),
                       ("max_values", "--values")):
        value = getattr(args, name)
        if not 1 <= value <= 10_000:  # Mixpanel's largest `limit`
            raise ConfigError(f"{flag}: expected a number from 1 to 10000, found {value}")
    if args.query_per_hour is not None and args.query_per_hour < 1:
        raise ConfigError(f"--query-per-hour: expected a number >= 1, found {args.query_per_hour}")
    say = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    creds = Credentials.from_env()
    if creds is None and args.base_url:
        raise ConfigError("--base-url needs credentials for that server in MP_USERNAME, "
                          "MP_SECRET and MP_PROJECT_ID")
    sandbox = None
    try:
        limits = Limits(query_per_hour=args.query_per_hour or 60)
        if creds is None:
            from ..sandbox import Limits as SandboxLimits, Sandbox

            # The embedded sandbox is this process's own server: its hourly budget would only
            # make a local pull wait for an hour.
            sandbox = Sandbox(limits=SandboxLimits.unlimited()).start()
            say(f"mpql: no Mixpanel credentials (MP_USERNAME/MP_SECRET) — pulling the schema "
                f"of the embedded sandbox at {sandbox.url} (its sample data)")
            creds = Credentials.from_auth(sandbox.credentials)
            limits = Limits(query_per_hour=1_000_000, query_concurrency=5)
        region = args.region or region_from_env() or "us"
        client = Client(creds, region, base_url=sandbox.url if sandbox else args.base_url,
                        limits=limits)
        calls = 0

        def ask(endpoint, **params):
            nonlocal calls
            calls += 1
            return client.query(endpoint, **params)

        try:
            if args.event_names:
                names = list(dict.fromkeys(args.event_names))
            else:
                names = ask("events/names", type="general", limit=args.max_events)
                if not isinstance(names, list):
                    raise InputError(f"/events/names answered {type(names).__name__}, "
                                     "expected a list of event names")
            most = calls + len(names) * (1 + (0 if args.no_values else args.max_properties))
            if sandbox is None and most > limits.query_per_hour:
                say(f"mpql schema pull: {len(names)} events: up to {most} Query API calls, "
                    f"paced to {limits.query_per_hour}/hour — this can take "
                    f"{most / limits.query_per_hour:.1f} hours; --no-values, --event NAME or a "
                    f"lower --properties/--events make it shorter")
            found: dict = {}
            for event in names:
                top = ask("events/properties/top", event=event, limit=args.max_properties)
                if not isinstance(top, dict):
                    raise InputError(f"/events/properties/top for {event!r} answered "
                                     f"{type(top).__name__}, expected an object")
                props = found.setdefault(event, {})
                for prop in top:
                    props[prop] = None if args.no_values else ask(
                        "events/properties/values", event=event, name=prop,
                        limit=args.max_values)
        except ApiError as exc:
            print(f"mpql schema pull: error: {exc}", file=sys.stderr)
            if exc.request:
                print(f"  request: {exc.request}", file=sys.stderr)
            return 2
        result, conflicts = schema_from_metadata(found, "metadata")
        _write(args, result)
        typed = sum(1 for k in (result.event or {}).values() if k != "unknown")
        note = (f"{len(found)} events, {len(result.event or {})} event properties "
                f"({typed} typed), {calls} calls")
        if conflicts:
            note += "; mixed types (typed unknown): " + ", ".join(
                f"{k} ({'/'.join(v)})" for k, v in conflicts.items())
        say(f"mpql schema: {note}")
        return 0
    finally:
        if sandbox is not None:
            sandbox.stop()


def _infer(args) -> int:
    from ..checker.schema import Schema, infer_schema

    event: dict = {}
    profile: dict = {}
    records = 0
    conflicts: dict = {}
    for raw in args.paths:
        if raw == "-":
            schema, stats = infer_schema(sys.stdin, "<stdin>")
        else:
            path = Path(raw)
            with reading(path), path.open(encoding="utf-8") as fh:
                schema, stats = infer_schema(fh, str(path))
        records += stats["records"]
        conflicts.update(stats["conflicts"])
        for table, part in ((event, schema.event), (profile, schema.profile)):
            for name, kind in (part or {}).items():
                old = table.get(name)
                table[name] = kind if old in (None, kind) else "unknown"
    result = Schema(event or None, profile or None)
    _write(args, result)
    note = f"{records} records, {len(event)} event and {len(profile)} profile properties"
    if conflicts:
        note += "; mixed types (typed unknown): " + ", ".join(
            f"{k} ({'/'.join(v)})" for k, v in conflicts.items())
    print(f"mpql schema: {note}", file=sys.stderr)
    return 0

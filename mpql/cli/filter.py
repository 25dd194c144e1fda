"""``mpql filter``: select JSONL records with a Mixpanel expression, offline.

Reads Raw Export lines (``{"event", "properties"}``; ``--profiles`` for Engage results
``{"$distinct_id", "$properties"}``) from files (``.gz`` is decompressed) or standard input,
one line at a time — nothing is loaded whole — and writes the matching lines to standard
output byte for byte (or, with ``--count``, only their number).

Every line that is not a record is reported on standard error as ``FILE:LINE: error: …`` and
the run continues; at the end the exit status is 2 if any line was bad. Blank lines are not
records and are skipped. A record on which Mixpanel would fail the whole query (a non-boolean
``and``/``or`` operand, docs/semantics.md) stops the run with status 2 unless ``--lenient``.

Exit status: 0 success (whether or not anything matched, and when the reader of the output
went away, as with ``| head``), 2 bad expression, unreadable file, unwritable output,
malformed line(s) or an evaluation error, 130 interrupted.
"""

from __future__ import annotations

import sys

from .common import make_parser, reading

EXIT_OK, EXIT_ERROR = 0, 2

#: Malformed lines reported in full; beyond this only a total is printed.
MAX_REPORTED = 20


def _decoder():
    import json

    # One decoder for the run: json.loads(line, parse_constant=…) would build one per line.
    return json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def build_parser(prog):
    p = make_parser(
        prog,
        "Filter JSONL export lines (or Engage profiles with --profiles) with a Mixpanel\n"
        "expression, using Mixpanel's semantics (docs/semantics.md).\n\n"
        "example:\n"
        "  mpql filter --where 'properties[\"$os\"] == \"iOS\"' export.jsonl\n"
        "  mpql filter --profiles --count --where 'defined(properties[\"$email\"])' - < profiles.jsonl\n\n"
        "exit status: 0 ok, 2 bad expression / unreadable input / unwritable output /\n"
        "malformed lines / evaluation "
        "error (malformed lines are reported as FILE:LINE on stderr and do not stop the run)",
    )
    p.add_argument("--where", "-w", required=True, metavar="EXPR", help="the filter expression")
    p.add_argument("paths", nargs="*", metavar="FILE",
                   help="JSONL files (.gz allowed); `-` or nothing for standard input")
    p.add_argument("--profiles", action="store_true",
                   help="records are Engage results {\"$distinct_id\", \"$properties\"}")
    p.add_argument("--count", action="store_true", help="print only the number of matches")
    p.add_argument("--event", action="append", default=[], metavar="NAME",
                   help="keep only events with this name (repeatable), like the export API's "
                        "`event` parameter; the expression cannot see event names")
    p.add_argument("--profiles-from", metavar="FILE",
                   help="Engage JSONL used to resolve user[\"…\"] on events (by distinct_id)")
    p.add_argument("--timezone", metavar="TZ", default="UTC",
                   help="project timezone for datetime(\"…\") literals (default UTC)")
    p.add_argument("--now", metavar="TIME",
                   help="value of NOW: Unix seconds or an ISO datetime (default: current time)")
    p.add_argument("--lenient", action="store_true",
                   help="treat non-boolean and/or operands as undefined instead of failing")
    p.add_argument("--invert", "-v", action="store_true",
                   help="write the records NOT selected (by --event and --where); errors still fail")
    p.add_argument("--trace", action="store_true",
                   help="for every record, print each sub-expression's value to stderr "
                        "(why it matched or not; use on a few lines)")
    p.add_argument("--explain", action="store_true",
                   help="print the Python the expression compiles to, and exit")
    p.add_argument("--engine", choices=("auto", "python", "duckdb"), default="auto",
                   help="python: mpql's evaluator; duckdb: the same semantics compiled to SQL "
                        "(docs/sql.md; also reads directories and Parquet); auto (default): "
                        "duckdb for inputs of 32 MB or more, directories and Parquet")
    return p


def _parse_now(text):
    if text is None:
        return None
    from ..errors import InputError

    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        pass
    from datetime import datetime, timezone

    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--now: expected Unix seconds or an ISO datetime, got {text!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _open(path: str):
    if path == "-":
        return sys.stdin.buffer, "<stdin>"
    with reading(path):
        if path.endswith(".gz"):
            import gzip

            handle = gzip.open(path, "rb")
        else:
            handle = open(path, "rb")
    return handle, path


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON (Mixpanel has no NaN or infinity)")


def _finite_float(text):
    # `1e999` is valid JSON syntax, but as a double it is infinite, which Mixpanel cannot
    # store; json would silently make it float("inf").
    value = float(text)
    if value - value != 0:
        raise ValueError(f"the number {text[:40]} is out of range (Mixpanel numbers are doubles)")
    return value


_BOM = b"\xef\xbb\xbf"


def _load_profiles(path: str, report) -> dict:
    from ..evaluator.values import a_kind

    profiles = {}
    decode = _decoder().decode
    handle, name = _open(path)
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = decode(line.decode("utf-8-sig" if number == 1 else "utf-8"))
                did, props = record["$distinct_id"], record["$properties"]
            except (ValueError, KeyError, TypeError) as exc:
                report(name, number, f"not an Engage profile record: {_reason(exc)}")
                continue
            if not isinstance(did, (str, int, float)) or isinstance(did, bool):
                report(name, number, f'not an Engage profile record: "$distinct_id" is '
                       f"{a_kind(did)}, expected a string or a number")
            elif not isinstance(props, dict):
                report(name, number, f'not an Engage profile record: "$properties" is '
                       f"{a_kind(props)}, expected an object")
            else:
                profiles[did] = props
    return profiles


def _trace(where, record, scope, semantics, now, profiles, name, number) -> None:
    from ..errors import InputError
    from ..evaluator import explain

    profile = None
    props = record.get("properties") if isinstance(record, dict) else None
    if profiles is not None and isinstance(props, dict):
        # (a record of the wrong shape is reported by the caller; explain() skips it)
        did = props.get("distinct_id")
        profile = profiles.get(did) if isinstance(did, (str, int, float)) else None
    try:
        text = explain(where, record, scope=scope, semantics=semantics, now=now, profile=profile)
    except InputError:
        return  # reported as a malformed line by the caller
    print(f"{name}:{number}:\n{text}\n", file=sys.stderr)


def _reason(exc) -> str:
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 (byte {exc.start})"
    text = str(exc)
    if "integer string conversion" in text:  # Python's guard against huge int parsing
        return "an integer with more than 4300 digits (Mixpanel numbers are doubles)"
    return text.splitlines()[0] if text else type(exc).__name__


def run(args) -> int:
    from ..errors import EvaluationError, InputError, ParseError
    from ..evaluator import PROFILES, EVENTS, Semantics, compile_predicate

    try:
        semantics = Semantics(
            timezone=args.timezone,
            logic_operand="undefined" if args.lenient else "raise",
        )
    except ValueError as exc:
        raise InputError(f"--timezone: {exc}") from None

    bad = 0

    def report(name, number, message):
        nonlocal bad
        bad += 1
        if bad <= MAX_REPORTED:
            print(f"{name}:{number}: error: {message}", file=sys.stderr)

    if args.event and args.profiles:
        raise InputError("--event selects events by name; it cannot be used with --profiles")
    names = frozenset(args.event)
    profiles = _load_profiles(args.profiles_from, report) if args.profiles_from else None
    scope = PROFILES if args.profiles else EVENTS
    now = _parse_now(args.now)
    if now is None:
        import time

        now = int(time.time())  # one instant for the whole run, shared with --trace
    if args.engine != "python":
        from ._engine import choose_engine

        if choose_engine(args) == "duckdb":
            from ..sql._duckdb import run_filter

            return run_filter(args, scope, semantics, now)
    try:
        keep = compile_predicate(args.where, scope, now=now, profiles=profiles, semantics=semantics)
    except ParseError as exc:
        print(exc.render(filename="--where"), file=sys.stderr)
        return EXIT_ERROR
    if args.explain:
        print(keep.source, end="")
        return EXIT_OK

    out = sys.stdout.buffer
    write = out.write

    def emit(line):
        try:
            write(line if line.endswith(b"\n") else line + b"\n")
        except BrokenPipeError:
            raise  # `mpql filter … | head`: the dispatcher exits quietly
        except OSError as exc:  # a full disk, say: not the input's fault
            raise InputError(f"cannot write the output: {exc.strerror or exc}") from None
    decode = _decoder().decode
    count = 0
    for path in args.paths or ["-"]:
        handle, name = _open(path)
        with handle:
            number = 0
            try:
                for number, line in enumerate(handle, 1):
                    if number == 1 and line.startswith(_BOM):
                        # A byte-order mark (Windows tools write one) is not part of the
                        # record; it is dropped from the output too, where it would end up
                        # in the middle of the stream.
                        line = line[3:]
                    try:
                        record = decode(line.decode("utf-8"))
                    except ValueError as exc:  # includes UnicodeDecodeError
                        if not line.strip():
                            continue
                        if line.strip() == b"terminated early":
                            report(name, number, "the export ends with `terminated early`: "
                                   "Mixpanel stopped before sending every event; re-run the export")
                        else:
                            report(name, number, f"not valid JSON: {_reason(exc)}")
                        continue
                    if names and not (isinstance(record, dict) and record.get("event") in names):
                        if not isinstance(record, dict):
                            report(name, number, "expected an event record (a JSON object), "
                                   f"got {type(record).__name__}")
                        elif args.invert:
                            count += 1
                            if not args.count:
                                emit(line)
                        continue
                    if args.trace:
                        _trace(args.where, record, scope, semantics, now, profiles, name, number)
                    try:
                        selected = keep(record) is not args.invert
                    except InputError as exc:
                        report(name, number, str(exc))
                        continue
                    except EvaluationError as exc:
                        print(f"{name}:{number}: error: {exc}", file=sys.stderr)
                        return EXIT_ERROR
                    if selected:
                        count += 1
                        if not args.count:
                            emit(line)
            except BrokenPipeError:
                raise  # `mpql filter … | head`: the dispatcher exits quietly
            except (OSError, EOFError) as exc:  # e.g. a truncated .gz
                raise InputError(f"{name}:{number + 1}: cannot read: {exc}") from None
    try:
        if args.count:
            print(count, flush=True)
        out.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise InputError(f"cannot write the output: {exc.strerror or exc}") from None
    if bad:
        more = f" ({bad - MAX_REPORTED} not shown)" if bad > MAX_REPORTED else ""
        print(f"mpql filter: {bad} malformed line(s){more}; see above", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK

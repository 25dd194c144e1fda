"""``mpql filter``: select JSONL records with a Mixpanel expression, offline.

Reads Raw Export lines (``{"event", "properties"}``; ``--profiles`` for Engage results
``{"$distinct_id", "$properties"}``) from files (``.gz`` is decompressed), dataset directories
(as ``mpql sandbox generate --out DIR`` writes them) or standard input, one line at a time —
nothing is loaded whole — and writes the matching lines to standard output byte for byte (or,
with ``--count``, only their number). ``--where @FILE`` reads the expression from a file.
Each match is flushed at once with ``--line-buffered`` and when standard input is read and is a
pipe, terminal or socket (``flush_each_match``); output to a regular file is fully buffered.

Every line that is not a record is reported on standard error as ``FILE:LINE: error: …`` and
the run continues; at the end the exit status is 2 if any line was bad. Blank lines are not
records and are skipped. A record on which Mixpanel would fail the whole query (a non-boolean
``and``/``or`` operand, docs/semantics.md) stops the run with status 2 unless ``--lenient``.

Before reading, the expression is checked for the mistakes that make a filter silently select
nothing (docs/semantics.md, "Warnings"): ``user[...]`` without profiles to resolve it, and the
checker's type, date and unknown-property findings against ``--schema`` or a schema inferred
from the first INFER_RECORDS lines of the input files (standard input is streamed, not read
ahead) and the profiles. They are warnings on standard error;
``--strict`` makes them stop the run (status 2) before anything is written.

Exit status: 0 success (whether or not anything matched, and when the reader of the output
went away, as with ``| head``), 2 bad expression, unreadable file, unwritable output,
malformed line(s), an evaluation error or (``--strict``) a warning, 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .common import make_parser, read_file, reading

EXIT_OK, EXIT_ERROR = 0, 2

#: Malformed lines reported in full; beyond this only a total is printed.
MAX_REPORTED = 20

#: Records read ahead to infer a schema when none is given (``--schema``): enough to see the
#: common properties and their types, few enough not to delay the first output noticeably.
INFER_RECORDS = 1000

#: Checker findings that mean "this filter silently selects nothing" (or, for C001, a
#: constant answer) when it runs offline: types, dates, constant or contradictory conditions,
#: the wrong entity's or an unknown property. Not: the U rules (forms Mixpanel's server may
#: not accept — irrelevant offline), L001 (how Mixpanel's server lexes), S003 (mpql resolves
#: user[...] from profiles; the missing-profiles case has its own warning), C003/C004
#: (redundant conditions: the selection is still right), formatting and style.
_SILENT_ZERO = ("T", "D", "C001", "C002", "S004", "S005", "S006", "S007")


def build_parser(prog):
    p = make_parser(
        prog,
        "Filter JSONL export lines (or Engage profiles with --profiles) with a Mixpanel\n"
        "expression, using Mixpanel's semantics (docs/semantics.md).\n\n"
        "example:\n"
        "  mpql filter --where 'properties[\"$os\"] == \"iOS\"' export.jsonl\n"
        "  mpql filter --profiles --count --where 'defined(properties[\"$email\"])' - < profiles.jsonl\n"
        "  mpql filter --where @recent-ios.mpql dataset/   # a dataset directory\n\n"
        "exit status: 0 ok, 2 bad expression / unreadable input / unwritable output /\n"
        "malformed lines / evaluation error / a warning with --strict (malformed lines are\n"
        "reported as FILE:LINE on stderr and do not stop the run)",
    )
    p.add_argument("--where", "-w", required=True, metavar="EXPR",
                   help="the filter expression, or @FILE to read it from FILE")
    p.add_argument("paths", nargs="*", metavar="FILE",
                   help="JSONL files (.gz allowed) or dataset directories (events/*.jsonl, and "
                        "profiles.jsonl for user[...], as `mpql sandbox generate --out DIR` "
                        "writes them); `-` or nothing for standard input")
    p.add_argument("--profiles", action="store_true",
                   help="records are Engage results {\"$distinct_id\", \"$properties\"}")
    p.add_argument("--count", action="store_true", help="print only the number of matches")
    p.add_argument("--event", action="append", default=[], metavar="NAME",
                   help="keep only events with this name (repeatable), like the export API's "
                        "`event` parameter; the expression cannot see event names")
    p.add_argument("--profiles-from", metavar="FILE",
                   help="Engage JSONL used to resolve user[\"…\"] on events (by distinct_id); "
                        "default: the profiles.jsonl of the dataset directories given")
    p.add_argument("--schema", metavar="FILE",
                   help="property types for the checks made before filtering (as for mpql "
                        f"lint); default: inferred from the first {INFER_RECORDS} lines of the input "
                        "files and the profiles")
    p.add_argument("--strict", action="store_true",
                   help="stop (status 2) instead of warning when the expression would silently "
                        "select nothing: user[...] without profiles, a type mismatch, an "
                        "unknown property")
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
    p.add_argument("--line-buffered", action="store_true",
                   help="write each match at once (flush after every line), like grep's flag; "
                        "automatic when the input is `-` and standard input is a pipe, a "
                        "terminal or a socket (files stay fully buffered: faster)")
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
    from .._datetext import parse_datetime_literal

    # The reading of a datetime("…") literal, in UTC: one recogniser for every date mpql reads.
    dt = parse_datetime_literal(text)
    if dt is None:
        raise InputError(f"--now: expected Unix seconds or an ISO datetime, got {text!r}")
    return dt


def flush_each_match(files, line_buffered: bool, stdin=None) -> bool:
    """Whether every match is flushed as soon as it is written: with ``--line-buffered``, and
    when an input is ``-`` and standard input is not a regular file (a pipe, a terminal, a
    socket: `tail -f log | mpql filter …` must print each match while the input is still
    open). A regular file keeps full buffering: flushing per line costs a system call each."""
    if line_buffered:
        return True
    if "-" not in files:
        return False
    import os
    import stat

    stdin = sys.stdin if stdin is None else stdin
    try:
        return not stat.S_ISREG(os.fstat(stdin.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):  # no descriptor: not a file, so a stream
        return True


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


_BOM = b"\xef\xbb\xbf"
TERMINATED_EARLY = b"terminated early"


def _load_profiles(path: str, report) -> dict:
    from .._jsonlines import loads as decode
    from ..evaluator.values import a_kind

    profiles = {}
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
    return text.splitlines()[0] if text else type(exc).__name__


def _read_where(text: str) -> tuple[str, str]:
    """The expression and the name its diagnostics use: ``@FILE`` reads it from FILE (so
    errors point at that file's line and column), anything else is the expression itself."""
    if not text.startswith("@"):
        return text, "--where"
    path = text[1:]
    if not path:
        from ..errors import InputError

        raise InputError("--where @FILE: give a file name after `@`")
    return read_file(Path(path)).text, path


def _inputs(paths, profiles_mode: bool) -> tuple[list[str], list[str]]:
    """The files to read, in order, and the profile files of the dataset directories given.

    A dataset directory (``mpql sandbox generate --out DIR``) holds ``events/*.jsonl`` (export
    lines, one file per UTC day, read in name order) and ``profiles.jsonl`` (engage results):
    events are the records, unless ``--profiles``, when ``profiles.jsonl`` is."""
    from ..errors import InputError

    files, profile_files = [], []
    for raw in paths or ["-"]:
        with reading(raw):  # is_dir() raises on a name too long, say
            is_dir = raw != "-" and Path(raw).is_dir()
        if not is_dir:
            files.append(raw)
            continue
        base = Path(raw)
        events_dir, profiles = base / "events", base / "profiles.jsonl"
        if not events_dir.is_dir() and not profiles.is_file():
            raise InputError(f"{raw}: a directory, but not a dataset (no events/ and no "
                             "profiles.jsonl); give JSONL files, or a directory written by "
                             "`mpql sandbox generate --out DIR`")
        if profiles_mode:
            if not profiles.is_file():
                raise InputError(f"{raw}: --profiles, but the dataset has no profiles.jsonl")
            files.append(str(profiles))
            continue
        if events_dir.is_dir():
            files.extend(sorted(str(f) for f in events_dir.iterdir()
                                if f.name.endswith((".jsonl", ".jsonl.gz")) and f.is_file()))
        if profiles.is_file():
            profile_files.append(str(profiles))
    return files, profile_files


def _lines(files):
    """``(name, number, line)`` for every line of every file, in order, read lazily; a UTF-8
    byte-order mark on a file's first line is dropped (it would end up mid-stream)."""
    from ..errors import InputError

    for path in files:
        handle, name = _open(path)
        with handle:
            number = 0
            try:
                for number, line in enumerate(handle, 1):
                    if number == 1 and line.startswith(_BOM):
                        line = line[3:]
                    yield name, number, line
            except (OSError, EOFError) as exc:  # e.g. a truncated .gz
                raise InputError(f"{name}:{number + 1}: cannot read: {exc}") from None


def _head(files) -> list:
    """The first INFER_RECORDS lines of the regular files among ``files``, read separately.
    Standard input and pipes are not read ahead: filter streams them (`tail -f | mpql filter`
    prints each match as it comes), so their records are not used for inference."""
    import itertools

    regular = [f for f in files if f != "-" and Path(f).is_file()]
    lines = _lines(regular)
    try:
        return list(itertools.islice(lines, INFER_RECORDS))
    finally:
        lines.close()


def _infer(head, profiles, decode, source: str):
    """A schema from the records among ``head`` (lines read ahead) and the profiles used for
    ``user[...]``; lines that are not records are skipped here (the main loop reports them)."""
    from ..checker.schema import SchemaBuilder
    from ..errors import InputError

    builder = SchemaBuilder()
    for _, _, line in head:
        try:
            builder.add(decode(line.decode("utf-8")))
        except (ValueError, InputError):
            continue
    for props in list((profiles or {}).values())[:INFER_RECORDS]:
        builder.add({"$properties": props})
    return builder.schema(source) if builder.records else None


def _warnings(where: str, filename: str, scope: str, schema, has_profiles: bool) -> list[str]:
    """What makes this filter silently select nothing here, as printable blocks."""
    from ..checker import check
    from ..evaluator import EVENTS
    from ..language import ast as A
    from ..language import parse
    from ..language.printer import quote

    found = []
    expr = parse(where)
    if scope == EVENTS and not has_profiles:
        users = sorted({n.name for n in A.walk(expr)
                        if isinstance(n, A.Property) and n.scope == "user"})
        if users:
            found.append(
                f"{filename}: user[{quote(users[0])}] reads the event's user profile, but no "
                "profiles are loaded, so it is undefined on every event (the comparison "
                "around it never holds)\n  = help: pass --profiles-from PROFILES.jsonl, or a "
                "dataset directory that has profiles.jsonl")
    endpoint = "engage" if scope != EVENTS else "export"
    for d in check(where, endpoint=endpoint, schema=schema):
        if d.severity in ("error", "warning") and d.code.startswith(_SILENT_ZERO):
            found.append(d.render(filename=filename))
    return found


def run(args) -> int:
    from ..errors import EvaluationError, InputError, ParseError
    from ..evaluator import PROFILES, EVENTS, Semantics, compile_predicate
    from .._jsonlines import loads as decode

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
    where, where_name = _read_where(args.where)
    files, dataset_profiles = _inputs(args.paths, args.profiles)
    profiles = None
    if args.profiles_from:
        profiles = _load_profiles(args.profiles_from, report)
    elif dataset_profiles and not args.profiles:
        profiles = {}
        for path in dataset_profiles:
            profiles.update(_load_profiles(path, report))
    scope = PROFILES if args.profiles else EVENTS
    now = _parse_now(args.now)
    if now is None:
        import time

        now = int(time.time())  # one instant for the whole run, shared with --trace
    try:
        keep = compile_predicate(where, scope, now=now, profiles=profiles, semantics=semantics)
    except ParseError as exc:
        print(exc.render(filename=where_name), file=sys.stderr)
        return EXIT_ERROR
    if args.explain:
        print(keep.source, end="")
        return EXIT_OK

    if args.schema:
        from ..checker.schema import load_schema

        schema = load_schema(args.schema)
    else:
        schema = _infer(_head(files), profiles, decode,
                        f"inferred from the first {INFER_RECORDS} lines of the input")
    warnings = _warnings(where, where_name, scope, schema, profiles is not None)
    if warnings:
        label = "error" if args.strict else "warning"
        print(f"mpql filter: {label}: the expression may silently select nothing:",
              file=sys.stderr)
        for block in warnings:
            print(block, file=sys.stderr)
        if args.strict:
            print("mpql filter: stopped by --strict before reading; nothing was written",
                  file=sys.stderr)
            return EXIT_ERROR
    if args.engine != "python":
        from ._engine import choose_engine

        if choose_engine(args, where, scope) == "duckdb":
            from ..sql._duckdb import run_filter

            status = run_filter(args, where, where_name, files, scope, semantics, now)
            if status is not None:
                return status

    out = sys.stdout.buffer
    write = out.write
    flush = out.flush if flush_each_match(files, args.line_buffered) else None

    def emit(line):
        try:
            write(line if line.endswith(b"\n") else line + b"\n")
            if flush is not None:
                flush()
        except BrokenPipeError:
            raise  # `mpql filter … | head`: the dispatcher exits quietly
        except OSError as exc:  # a full disk, say: not the input's fault
            raise InputError(f"cannot write the output: {exc.strerror or exc}") from None

    count = 0
    for name, number, line in _lines(files):
        try:
            record = decode(line.decode("utf-8"))
        except ValueError as exc:  # includes UnicodeDecodeError
            if not line.strip():
                continue
            if line.strip() == TERMINATED_EARLY:
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
            _trace(where, record, scope, semantics, now, profiles, name, number)
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

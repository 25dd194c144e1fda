"""``mpql repl``: test filters interactively against loaded data (docs/repl.md).

Interactive on a terminal (prompt_toolkit: highlighting, completion, multi-line input,
history); when standard input is not a terminal (``mpql repl < script.txt``) it reads inputs
from it and prints a transcript instead. prompt_toolkit is imported only in the interactive
case, so scripted use and every other mpql command start without it.

Exit codes: 0 every input succeeded (or an interactive session ended normally); 1 at least
one scripted input failed (error diagnostic, failed command); 2 a scripted input with a syntax
error or an internal error, or a usage or start-up error (unreadable --data, unknown
--endpoint, bad schema); 130 interrupted. An internal error (a bug) is one line on stderr, as
in every command (the traceback with MPQL_DEBUG=1 or mpql --debug), and the session goes on;
a script that hit any ends with a one-line summary on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .common import make_parser

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def build_parser(prog):
    from ..repl.completion import ENDPOINTS

    p = make_parser(
        prog,
        "Test filters interactively: each expression is checked, shown in canonical form and\n"
        "evaluated against the loaded data (match count, share, first matches, and why when\n"
        "nothing matches). With no --data/--profiles, the sandbox's sample data is loaded.\n"
        "When standard input is not a terminal, inputs are read from it (one expression or\n"
        ":command per line; an incomplete expression continues on the next line) and a\n"
        "transcript is printed.\n\n"
        "exit codes: 0 every input succeeded; 1 at least one scripted input failed (error\n"
        "diagnostic, failed command); 2 a scripted input with a syntax error or an internal\n"
        "error (a bug: one line on stderr), or a usage or start-up error; 130 interrupted",
    )
    p.add_argument("--data", action="append", default=[], metavar="EVENTS.jsonl",
                   help="export JSONL to load (repeatable; profiles in it are loaded too)")
    p.add_argument("--profiles", action="append", default=[], metavar="PROFILES.jsonl",
                   help="engage profiles JSONL to load (repeatable)")
    p.add_argument("--endpoint", choices=ENDPOINTS, default=None,
                   help="context for checking and evaluating (default: export; engage when only "
                   "profiles are loaded)")
    p.add_argument("--schema", metavar="FILE", help="a property schema (JSON) for checking and "
                   "completion")
    p.add_argument("--base-url", metavar="URL",
                   help=":run sends requests to this Mixpanel-compatible server (e.g. `mpql "
                   "sandbox serve`) instead of Mixpanel; credentials still from MP_*")
    p.add_argument("--show", type=int, default=3, metavar="N",
                   help="matching records shown after each expression (default 3)")
    hist = p.add_mutually_exclusive_group()
    hist.add_argument("--history", metavar="FILE",
                      help="history file (default: $MPQL_HISTORY, else the user state dir)")
    hist.add_argument("--no-history", action="store_true", help="keep no history")
    p.add_argument("--no-echo", action="store_true",
                   help="non-interactive mode: do not echo inputs, print only the answers")
    return p


def _load_data(args, out):
    from ..repl.data import Dataset, load_file

    data = Dataset()
    for path in args.data:
        data.extend(load_file(path))
    for path in args.profiles:
        part = load_file(path)
        if part.events:
            out.write(f"note: {path} holds {len(part.events):,} events as well as profiles; "
                      "both are loaded", "warning")
        data.extend(part)
    for note in data.notes:
        out.write(f"note: {note}", "warning")
    if not args.data and not args.profiles:
        data = _sample_data(out)
    return data


def _sample_data(out):
    """The sandbox's small default dataset (what `mpql sandbox serve` starts with)."""
    from ..repl.data import Dataset

    from ..sandbox import default_dataset

    sample = default_dataset()
    events = sample.events(sample.first_date, sample.last_date)
    return Dataset(events, list(sample.all_profiles),
                   [f"the sandbox sample data ({sample.first_date} to {sample.last_date})"],
                   sample=True)


def run(args) -> int:
    from ..errors import MpqlError
    from ..repl.engine import PlainOutput, Session
    from ..repl.script import run_script

    if args.show < 0:
        raise MpqlError("--show must be 0 or more")
    if sys.stdin is None or sys.stdin.closed:
        raise MpqlError("standard input is closed; run mpql repl in a terminal or feed it a "
                        "script (mpql repl < script.txt)")
    interactive = sys.stdin.isatty() and sys.stdout is not None and sys.stdout.isatty()
    if interactive:
        from ..repl.app import TerminalOutput  # prompt_toolkit: imported only for a terminal
    out = TerminalOutput() if interactive else PlainOutput(sys.stdout)
    data = _load_data(args, out)
    endpoint = args.endpoint or ("engage" if data.profiles and not data.events else "export")
    from . import debug_requested

    session = Session(data, out=out, endpoint=endpoint, schema_path=args.schema, show=args.show,
                      timing=interactive, base_url=args.base_url, debug=debug_requested())
    try:
        if not interactive:
            # On a terminal without prompt_toolkit the user's own typing is the echo.
            echo = not args.no_echo and not sys.stdin.isatty()
            status = run_script(_script_lines(sys.stdin), session, echo=echo)
            if session.internal_errors:
                # Each was one line on stderr as it happened; this one says why the status is 2.
                n = session.internal_errors
                print(f"mpql repl: {n} input{'s' if n != 1 else ''} of the script hit an "
                      f"internal error (reported above): exit status {EXIT_ERROR}",
                      file=sys.stderr)
            return status

        from ..repl.app import build_prompt_session, default_history_path, interact

        history = None if args.no_history else (
            Path(args.history).expanduser() if args.history else default_history_path())
        out.write(f"mpql repl — {session.describe_data()}; endpoint {session.endpoint}. "
                  ":help for commands, Ctrl-D to quit.", "dim")
        return interact(session, build_prompt_session(session, history_path=history))
    finally:
        session.close()


def _script_lines(stdin):
    """The lines of a script on standard input, decoded as strict UTF-8 whatever the locale:
    a binary or mis-encoded script stops with an error naming the line (exit 2) instead of
    being evaluated as lone surrogates."""
    from ..errors import InputError

    stream = getattr(stdin, "buffer", None)
    if stream is None:  # already text (a test's StringIO)
        yield from stdin
        return
    for number, raw in enumerate(stream, 1):
        try:
            yield raw.decode("utf-8").removeprefix("\ufeff" if number == 1 else "")
        except UnicodeDecodeError as exc:
            raise InputError(f"<stdin>:{number}: not UTF-8 text (byte {exc.start + 1} of "
                             f"the line): {exc.reason}") from None

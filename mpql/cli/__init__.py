"""The ``mpql`` command: a small dispatcher over one module per subcommand.

Each subcommand lives in ``mpql/cli/<name>.py`` (``cmd_<name>`` when the name is a Python
keyword or clashes) and provides ``build_parser(prog) -> argparse.ArgumentParser`` and
``run(args) -> int``. Only the module of the command being run is imported, which keeps
start-up fast (``mpql lint -e …`` must not import the HTTP client or the REPL).

Exit codes, the same for every command (docs/cli.md):

    0   success, nothing to report
    1   findings (lint problems, unformatted files, a failed check)
    2   usage error, unreadable input (a syntax error included), an mpql error that stopped
        the command, output that cannot be written, or an internal error (one line on
        stderr; the traceback only with ``MPQL_DEBUG=1`` or ``mpql --debug <command>``)
    130 interrupted (Ctrl-C)

The guarantees that hold whatever a command does live here, in ``main``: every exception
ends in one line on stderr and exit 2; output that cannot be written (standard output closed,
a full disk) is an error, not silently lost data; a reader that stops reading (``| head``)
ends the command quietly with exit 0.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from importlib import import_module

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

#: command → (module, one-line summary). Order is the order of `mpql --help`.
COMMANDS = {
    "parse": ("mpql.cli.parse", "print the syntax tree of an expression"),
    "fmt": ("mpql.cli.fmt", "format expressions canonically (or check formatting)"),
    "lint": ("mpql.cli.lint", "check expressions for errors Mixpanel would silently accept"),
    "rule": ("mpql.cli.rule", "explain a lint rule"),
    "schema": ("mpql.cli.schema", "infer a property schema from exported data"),
    "plan": ("mpql.cli.plan", "show the Mixpanel requests a query compiles to"),
    "filter": ("mpql.cli.filter", "filter JSONL records locally with an expression"),
    "sql": ("mpql.cli.sql", "print the SQL an expression compiles to (DuckDB, Spark, BigQuery, …)"),
    "sandbox": ("mpql.cli.sandbox", "generate sample data or serve the local Mixpanel sandbox"),
    "run": ("mpql.cli.run", "run a query against Mixpanel (or the sandbox) and write JSONL"),
    "demo": ("mpql.cli.demo", "the HubSpot -> Mixpanel workflow end to end on the sandbox"),
    "repl": ("mpql.cli.repl", "test filters interactively"),
}


def warn_if_nothing_found(paths, sources) -> None:
    """`mpql fmt wrong-dir/` must not succeed in silence: say that no file was found (exit
    code unchanged, as ruff's "No Python files found")."""
    if paths and not sources:
        where = ", ".join(str(p) for p in paths)
        print(f"warning: no .mpql files found in {where}", file=sys.stderr)


def _usage() -> str:
    from mpql import __version__

    lines = [
        f"mpql {__version__} — Mixpanel segmentation expressions: parse, lint, plan, run.",
        "",
        "usage: mpql <command> [options]     (mpql <command> --help for details)",
        "",
        "commands:",
    ]
    available = {name: spec for name, spec in COMMANDS.items() if _exists(spec[0])}
    width = max(len(n) for n in available)
    for name, (_, summary) in available.items():
        lines.append(f"  {name.ljust(width)}  {summary}")
    lines += ["", "exit codes: 0 ok, 1 findings, 2 usage or input error (a syntax error too) or",
              "an error that stopped the command, 130 interrupted (docs/cli.md)",
              "MPQL_DEBUG=1 (or mpql --debug <command>) shows the traceback of an internal error"]
    return "\n".join(lines)


def _exists(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


def _attach_expressions(argv: list[str]) -> list[str]:
    """argparse takes the value of ``-e -1>2`` (or ``-e --1``, ``-e -(5)``) for an option and
    fails with "expected one argument". A value after -e/--expr that starts with `-` but not
    like an option name (`-x`, `--check`) is attached to it: ``--expr=-1>2``."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if arg in ("-e", "--expr") and nxt and nxt.startswith("-") and nxt not in ("-", "--") \
                and not nxt.lstrip("-")[:1].isalpha():
            out.append(f"--expr={nxt}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def console_main() -> int:
    """The ``mpql`` program itself (the console script and ``python -m mpql``), not a library
    call: start-up is tuned here, and only here, for a process that exists to run one command.

    Importing a command's modules creates tens of thousands of objects, and the cyclic garbage
    collector traverses them again and again while they are being created (~10 % of
    ``mpql lint -e``). None of them is garbage, so collection is off until the command has
    imported what it needs, and ``gc.freeze()`` then moves them out of every later collection.
    ``main()`` (tests, embedding programs) never touches the collector."""
    import gc

    global _gc_paused
    gc.disable()
    _gc_paused = True
    try:
        return main()
    finally:
        imports_done()


_gc_paused = False


def imports_done() -> None:
    """Called when a command has imported its modules: turns the collector back on if
    :func:`console_main` paused it (freezing what exists so far); does nothing otherwise."""
    global _gc_paused
    if _gc_paused:
        import gc

        _gc_paused = False
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(argv)
    if argv[:1] == ["--debug"]:
        argv = argv[1:]
    global _debug
    _debug = debug  # for the commands that report a bug and go on (debug_requested)
    # A closed stdout/stderr (`mpql … >&-`) is None in Python. Writing to a closed standard
    # output is an error (the output would be lost), raised at the first write; a closed
    # standard error has nowhere to report anything, so it is a sink.
    _guard_stdout()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    name = argv[0] if argv else ""
    prefix = f"mpql {name}" if name in COMMANDS else "mpql"
    try:
        status = _main(argv)
        # Flushed here, not at interpreter exit: a write error must set the exit code.
        try:
            sys.stdout.flush()
        except StdoutError:
            if status != EXIT_ERROR:
                raise
            _discard_stdout()  # the command already reported why it stopped (often this)
        return status
    except KeyboardInterrupt:  # also while a command's modules are still being imported
        print(f"{prefix}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `mpql … | head`: the reader has all it wanted
        _discard_stdout()
        return EXIT_OK
    except StdoutError as exc:
        _discard_stdout()
        reason = exc.strerror or str(exc)
        print(f"{prefix}: error: cannot write to standard output: {reason}", file=sys.stderr)
        return EXIT_ERROR
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug: one line and exit 2, never a traceback
        report_internal_error(prefix, exc, debug)
        return EXIT_ERROR


#: Whether the running command shows tracebacks of internal errors (``--debug`` or
#: ``MPQL_DEBUG``); set by ``main``.
_debug = False


def debug_requested() -> bool:
    """Whether ``main`` was asked to show the tracebacks of internal errors: for a command
    that reports a bug and goes on (the REPL) instead of letting ``main`` end it."""
    return _debug


def _debug_requested(argv: list[str]) -> bool:
    return argv[:1] == ["--debug"] or os.environ.get("MPQL_DEBUG", "") not in ("", "0")


def report_internal_error(prefix: str, exc: BaseException, debug: bool,
                          context: str = "") -> None:
    """A bug, on stderr: one line (``context`` says what mpql was doing), preceded by the
    traceback only when ``debug``."""
    if debug:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    hint = "" if debug else "; MPQL_DEBUG=1 shows the traceback"
    # One line whatever the exception says: a multi-line message is folded.
    message = " ".join(f"{exc} {context}".split())
    print(f"{prefix}: internal error: {type(exc).__name__}: {message} (a bug in mpql — please "
          f"report it{hint})", file=sys.stderr)


class StdoutError(OSError):
    """Standard output cannot be written (closed, a full disk, an I/O error). Not raised for a
    reader that went away (EPIPE): that is a BrokenPipeError, and a normal end."""


class _StdoutRaw(io.RawIOBase):
    """File descriptor 1, whose write errors are StdoutError: ``main`` can then tell a failed
    write to standard output from any other OSError, wherever in a command it happened."""

    def __init__(self, fd: int | None) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        if self._fd is None:
            raise StdoutError(errno.EBADF, "standard output is closed")
        return self._fd

    def isatty(self) -> bool:
        return self._fd is not None and os.isatty(self._fd)

    def write(self, data) -> int:
        try:
            return os.write(self.fileno(), data)
        except (BrokenPipeError, StdoutError):
            raise
        except OSError as exc:
            raise StdoutError(exc.errno, exc.strerror) from None


def _guard_stdout() -> None:
    """Replace ``sys.stdout`` (the real standard output, or None when it is closed) by a text
    stream over :class:`_StdoutRaw` with the same encoding and buffering. Left alone when
    something else already replaced it (a test capturing output)."""
    current = sys.stdout
    if current is not None and current is not sys.__stdout__:
        return
    fd = None
    if current is not None:
        try:
            fd = current.fileno()
            current.flush()
        except (OSError, ValueError, AttributeError):
            return
    raw = _StdoutRaw(fd)
    # Unbuffered (python -u, PYTHONUNBUFFERED) stays unbuffered: Python then gives stdout a raw
    # FileIO as its buffer and a write-through text layer; streaming commands rely on it.
    unbuffered = isinstance(getattr(current, "buffer", None), io.RawIOBase)
    sys.stdout = io.TextIOWrapper(
        raw if unbuffered else io.BufferedWriter(raw),
        encoding=getattr(current, "encoding", None) or "utf-8",
        errors=getattr(current, "errors", None) or "strict",
        line_buffering=bool(getattr(current, "line_buffering", False)),
        write_through=bool(getattr(current, "write_through", False)))


def _discard_stdout() -> None:
    """Point standard output at /dev/null, so that the flush at interpreter exit does not
    fail (and print "Exception ignored …") a second time."""
    null = os.open(os.devnull, os.O_WRONLY)
    buffer = getattr(sys.stdout, "buffer", None)
    raw = buffer if isinstance(buffer, _StdoutRaw) else getattr(buffer, "raw", None)
    if isinstance(raw, _StdoutRaw):
        raw._fd = null  # what is still buffered goes nowhere, even for a closed descriptor
    try:
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        # Asked for: stdout, exit 0. No command at all is a usage error: stderr, exit 2.
        print(_usage(), file=sys.stdout if argv else sys.stderr)
        return EXIT_OK if argv else EXIT_ERROR
    if argv[0] in ("-V", "--version"):
        from mpql import __version__

        print(f"mpql {__version__}")
        return EXIT_OK
    name, rest = argv[0], argv[1:]
    spec = COMMANDS.get(name)
    if spec is None or not _exists(spec[0]):
        import difflib

        guess = difflib.get_close_matches(name, list(COMMANDS), n=1)
        hint = f" (did you mean `{guess[0]}`?)" if guess else ""
        print(f"mpql: unknown command `{name}`{hint}; run `mpql --help`", file=sys.stderr)
        return EXIT_ERROR
    module = import_module(spec[0])
    parser = module.build_parser(f"mpql {name}")
    try:
        args = parser.parse_args(_attach_expressions(rest))
    except SystemExit as exc:  # argparse: --help exits 0, a usage error exits 2
        return int(exc.code or 0)
    from mpql.errors import MpqlError

    if not getattr(module, "CALLS_IMPORTS_DONE", False):
        imports_done()  # else run() calls it once it has imported the rest of what it needs
    try:
        return module.run(args)
    except MpqlError as exc:
        print(f"mpql {name}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR

"""The ``mpql`` command: a small dispatcher over one module per subcommand.

Each subcommand lives in ``mpql/cli/<name>.py`` (``cmd_<name>`` when the name is a Python
keyword or clashes) and provides ``build_parser(prog) -> argparse.ArgumentParser`` and
``run(args) -> int``. Only the module of the command being run is imported, which keeps
start-up fast (``mpql lint -e …`` must not import the HTTP client or the REPL).

Exit codes, the same for every command (docs/cli.md):

    0   success, nothing to report
    1   findings (lint problems, unformatted files, a failed check)
    2   usage error, unreadable input, or an mpql error that stopped the command
    130 interrupted (Ctrl-C)
"""

from __future__ import annotations

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
    lines += ["", "exit codes: 0 ok, 1 findings, 2 usage or input error, 130 interrupted"]
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # A closed stdout/stderr (`mpql … >&-`) is None in Python: print() then drops its output,
    # but stream.write() would raise. Give every command a sink, as print() behaves.
    for stream in ("stdout", "stderr"):
        if getattr(sys, stream) is None:
            import os

            setattr(sys, stream, open(os.devnull, "w", encoding="utf-8"))
    name = argv[0] if argv else ""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # also while a command's modules are still being imported
        print(f"mpql {name}: interrupted" if name in COMMANDS else "mpql: interrupted",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `mpql … | head`: the reader has all it wanted
        # Point stdout at /dev/null so the flush at exit does not fail a second time.
        import os

        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK


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

    try:
        return module.run(args)
    except MpqlError as exc:
        print(f"mpql {name}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR

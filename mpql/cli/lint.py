"""``mpql lint``: check expressions in .mpql, Python and JSON files (or given with -e) for
what Mixpanel would silently answer with nothing.

Exit codes: 0 when nothing at the failing severity remains (``--fail-on``, default warning),
1 when findings remain, 2 on usage, config or input errors (an expression with a syntax error
included: it is reported like any finding, but could not be checked) and on internal errors.
``--exit-zero`` turns 1 into 0, not 2. With no path and no ``-e``, the current directory is
linted; standard input is read only for ``-``. See docs/lint.md.
"""

from __future__ import annotations

import os
import sys

from ..errors import ConfigError
from .common import add_input_arguments, iter_lint_files, make_parser, read_file, read_sources

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
#: run() calls mpql.cli.imports_done() itself, after importing the checker (see console_main)
CALLS_IMPORTS_DONE = True
SUFFIXES = (".mpql", ".py", ".json")


def build_parser(prog):
    from ..checker.output import FORMATS

    p = make_parser(prog, __doc__.split("\n\n")[0].split("`: ", 1)[1])
    add_input_arguments(p, paths_help="files and directories to lint (default: the current "
                        "directory); directories are searched for *.mpql, *.py and *.json; "
                        "`-` reads standard input")
    p.add_argument("--endpoint", metavar="E",
                   help="context: any (default), export, engage, segmentation, funnels, "
                        "retention, jql")
    p.add_argument("--param", choices=("where", "on", "born_where"),
                   help="context parameter (default where)")
    p.add_argument("--behaviors", metavar="NAMES",
                   help="behaviors the engage request defines (comma-separated, or `none`)")
    p.add_argument("--schema", metavar="FILE",
                   help="property schema: mpql JSON mapping or a Lexicon schema export")
    p.add_argument("--select", action="append", default=[], metavar="CODES",
                   help="only these rules (codes, names, prefixes or ALL; comma-separated)")
    p.add_argument("--extend-select", action="append", default=[], metavar="CODES",
                   help="rules to add to the default set (the opt-in F001, U005)")
    p.add_argument("--ignore", action="append", default=[], metavar="CODES",
                   help="rules to skip")
    p.add_argument("--format", choices=FORMATS, default="full", help="output format")
    p.add_argument("--fix", action="store_true", help="apply safe fixes (files are rewritten)")
    p.add_argument("--diff", action="store_true",
                   help="print the fixes --fix would make as a unified diff; write nothing "
                        "(exit 1 when there is a change)")
    p.add_argument("--unsafe-fixes", action="store_true",
                   help="also apply fixes that change what a filter selects")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    p.add_argument("--fail-on", choices=("error", "warning", "info"),
                   help="lowest severity that makes the exit code 1 (default warning)")
    p.add_argument("--statistics", action="store_true",
                   help="print the number of findings per rule instead of the findings")
    p.add_argument("--baseline", metavar="FILE",
                   help="report only findings not recorded in this baseline file "
                        "(config: baseline)")
    p.add_argument("--write-baseline", metavar="FILE",
                   help="record the current findings in FILE and exit 0")
    p.add_argument("--no-baseline", action="store_true",
                   help="ignore the baseline named in the config")
    p.add_argument("--config", metavar="FILE", help="config file (mpql.toml or pyproject.toml)")
    p.add_argument("--isolated", action="store_true", help="ignore config files")
    return p


def _options(args):
    from ..checker.config import find_config, load_config
    from ..checker.lint import LintOptions
    from ..checker.rules import resolve_selectors
    from ..checker.schema import load_schema

    settings: dict = {}
    if not args.isolated:
        if args.config:
            from pathlib import Path  # lazily: not needed for `lint -e` (start-up time)

            path = Path(args.config)
        else:
            path = find_config(os.getcwd())
        if args.config and not path.is_file():
            raise ConfigError(f"config file {path}: no such file")
        if path is not None:
            settings = load_config(path)
    for option, group in (("--select", args.select), ("--extend-select", args.extend_select),
                          ("--ignore", args.ignore)):
        try:
            codes = resolve_selectors(group)
        except ValueError as exc:
            raise ConfigError(f"{option}: {exc}") from None
        if group and not codes:
            # `--select ""` would silently turn every rule off and pass.
            raise ConfigError(f"{option} {','.join(group)!r} names no rule: give codes, names, "
                              "prefixes or ALL (e.g. T001, cross-type-equality, T)")
    select = tuple(args.select) or tuple(settings.get("select", ()))
    extend = tuple(settings.get("extend_select", ())) + tuple(args.extend_select)
    ignore = tuple(settings.get("ignore", ())) + tuple(args.ignore)
    schema_path = args.schema or settings.get("schema")
    schema = load_schema(schema_path) if schema_path else None
    endpoint = args.endpoint if args.endpoint is not None else settings.get("endpoint")
    if endpoint is not None:
        from ..checker.engine import Context
        try:
            # An empty --endpoint (an unset shell variable?) is a mistake, not `any`.
            Context.make(endpoint if endpoint.strip() else "''")
        except ValueError as exc:
            raise ConfigError(f"--endpoint: {exc}") from None
    fail_on = args.fail_on or settings.get("fail_on", "warning")
    if args.no_baseline:
        args.baseline = None
    elif args.baseline is None:
        args.baseline = settings.get("baseline")
    return LintOptions(
        endpoint=endpoint, param=args.param or settings.get("param"),
        behaviors=args.behaviors if args.behaviors is not None else settings.get("behaviors"),
        schema=schema, select=select, extend_select=extend, ignore=ignore,
        per_file_ignores=settings.get("per_file_ignores", {}), fail_on=fail_on,
        severity=settings.get("severity", {}),
        extract_calls=tuple(settings.get("extract", {}).get("calls", ())),
        extract_json=tuple(settings.get("extract", {}).get("json", ())))


def run(args) -> int:
    # An unexpected exception is reported by mpql.cli.main like in every command: one line,
    # exit 2 (the traceback with MPQL_DEBUG=1).
    from ..checker.lint import fix_text, is_failure, lint_text
    from ..checker.output import render, statistics
    from . import imports_done

    options = _options(args)
    imports_done()
    if args.write_baseline and (args.fix or args.diff):
        raise ConfigError("--write-baseline records the findings as they are: it cannot be "
                          "combined with --fix or --diff (fix first, then write the baseline)")
    baseline = None
    if args.baseline and not args.write_baseline:
        from pathlib import Path  # here and below: only with a baseline (start-up of -e)

        from ..checker.baseline import load_baseline
        baseline = load_baseline(Path(args.baseline))
    # Standard input is read only when asked for (`-`). With no path and no -e, lint the
    # current directory, as ruff does: reading an empty or forgotten stdin would "pass".
    paths = args.paths or ([] if args.expr else ["."])
    sources = read_sources(args.expr, ["-"] if "-" in paths else [])
    _check_explicit_suffixes(paths)
    files = iter_lint_files(paths, SUFFIXES)
    sources += [read_file(p) for p in files]
    if not files and not args.expr and "-" not in paths:
        print(f"mpql lint: warning: no .mpql, .py or .json files found under "
              f"{', '.join(paths)}", file=sys.stderr)
    if args.diff:
        return _diff(sources, options, args.unsafe_fixes)
    fixing = args.fix
    found = []
    fixed_total = 0
    to_stdout = []  # fixed text of -e / stdin sources
    recorded = []  # baseline entries, when writing or reading a baseline
    linted = set()  # baseline keys of the sources linted
    base_file = args.write_baseline or (baseline and baseline.path)
    for source in sources:
        single = source.name == "<expr>"
        kind = "mpql" if source.path is None else None
        if fixing:
            new, n, remaining = fix_text(source.text, source.name, options, kind,
                                         unsafe=args.unsafe_fixes, single=single)
            fixed_total += n
            if source.path is not None and new != source.text:
                source.write(new)
            elif source.path is None:
                to_stdout.append(new)
            found.extend(remaining)
            text, current = new, remaining
        else:
            current = lint_text(source.text, source.name, options, kind, single=single)
            found.extend(current)
            text = source.text
        if base_file:
            from pathlib import Path

            from ..checker.baseline import entries_for, file_key
            key = file_key(source.path, source.name, Path(base_file).parent)
            linted.add(key)
            recorded.extend(entries_for(current, text, source.name, key, single=single))
    if args.write_baseline:
        from pathlib import Path

        from ..checker.baseline import write_baseline
        n = write_baseline(Path(args.write_baseline), recorded)
        print(f"Wrote {n} baseline entr{'ies' if n != 1 else 'y'} to {args.write_baseline}.",
              file=sys.stderr)
        return EXIT_OK
    stale = 0
    if baseline is not None:
        found, stale = baseline.filter(recorded, linted)
    out = sys.stdout if not to_stdout else sys.stderr
    if args.statistics:
        text = statistics(found, args.format, args.unsafe_fixes)
    else:
        text = render(args.format, found, unsafe=args.unsafe_fixes)
    if text or args.format in ("json", "sarif"):
        print(text, file=out)
    if to_stdout:
        sys.stdout.write("\n\n".join(t.rstrip("\n") for t in to_stdout) + "\n")
    failing = [d for d in found if is_failure(d, options.fail_on)]
    if args.format in ("full", "concise") and not args.statistics:
        _summary(found, failing, fixed_total, args, options.fail_on)
    if stale:
        # Informational: the baseline can be shrunk, nothing is wrong.
        print(f"{stale} baseline entr{'ies' if stale != 1 else 'y'} no longer "
              f"match{'' if stale != 1 else 'es'} (fixed or changed); run `mpql lint --write-baseline {baseline.path}` to "
              "drop them.", file=sys.stderr)
    if any(d.code in _syntax_codes() for d in found):
        return EXIT_ERROR  # input mpql cannot read: the same exit code in every command
    if failing and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_OK


def _syntax_codes():
    from ..language.parser import SYNTAX_CODES

    return SYNTAX_CODES


def _check_explicit_suffixes(paths) -> None:
    """A file named on the command line must be one the linter knows how to read. A
    workflow YAML, a SQL or Markdown file read as `.mpql` produced nonsense findings, and
    `--fix` would have rewritten it; pre-commit hands over whatever files match its pattern.
    Files without a suffix (process substitution, /dev/stdin) are read as `.mpql`."""
    if not paths:
        return  # `lint -e`: no pathlib at all
    from pathlib import Path

    from ..errors import InputError

    for raw in paths:
        path = Path(raw)
        if raw == "-" or path.is_dir() or not path.suffix:
            continue
        if path.suffix.lower() not in SUFFIXES + (".pyi",):
            raise InputError(f"{raw}: mpql lint reads .mpql, .py, .pyi and .json files, not "
                             f"{path.suffix} (put expressions in a .mpql file, or pipe them "
                             "with `-`)")


def _diff(sources, options, unsafe: bool) -> int:
    """``--diff``: what ``--fix`` would change, as a unified diff per source; nothing is
    written. Exit 1 when there is a change (as ruff's ``--diff``), else 0."""
    import difflib

    from ..checker.lint import fix_text

    fixes = changed = 0
    for source in sources:
        kind = "mpql" if source.path is None else None
        new, n, _ = fix_text(source.text, source.name, options, kind, unsafe=unsafe,
                             single=source.name == "<expr>")
        if new == source.text:
            continue
        fixes += n
        changed += 1
        old_lines = source.text.splitlines(keepends=True)
        new_lines = new.splitlines(keepends=True)
        for lines in (old_lines, new_lines):
            if lines and not lines[-1].endswith("\n"):
                lines[-1] += "\n"  # an expression given with -e has no final newline
        sys.stdout.writelines(difflib.unified_diff(old_lines, new_lines, f"a/{source.name}",
                                                   f"b/{source.name}"))
    if changed:
        print(f"Would fix {fixes} problem{'s' if fixes != 1 else ''} in {changed} "
              f"source{'s' if changed != 1 else ''}.", file=sys.stderr)
        return EXIT_FINDINGS
    print("No fixes available.", file=sys.stderr)
    return EXIT_OK


def _summary(found, failing, fixed_total, args, fail_on) -> None:
    n = len(found)
    fixable = sum(1 for d in found if d.fix is not None and (
        d.fix.applicability == "safe" or args.unsafe_fixes))
    unsafe_only = sum(1 for d in found if d.fix is not None and d.fix.applicability != "safe"
                      and not args.unsafe_fixes)
    parts = []
    if fixed_total:
        parts.append(f"Fixed {fixed_total} problem{'s' if fixed_total != 1 else ''}.")
    if n:
        kinds = {}
        for d in found:
            kinds[d.severity] = kinds.get(d.severity, 0) + 1
        detail = ", ".join(f"{v} {k}{'s' if v != 1 else ''}" for k, v in
                           sorted(kinds.items(), key=lambda kv: ("error", "warning",
                                                                 "info").index(kv[0])))
        line = f"Found {n} problem{'s' if n != 1 else ''} ({detail})."
        if fixable:
            line += f" {fixable} fixable with --fix."
        if unsafe_only:
            line += f" {unsafe_only} more with --unsafe-fixes."
        parts.append(line)
    if not failing:
        parts.append("All checks passed!" if not n else
                     f"Nothing at or above `{fail_on}` severity.")
    print(" ".join(parts), file=sys.stderr)


"""``mpql fmt``: rewrite expressions in canonical form, or check that they already are.

    mpql fmt [FILES…] [-e EXPR] [--check] [--diff] [--style pretty|wire]

Files (and directories, searched for ``*.mpql``) are rewritten in place; ``-e`` and standard
input (``-``, or no arguments) print the result. ``--check`` writes nothing and exits 1 when
anything would change; ``--diff`` prints a unified diff instead of writing (and also exits 1 on
changes). A file with a syntax error is reported and left untouched (exit 2).

Comments are kept. A ``.mpql`` text is a sequence of blocks separated by blank lines; each
block's expression is replaced by its canonical form and its comments stay where they were
relative to it: lines above the expression stay above, lines below stay below, a comment at the
end of a one-line expression stays at its end; a comment inside a multi-line expression moves
above it. Blocks are separated by exactly one blank line and the text ends with one newline.
"""

from __future__ import annotations

import sys

from ..errors import InputError, ParseError
from ..language import format_expr, parse
from ..language.source import comment_start
from . import warn_if_nothing_found
from .common import add_input_arguments, make_parser, read_sources

__all__ = ["build_parser", "run", "format_text"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def build_parser(prog):
    p = make_parser(prog, (
        "Format expressions canonically. Files (and directories, searched for *.mpql) are\n"
        "rewritten in place, keeping comments; -e and standard input print the result.\n\n"
        "exit codes: 0 nothing to change, 1 --check/--diff found changes,\n"
        "2 usage error, unreadable file or a syntax error (that file is left untouched)"))
    add_input_arguments(p)
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if anything is not formatted")
    p.add_argument("--diff", action="store_true",
                   help="print a unified diff instead of writing; exit 1 if anything differs")
    p.add_argument("--style", choices=("pretty", "wire"), default="pretty",
                   help="pretty: canonical, minimal parentheses (default); "
                   "wire: fully parenthesised, as sent to Mixpanel")
    return p


def format_text(text: str, style: str = "pretty") -> str:
    """A whole ``.mpql`` text with every expression formatted and every comment kept.

    Raises ``ParseError`` whose diagnostic points into ``text`` (not into the block)."""
    blocks = _blocks(text)
    out = []
    for offset, lines in blocks:
        out.append(_format_block(text, offset, lines, style))
    return "\n\n".join(out) + ("\n" if out else "")


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """(offset of the block, its lines without line endings) for each blank-line-separated
    block, as in mpql.language.source.split_mpql."""
    blocks, current, start, pos = [], [], 0, 0
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        if line.strip():
            if not current:
                start = pos
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
        pos += len(raw)
    if current:
        blocks.append((start, current))
    return blocks


def _format_block(text: str, offset: int, lines: list[str], style: str) -> str:
    code_rows = [i for i, line in enumerate(lines) if _code_of(line).strip()]
    if not code_rows:  # a comment-only block: keep it, minus trailing spaces
        return "\n".join(line.rstrip() for line in lines)
    first, last = code_rows[0], code_rows[-1]
    above = [line.rstrip() for line in lines[:first]]
    below = [line.rstrip() for line in lines[last + 1:]]
    body_lines = lines[first : last + 1]
    body_offset = offset + sum(len(line) + 1 for line in lines[:first])
    body = "\n".join(body_lines)
    try:
        node = parse(body)
    except ParseError as exc:
        raise ParseError(exc.diagnostic.with_source(text, body_offset)) from None
    formatted = format_expr(node, style)
    trailing = _comment_of(body_lines[-1])
    # Comments inside a multi-line expression (on a line of their own or after code).
    inner = [c for c in (_comment_of(line) for line in body_lines[:-1]) if c]
    if trailing and len(body_lines) > 1:
        inner.append(trailing)
        trailing = ""
    result = above + inner + [formatted + (f"  {trailing}" if trailing else "")] + below
    return "\n".join(result)


def _split_comment(line: str) -> tuple[str, str]:
    """(code, comment) of one line; a `#` inside a string is not a comment."""
    i = comment_start(line)
    return (line, "") if i is None else (line[:i], line[i:].rstrip())


def _code_of(line: str) -> str:
    return _split_comment(line)[0]


def _comment_of(line: str) -> str:
    return _split_comment(line)[1]


def run(args) -> int:
    sources = read_sources(args.expr, args.paths or ([] if args.expr else ["-"]))
    warn_if_nothing_found(args.paths, sources)
    status = EXIT_OK
    for source in sources:
        try:
            new = format_text(source.text, args.style)
        except ParseError as exc:
            d = exc.diagnostic
            print(d.render(source.name) + "\n", file=sys.stderr)
            print(f"error: cannot format {source.name}: {d.code} at line {d.line}",
                  file=sys.stderr)
            status = EXIT_ERROR
            continue
        if source.path is None:  # -e or stdin: the result goes to stdout
            old = source.text if source.text.endswith("\n") else source.text + "\n"
            if args.diff or args.check:
                if new != old:
                    status = max(status, EXIT_FINDINGS)
                    if args.diff:
                        _print_diff(source.name, old, new)
                    else:
                        print(f"would reformat {source.name}", file=sys.stderr)
            else:
                sys.stdout.write(new)
            continue
        if new == source.text:
            continue
        status = max(status, EXIT_FINDINGS) if (args.check or args.diff) else status
        if args.diff:
            _print_diff(source.name, source.text, new)
        elif args.check:
            print(f"would reformat {source.name}", file=sys.stderr)
        else:
            try:
                _write(source, new)
            except OSError as exc:
                raise InputError(f"{source.name}: cannot write: {exc.strerror}") from None
            print(f"reformatted {source.name}", file=sys.stderr)
    return status


def _write(source, text: str) -> None:
    """Rewrite a file keeping its line endings (CRLF stays CRLF, as with `mpql lint --fix`)
    and its byte order mark, when the reader recorded one."""
    bom = "\ufeff" if getattr(source, "bom", False) else ""
    source.path.write_text(bom + text, encoding="utf-8", newline=source.newline)


def _print_diff(name: str, old: str, new: str) -> None:
    import difflib  # only --diff needs it: not imported at start-up

    for line in difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), name, name):
        sys.stdout.write(line)
        if not line.endswith("\n"):  # the last line of a file without a final newline
            sys.stdout.write("\n\\ No newline at end of file\n")

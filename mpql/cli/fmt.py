"""``mpql fmt``: rewrite expressions in canonical form, or check that they already are.

Files are rewritten in place, keeping comments and blank-line separation: each expression
block is replaced by its canonical text; blocks with a leading comment keep it. ``-e`` and
stdin print the result. ``--check`` writes nothing and exits 1 when anything would change;
``--diff`` prints a unified diff instead of writing.
"""

from __future__ import annotations

import difflib
import sys

from ..errors import ParseError
from ..language import format_expr, parse
from ..language.source import split_mpql
from .common import add_input_arguments, make_parser, read_sources

EXIT_OK, EXIT_FINDINGS = 0, 1


def build_parser(prog):
    p = make_parser(prog, "Format expressions canonically.")
    add_input_arguments(p)
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if any file is not formatted")
    p.add_argument("--diff", action="store_true", help="print a diff instead of writing")
    p.add_argument("--style", choices=("pretty", "wire"), default="pretty",
                   help="pretty: canonical, minimal parentheses (default); "
                   "wire: fully parenthesised, as sent to Mixpanel")
    return p


def format_text(text: str, style: str) -> str:
    """A whole .mpql text with every expression block formatted; comments are kept: a block's
    leading comment lines stay, trailing/inline comments after the expression are kept on a
    line of their own before it."""
    out, pos = [], 0
    for chunk in split_mpql(text):
        out.append(text[pos : chunk.offset])
        lines = chunk.text.split("\n")
        lead = []
        while lines and (not lines[0].strip() or lines[0].lstrip().startswith("#")):
            lead.append(lines.pop(0))
        body = "\n".join(lines)
        inner_comments = [ln.strip() for ln in lines if "#" in ln and _comment_of(ln)]
        node = parse(body)
        keep = lead + [_comment_of(ln) for ln in lines if _comment_of(ln)]
        out.append("\n".join(keep + [format_expr(node, style)]))
        pos = chunk.offset + len(chunk.text)
        del inner_comments
    out.append(text[pos:])
    return "".join(out)


def _comment_of(line: str) -> str:
    """The comment on a line, ignoring `#` inside strings ('' when none)."""
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            return line[i:].rstrip()
        i += 1
    return ""


def run(args) -> int:
    sources = read_sources(args.expr, args.paths or ([] if args.expr else ["-"]))
    status = EXIT_OK
    for source in sources:
        try:
            if source.path is None:
                new = format_expr(parse(source.text), args.style) + "\n"
            else:
                new = format_text(source.text, args.style)
        except ParseError as exc:
            print(exc.diagnostic.render(source.name), file=sys.stderr)
            status = max(status, 1)
            continue
        if source.path is None:
            if args.check and new.rstrip("\n") != source.text.strip():
                status = max(status, EXIT_FINDINGS)
                print(f"would reformat {source.name}", file=sys.stderr)
            elif not args.check:
                sys.stdout.write(new)
            continue
        if new == source.text:
            continue
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                source.text.splitlines(keepends=True), new.splitlines(keepends=True),
                f"a/{source.name}", f"b/{source.name}"))
            status = max(status, EXIT_FINDINGS)
        elif args.check:
            print(f"would reformat {source.name}", file=sys.stderr)
            status = max(status, EXIT_FINDINGS)
        else:
            source.path.write_text(new, encoding="utf-8")
            print(f"reformatted {source.name}", file=sys.stderr)
    return status

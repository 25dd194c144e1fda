"""``mpql parse``: print the syntax tree of an expression (as an indented tree or JSON)."""

from __future__ import annotations

import json
import sys

import attrs

from ..errors import ParseError
from ..language import ast as A
from ..language import parse
from ..language.source import split_mpql
from .common import add_input_arguments, make_parser, read_sources

EXIT_OK, EXIT_FINDINGS = 0, 1


def build_parser(prog):
    p = make_parser(prog, "Print the syntax tree of expressions (from -e, files, or - for stdin).")
    add_input_arguments(p)
    p.add_argument("--json", action="store_true", help="print the tree as JSON, with spans")
    return p


def to_json(node: A.Expr) -> dict:
    """A node as plain data: {"type": ClassName, fields…, "span": [start, end]}."""
    out: dict = {"type": type(node).__name__}
    for field in attrs.fields(type(node)):
        if field.name == "span":
            continue
        value = getattr(node, field.name)
        if isinstance(value, A.Expr):
            value = to_json(value)
        elif isinstance(value, tuple):
            value = [to_json(v) for v in value]
        out[field.name] = value
    out["span"] = [node.span.start, node.span.end] if node.span else None
    return out


def to_tree(node: A.Expr, indent: str = "") -> list[str]:
    fields = [f.name for f in attrs.fields(type(node)) if f.name != "span"]
    scalars = [f"{n}={getattr(node, n)!r}" for n in fields
               if not isinstance(getattr(node, n), (A.Expr, tuple))]
    lines = [f"{indent}{type(node).__name__}" + (f" {' '.join(scalars)}" if scalars else "")]
    for child in A.children(node):
        lines.extend(to_tree(child, indent + "  "))
    return lines


def run(args) -> int:
    sources = read_sources(args.expr, args.paths or ([] if args.expr else ["-"]))
    status = EXIT_OK
    results = []
    for source in sources:
        chunks = split_mpql(source.text) if source.path else [None]
        for chunk in chunks:
            text, offset = (source.text, 0) if chunk is None else (chunk.text, chunk.offset)
            try:
                node = parse(text)
            except ParseError as exc:
                d = exc.diagnostic.with_source(source.text, offset, source.name)
                print(d.render(), file=sys.stderr)
                status = EXIT_FINDINGS
                continue
            if args.json:
                results.append(to_json(node))
            else:
                print("\n".join(to_tree(node)))
    if args.json:
        json.dump(results[0] if len(results) == 1 else results, sys.stdout, ensure_ascii=False,
                  indent=2)
        sys.stdout.write("\n")
    return status

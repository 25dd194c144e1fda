"""``mpql parse``: print the syntax tree of expressions, as an indented outline or JSON.

    mpql parse [-e EXPR]… [FILE…|-] [--json]

``-e`` and standard input hold one expression; a ``.mpql`` file holds several (separated by
blank lines), each printed under a ``# file:line:column`` header. ``--json`` prints one JSON
document: the tree of the single expression given with ``-e`` or on standard input, otherwise
a list of ``{"file", "line", "column", "tree"}`` objects. A tree node is
``{"type": "Compare", "op": "==", "left": {…}, "right": {…}, "span": [start, end]}`` with
0-based, end-exclusive character offsets into the expression's source (the file, for files).

Exit codes: 0 every expression parsed, 1 some had syntax errors (rendered on stderr), 2 usage
error or unreadable input.
"""

from __future__ import annotations

import sys

from ..errors import ParseError
from ..language import ast as A
from ..language import parse
from ..language.source import split_mpql
from . import warn_if_nothing_found
from .common import add_input_arguments, make_parser, read_sources

__all__ = ["build_parser", "run", "to_json", "to_tree"]

EXIT_OK, EXIT_ERROR = 0, 2


def build_parser(prog):
    p = make_parser(prog, (
        "Print the syntax tree of expressions (from -e, .mpql files, or - for stdin).\n\n"
        "exit codes: 0 all parsed; 2 a syntax error (on stderr; the other expressions are still "
        "printed), a usage error or unreadable input"))
    add_input_arguments(p)
    p.add_argument("--json", action="store_true", help="print the tree as JSON, with spans")
    return p


def _fields(node: A.Expr) -> tuple:
    return A._values(type(node))


def to_json(root: A.Expr, offset: int = 0) -> dict:
    """A tree as plain data: ``{"type": ClassName, fields…, "span": [start, end]}``.
    Iterative (``ast.fold``), so long operator chains do not exhaust the stack."""

    def one(node: A.Expr, subs: tuple) -> dict:
        made = iter(subs)
        out: dict = {"type": type(node).__name__}
        for name in _fields(node):
            value = getattr(node, name)
            if isinstance(value, A.Expr):
                value = next(made)
            elif isinstance(value, tuple):
                value = [next(made) for _ in value]
            out[name] = value
        span = node.span
        out["span"] = [span.start + offset, span.end + offset] if span else None
        return out

    return A.fold(root, one)


def to_tree(root: A.Expr) -> list[str]:
    """An indented outline, one node per line (iterative)."""
    lines = []
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        scalars = [f"{n}={getattr(node, n)!r}" for n in _fields(node)
                   if not isinstance(getattr(node, n), (A.Expr, tuple))]
        lines.append("  " * depth + type(node).__name__ + "".join(" " + s for s in scalars))
        stack.extend((child, depth + 1) for child in reversed(A.children(node)))
    return lines


class _Raw(str):
    """JSON text already written (punctuation, an encoded key or scalar)."""


def _dump(data) -> str:
    """``json.dumps(data, ensure_ascii=False)`` without recursion: the encoder recurses once
    per level, and a long ``a or b or …`` chain is that many levels deep. Compact, because
    indentation would make a deep tree's output quadratic in its depth."""
    import json  # only --json needs it: not imported at start-up

    out: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, _Raw):
            out.append(item)
        elif isinstance(item, dict):
            parts: list = [_Raw("{")]
            for i, (key, value) in enumerate(item.items()):
                parts += [_Raw((", " if i else "") + json.dumps(key, ensure_ascii=False) + ": "),
                          value]
            stack.extend(reversed(parts + [_Raw("}")]))
        elif isinstance(item, list):
            parts = [_Raw("[")]
            for i, value in enumerate(item):
                parts += [_Raw(", ")] if i else []
                parts.append(value)
            stack.extend(reversed(parts + [_Raw("]")]))
        else:
            out.append(json.dumps(item, ensure_ascii=False))
    return "".join(out)


def run(args) -> int:
    sources = read_sources(args.expr, args.paths or ([] if args.expr else ["-"]))
    warn_if_nothing_found(args.paths, sources)
    status = EXIT_OK
    results = []
    single = len(sources) == 1 and sources[0].path is None
    for source in sources:
        if source.path is None:
            chunks = [(source.text, 0)]
        else:
            from ..diagnostics import LineIndex  # one bisect per header, not a scan of the file

            chunks = [(c.text, c.offset) for c in split_mpql(source.text)]
            lines = LineIndex(source.text)
        for text, offset in chunks:
            try:
                node = parse(text)
            except ParseError as exc:
                d = exc.diagnostic.with_source(source.text, offset, source.name)
                print(d.render() + "\n", file=sys.stderr)
                status = EXIT_ERROR
                continue
            if source.path is not None:
                first = node.span.start + offset if node.span else offset
                line, column = lines.line_col(first)
            else:
                line = column = 1
            if args.json:
                results.append({"file": source.name, "line": line, "column": column,
                                "tree": to_json(node, offset)})
            else:
                if not single:
                    print(f"# {source.name}:{line}:{column}")
                print("\n".join(to_tree(node)))
    if args.json:
        if single:
            data = results[0]["tree"] if results else None
        else:
            data = results
        if data is not None:
            sys.stdout.write(_dump(data) + "\n")
    return status

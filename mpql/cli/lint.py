"""``mpql lint``: report problems in expressions. (Language-core version: syntax errors only;
the checker adds semantic rules.)"""

from __future__ import annotations

import json
import sys

from ..errors import ParseError
from ..language import parse
from ..language.source import split_mpql
from .common import add_input_arguments, make_parser, read_sources

EXIT_OK, EXIT_FINDINGS = 0, 1


def build_parser(prog):
    p = make_parser(prog, "Report problems in expressions (from -e, files or directories).")
    add_input_arguments(p)
    p.add_argument("--format", choices=("full", "concise", "json", "github"), default="full")
    return p


def collect(sources):
    found = []
    for source in sources:
        chunks = split_mpql(source.text) if source.path else [None]
        for chunk in chunks:
            text, offset = (source.text, 0) if chunk is None else (chunk.text, chunk.offset)
            try:
                parse(text)
            except ParseError as exc:
                found.append(exc.diagnostic.with_source(source.text, offset, source.name))
    return found


def run(args) -> int:
    sources = read_sources(args.expr, args.paths or ([] if args.expr else ["-"]))
    found = collect(sources)
    if args.format == "json":
        json.dump([d.to_dict() for d in found], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for d in found:
            if args.format == "full":
                print(d.render() + "\n")
            elif args.format == "concise":
                print(d.render_concise())
            else:
                print(f"::error title=mpql ({d.code}),file={d.filename},line={d.line},"
                      f"col={d.column},endLine={d.end_line},endColumn={d.end_column}::"
                      f"{d.code} {d.message}")
    if args.format in ("full", "concise"):
        n = len(found)
        print(f"Found {n} error{'s' if n != 1 else ''}." if n else "All checks passed!",
              file=sys.stderr)
    return EXIT_FINDINGS if found else EXIT_OK

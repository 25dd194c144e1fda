"""``mpql schema infer EXPORT.jsonl``: write a property schema inferred from exported data
(raw export JSONL, or engage results one profile per line), for ``mpql lint --schema``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import InputError
from .common import make_parser, reading


def build_parser(prog):
    p = make_parser(prog, "Infer a property schema from sample data.")
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    infer = sub.add_parser("infer", help="infer a schema from JSONL records")
    infer.add_argument("paths", nargs="+", metavar="FILE",
                       help="JSONL files (`-` for standard input)")
    infer.add_argument("-o", "--output", metavar="FILE",
                       help="write the schema here (default: standard output)")
    return p


def run(args) -> int:
    from ..checker.schema import Schema, infer_schema

    event: dict = {}
    profile: dict = {}
    records = 0
    conflicts: dict = {}
    for raw in args.paths:
        if raw == "-":
            schema, stats = infer_schema(sys.stdin, "<stdin>")
        else:
            path = Path(raw)
            with reading(path), path.open(encoding="utf-8") as fh:
                schema, stats = infer_schema(fh, str(path))
        records += stats["records"]
        conflicts.update(stats["conflicts"])
        for table, part in ((event, schema.event), (profile, schema.profile)):
            for name, kind in (part or {}).items():
                old = table.get(name)
                table[name] = kind if old in (None, kind) else "unknown"
    result = Schema(event or None, profile or None)
    text = json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{args.output}: cannot write the schema: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
    note = f"{records} records, {len(event)} event and {len(profile)} profile properties"
    if conflicts:
        note += "; mixed types (typed unknown): " + ", ".join(
            f"{k} ({'/'.join(v)})" for k, v in conflicts.items())
    print(f"mpql schema: {note}", file=sys.stderr)
    return 0

"""Filter a Mixpanel export (JSONL) offline, with Mixpanel's own semantics.

    python examples/filter_offline.py [EXPORT.jsonl]

Without a file it writes a small sample export to a temporary directory first. The same
filter runs on Mixpanel's servers as the `where` of /api/2.0/export; here it runs locally,
so a filter can be checked before spending a rate-limited request, or an export already on
disk can be re-filtered. The command-line equivalent is

    mpql filter --where '<expr>' EXPORT.jsonl
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import mpql
from mpql.evaluator import Undefined

WHERE = (
    'event["$time"] >= datetime("2024-03-01T00:00:00")'
    ' and properties["$os"] in ["iOS", "Android"]'
    ' and number(properties["amount"]) > 10'
)

SAMPLE = [
    {"event": "Purchase", "properties": {"time": 1709300000, "distinct_id": "u1", "$os": "iOS", "amount": 25}},
    # amount sent as a string: Mixpanel compares "12.5" > 10 as undefined, number() fixes it
    {"event": "Purchase", "properties": {"time": 1709400000, "distinct_id": "u2", "$os": "Android", "amount": "12.5"}},
    {"event": "Purchase", "properties": {"time": 1709500000, "distinct_id": "u3", "$os": "Windows", "amount": 99}},
    {"event": "Purchase", "properties": {"time": 1706000000, "distinct_id": "u1", "$os": "iOS", "amount": 40}},
    {"event": "Purchase", "properties": {"time": 1709600000, "distinct_id": "u4", "$os": "iOS"}},
]


def filter_export(path: Path, where: str):
    """Yield the records of a JSONL export that `where` selects, one line at a time."""
    keep = mpql.compile_predicate(where, scope="events")
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise SystemExit(f"{path}:{number}: not JSON: {exc}") from None
            if keep(record):
                yield record


def main(argv: list[str]) -> int:
    if argv:
        path = Path(argv[0])
    else:
        path = Path(tempfile.mkdtemp(prefix="mpql-example-")) / "export.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in SAMPLE), encoding="utf-8")

    selected = list(filter_export(path, WHERE))
    print(f"filter: {WHERE}")
    print(f"{len(selected)} of the records in {path.name} match:")
    for record in selected:
        props = record["properties"]
        print(f"  {record['event']:<10} {props.get('distinct_id')!s:<4} {props.get('$os')!s:<8} amount={props.get('amount')!r}")

    # Why the string amount needs number(): the bare comparison is undefined, not false.
    bare = mpql.evaluate('properties["amount"] > 10', SAMPLE[1])
    print(f'without number(): properties["amount"] > 10 on "12.5" is {bare!r}'
          f" ({'undefined' if bare is Undefined else bare})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Mixpanel reports from an export file: segmentation and a funnel, computed locally, and the
plans that would ask Mixpanel for the same answers.

    python examples/aggregates_offline.py [EXPORT.jsonl]

Without a file it uses a small built-in sample. The answers have the shapes of Mixpanel's
/segmentation and /funnels endpoints (docs/aggregates.md), so code written against the API
can be tested on a file.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import mpql.aggregates as agg
from mpql import Query

D0 = 1709251200  # 2024-03-01T00:00:00Z
SAMPLE = [
    {"event": "Signed up", "properties": {"time": D0 + 100, "distinct_id": "u1", "$browser": "Chrome"}},
    {"event": "Purchase", "properties": {"time": D0 + 4000, "distinct_id": "u1", "amount": 30}},
    {"event": "Signed up", "properties": {"time": D0 + 200, "distinct_id": "u2", "$browser": "Firefox"}},
    {"event": "Signed up", "properties": {"time": D0 + 86400 + 5, "distinct_id": "u3", "$browser": "Chrome"}},
    {"event": "Purchase", "properties": {"time": D0 + 86400 * 3, "distinct_id": "u3", "amount": 12}},
]
RANGE = dict(from_date="2024-03-01", to_date="2024-03-02")


def read(path):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def main(argv):
    events = list(read(argv[0])) if argv else SAMPLE
    signups = agg.segmentation(events, event="Signed up", on='properties["$browser"]', **RANGE)
    print("sign-ups by browser:", json.dumps(signups["data"]["values"], sort_keys=True))
    funnel = agg.funnel(events, steps=["Signed up", "Purchase"], length=7, **RANGE)
    for day, block in funnel["data"].items():
        counts = [s["count"] for s in block["steps"]]
        print(f"funnel {day}: {counts}, converted {block['steps'][-1]['overall_conv_ratio']:.0%}")
    # The same questions as plans: the first is Mixpanel's /segmentation, the second (an
    # ad-hoc funnel has no endpoint) exports the events and computes it as above.
    today = dt.date(2024, 4, 1)
    for query in (Query.segmentation("Signed up", on='properties["$browser"]', today=today,
                                     **RANGE),
                  Query.funnel(steps=["Signed up", "Purchase"], length=7, today=today,
                               **RANGE)):
        plan = query.plan(project_id=1234567)
        how = "export + local" if plan.local_aggregate else f"GET {plan.steps[0].url}"
        print(f"{plan.summary}: {how}")


if __name__ == "__main__":
    main(sys.argv[1:])

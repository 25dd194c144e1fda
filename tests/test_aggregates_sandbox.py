"""Export + local aggregation against the real sandbox over loopback HTTP.

The plan's export steps run through ``mpql.Client`` against the embedded sandbox (a real
server on 127.0.0.1); the events it returns are aggregated with ``plan.local_aggregate`` and
must give exactly what ``mpql.aggregates`` computes from the dataset's events directly.
(The sandbox's own aggregate endpoints, and ``Client.run`` for aggregate plans, are tested
where they are built.)
"""

from __future__ import annotations

import datetime as dt
import random

import attrs
import pytest

import mpql
import mpql.aggregates as agg
from mpql import Query

D0 = 1704067200  # 2024-01-01T00:00:00Z
DAY = 86400
RANGE = dict(from_date="2024-01-02", to_date="2024-01-06")
TODAY = dt.date(2024, 2, 1)


def _events(seed=3, n=2500):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append({"event": rng.choice(["Signed up", "Viewed", "Viewed", "Bought"]),
                    "properties": {"time": D0 + rng.randrange(10 * DAY),
                                   "distinct_id": f"u{rng.randrange(80)}",
                                   "$insert_id": f"id{i}",
                                   "plan": rng.choice(["free", "pro", "team", None]),
                                   "amount": rng.choice([rng.randrange(1, 500), "n/a"])}})
    return out


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from mpql.sandbox import Limits, Sandbox, write_dataset

    events = _events()
    ds = write_dataset(tmp_path_factory.mktemp("agg") / "ds", events)
    now = dt.datetime(2024, 2, 1, 12, tzinfo=dt.timezone.utc).timestamp()
    with Sandbox(ds, limits=Limits.unlimited(), now=now) as sb:
        yield sb, events


WHERES = [None, 'properties["plan"] == "pro"', 'properties["amount"] > 100']
ONS = [None, 'properties["plan"]']
QUERIES = [
    lambda w, o: Query.segmentation("Viewed", where=w, on=o, unit="week", type="unique",
                                    **RANGE, today=TODAY),
    lambda w, o: Query.segmentation_average("Bought", where=w, on='properties["amount"]',
                                            unit="month", **RANGE, today=TODAY),
    lambda w, o: Query.funnel(steps=["Signed up", "Viewed", "Bought"], where=w, on=o,
                              length=2, **RANGE, today=TODAY),
    lambda w, o: Query.retention("Signed up", "Bought", where=w, on=o, unit="day",
                                 interval_count=3, strategy="export", **RANGE, today=TODAY),
    lambda w, o: Query.frequency("Viewed", where=w, on=o, unit="week", addiction_unit="day",
                                 strategy="export", **RANGE, today=TODAY),
]


def _run_over_http(sb, plan):
    auth = sb.credentials.service_account()
    client = mpql.Client(auth, base_url=sb.url)
    events = []
    for i in plan.local_aggregate.events_steps:
        one = mpql.Plan(steps=[attrs.evolve(plan.steps[i], output=True)],
                        project_id=plan.project_id)
        events.extend(client.run(one))
    return plan.local_aggregate.run(events), len(events)


@pytest.mark.parametrize("which", range(len(QUERIES)))
@pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles"])
def test_export_plan_over_http_equals_local_computation(served, which, tz):
    sb, events = served
    for where in WHERES:
        for on in ONS:
            query = QUERIES[which](where, on)
            plan = query.plan(auth=sb.credentials.service_account(), base_url=sb.url,
                              timezone=tz, chunk="none")
            assert plan.local_aggregate is not None
            got, fetched = _run_over_http(sb, plan)
            params = dict(plan.local_aggregate.params)
            if query.where is not None:
                params["where"] = where
            want = agg.FUNCTIONS[plan.local_aggregate.function](events, timezone=tz, **params)
            assert got == want, (where, on)
            assert fetched < len(events)  # only the needed events and days were exported

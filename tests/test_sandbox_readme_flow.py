"""The README's Python flow: plan a mixed-scope query with the sandbox's own service account and
run it with mpql.Client — the result equals the sandbox's ground truth and is not empty."""

import datetime as dt

import mpql
from mpql import Query, prop, user


def test_plan_and_run_against_the_sandbox(sandbox):
    last = sandbox.dataset.last_date  # the day before the pinned today (tests/conftest.py)
    from_date, to_date = str(last - dt.timedelta(days=19)), str(last)
    # A user with events in the range, and an $os those events have, so the test is not vacuous.
    event = next(e for e in sandbox.events(from_date, to_date)
                 if e["properties"].get("$os") and not e["properties"]["distinct_id"].startswith("$device:"))
    distinct_id, os_name = event["properties"]["distinct_id"], event["properties"]["$os"]
    profile = next(p for p in sandbox.profiles() if p["$distinct_id"] == distinct_id)
    customer_id = profile["$properties"]["customer_id"]

    where = (user("customer_id") == customer_id) & (prop("$os") == os_name)
    auth = sandbox.credentials.service_account()
    assert sandbox.credentials.secret not in repr(auth)
    query = Query.events(where, from_date=from_date, to_date=to_date)
    got = list(mpql.Client(auth, base_url=sandbox.url).run(query.plan(auth=auth)))

    # Raw events carry no profile, so the truth is stated on the event's own distinct id.
    truth = (prop("$distinct_id") == distinct_id) & (prop("$os") == os_name)
    want = sandbox.events(from_date, to_date, where=mpql.format(truth.expr))
    assert want, "the chosen user has matching events"
    key = lambda e: e["properties"]["$insert_id"]  # noqa: E731
    assert sorted(map(key, got)) == sorted(map(key, want))

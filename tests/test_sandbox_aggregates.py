"""The sandbox's aggregate endpoints over real loopback HTTP, and ``Client.run`` of aggregate
plans: documented response shapes, Mixpanel's errors, limits and faults, and the property
that three independent routes agree on random data and random queries —

    the sandbox's HTTP answer  ==  mpql.aggregates on the raw events  ==  an export + local plan

(the first goes through the server's parameter parsing and JSON encoding, the last through
the planner's export steps, the executor's chunked downloads and dedup, and LocalAggregate).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import attrs
import pytest
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from _helpers import json_kind

import mpql
from mpql import Query
from mpql import aggregates as agg
from mpql.errors import ApiError, QueryError
from mpql.executor import Limits as ClientLimits, RetryPolicy
from mpql.sandbox import Limits, Sandbox, write_dataset

RAISED = ClientLimits(export_per_second=10_000, export_per_hour=10 ** 6,
                      query_per_hour=10 ** 6, workers=2)
NOW = dt.datetime(2026, 3, 12, 12, tzinfo=dt.timezone.utc)  # the pinned sandbox clock
TODAY = NOW.date()


def get(sb, endpoint, **params):
    c = sb.credentials
    return requests.get(f"{sb.url}/api/query/{endpoint}",
                        params={"project_id": c.project_id, **params},
                        auth=(c.username, c.secret), timeout=60)


def client_for(sb, **kw):
    return mpql.Client(sb.credentials.service_account(), base_url=sb.url, limits=RAISED, **kw)


# -- documented shapes ------------------------------------------------------------------------
# The examples of Mixpanel's Query API reference (docs.mixpanel.com/reference/…), abridged to
# one or two entries where they repeat. The funnel example's second step is a custom event
# ($custom_event:ID, step_label, custom_event, custom_event_id), which mpql does not model.

DOCUMENTED = {
    "segmentation": {"data": {"series": ["2011-08-08", "2011-08-09"],
                              "values": {"Signed up": {"2011-08-06": 147, "2011-08-07": 146}}},
                     "legend_size": 1},
    "segmentation/numeric": {"data": {"series": ["2011-08-08"],
                                      "values": {"2,000 - 2,100": {"2011-08-06": 1}}},
                             "legend_size": 5},
    "segmentation/sum": {"status": "ok", "computed_at": "2019-10-07T23:02:11.666218+00:00",
                         "results": {"2019-10-07": 0.0, "2019-10-08": 12.5}},
    "segmentation/average": {"results": {"2011-08-06": 8.64705882352939}, "status": "ok"},
    "retention": {"2012-01-01": {"counts": [2, 1, 2], "first": 2}},
    "retention/addiction": {"data": {"2012-01-01": [305, 107, 60]}},
    "funnels": {"meta": {"dates": ["2016-09-12"]},
                "data": {"2016-09-12": {
                    "steps": [{"count": 32688, "avg_time": 2, "avg_time_from_start": 5,
                               "step_conv_ratio": 1, "goal": "App Open",
                               "overall_conv_ratio": 1, "event": "App Open"}],
                    "analysis": {"completion": 20524, "starting_amount": 32688, "steps": 2,
                                 "worst": 1}}}},
}
_DATE_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: keys whose values are named by the data (segments), compared as one wildcard
_WILDCARD_PARENTS = {"values"}
#: "mean time to convert; null for step 0" (the schema text): null stands for a number here
_NULLABLE = {"avg_time", "avg_time_from_start"}


def skeleton(value, key=None):
    """The structure of a JSON value: types instead of values, one entry for date-keyed and
    segment-keyed objects and for list items."""
    if value is None:
        return "number" if key in _NULLABLE else "null"
    if json_kind(value):
        return json_kind(value)
    if isinstance(value, list):
        kinds = {json.dumps(skeleton(v, key), sort_keys=True) for v in value}
        assert len(kinds) <= 1, f"mixed list items under {key}: {kinds}"
        return [json.loads(k) for k in kinds]
    if value and (all(_DATE_KEY.match(k) for k in value) or key in _WILDCARD_PARENTS):
        kinds = {json.dumps(skeleton(v, k), sort_keys=True) for k, v in value.items()}
        assert len(kinds) == 1, f"entries of {key} differ in structure: {kinds}"
        return {"<key>": json.loads(kinds.pop())}
    return {k: skeleton(v, k) for k, v in value.items()}


@pytest.mark.parametrize("endpoint,params", [
    ("segmentation", {"event": "Purchase"}),
    ("segmentation", {"event": "Purchase", "on": 'properties["$os"]', "type": "unique"}),
    ("segmentation/numeric", {"event": "Purchase", "on": 'number(properties["amount"])'}),
    ("segmentation/sum", {"event": "Purchase", "on": 'number(properties["amount"])'}),
    ("segmentation/average", {"event": "Purchase", "on": 'number(properties["amount"])'}),
    ("retention", {"born_event": "Viewed Item", "event": "Purchase", "interval_count": 2}),
    ("retention/addiction", {"event": "Page Viewed", "unit": "week", "addiction_unit": "day"}),
    ("funnels", {"funnel_id": 7001, "unit": "week"}),
])
def test_each_answer_has_the_documented_examples_structure(sandbox, endpoint, params):
    last = sandbox.dataset.last_date
    r = get(sandbox, endpoint, from_date=str(last - dt.timedelta(days=13)), to_date=str(last),
            **params)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert skeleton(body) == skeleton(DOCUMENTED[endpoint])
    if not all(_DATE_KEY.match(k) for k in body):  # fixed keys: in Mixpanel's order
        assert list(body) == list(DOCUMENTED[endpoint])


# -- errors, limits, faults -------------------------------------------------------------------

@pytest.mark.parametrize("endpoint,params,words", [
    ("segmentation", {"from_date": "2026-01-01", "to_date": "2026-01-02"}, "needs the event"),
    ("segmentation", {"event": "A", "from_date": "2026-01-01", "to_date": "2026-01-02",
                      "unit": "week"}, "unit must be one of minute, hour, day, month"),
    ("segmentation", {"event": "A", "from_date": "2026-01-02", "to_date": "2026-01-01"},
     "after to_date"),
    ("segmentation", {"event": "A", "from_date": "2026-01-01", "to_date": "2026-01-02",
                      "where": 'properties["x"] =='}, "E1"),
    ("segmentation", {"event": "A", "from_date": "2026-01-01", "to_date": "2026-01-02",
                      "bogus": "1"}, "has no parameter 'bogus'"),
    ("funnels", {"funnel_id": "999", "from_date": "2026-01-01", "to_date": "2026-01-02"},
     "not a saved funnel (known: 7001"),
    ("retention/addiction", {"from_date": "2026-01-01", "to_date": "2026-01-02", "unit": "day"},
     "needs the addiction_unit"),
    ("segmentation/sum", {"event": "A", "from_date": "2026-01-01", "to_date": "2026-01-02"},
     "needs the on"),
    ("segmentation", {"event": '["A"]', "from_date": "2026-01-01", "to_date": "2026-01-02"},
     "event must be a single event name (not a JSON array)"),
    ("retention", {"born_event": '["A", "B"]', "from_date": "2026-01-01", "to_date": "2026-01-02"},
     "born_event must be a single event name"),
])
def test_bad_parameters_are_400_with_mixpanels_error_body(sandbox, endpoint, params, words):
    r = get(sandbox, endpoint, **params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"request", "error"} and words in body["error"], body


def test_a_future_to_date_is_mixpanels_plain_text_400(sandbox):
    future = sandbox.today() + dt.timedelta(days=1)
    r = get(sandbox, "segmentation", event="A", from_date=str(sandbox.today()), to_date=str(future))
    assert r.status_code == 400 and r.text == "to_date cannot be later than today"


def test_aggregates_count_against_the_query_budget_and_take_faults(sandbox):
    last = str(sandbox.dataset.last_date)
    q = {"event": "Purchase", "from_date": last, "to_date": last}
    sandbox.reset_limits(Limits(query_per_hour=2), time_scale=1.0)
    assert [get(sandbox, "segmentation", **q).status_code for _ in range(3)] == [200, 200, 429]
    sandbox.reset_limits(Limits.unlimited())
    sandbox.add_faults("segmentation#1:503; retention#1:drop")
    assert get(sandbox, "segmentation", **q).status_code == 503
    assert get(sandbox, "segmentation", **q).status_code == 200
    with pytest.raises(requests.ConnectionError):
        get(sandbox, "retention", born_event="Search", from_date=last, to_date=last)


# -- Client.run(plan) -------------------------------------------------------------------------

def test_client_run_returns_the_endpoints_answer_and_retries_faults(sandbox):
    last = sandbox.dataset.last_date
    first = last - dt.timedelta(days=6)
    query = Query.segmentation("Purchase", from_date=str(first), to_date=str(last),
                               on='properties["$os"]', type="unique", today=sandbox.today())
    plan = query.plan(auth=sandbox.credentials.service_account(), today=sandbox.today())
    assert plan.local_aggregate is None  # Mixpanel's endpoint answers this one
    sandbox.add_faults("segmentation#1:503; segmentation#2:truncate=40")
    answer = client_for(sandbox, retry=RetryPolicy(base=0.01, cap=0.05)).run(plan)
    assert answer == sandbox.query("segmentation", **{k: v for k, v in plan.steps[0].params.items()
                                                      if k != "project_id"})
    statuses = [r.status for r in sandbox.requests if r.endpoint == "segmentation"]
    assert statuses == [503, 200, 200]  # the cut JSON body was retried too


def test_client_run_export_plan_equals_the_endpoint_and_dedupes_like_mixpanel(sandbox):
    last = sandbox.dataset.last_date
    first = last - dt.timedelta(days=9)
    query = Query.segmentation("Page Viewed", from_date=str(first), to_date=str(last),
                               where='properties["$os"] != "iOS"', today=sandbox.today())
    auth = sandbox.credentials.service_account()
    server = client_for(sandbox).run(query.plan(auth=auth, today=sandbox.today()))
    local_plan = attrs.evolve(query, strategy="export").plan(auth=auth, today=sandbox.today())
    assert local_plan.local_aggregate is not None
    assert client_for(sandbox).run(local_plan) == server
    # the dataset holds SDK-retry duplicates: counting them would differ from the endpoint
    events = sandbox.events(first, last, event=["Page Viewed"],
                            where='properties["$os"] != "iOS"')
    raw = agg.segmentation(events, event="Page Viewed", from_date=str(first), to_date=str(last))
    if len({json.dumps(e, sort_keys=True) for e in events}) < len(events):
        assert raw != server


@pytest.mark.parametrize("fault", ["503", "429:retry-after=0", "reset-after=300", "truncate=500",
                                   "terminated-early=3", "split-line=2", "drop"])
def test_export_plan_answers_survive_faults_on_any_chunk(sandbox, fault):
    """A chunk that fails is retried whole: the answer is exactly the fault-free one (no
    event lost, none counted twice)."""
    last = sandbox.dataset.last_date
    first = last - dt.timedelta(days=4)
    plan = Query.segmentation("Page Viewed", from_date=str(first), to_date=str(last),
                              unit="week", on='properties["$browser"]', type="unique",
                              today=sandbox.today()).plan(
        auth=sandbox.credentials.service_account(), today=sandbox.today())
    assert plan.local_aggregate is not None  # week: no endpoint answers it
    client = client_for(sandbox, retry=RetryPolicy(base=0.01, cap=0.05))
    clean = client.run(plan)
    day = str(first + dt.timedelta(days=2))
    sandbox.add_faults(f"export[from_date={day}]#1:{fault}")
    assert client.run(plan) == clean
    hit = [r for r in sandbox.requests if r.fault]
    assert len(hit) == 1 and hit[0].params["from_date"] == day


def test_export_plans_report_progress_per_chunk(sandbox):
    last = sandbox.dataset.last_date
    first = last - dt.timedelta(days=3)
    plan = Query.funnel(steps=["Search", "Viewed Item"], from_date=str(first), to_date=str(last),
                        length=1, today=sandbox.today()).plan(
        auth=sandbox.credentials.service_account(), today=sandbox.today())
    seen = []
    client = client_for(sandbox)
    client.run(plan, on_progress=lambda stats: seen.append(stats.units_done))
    chunks = len([r for r in sandbox.requests if r.endpoint == "export"])
    assert chunks >= 4 and seen[-1] == chunks and seen == sorted(seen)
    with pytest.raises(mpql.MpqlError, match="on_progress applies to aggregate plans"):
        client.run(Query.events(from_date=str(last), to_date=str(last)).plan(),
                   on_progress=print)


def test_client_run_reports_mixpanels_error_and_write_refuses_aggregates(sandbox):
    last = str(sandbox.dataset.last_date)
    plan = Query.funnel(funnel_id=4242, from_date=last, to_date=last, today=sandbox.today()) \
        .plan(auth=sandbox.credentials.service_account(), today=sandbox.today())
    with pytest.raises(ApiError, match="funnel_id 4242 is not a saved funnel"):
        client_for(sandbox).run(plan)
    with pytest.raises(mpql.MpqlError, match="Client.run"):
        client_for(sandbox).write(plan, "/dev/null")


# -- the property: three routes, one answer ---------------------------------------------------

_EVENTS = ("A", "B", "C")
_DAYS = 5  # data on the 5 days before the pinned today


@st.composite
def datasets(draw):
    n = draw(st.integers(0, 30))
    records = []
    start = int(dt.datetime.combine(TODAY - dt.timedelta(days=_DAYS), dt.time(),
                                    dt.timezone.utc).timestamp())
    for i in range(n):
        props = {"time": start + draw(st.integers(0, _DAYS * 86400 - 1)),
                 "distinct_id": draw(st.sampled_from(["u1", "u2", "u3", "u4"])),
                 "$insert_id": f"i{i}"}
        if draw(st.booleans()):
            props["n"] = draw(st.one_of(st.integers(0, 300), st.sampled_from(["7", "x"])))
        if draw(st.booleans()):
            props["s"] = draw(st.sampled_from(["a", "b", "é"]))
        records.append({"event": draw(st.sampled_from(_EVENTS)), "properties": props})
        if draw(st.integers(0, 9)) == 0:  # an SDK retry: the same event twice
            records.append(records[-1])
    return records


_WHERES = st.sampled_from([None, 'properties["s"] == "a"', 'defined(properties["n"])',
                           'number(properties["n"]) > 100 or properties["s"] == "b"'])
_ONS = st.sampled_from([None, 'properties["s"]', 'properties["n"]'])
_NUMERIC_ON = 'number(properties["n"])'


@st.composite
def queries(draw):
    """(AggregateQuery, endpoint, HTTP params for the sandbox, funnel steps or None)."""
    first = TODAY - dt.timedelta(days=draw(st.integers(1, _DAYS + 1)))
    last = first + dt.timedelta(days=draw(st.integers(0, (TODAY - first).days - 1)))
    dates = {"from_date": str(first), "to_date": str(last), "today": TODAY}
    where, on = draw(_WHERES), draw(_ONS)
    kind = draw(st.sampled_from(["segmentation", "measure", "retention", "frequency", "funnel"]))
    event = draw(st.sampled_from(_EVENTS))
    if kind == "segmentation":
        kw = {"unit": draw(st.sampled_from(["day", "hour", "month"])),
              "type": draw(st.sampled_from(["general", "unique", "average"]))}
        assume(not (kw["type"] == "unique" and kw["unit"] == "hour"))
        if on is not None:
            kw["limit"] = draw(st.integers(1, 3))
        q = Query.segmentation(event, on=on, where=where, **kw, **dates)
    elif kind == "measure":
        name = draw(st.sampled_from(["numeric", "sum", "average"]))
        method = getattr(Query, f"segmentation_{name}")
        q = method(event, on=_NUMERIC_ON, where=where,
                   unit=draw(st.sampled_from(["day", "hour"])), **dates)
    elif kind == "retention":
        rtype = draw(st.sampled_from(["birth", "compounded"]))
        q = Query.retention(event if rtype == "birth" else None,
                            draw(st.sampled_from([None, *_EVENTS])), retention_type=rtype,
                            where=where, on=on, unit=draw(st.sampled_from(["day", "week"])),
                            interval_count=draw(st.integers(1, 3)),
                            unbounded=draw(st.booleans()), **dates)
    elif kind == "frequency":
        unit = draw(st.sampled_from(["day", "week"]))
        q = Query.frequency(draw(st.sampled_from([None, *_EVENTS])), where=where, on=on,
                            unit=unit, addiction_unit="hour" if unit == "day" else
                            draw(st.sampled_from(["hour", "day"])), **dates)
    else:
        steps = draw(st.lists(st.sampled_from(_EVENTS), min_size=2, max_size=3))
        length = draw(st.integers(1, 3))
        q = Query.funnel(steps=steps, length=length, length_unit="day", where=where, on=on,
                         unit=draw(st.sampled_from([None, "day", "week"])), **dates)
        return q, steps, length
    return q, None, None


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(records=datasets(), query=queries(),
       timezone=st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]))
def test_sandbox_http_equals_local_computation_equals_export_plan(tmp_path_factory, records,
                                                                  query, timezone):
    q, steps, length = query
    funnels = []
    if steps is not None:  # the sandbox answers a saved funnel with the same steps
        funnels = [{"funnel_id": 1, "name": "f", "steps": steps, "length": length,
                    "length_unit": "day"}]
    data = write_dataset(tmp_path_factory.mktemp("agg") / "d", records, funnels=funnels)
    with Sandbox(data, now=NOW.timestamp(), limits=Limits.unlimited(), timezone=timezone) as sb:
        auth = sb.credentials.service_account()
        client = client_for(sb)
        # 1. the sandbox over HTTP, through the server plan (or the saved funnel)
        if steps is None:
            server_plan = attrs.evolve(q, strategy="server").plan(auth=auth, today=TODAY)
            params = {k: v for k, v in server_plan.steps[0].params.items() if k != "project_id"}
        else:
            params = {"funnel_id": 1, **{k: v for k, v in q.params.items()
                                         if v is not None and k not in ("length", "length_unit")}}
            if q.where is not None:
                params["where"] = mpql.format(q.where, style="wire")
            if q.on is not None:
                params["on"] = mpql.format(q.on, style="wire")
            server_plan = Query.funnel(funnel_id=1, **{
                k: v for k, v in params.items() if k not in ("funnel_id",)},
                today=TODAY).plan(auth=auth, today=TODAY)
        http = client.run(server_plan)
        # 2. mpql.aggregates directly on the dataset's events, deduplicated like Mixpanel
        seen, events = set(), []
        for e in sorted(records, key=lambda r: r["properties"]["time"]):
            key = json.dumps(e, sort_keys=True)
            if key not in seen:
                seen.add(key)
                events.append(e)
        local = agg.compute(server_plan.aggregate, events,
                            {k: str(v) for k, v in params.items()}, funnels=funnels,
                            timezone=timezone, now=NOW.timestamp(),
                            **({"computed_at": http.get("computed_at")}
                               if server_plan.aggregate == "segmentation/sum" else {}))
        # 3. export + local aggregation, through the executor
        export_plan = attrs.evolve(q, strategy="export").plan(auth=auth, today=TODAY,
                                                              timezone=timezone)
        exported = client.run(export_plan)
    for answer in (local, exported):
        answer.pop("computed_at", None) if isinstance(answer, dict) else None
    http.pop("computed_at", None)
    assert http == local
    assert exported == http

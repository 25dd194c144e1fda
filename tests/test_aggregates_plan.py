"""Query.segmentation / retention / frequency / funnel: validation, server-vs-export plans,
URLs by region, explain / to_curl / to_json, checker notes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import urllib.parse

import pytest

from mpql import Query
from mpql.errors import CheckError, PlanError, QueryError
from mpql.planner import LocalAggregate, Plan

TODAY = dt.date(2024, 3, 1)
JAN = dict(from_date="2024-01-01", to_date="2024-01-31", today=TODAY)


def _query_of(step) -> dict:
    req = step_requests(step)[0]
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(req.url).query))


def step_requests(step):
    from mpql.planner import expand

    return expand(step, {}).requests


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("build,fragment", [
    (lambda: Query.segmentation(["A", "B"], **JAN), "single event"),
    (lambda: Query.segmentation("A", unit="fortnight", **JAN), "unit"),
    (lambda: Query.segmentation("A", limit=5, **JAN), "only applies with on="),
    (lambda: Query.segmentation("A", on='properties["b"]', limit=10_001, **JAN), "limit"),
    (lambda: Query.segmentation("A", on='properties["b"]', limit=0, **JAN), "limit"),
    (lambda: Query.segmentation("A", interval=7, **JAN), "interval"),
    (lambda: Query.segmentation("A", type="median", **JAN), "type"),
    (lambda: Query.segmentation("A", from_date="2024-01-01", to_date="2024-03-02",
                                today=TODAY), "future"),
    (lambda: Query.segmentation("A", from_date="2024-02-01", to_date="2024-01-01",
                                today=TODAY), "swap"),
    (lambda: Query.segmentation("A", strategy="fast", **JAN), "strategy"),
    (lambda: Query.segmentation_numeric("A", on='properties["plan"] == "pro"', **JAN),
     "numeric on="),
    (lambda: Query.segmentation_sum("A", on='string(properties["n"])', **JAN), "numeric on="),
    (lambda: Query.segmentation_average("A", on=None, **JAN), "needs on="),
    (lambda: Query.segmentation_sum("A", on='properties["n"]', unit="fortnight", **JAN), "unit"),
    (lambda: Query.retention(None, "B", **JAN), "born_event"),
    (lambda: Query.retention("A", "B", retention_type="compounded", **JAN), "compounded"),
    (lambda: Query.retention("A", "B", interval=91, **JAN), "90 days"),
    (lambda: Query.retention("A", "B", interval_count=0, **JAN), "interval_count"),
    (lambda: Query.retention("A", "B", unit="hour", **JAN), "unit"),
    (lambda: Query.retention("A", "B", unbounded="yes", **JAN), "unbounded"),
    (lambda: Query.frequency("A", unit="day", addiction_unit="minute", **JAN), "addiction_unit"),
    (lambda: Query.frequency("A", unit="day", addiction_unit="day", **JAN), "one period"),
    (lambda: Query.funnel(**JAN), "exactly one"),
    (lambda: Query.funnel(funnel_id=1, steps=["A", "B"], **JAN), "exactly one"),
    (lambda: Query.funnel(steps=["A"], **JAN), "2 steps"),
    (lambda: Query.funnel(funnel_id=1, length=91, **JAN), "90 days"),
    (lambda: Query.funnel(funnel_id=1, length=2200, length_unit="hour", **JAN), "90 days"),
    (lambda: Query.funnel(funnel_id=1, unit="week", interval=2, **JAN), "not both"),
    (lambda: Query.funnel(funnel_id=1, unit="hour", **JAN), "unit"),
    (lambda: Query.funnel(funnel_id=0, **JAN), "funnel_id"),
])
def test_every_parameter_rule_is_a_query_error(build, fragment):
    with pytest.raises(QueryError) as info:
        build()
    assert fragment in str(info.value)


# -- server plans ----------------------------------------------------------------------------


@pytest.mark.parametrize("region,host", [("us", "mixpanel.com"), ("eu", "eu.mixpanel.com"),
                                         ("in", "in.mixpanel.com")])
def test_segmentation_server_plan_hosts_and_params(region, host):
    q = Query.segmentation("Signed up", on='properties["$browser"]', type="unique",
                           where='properties["plan"] == "pro + more"', **JAN)
    plan = q.plan(region=region, project_id=42)
    assert plan.aggregate == "segmentation" and plan.local_aggregate is None
    (step,) = plan.steps
    assert (step.method, step.url) == ("GET", f"https://{host}/api/query/segmentation")
    sent = _query_of(step)
    assert sent == {"project_id": "42", "event": "Signed up", "from_date": "2024-01-01",
                    "to_date": "2024-01-31", "unit": "day", "type": "unique", "limit": "60",
                    "where": 'properties["plan"] == "pro + more"',
                    "on": 'properties["$browser"]'}
    url = step_requests(step)[0].url
    assert "%2B" in url and "+" not in url.split("?", 1)[1]  # a raw + would be a space


@pytest.mark.parametrize("build,endpoint", [
    (lambda: Query.segmentation_numeric("A", on='properties["n"]', **JAN), "segmentation/numeric"),
    (lambda: Query.segmentation_sum("A", on='number(properties["n"])', unit="hour", **JAN),
     "segmentation/sum"),
    (lambda: Query.segmentation_average("A", on='properties["n"]', **JAN), "segmentation/average"),
    (lambda: Query.retention("A", "B", unit="week", interval_count=4, **JAN), "retention"),
    (lambda: Query.retention(event="B", retention_type="compounded", **JAN), "retention"),
    (lambda: Query.frequency("A", unit="week", addiction_unit="day", **JAN), "retention/addiction"),
    (lambda: Query.funnel(funnel_id=7509, length=7, unit="week", **JAN), "funnels"),
    (lambda: Query.segmentation("A", unit="minute", **JAN), "segmentation"),
    (lambda: Query.segmentation("A", type="unique", interval=7, **JAN), "segmentation"),
])
def test_server_plans_when_the_endpoint_answers_exactly(build, endpoint):
    plan = build().plan(project_id=1, base_url="http://127.0.0.1:9")
    assert plan.aggregate == endpoint and plan.local_aggregate is None
    assert plan.steps[0].url == f"http://127.0.0.1:9/api/query/{endpoint}"
    assert plan.steps[0].rate_class == "query"


def test_retention_and_funnel_params_spelled_as_mixpanel_does():
    plan = Query.retention("Sign", "Use", born_where='properties["os"] == "Linux"',
                           unbounded=True, interval_count=3, **JAN).plan(project_id=1)
    sent = _query_of(plan.steps[0])
    assert sent["born_event"] == "Sign" and sent["event"] == "Use"
    assert sent["born_where"] == 'properties["os"] == "Linux"'
    assert sent["unbounded_retention"] == "true" and sent["interval_count"] == "3"
    plan = Query.funnel(funnel_id=7509, on='properties["b"]', **JAN).plan(project_id=1)
    sent = _query_of(plan.steps[0])
    assert sent["funnel_id"] == "7509" and sent["limit"] == "255"


# -- export plans ----------------------------------------------------------------------------


@pytest.mark.parametrize("build,reason", [
    (lambda: Query.segmentation("A", unit="week", **JAN), "no week unit"),
    (lambda: Query.segmentation("A", unit="hour", type="unique", **JAN), "hourly uniques"),
    (lambda: Query.segmentation_sum("A", on='properties["n"]', unit="month", **JAN),
     "no month unit"),
    (lambda: Query.funnel(steps=["A", "B"], **JAN), "ad-hoc funnel"),
])
def test_export_plans_when_the_endpoint_cannot_answer(build, reason):
    q = build()
    plan = q.plan(project_id=1)
    assert plan.local_aggregate is not None and reason in plan.local_aggregate.why
    assert all(not s.output for s in plan.steps)
    with pytest.raises(QueryError, match=reason):
        _with_strategy(q, "server").plan(project_id=1)


def _with_strategy(q, strategy):
    import attrs

    return attrs.evolve(q, strategy=strategy)


def test_export_plan_fetches_only_the_needed_events_and_pushes_the_where_down():
    q = Query.segmentation("A", unit="week", on='properties["b"]',
                           where='properties["plan"] == "pro"', **JAN)
    plan = q.plan(project_id=1)
    (step,) = plan.steps
    assert step.endpoint == "export" and step.params["event"] == ["A"]
    assert step.params["where"] == 'properties["plan"] == "pro"'
    local = plan.local_aggregate
    assert "where" not in local.params and local.params["on"] == 'properties["b"]'
    assert local.events_steps == (0,) and local.profiles_step is None


def test_export_range_padded_for_timezones_and_extended_for_windows():
    funnel = Query.funnel(steps=["A", "B"], length=3, length_unit="day", **JAN)
    step = funnel.plan(project_id=1).steps[0]
    assert (step.params["from_date"], step.params["to_date"]) == ("2024-01-01", "2024-02-03")
    step = funnel.plan(project_id=1, timezone="Asia/Tokyo").steps[0]
    assert (step.params["from_date"], step.params["to_date"]) == ("2023-12-31", "2024-02-04")
    late = Query.funnel(steps=["A", "B"], from_date="2024-02-25", to_date="2024-02-29",
                        today=TODAY).plan(project_id=1)
    assert late.steps[0].params["to_date"] == "2024-03-01"
    assert any("do not exist yet" in n for n in late.notes)
    ret = Query.retention("A", "B", unit="week", interval_count=2, strategy="export",
                          **JAN).plan(project_id=1, today=TODAY)
    assert ret.steps[0].params["to_date"] == "2024-02-21"  # 31 Jan + 3 weeks
    assert ret.steps[0].params["event"] == ["A", "B"]
    assert "where" not in ret.steps[0].params  # retention's filters differ per event


def test_long_where_goes_to_export_and_is_applied_locally():
    ids = ", ".join(f'"user-{i:05d}"' for i in range(900))
    q = Query.segmentation("A", where=f'properties["distinct_id"] in [{ids}]', **JAN)
    plan = q.plan(project_id=1)
    assert plan.local_aggregate is not None and "characters" in plan.local_aggregate.why
    assert "where" not in plan.steps[0].params
    assert plan.local_aggregate.params["where"].startswith('properties["distinct_id"] in')
    with pytest.raises(PlanError, match="strategy='export'"):
        _with_strategy(q, "server").plan(project_id=1)


def test_user_properties_read_locally_get_a_profiles_step():
    q = Query.funnel(steps=["A", {"event": "B", "where": 'user["tier"] == "gold"'}],
                     on='user["country"]', **JAN)
    plan = q.plan(project_id=1)
    local = plan.local_aggregate
    engage = plan.steps[local.profiles_step]
    assert engage.endpoint == "engage" and engage.params["output_properties"] == ["country", "tier"]


def test_profile_conditions_in_a_pushed_where_use_engage_ids():
    q = Query.segmentation("A", unit="week", where='user["plan"] == "pro"', **JAN)
    plan = q.plan(project_id=1)
    assert [s.endpoint for s in plan.steps] == ["engage", "export"]
    assert plan.local_aggregate.events_steps == (1,)


def test_saved_funnel_cannot_be_exported():
    with pytest.raises(QueryError, match="steps are not known locally"):
        Query.funnel(funnel_id=3, strategy="export", **JAN).plan(project_id=1)


# -- rendering -------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [
    lambda: Query.segmentation("A", on='properties["b"]', **JAN),
    lambda: Query.segmentation("A", unit="week", where='user["x"] == 1', on='user["y"]', **JAN),
    lambda: Query.funnel(steps=["A", {"event": "B", "where": 'properties["x"] > 1',
                                      "label": "big B"}], **JAN),
    lambda: Query.retention("A", "B", **JAN),
])
def test_json_round_trip_and_explain(build):
    plan = build().plan(project_id=5, timezone="Europe/Paris")
    again = Plan.from_json(plan.to_json())
    assert again == plan
    text = plan.explain()
    assert "plan:" in text
    if plan.local_aggregate is not None:
        assert "aggregate locally" in text and "Europe/Paris" in text
        assert isinstance(again.local_aggregate, LocalAggregate)
    else:
        assert "JSON body of /" in text


def test_curl_of_an_export_plan_says_what_is_left_to_do():
    script = Query.funnel(steps=["A", "B"], **JAN).plan(project_id=1).to_curl()
    assert "data.mixpanel.com/api/2.0/export" in script
    assert script.rstrip().splitlines()[-1].startswith("# then: compute the /funnels answer")


def test_record_plans_keep_their_json():
    data = json.loads(Query.events(from_date="2024-01-01", to_date="2024-01-01",
                                   today=TODAY).plan().to_json())
    assert "aggregate" not in data and "local_aggregate" not in data


def test_to_curl_runs_in_a_shell_as_written(tmp_path):
    plan = Query.segmentation("Signed up", on='properties["$browser"]',
                              where='properties["plan"] == "it\'s + $x"', **JAN).plan(
        project_id=9)
    script = plan.to_curl()
    assert "api/query/segmentation?project_id=9&event=Signed%20up" in script
    # the shell hands curl exactly the encoded URL: run the script with a fake curl
    fake = tmp_path / "curl"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    fake.chmod(0o755)
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True,
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin", "MP_USERNAME": "u",
                              "MP_SECRET": "s"}).stdout.splitlines()
    url = out[out.index("--url") + 1]
    sent = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert sent["where"] == 'properties["plan"] == "it\'s + $x"'
    assert out[out.index("--user") + 1] == "u:s"


# -- checker ---------------------------------------------------------------------------------


def test_checker_runs_on_where_on_and_born_where():
    plan = Query.segmentation("A", on='properties["b"] == "x"',
                              where='properties["n"] > "5"', **JAN).plan(project_id=1)
    assert any(n.startswith("on: T011") for n in plan.notes)
    assert any(n.startswith("where: T003") for n in plan.notes)
    plan = Query.retention("A", "B", born_where='string(properties["x"])', **JAN).plan(
        project_id=1)
    assert any(n.startswith("born_where: T006") for n in plan.notes)
    with pytest.raises(CheckError):
        Query.segmentation("A", where='properties["n"] + 1 == "x"', **JAN).plan(strict=True)


def test_step_wheres_are_checked_too():
    plan = Query.funnel(steps=["A", {"event": "B", "where": 'properties["n"] > "5"'}],
                        **JAN).plan(project_id=1)
    assert any(n.startswith("steps[2].where: T003") for n in plan.notes)

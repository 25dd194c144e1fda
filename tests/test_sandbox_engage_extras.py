"""Engage's cohort and behavior parameters over HTTP, against ground truth computed here from
the dataset's files (not through the sandbox's own selection code)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests

from mpql.sandbox import Limits, Sandbox, generate

NOW = None


@pytest.fixture(scope="module")
def sb(sandbox_dataset):
    with Sandbox(sandbox_dataset, limits=Limits.unlimited()) as server:
        yield server


def _all(sb, **data):
    c = sb.credentials
    results, page, sid = [], 0, None
    while True:
        body = {k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in data.items()}
        body["page"] = page
        if sid:
            body["session_id"] = sid
        r = requests.post(f"{sb.url}/api/query/engage", params={"project_id": c.project_id},
                          data=body, auth=(c.username, c.secret))
        assert r.status_code == 200, r.text
        out = r.json()
        results += out["results"]
        sid = out["session_id"]
        if len(out["results"]) < out["page_size"]:
            return results
        page += 1


def _profiles(ds):
    return [json.loads(l) for l in (ds.path / "profiles.jsonl").read_text("utf-8").splitlines()]


def test_cohort_defined_by_an_expression(sb):
    got = _all(sb, filter_by_cohort={"id": 1001})
    paying = [p for p in _profiles(sb.dataset) if p["$properties"]["is_paying"] is True]
    assert got == paying and got
    narrowed = _all(sb, filter_by_cohort={"id": 1001}, where='properties["plan"] == "enterprise"')
    assert narrowed == [p for p in paying if p["$properties"]["plan"] == "enterprise"]


def test_static_cohort_and_include_all_users(sb):
    members = next(c["members"] for c in sb.dataset.manifest["cohorts"] if c["id"] == 1003)
    profiles = _profiles(sb.dataset)
    with_profile = [p for p in profiles if p["$distinct_id"] in set(members)]
    without = [m for m in members if m not in {p["$distinct_id"] for p in profiles}]
    assert with_profile and without  # the generated list mixes both
    assert _all(sb, filter_by_cohort={"id": 1003}, include_all_users="false") == with_profile
    everyone = _all(sb, filter_by_cohort={"id": 1003})  # Mixpanel's default: true
    assert everyone == with_profile + [{"$distinct_id": m, "$properties": {}} for m in without]
    assert sb.profiles(cohort_id=1003) == everyone


def _purchases_in_window(ds, as_of, days, selector=None):
    counts = {}
    for path in sorted((ds.path / "events").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            e = json.loads(line)
            t = e["properties"]["time"]
            if e["event"] == "Purchase" and as_of - days * 86400 < t <= as_of and (selector is None or selector(e)):
                did = e["properties"]["distinct_id"]
                counts[did] = counts.get(did, 0) + 1
    return counts


def test_behaviors_count_events_in_the_window(sb):
    ds = sb.dataset
    as_of = int(dt.datetime.combine(ds.last_date, dt.time(12), dt.timezone.utc).timestamp())
    behaviors = [{"name": "bought", "window": "7d", "event_selectors": [{"event": "Purchase"}]}]
    got = _all(sb, behaviors=behaviors, where='behaviors["bought"] >= 2', as_of_timestamp=as_of)
    counts = _purchases_in_window(ds, as_of, 7)
    expected = [p for p in _profiles(ds) if counts.get(p["$distinct_id"], 0) >= 2]
    assert got == expected and got
    none = _all(sb, behaviors=behaviors, where='behaviors["bought"] == 0', as_of_timestamp=as_of)
    assert none == [p for p in _profiles(ds) if counts.get(p["$distinct_id"], 0) == 0]
    assert sb.profiles('behaviors["bought"] >= 2', behaviors=behaviors, as_of_timestamp=as_of) == got


def test_behavior_selectors_filter_the_events(sb):
    ds = sb.dataset
    as_of = int(dt.datetime.combine(ds.last_date, dt.time(23, 59), dt.timezone.utc).timestamp())
    behaviors = [{"name": "big", "window": "30d",
                  "event_selectors": [{"event": "Purchase", "selector": 'number(properties["amount"]) > 100'}]}]
    got = _all(sb, behaviors=behaviors, where='behaviors["big"] > 0', as_of_timestamp=as_of)
    counts = _purchases_in_window(ds, as_of, 30, lambda e: float(e["properties"]["amount"]) > 100)
    assert got == [p for p in _profiles(ds) if counts.get(p["$distinct_id"], 0) > 0] and got


def test_paging_behaviors_without_as_of_fails_beyond_1000_profiles(tmp_path):
    ds = generate(tmp_path / "big", users=1100, days=1, events_per_user_day=0.5, end_date="2026-05-01")
    behaviors = [{"name": "seen", "window": "30d", "event_selectors": [{"event": "Page Viewed"}]}]
    with Sandbox(ds, limits=Limits.unlimited(), now=dt.datetime(2026, 5, 2, tzinfo=dt.timezone.utc).timestamp()) as sb:
        c = sb.credentials
        url, params = f"{sb.url}/api/query/engage", {"project_id": c.project_id}
        data = {"behaviors": json.dumps(behaviors), "where": 'behaviors["seen"] >= 0'}
        first = requests.post(url, params=params, data=data, auth=(c.username, c.secret)).json()
        assert first["total"] == 1100 and len(first["results"]) == 1000
        second = requests.post(url, params=params, auth=(c.username, c.secret),
                               data={**data, "page": 1, "session_id": first["session_id"]})
        assert second.status_code == 400
        assert "request for page in uncached query for params" in second.json()["error"]
        data["as_of_timestamp"] = str(int(sb.now()))
        assert len(_all(sb, **data)) == 1100


def test_group_profiles_by_data_group_id(sb):
    group = sb.dataset.manifest["groups"][0]
    assert group["key"] == "company"
    companies = {}
    for p in _profiles(sb.dataset):
        companies.setdefault(p["$properties"]["company"], []).append(p)
    got = _all(sb, data_group_id=group["data_group_id"])
    assert [g["$distinct_id"] for g in got] == list(companies)  # one per company, first-seen order
    for g in got:
        users = companies[g["$distinct_id"]]
        assert g["$properties"]["users"] == len(users)
        assert g["$properties"]["seats"] == sum(int(u["$properties"]["seats"]) for u in users)
    big = _all(sb, data_group_id=group["data_group_id"], where='properties["users"] >= 2')
    assert big == [g for g in got if g["$properties"]["users"] >= 2] and big
    assert sb.profiles('properties["users"] >= 2', data_group_id=group["data_group_id"]) == big

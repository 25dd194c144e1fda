"""Invariants under arbitrary input: the rate limiter against a brute-force model, the fault
spec parser on any text, and the server on any parameters (never a 500, never a hang)."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpql.errors import InputError
from mpql.sandbox import Limits, Sandbox, parse_faults
from mpql.sandbox._limits import RateLimiter


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


# Times on a grid of 0.2 ms (so requests often share a 0.55 ms "second"), with some big jumps.
small = st.integers(0, 4).map(lambda k: k * 0.0002)
ops = st.lists(st.tuples(
    st.sampled_from(["query", "query-free", "export", "release-query", "release-export"]),
    st.one_of(small, st.floats(0, 0.7)),  # time advance before the op
    st.one_of(small, st.floats(0, 0.3)),  # how long before "now" the request arrived
), max_size=60)


@given(ops, st.integers(1, 4), st.integers(1, 3), st.integers(1, 3))
def test_limiter_matches_a_brute_force_model(sequence, per_hour, per_second, concurrent):
    """Windows of 2 s (the hour at time_scale 1/1800) and 0.55 ms (the second), requests that
    arrive up to 0.3 s before they reach the limiter, in any order. A request is admitted iff a
    concurrency slot is free and every window holds fewer than its quota of admitted requests
    whose arrival lies within the window's length before this one's (or after it)."""
    clock = Clock()
    limits = Limits(query_per_hour=per_hour, query_concurrent=concurrent, export_per_hour=per_hour,
                    export_per_second=per_second, export_concurrent=concurrent)
    lim = RateLimiter(limits, time_scale=1 / 1800, clock=clock)  # hour 2 s, second 1/1800 s
    hour, second = 2.0, 1 / 1800
    model = {"query": {"hour": [], "second": None, "flight": 0},
             "export": {"hour": [], "second": [], "flight": 0}}
    quota = {"hour": per_hour, "second": per_second}
    for op, advance, age in sequence:
        clock.t += advance
        if op.startswith("release"):
            cls = op.split("-")[1]
            if model[cls]["flight"]:
                model[cls]["flight"] -= 1
                lim.release(cls)
            continue
        cls = "query" if op.startswith("query") else "export"
        counts = op != "query-free"
        at = clock.t - age
        m = model[cls]
        expected = None
        if m["flight"] >= concurrent:
            expected = "concurrency"
        elif m["second"] is not None and sum(1 for s in m["second"] if s > at - second) >= quota["second"]:
            expected = "second"
        elif counts and sum(1 for s in m["hour"] if s > at - hour) >= quota["hour"]:
            expected = "hour"
        got = lim.acquire(cls, counts=counts, at=at)
        assert (got.limit if got else None) == expected
        if expected is None:
            m["flight"] += 1
            if m["second"] is not None:
                m["second"].append(at)
            if counts:
                m["hour"].append(at)


@given(st.text(max_size=80))
def test_fault_parser_accepts_or_explains_any_text(text):
    try:
        rules = parse_faults(text)
    except InputError as exc:
        assert "fault" in str(exc)
    else:
        assert all(r.text for r in rules)


@given(st.lists(st.sampled_from(["export", "engage", "any", "#", "1", "-", "+", "*", ":", "429", "503",
                                 "retry-after=", "reset-after=", "delay=0", "drop", "truncate=", "[",
                                 "]", "from_date=", ",", ";", '"', "terminated-early", "=", "2"]),
                max_size=14).map("".join))
def test_fault_parser_on_near_miss_specs(text):
    try:
        parse_faults(text)
    except InputError:
        pass


PARAMS = ["from_date", "to_date", "event", "where", "limit", "time_in_ms", "page", "session_id",
          "distinct_id", "distinct_ids", "output_properties", "project_id", "workspace_id", "selector"]
values = st.one_of(st.text(max_size=20), st.sampled_from(
    ["2026-01-01", "[]", '["Purchase"]', "true", "0", "-1", "100001", 'properties["a"] == 1', "[1,", "null"]))


@pytest.fixture(scope="module")
def server(sandbox_dataset):
    with Sandbox(sandbox_dataset, limits=Limits.unlimited()) as sb:
        yield sb


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/api/2.0/export", "/api/query/engage", "/api/2.0/engage"]),
       method=st.sampled_from(["GET", "POST"]), params=st.dictionaries(st.sampled_from(PARAMS), values, max_size=6))
def test_any_parameters_get_a_mixpanel_style_answer(server, path, method, params):
    c = server.credentials
    params = {"project_id": c.project_id, **params}
    r = requests.request(method, f"{server.url}{path}", params=params, auth=(c.username, c.secret), timeout=30)
    assert r.status_code in (200, 400, 401, 405, 414), r.text
    if r.status_code == 400 and r.headers["Content-Type"] == "application/json":
        assert set(r.json()) == {"request", "error"} and r.json()["error"]
    if r.status_code == 200 and "engage" in path:
        body = r.json()
        assert body["status"] == "ok" and isinstance(body["results"], list)
    if r.status_code == 200 and "export" in path:
        for line in r.text.splitlines():
            json.loads(line)

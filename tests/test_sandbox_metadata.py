"""The sandbox's metadata endpoints (/events/names, /events/properties/top,
/events/properties/values) and saved funnels (/funnels/list) over real loopback HTTP.

Expected answers are computed here from the exported events (``sb.events``) with independent,
plain code — not with the server's functions — so a counting or ranking bug shows up.
"""

from __future__ import annotations

import collections
import datetime as dt
import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpql.errors import InputError
from mpql.sandbox import Limits, Sandbox, write_dataset

NOW = dt.datetime(2026, 3, 10, 12, tzinfo=dt.timezone.utc).timestamp()  # pinned clock


def get(sb, endpoint, prefix="/api/query/", auth=True, method="GET", **params):
    c = sb.credentials
    return requests.request(method, f"{sb.url}{prefix}{endpoint}",
                            params={"project_id": c.project_id, **params},
                            auth=(c.username, c.secret) if auth else None, timeout=30)


def dedupe(records):
    """Mixpanel's query-time deduplication: event, distinct_id, time, $insert_id."""
    seen, out = set(), []
    for r in records:
        p = r["properties"]
        key = (r["event"], json.dumps(p.get("distinct_id")), p.get("time"), p.get("$insert_id"))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def window_events(sb):
    today = sb.today()
    events = sb.events(today - dt.timedelta(days=30), today)
    assert len(dedupe(events)) < len(events)  # the sample data has SDK-retry duplicates
    return dedupe(events)


def ranked(counter, limit):
    return [k for k, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))][:limit]


def as_listed(value):
    return value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))


# -- documented shapes, default dataset ---------------------------------------------------------

def test_event_names_are_the_most_common_events_of_the_last_31_days(sandbox):
    events = window_events(sandbox)
    counts = collections.Counter(e["event"] for e in events)
    r = get(sandbox, "events/names", type="general")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    body = r.json()
    # documented shape: a JSON array of strings
    assert isinstance(body, list) and all(isinstance(n, str) for n in body)
    assert body == ranked(counts, 255)
    assert get(sandbox, "events/names", type="general", limit=3).json() == ranked(counts, 3)
    users = collections.defaultdict(set)
    for e in events:
        users[e["event"]].add(e["properties"]["distinct_id"])
    assert get(sandbox, "events/names", type="unique", limit=4).json() == \
        ranked({k: len(v) for k, v in users.items()}, 4)


def test_top_properties_counts_events_carrying_each_property(sandbox):
    purchases = [e for e in window_events(sandbox) if e["event"] == "Purchase"]
    counts = collections.Counter(k for e in purchases for k in e["properties"])
    body = get(sandbox, "events/properties/top", event="Purchase").json()
    # documented shape: {"<property>": {"count": N}}, Mixpanel's default limit 10
    assert len(body) == 10
    assert all(set(v) == {"count"} and isinstance(v["count"], int) for v in body.values())
    assert list(body) == ranked(counts, 10)
    assert {k: v["count"] for k, v in body.items()} == {k: counts[k] for k in body}
    body = get(sandbox, "events/properties/top", event="Purchase", limit=100).json()
    assert {k: v["count"] for k, v in body.items()} == dict(counts)


def test_property_values_are_strings_most_common_first(sandbox):
    searches = [e for e in window_events(sandbox) if e["event"] == "Search"]
    for name in ("query", "results"):  # a string property and a number property
        counts = collections.Counter(as_listed(e["properties"][name]) for e in searches
                                     if name in e["properties"])
        body = get(sandbox, "events/properties/values", event="Search", name=name).json()
        assert all(isinstance(v, str) for v in body)
        assert body == ranked(counts, 255)
        assert get(sandbox, "events/properties/values", event="Search", name=name,
                   limit=2).json() == ranked(counts, 2)
    assert get(sandbox, "events/properties/values", event="Search", name="nope").json() == []
    assert get(sandbox, "events/properties/values", event="Nope", name="query").json() == []


def test_funnels_list_lists_the_saved_funnels(sandbox):
    body = get(sandbox, "funnels/list").json()
    assert body == [{"funnel_id": f["funnel_id"], "name": f["name"]}
                    for f in sandbox.dataset.manifest["funnels"]]
    # the documented example's structure: [{"funnel_id": int, "name": str}, …]
    assert body and all(set(f) == {"funnel_id", "name"} and isinstance(f["funnel_id"], int)
                        and isinstance(f["name"], str) for f in body)
    assert get(sandbox, "funnels/list", prefix="/api/2.0/").json() == body  # legacy path
    assert get(sandbox, "funnels/list", method="POST").json() == body


def test_local_ground_truth_is_what_the_server_answers(sandbox):
    for endpoint, params in [("events/names", {"type": "average", "limit": 5}),
                             ("events/properties/top", {"event": "Page Viewed", "limit": 30}),
                             ("events/properties/values", {"event": "Page Viewed", "name": "page"}),
                             ("funnels/list", {})]:
        assert get(sandbox, endpoint, **params).json() == sandbox.query(endpoint, **params)


# -- errors, auth, limits, faults ---------------------------------------------------------------

@pytest.mark.parametrize("endpoint,params,words", [
    ("events/properties/top", {}, "event is required"),
    ("events/properties/values", {"event": "Search"}, "name is required"),
    ("events/properties/values", {"event": '["Search"]', "name": "query"}, "single event name"),
    ("events/names", {"type": "sum"}, "type must be one of general, unique, average"),
    ("events/names", {"limit": "0"}, "limit must be an integer from 1 to 10000"),
    ("events/names", {"limit": "ten"}, "limit must be an integer"),
    ("events/properties/top", {"event": "Search", "limit": "10001"}, "from 1 to 10000"),
])
def test_bad_parameters_are_400_with_mixpanels_error_body(sandbox, endpoint, params, words):
    r = get(sandbox, endpoint, **params)
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {"request", "error"} and words in body["error"]
    assert body["request"].startswith(f"/api/query/{endpoint}?")
    with pytest.raises(InputError, match=words.split(" (")[0][:20]):
        sandbox.query(endpoint, **params)


def test_auth_method_and_unknown_paths(sandbox):
    r = get(sandbox, "funnels/list", auth=False)
    assert r.status_code == 401 and "WWW-Authenticate" in r.headers
    assert get(sandbox, "funnels/list", method="PUT").status_code == 405
    assert get(sandbox, "funnels/list/").status_code == 404
    assert get(sandbox, "events/properties/nope").status_code == 404
    c = sandbox.credentials
    r = requests.get(f"{sandbox.url}/api/query/funnels/list", auth=(c.username, c.secret))
    assert r.status_code == 400 and "project_id is required" in r.json()["error"]


def test_metadata_calls_count_against_the_query_api_budget(sandbox):
    sandbox.reset_limits(Limits(query_per_hour=3), time_scale=1.0)
    statuses = [get(sandbox, "events/names").status_code,
                get(sandbox, "funnels/list").status_code,
                get(sandbox, "events/properties/top").status_code]  # a 400 counts too
    assert statuses == [200, 200, 400]
    r = get(sandbox, "events/names")
    assert r.status_code == 429
    assert r.headers["RateLimit-Policy"].startswith('"project";q=3;w=3600')
    assert '"project";r=0' in r.headers["RateLimit"] and int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"].startswith("Rate limit exceeded")


def test_faults_target_query_endpoints_by_name_or_all_at_once(sandbox):
    sandbox.add_faults('funnels/list#1:503; query[event=Search]#1:429:retry-after=2; '
                       'events/names#*:message="slow down":500')
    r = get(sandbox, "funnels/list")
    assert r.status_code == 503 and "nginx" in r.text
    assert get(sandbox, "funnels/list").status_code == 200
    r = get(sandbox, "events/properties/top", event="Search")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert get(sandbox, "events/properties/top", event="Search").status_code == 200
    r = get(sandbox, "events/names")
    assert r.status_code == 500 and r.json()["error"] == "slow down"
    assert [rec.fault for rec in sandbox.requests if rec.fault][0] == "funnels/list#1:503"


def test_fault_specs_name_the_known_targets():
    from mpql.sandbox import parse_faults

    assert parse_faults("events/properties/values#2:drop")[0].target == "events/properties/values"
    with pytest.raises(InputError, match="funnels/list"):
        parse_faults("funnels/lists#1:503")
    with pytest.raises(InputError, match="only applies to export"):
        parse_faults("funnels/list#1:split-line=2")


# -- datasets with funnels ------------------------------------------------------------------------

def test_write_dataset_validates_saved_funnels(tmp_path):
    ok = {"funnel_id": 5, "name": "A to B", "steps": [{"event": "A"}, {"event": "B", "where": "x"}]}
    ds = write_dataset(tmp_path / "ok", [], funnels=[ok])
    assert ds.funnels == {5: ok}
    bad = [
        ({**ok, "funnel_id": "5"}, "funnel #1: funnel_id must be an integer"),
        ({**ok, "steps": [{"event": "A"}]}, "at least 2"),
        ({**ok, "steps": [{"event": "A"}, {"name": "B"}]}, "unknown keys name"),
        ({**ok, "length_unit": "week"}, "length_unit"),
    ]
    for i, (funnel, words) in enumerate(bad):
        with pytest.raises(InputError, match=words):
            write_dataset(tmp_path / f"bad{i}", [], funnels=[funnel])
    with pytest.raises(InputError, match="used twice"):
        write_dataset(tmp_path / "dup", [], funnels=[ok, ok])


# -- property: random small datasets --------------------------------------------------------------

_NAMES = st.sampled_from(["A", "B", "Sign Up", "ü"])
_VALUES = st.one_of(st.sampled_from(["x", "y", "12", "true"]), st.integers(-3, 3),
                    st.sampled_from([1.5, True, False]), st.lists(st.sampled_from("ab"), max_size=2))
_EVENT = st.fixed_dictionaries({
    "event": _NAMES,
    "day": st.integers(-40, 2),  # days relative to the pinned today: some outside the window
    "user": st.sampled_from(["u1", "u2", "u3"]),
    "props": st.dictionaries(st.sampled_from(["p", "q", "$os"]), _VALUES, max_size=3),
    "dup": st.booleans(),
})


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(events=st.lists(_EVENT, max_size=25), limit=st.integers(1, 4))
def test_metadata_over_http_matches_a_direct_count_on_random_data(tmp_path_factory, events, limit):
    today = dt.datetime.fromtimestamp(NOW, dt.timezone.utc).date()
    records = []
    for i, e in enumerate(events):
        t = int(NOW) + e["day"] * 86400 - 3600 + i
        records.append({"event": e["event"], "properties": {
            "time": t, "distinct_id": e["user"], "$insert_id": f"i{i}", **e["props"]}})
        if e["dup"]:  # an SDK retry: counted once by the Query API
            records.append(records[-1])
    data = write_dataset(tmp_path_factory.mktemp("meta") / "d", records)
    inside = dedupe([r for r in records if today - dt.timedelta(days=30) <= dt.datetime.fromtimestamp(
        r["properties"]["time"], dt.timezone.utc).date() <= today])
    with Sandbox(data, now=NOW, limits=Limits.unlimited()) as sb:
        counts = collections.Counter(r["event"] for r in inside)
        assert get(sb, "events/names", limit=limit).json() == ranked(counts, limit)
        for name in ["A", "ü"]:
            keys = collections.Counter(k for r in inside if r["event"] == name for k in r["properties"])
            top = get(sb, "events/properties/top", event=name, limit=limit).json()
            assert {k: v["count"] for k, v in top.items()} == {k: keys[k] for k in ranked(keys, limit)}
            values = collections.Counter(as_listed(r["properties"]["p"]) for r in inside
                                         if r["event"] == name and "p" in r["properties"])
            assert get(sb, "events/properties/values", event=name, name="p",
                       limit=limit).json() == ranked(values, limit)

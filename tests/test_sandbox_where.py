"""`where` over HTTP equals filtering the dataset locally.

The ground truth here does not reuse the sandbox's code path: it reads the dataset's files
itself and evaluates each record with ``mpql.evaluate`` (the evaluator's tree-walking
interpreter), while the server uses the compiled predicate and its own streaming. One server is
shared by the whole module (rate limits off).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mpql
from mpql.sandbox import Limits, Sandbox

NOW = 1_800_000_000  # a fixed clock, so NOW in expressions is reproducible


@pytest.fixture(scope="module")
def sb(sandbox_dataset):
    with Sandbox(sandbox_dataset, limits=Limits.unlimited(), now=None) as server:
        yield server


def _raw_events(ds, first: dt.date, last: dt.date) -> list[dict]:
    out = []
    day = first
    while day <= last:
        path = ds.path / "events" / f"{day.isoformat()}.jsonl"
        if path.exists():
            for line in path.read_text("utf-8").splitlines():
                out.append(json.loads(line))  # stored as export sends it by default
        day += dt.timedelta(days=1)
    return out


def _truth_events(ds, first, last, where, now):
    node = mpql.parse(where)
    return [e for e in _raw_events(ds, first, last)
            if mpql.evaluate(node, e, scope="events", now=now) is True]


def _truth_profiles(ds, where, now):
    node = mpql.parse(where)
    profiles = [json.loads(l) for l in (ds.path / "profiles.jsonl").read_text("utf-8").splitlines()]
    return [p for p in profiles if mpql.evaluate(node, p, scope="profiles", now=now) is True]


def _export(sb, first, last, where):
    c = sb.credentials
    r = requests.get(f"{sb.url}/api/2.0/export", auth=(c.username, c.secret),
                     params={"project_id": c.project_id, "from_date": first.isoformat(),
                             "to_date": last.isoformat(), "where": where})
    assert r.status_code == 200, r.text
    return [json.loads(l) for l in r.text.splitlines()]


def _engage_all(sb, where):
    c = sb.credentials
    url, results, page, sid = f"{sb.url}/api/query/engage", [], 0, None
    while True:
        data = {"where": where, "page": page}
        if sid:
            data["session_id"] = sid
        r = requests.post(url, params={"project_id": c.project_id}, data=data, auth=(c.username, c.secret))
        assert r.status_code == 200, r.text
        body = r.json()
        sid = body["session_id"]
        results += body["results"]
        if len(body["results"]) < body["page_size"]:
            return results
        page += 1


# -- expression strategies over the dataset's real property names and values --------------------

def _q(s: str) -> str:
    return json.dumps(s)


EVENT_STRINGS = {
    "$os": ["iOS", "Android", "Windows", "Mac OS X", "Linux"],
    "$browser": ["Chrome", "Safari", "Firefox"],
    "mp_country_code": ["US", "DE", "FR", "JP"],
    "$city": ["München", "São Paulo", "Austin"],
    "page": ["/pricing", "/docs"],
    "feature": ["sso", "api"],
    "currency": ["USD"],
    "amount": ["19.99", "74.00"],
}
EVENT_NUMBERS = {"amount": [10, 50, 150], "price": [20, 60], "quantity": [1, 2], "results": [5, 30],
                 "duration_s": [60, 300], "$browser_version": [120, 17.1]}
PROFILE_STRINGS = {
    "plan": ["free", "starter", "pro", "enterprise"],
    "$country_code": ["US", "GB", "DE", "IN"],
    "lifecycle_stage": ["lead", "customer"],
    "newsletter_opt_in": ["true", "false"],
    "seats": ["5", "10"],
    "$city": ["München", "Tokyo"],
}
PROFILE_NUMBERS = {"seats": [2, 10, 25], "mrr": [0, 100, 1000], "last_purchase_at": [1_790_000_000]}


def atoms(strings, numbers):
    eq = st.sampled_from(sorted(strings)).flatmap(
        lambda n: st.sampled_from(strings[n]).map(lambda v: f"properties[{_q(n)}] == {_q(v)}"))
    ne = st.sampled_from(sorted(strings)).flatmap(
        lambda n: st.sampled_from(strings[n]).map(lambda v: f"properties[{_q(n)}] != {_q(v)}"))
    cmp = st.tuples(st.sampled_from(sorted(numbers)), st.sampled_from([">", ">=", "<", "<="])).flatmap(
        lambda t: st.sampled_from(numbers[t[0]]).map(lambda v: f"properties[{_q(t[0])}] {t[1]} {v}"))
    cast = st.sampled_from(sorted(numbers)).flatmap(
        lambda n: st.sampled_from(numbers[n]).map(lambda v: f"number(properties[{_q(n)}]) > {v}"))
    defined = st.sampled_from(sorted(set(strings) | set(numbers) | {"nope"})).map(
        lambda n: f"defined(properties[{_q(n)}])")
    substr = st.sampled_from(sorted(strings)).flatmap(
        lambda n: st.sampled_from([v[:2] for v in strings[n]]).map(lambda v: f"{_q(v)} in properties[{_q(n)}]"))
    return st.one_of(eq, ne, cmp, cast, defined, substr)


def expressions(atom):
    return st.recursive(
        atom,
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda t: f"({t[0]}) and ({t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]}) or ({t[1]})"),
            inner.map(lambda e: f"not ({e})"),
        ),
        max_leaves=4,
    )


EVENT_EXPR = expressions(atoms(EVENT_STRINGS, EVENT_NUMBERS))
TAGS = ["vip", "beta", "partner", "nope"]
# any(...) over the profiles' `tags` lists, in Mixpanel's own spelling (`=`) and ours
TAG_ANY = st.tuples(st.sampled_from(TAGS), st.sampled_from(TAGS), st.sampled_from(["=", "=="])).map(
    lambda t: f'any(X, properties["tags"], X {t[2]} {_q(t[0])} or X == {_q(t[1])})')
PROFILE_EXPR = expressions(st.one_of(atoms(PROFILE_STRINGS, PROFILE_NUMBERS), TAG_ANY))

_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(where=EVENT_EXPR, start=st.integers(0, 27), length=st.integers(0, 2))
def test_property_export_where_equals_local_filtering(sb, where, start, length):
    ds = sb.dataset
    first = ds.first_date + dt.timedelta(days=start)
    last = min(first + dt.timedelta(days=length), ds.last_date)
    assert _export(sb, first, last, where) == _truth_events(ds, first, last, where, sb.now())


@_SETTINGS
@given(where=PROFILE_EXPR)
def test_property_engage_where_equals_local_filtering(sb, where):
    assert _engage_all(sb, where) == _truth_profiles(sb.dataset, where, sb.now())


# -- examples from the API guide and the typing traps in the data --------------------------------


def test_guide_workflow_customer_id_then_distinct_id(sb):
    """HubSpot id → profile via engage (`user["customer_id"]`), then the user's events via export
    (`properties["$distinct_id"]`), as in the API guide's recipes 1 and 2."""
    target = next(p for p in sb.dataset.all_profiles if "customer_id" in p["$properties"])
    cid = target["$properties"]["customer_id"]
    found = _engage_all(sb, f'user["customer_id"] == {_q(cid)}')
    assert [p["$distinct_id"] for p in found] == [target["$distinct_id"]]
    ds = sb.dataset
    events = _export(sb, ds.first_date, ds.last_date, f'properties["$distinct_id"] == {_q(target["$distinct_id"])}')
    assert events and all(e["properties"]["distinct_id"] == target["$distinct_id"] for e in events)
    assert events == _truth_events(ds, ds.first_date, ds.last_date,
                                   f'properties["distinct_id"] == {_q(target["$distinct_id"])}', sb.now())
    # the numeric spelling of the id matches nothing: customer_id is stored as a string
    assert _engage_all(sb, f'user["customer_id"] == {cid}') == []


def test_numbers_stored_as_strings_need_number(sb):
    strict = _engage_all(sb, 'properties["seats"] >= 10')
    cast = _engage_all(sb, 'number(properties["seats"]) >= 10')
    assert len(cast) > len(strict) > 0


def test_now_relative_filter_uses_the_sandbox_clock(sandbox_dataset):
    last = max(p["$properties"]["$last_seen"] for p in sandbox_dataset.all_profiles)
    t = dt.datetime.fromisoformat(last).replace(tzinfo=dt.timezone.utc).timestamp()
    where = 'datetime(properties["$last_seen"]) > datetime(NOW - 86400)'
    with Sandbox(sandbox_dataset, limits=Limits.unlimited(), now=t + 10) as fixed:
        got = _engage_all(fixed, where)
        assert got and got == _truth_profiles(sandbox_dataset, where, t + 10)
        assert fixed.profiles(where) == got


def test_bad_where_is_400_before_any_byte(sb):
    c = sb.credentials
    for where in ['properties["x" ==', 'properties["$os"] and true']:
        r = requests.get(f"{sb.url}/api/2.0/export", auth=(c.username, c.secret),
                         params={"project_id": c.project_id, "from_date": sb.dataset.first_date.isoformat(),
                                 "to_date": sb.dataset.last_date.isoformat(), "where": where})
        assert r.status_code == 400
        assert "where" in r.json()["error"]
    r = requests.post(f"{sb.url}/api/query/engage", params={"project_id": c.project_id},
                      data={"where": "plan =="}, auth=(c.username, c.secret))
    assert r.status_code == 400 and r.json()["error"].startswith("Invalid 'where' expression")


def test_any_and_string_default_as_mixpanel_docs_write_them(sb):
    """Mixpanel's own spellings over HTTP: any(X, list, X="v") on the profiles' `tags` lists,
    string(x, default), and `=` for `==` (the mixpanel-utils README's selector)."""
    vip = _engage_all(sb, 'any(X, properties["tags"], X="vip")')
    assert vip and all("vip" in p["$properties"]["tags"] for p in vip)
    assert vip == _engage_all(sb, '"vip" in properties["tags"]')
    assert vip == _truth_profiles(sb.dataset, 'any(X, properties["tags"], X == "vip")', sb.now())
    both = _engage_all(sb, 'any(X, properties["tags"], X == "vip") and '
                           'any(Y, properties["tags"], Y == "beta" or Y == "partner")')
    assert both == _truth_profiles(sb.dataset, '"vip" in properties["tags"] and ("beta" in '
                                   'properties["tags"] or "partner" in properties["tags"])', sb.now())
    untagged = _engage_all(sb, 'string(properties["tags"], "none") == "none"')
    assert untagged and all(not isinstance(p["$properties"].get("tags"), str) for p in untagged)
    assert len(untagged) == len(sb.dataset.all_profiles)  # a list or missing: never a string
    assert _engage_all(sb, 'properties["plan"] = "pro"') == _engage_all(sb, 'properties["plan"] == "pro"')


def test_selector_alias_on_engage(sb):
    c = sb.credentials
    r = requests.post(f"{sb.url}/api/query/engage", params={"project_id": c.project_id},
                      data={"selector": 'properties["plan"] == "pro"'}, auth=(c.username, c.secret))
    assert r.json()["results"] == sb.profiles('properties["plan"] == "pro"')


def test_user_on_export_is_opt_in(sandbox_dataset):
    where = 'user["plan"] == "enterprise"'
    with Sandbox(sandbox_dataset, limits=Limits.unlimited()) as plain:
        ds = plain.dataset
        assert _export(plain, ds.last_date, ds.last_date, where) == []
    with Sandbox(sandbox_dataset, limits=Limits.unlimited(), user_on_export=True) as joined:
        got = _export(joined, ds.last_date, ds.last_date, where)
        enterprise = {p["$distinct_id"] for p in ds.all_profiles if p["$properties"]["plan"] == "enterprise"}
        assert got and {e["properties"]["distinct_id"] for e in got} <= enterprise
        assert got == joined.events(ds.last_date, ds.last_date, where)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page_size=st.integers(1, 160), where=st.one_of(st.none(), PROFILE_EXPR))
def test_property_paging_any_page_size_returns_each_profile_once(sb, page_size, where):
    sb.page_size = page_size
    try:
        got = _engage_all(sb, where or "")
    finally:
        sb.page_size = 1000
    expected = _truth_profiles(sb.dataset, where, sb.now()) if where else sb.dataset.all_profiles
    assert got == expected


NAMES = ["Page Viewed", "Purchase", "Signed Up", "$identify", "Search", "No Such Event"]


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.one_of(st.none(), st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True)),
       limit=st.one_of(st.none(), st.integers(1, 400)), ms=st.booleans(),
       start=st.integers(0, 29), length=st.integers(0, 3))
def test_property_export_params_equal_local_selection(sb, events, limit, ms, start, length):
    ds = sb.dataset
    first = ds.first_date + dt.timedelta(days=start)
    last = min(first + dt.timedelta(days=length), ds.last_date)
    c = sb.credentials
    params = {"project_id": c.project_id, "from_date": first.isoformat(), "to_date": last.isoformat()}
    if events is not None:
        params["event"] = json.dumps(events)
    if limit is not None:
        params["limit"] = limit
    if ms:
        params["time_in_ms"] = "true"
    r = requests.get(f"{sb.url}/api/2.0/export", params=params, auth=(c.username, c.secret))
    got = [json.loads(line) for line in r.text.splitlines()]
    expected = [e for e in _raw_events(ds, first, last) if events is None or e["event"] in events]
    if limit is not None:
        expected = expected[:limit]
    if ms:  # whole seconds match, and the milliseconds are the stored ones
        assert [e["properties"]["time"] // 1000 for e in got] == [e["properties"]["time"] for e in expected]
        for e in got:
            e["properties"]["time"] //= 1000
    assert got == expected


def test_concurrent_clients_each_get_the_whole_answer(sb):
    from concurrent.futures import ThreadPoolExecutor

    ds = sb.dataset
    truth = _raw_events(ds, ds.first_date, ds.last_date)

    def one(i):
        if i % 2:
            return _export(sb, ds.first_date, ds.last_date, 'defined(properties["$os"])') == truth
        return _engage_all(sb, 'defined(properties["plan"])') == sb.dataset.all_profiles

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(one, range(16)))

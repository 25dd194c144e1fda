"""Query validation, auth secrecy, encoding rules, profile plans and planning errors."""

import datetime as dt
import json
import warnings
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

import mpql
from mpql import ProjectSecret, Query, ServiceAccount, prop, user
from mpql.errors import ConfigError, PlanError, QueryError
from mpql.planner import date_chunks, expand

TODAY = dt.date(2025, 6, 1)


def events(where=None, **kw):
    kw.setdefault("from_date", "2024-01-01")
    kw.setdefault("to_date", "2024-01-02")
    return Query.events(where, today=TODAY, **kw)


@pytest.mark.parametrize("kw,match", [
    ({"from_date": "2024-1-01"}, "YYYY-MM-DD"),
    ({"from_date": "2024-02-30"}, "not a real calendar date"),
    ({"from_date": dt.datetime(2024, 1, 1, 5)}, "takes a date"),
    ({"from_date": "2024-01-03"}, "after to_date"),
    ({"to_date": "2025-06-02"}, "in the future"),
    ({"limit": 100_001}, "between 1 and 100000"),
    ({"limit": 0}, "between 1 and 100000"),
    ({"limit": True}, "integer"),
    ({"events": "Purchase"}, r"events=\['Purchase'\]"),
    ({"events": []}, "would select nothing"),
    ({"events": ["ok", ""]}, "non-empty strings"),
    ({"time_in_ms": "yes"}, "True or False"),
])
def test_events_validation(kw, match):
    with pytest.raises(QueryError, match=match):
        events(**kw)


def test_today_clock_is_injectable_and_inclusive():
    Query.events(from_date="2025-06-01", to_date="2025-06-01", today=lambda: TODAY)
    with pytest.raises(QueryError):
        Query.events(from_date="2025-06-01", to_date="2025-06-01", today=dt.date(2025, 5, 31))


@pytest.mark.parametrize("kw,match", [
    ({"cohort_id": 5, "behaviors": [{"name": "b"}]}, "cannot be combined"),
    ({"include_all_users": True}, "only applies with cohort_id"),
    ({"as_of_timestamp": 1}, "only applies with behaviors"),
    ({"behaviors": [{"window": "30d"}]}, "non-empty list of definitions"),
    ({"where": 'behaviors["x"] > 0', "behaviors": [{"name": "y"}]}, "no behavior of that name"),
    ({"output_properties": []}, "would select nothing"),
    ({"cohort_id": -1}, "at least 1"),
    ({"group_key": ""}, "data_group_id"),
])
def test_profiles_validation(kw, match):
    with pytest.raises(QueryError, match=match):
        Query.profiles(**kw)


def test_bad_where_types():
    with pytest.raises(mpql.ParseError):
        events('properties["a"] === 1')
    with pytest.raises(mpql.BuildError):
        events(42)


# --- auth -------------------------------------------------------------------------------------

SECRET = "s3cr3t-Vālue-\u2603"


def test_service_account_never_shows_secret():
    sa = ServiceAccount("svc.user", SECRET, 1234567, workspace_id=89)
    for text in (repr(sa), str(sa), f"{sa}", repr([sa]), repr({"auth": sa})):
        assert SECRET not in text and "***" in text
    assert sa.basic_auth() == ("svc.user", SECRET)
    plan = events(user("c") == "x").plan(auth=sa)
    for text in (plan.explain(), plan.to_json(), plan.to_curl(), repr(plan)):
        assert SECRET not in text and "svc.user" not in text
    assert '"$MP_USERNAME:$MP_SECRET"' in plan.to_curl()
    assert plan.steps[0].params["workspace_id"] == "89"


def test_bad_credentials_do_not_echo_values():
    with pytest.raises(ConfigError) as info:
        ServiceAccount("u", "", 1)
    assert "secret" in str(info.value)
    with pytest.raises(ConfigError, match="numeric project id"):
        ServiceAccount("u", SECRET, "my-project")
    with pytest.raises(ConfigError) as info:
        ServiceAccount("u", SECRET, None)
    assert SECRET not in str(info.value)


def test_project_secret_is_deprecated_and_hidden():
    with pytest.warns(DeprecationWarning, match="2027-03-03"):
        ps = ProjectSecret(SECRET)
    assert SECRET not in repr(ps) and SECRET not in str(ps)
    assert ps.basic_auth() == (SECRET, "")
    plan = events('properties["a"] == 1').plan(auth=ps)
    assert plan.auth_kind == "project_secret"
    assert "project_id" not in plan.steps[0].params
    assert '"$MP_SECRET:"' in plan.to_curl() and SECRET not in plan.to_curl()


def test_service_account_from_env():
    sa = ServiceAccount.from_env({"MP_USERNAME": "u", "MP_SECRET": SECRET, "MP_PROJECT_ID": "7"})
    assert sa.project_id == "7"
    with pytest.raises(ConfigError, match="MP_SECRET"):
        ServiceAccount.from_env({"MP_USERNAME": "u", "MP_PROJECT_ID": "7"})


# --- encoding ---------------------------------------------------------------------------------


def test_export_encoding_never_sends_raw_plus_or_space():
    q = events((prop("a") + 1 == 2) & (prop("note") == "a b&c=d+e%f'g#h/ü"), events=["Sign up"])
    (req,) = expand(q.plan(project_id=5, chunk="none").steps[0]).requests
    query = urlsplit(req.url).query
    assert "+" not in query and " " not in query and "'" not in query and "#" not in query
    assert "%2B" in query and "%20" in query and "%3D%3D" in query and "%C3%BC" in query
    params = dict((k, unquote(v)) for k, v in (p.split("=", 1) for p in query.split("&")))
    assert params["event"] == '["Sign up"]'
    assert mpql.parse(params["where"]) == q.where
    assert params["where"] == mpql.format(q.where, style="wire")


def test_engage_is_a_form_post_with_project_id_in_url():
    q = Query.profiles('user["plan"] == "a+b"', output_properties=["$email", "plan"],
                       cohort_id=42)
    step = q.plan(project_id=5, workspace_id=6).steps[0]
    (req,) = expand(step).requests
    assert req.method == "POST"
    assert urlsplit(req.url).query == "project_id=5&workspace_id=6"
    assert req.headers["content-type"] == "application/x-www-form-urlencoded"
    body = dict(parse_qsl(req.body))
    assert body["where"] == 'user["plan"] == "a+b"'
    assert json.loads(body["output_properties"]) == ["$email", "plan"]
    assert json.loads(body["filter_by_cohort"]) == {"id": 42}
    assert body["include_all_users"] == "false"
    assert "%2B" in req.body and "+" not in req.body


def test_date_chunks_cover_the_range_exactly_once():
    assert date_chunks("2024-01-30", "2024-02-02", "day") == [
        ("2024-01-30", "2024-01-30"), ("2024-01-31", "2024-01-31"),
        ("2024-02-01", "2024-02-01"), ("2024-02-02", "2024-02-02")]
    assert date_chunks("2024-01-30", "2024-03-02", "month") == [
        ("2024-01-30", "2024-01-31"), ("2024-02-01", "2024-02-29"), ("2024-03-01", "2024-03-02")]
    assert date_chunks("2024-01-01", "2024-01-10", "week") == [
        ("2024-01-01", "2024-01-07"), ("2024-01-08", "2024-01-10")]
    assert date_chunks("2024-01-01", "2024-01-10", None) == [("2024-01-01", "2024-01-10")]


def test_budget_note_for_many_chunks():
    plan = Query.events(from_date="2024-01-01", to_date="2024-03-31", today=TODAY).plan()
    assert any("60 export requests/hour" in n for n in plan.notes)


# --- profiles ---------------------------------------------------------------------------------


def test_distinct_id_equality_becomes_the_parameter():
    step = Query.profiles('properties["$distinct_id"] == "u1"').plan().steps[0]
    assert step.params.get("distinct_id") == "u1" and "where" not in step.params
    step = Query.profiles('(user["$distinct_id"] == "a" or properties["$distinct_id"] == "b") '
                          'and user["plan"] == "pro"').plan().steps[0]
    assert step.params["distinct_ids"] == ["a", "b"]
    assert step.params["where"] == 'user["plan"] == "pro"'
    assert "distinct_ids" in step.json_params


def test_many_distinct_ids_split_into_disjoint_requests():
    ids = [f"id{i}" for i in range(4500)]
    plan = Query.profiles(distinct_ids=ids).plan()
    batches = [s.params["distinct_ids"] for s in plan.steps]
    assert [len(b) for b in batches] == [2000, 2000, 500]
    assert sum(batches, []) == ids


def test_profiles_on_event_properties_is_a_plan_error_with_advice():
    with pytest.raises(PlanError, match="behaviors"):
        Query.profiles('event["$time"] > datetime("2024-01-01T00:00:00")').plan()


def test_engage_accessor_rewrites_profile_references():
    step = Query.profiles('user["plan"] == "pro"').plan(engage_accessor="properties").steps[0]
    assert step.params["where"] == 'properties["plan"] == "pro"'


# --- events planning errors and options -------------------------------------------------------


def test_cross_scope_comparison_is_a_plan_error():
    with pytest.raises(PlanError, match="mixes event and profile"):
        events('properties["owner"] == user["$email"]').plan()


def test_behaviors_in_events_query_is_a_plan_error():
    with pytest.raises(PlanError, match="behaviors"):
        events('behaviors["b"] > 0').plan()


def test_distinct_id_property_is_configurable():
    plan = events(user("c") == "x").plan(distinct_id_property="distinct_id")
    (req,) = plan.expand(1, {0: ["abc"]}).requests[:1]
    assert 'properties["distinct_id"]%20%3D%3D%20"abc"' in req.url


def test_identical_profile_conditions_share_one_engage_step():
    plan = events('(user["c"] == "x" and properties["a"] == 1) or '
                  '(user["c"] == "x" and properties["b"] == 2)').plan()
    assert [s.endpoint for s in plan.steps] == ["engage", "export"]


@pytest.mark.parametrize("kw,match", [
    ({"region": "asia"}, "unknown region"),
    ({"chunk": "hour"}, "unknown chunk"),
    ({"max_url_length": 10}, "≥ 256"),
    ({"base_url": "ftp://x"}, "base_url"),
    ({"auth": object()}, "ServiceAccount"),
    ({"engage_accessor": "people"}, "engage_accessor"),
])
def test_plan_option_errors(kw, match):
    with pytest.raises(PlanError, match=match):
        events('properties["a"] == 1').plan(**kw)


def test_base_url_points_every_step_at_one_server():
    plan = events(user("c") == "x").plan(base_url="http://127.0.0.1:8765/")
    assert [s.url for s in plan.steps] == ["http://127.0.0.1:8765/api/query/engage",
                                           "http://127.0.0.1:8765/api/2.0/export"]


def test_long_where_without_profiles_is_refused_before_any_request():
    where = prop("id").is_in([f"value-{i:05d}" for i in range(2000)])
    with pytest.raises(PlanError, match="longer than 8000"):
        events(where).plan()


def test_expand_requires_upstream_ids():
    plan = events(user("c") == "x").plan()
    with pytest.raises(PlanError, match=r"ids=\{0: \[...\]\}"):
        plan.expand(1)
    assert plan.expand(1, {0: []}).requests == ()  # nobody matched: no export at all


def test_client_filter_drops_server_limit_and_keeps_overall_limit():
    plan = events(user("c") == "x", limit=10).plan(max_url_length=300)
    ids = [f"user-{i:04d}-abcdefghijklmnop" for i in range(100)]
    exp = plan.expand(1, {0: ids})
    assert exp.strategy == "where-in-batched" and exp.limit == 10
    plan = events((user("c") == "x") | (prop("a") == 1), limit=10).plan(max_url_length=300)
    exp = plan.expand(1, {0: ids}, predicate_factory=lambda e: (lambda r: True))
    assert exp.strategy == "client-filter"
    assert all("limit" not in r.params for r in exp.requests) and exp.limit == 10


def test_no_warnings_from_plain_planning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        events(user("c") == "x").plan(auth=ServiceAccount("u", "s", 1)).to_curl()


def test_plan_json_round_trip():
    from mpql import Plan

    for q in (events('(user["a"] == 1 or properties["b"] == 2) and not user["c"] == 3',
                     events=["x"], limit=7),
              Query.profiles('user["p"] == 1', output_properties=["$email"], cohort_id=3)):
        plan = q.plan(project_id=9)
        assert Plan.from_json(plan.to_json()) == plan
    with pytest.raises(mpql.InputError, match="not an mpql plan"):
        Plan.from_json("{}")
    with pytest.raises(mpql.InputError, match="not valid JSON"):
        Plan.from_json("{")


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(ids=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=150, unique=True),
       max_url=st.integers(min_value=300, max_value=2000))
def test_property_batches_partition_ids_and_fit(ids, max_url):
    plan = events((user("c") == "x") & (prop("a") == 1)).plan(max_url_length=max_url,
                                                            chunk="none")
    try:
        exp = plan.expand(1, {0: ids})
    except PlanError as exc:  # one id alone longer than the whole budget
        assert "longer than" in str(exc) or "even without" in str(exc)
        return
    assert all(len(r.url) <= max_url for r in exp.requests)
    if exp.strategy in ("where-in", "where-in-batched"):
        seen = []
        for r in exp.requests:
            node = mpql.parse(r.params["where"]).left
            items = ([node.right.value] if node.op == "==" else [i.value for i in node.right.items]
                     ) if hasattr(node, "op") else [i.value for i in node.right.items]
            seen += items
        assert sorted(seen) == sorted(ids)  # every id exactly once: no duplicates, none lost
    else:
        assert exp.strategy == "client-filter" and exp.keep is not None


def test_checker_findings_become_notes_and_strict_raises():
    plan = events('user["c"] == "x" and NOW - 1 > properties["t"]').plan()
    # user[...] in engage is the API guide's own spelling: U005 is opt-in, so no note.
    assert not any("U005" in n for n in plan.notes)
    assert any(n.startswith("step 2: U004") for n in plan.notes)  # NOW on export
    assert not any("S003" in n for n in plan.notes)  # user[...] never reaches export
    assert events('properties["a"] == 1').plan().notes == ()
    with pytest.raises(mpql.CheckError):
        events('properties["p"] == 5 and properties["p"] == "x"').plan(strict=True)
    assert events('properties["p"] == 5 and properties["p"] == "x"').plan(check=False).notes == ()


def test_expand_refuses_none_ids():
    # str(None) made the id "None", which a real user could have.
    plan = Query.events(user("plan") == "pro", from_date="2024-01-01",
                        to_date="2024-01-01").plan(project_id=1, chunk="none")
    with pytest.raises(PlanError, match="contain None"):
        expand(plan.steps[1], {0: ["a", None]})
    url = expand(plan.steps[1], {0: ["a"]}).requests[0].url
    assert 'properties["$distinct_id"]%20%3D%3D%20"a"' in url


def test_dates_with_non_ascii_digits_get_the_format_error():
    # `\d` accepted "２０２４-01-01" as well-formed, then called it "not a real calendar date".
    with pytest.raises(QueryError, match="must be a date written YYYY-MM-DD"):
        Query.events(from_date="２０２４-01-01", to_date="2024-01-02")

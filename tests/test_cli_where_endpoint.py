"""`mpql run` and `mpql repl` check a filter against the endpoint its plan really sends it to
(mpql.planner.check_where): export for events, engage for profiles and for an events filter's
profile-only conditions. Real subprocesses against the sandbox, which records every request:
an error finding must stop the run before anything is sent."""

from __future__ import annotations

import collections
import json
import subprocess
import sys

import pytest
from _helpers import credentials_env as env_for

from mpql.planner import check_where
from mpql.planner.wherecheck import profile_parts

RAISED = ["--export-per-second", "10000", "--export-per-hour", "1000000",
          "--query-per-hour", "1000000"]


def run(sb, *args):
    return subprocess.run([sys.executable, "-m", "mpql", "run", *args, "--base-url", sb.url,
                           *RAISED], capture_output=True, text=True, timeout=120,
                          env=env_for(sb))


def last_day(sb) -> list[str]:
    day = sb.dataset.last_date.isoformat()
    return ["--from", day, "--to", day]


def multiset(records):
    return collections.Counter(json.dumps(r, sort_keys=True) for r in records)


def test_an_export_only_error_stops_the_run_before_any_request(sandbox):
    # S001 is an error for /export; checked for "any" endpoint it went unreported and was sent
    r = run(sandbox, "--events", *last_day(sandbox), "--where",
            'properties["distinct_id"] == "u-1"')
    assert r.returncode == 2, r.stderr
    assert "S001" in r.stderr and "--> --where:1:1" in r.stderr and "nothing was sent" in r.stderr
    assert sandbox.requests == [] and r.stdout == ""


def test_a_profile_property_the_planner_cannot_split_off_is_s003_and_stops_the_run(sandbox):
    # user[...] compared with an event property would have to reach /export itself
    r = run(sandbox, "--events", *last_day(sandbox), "--where", 'user["plan"] == properties["plan"]')
    assert r.returncode == 2, r.stderr
    assert "S003" in r.stderr and "cannot be split into requests" in r.stderr
    assert sandbox.requests == []


@pytest.mark.parametrize("kind, where, code", [
    ("--events", 'properties["x"] == NOW', "U004"),               # NOW: engage only
    ("--events", 'has_prefix(properties["$os"], "i")', "U003"),  # has_prefix: JQL only
    ("--events", 'list(properties["x"]) == 1', "U009"),          # list(): engage only
    ("--profiles", 'properties["seats"] * 2 > 10', "U007"),      # not in engage's grammar
    ("--events", "properties['$os'] == \"iOS\"", "U001"),         # lexical rules still shown
])
def test_endpoint_warnings_are_shown_and_the_run_goes_on(sandbox, kind, where, code):
    args = [kind, *(last_day(sandbox) if kind == "--events" else []), "--where", where]
    r = run(sandbox, *args, "--no-check")  # a type error some of these also have is not the point
    assert r.returncode == 0, r.stderr
    assert f"{code} " in r.stderr and "Traceback" not in r.stderr
    assert sandbox.requests  # sent


def test_now_in_a_profiles_filter_is_not_a_finding(sandbox):
    r = run(sandbox, "--profiles", "--where", 'properties["trial_ends"] < NOW', "--limit", "1")
    assert r.returncode == 0, r.stderr
    assert "U004" not in r.stderr and "warning(s)" not in r.stderr


def test_profile_conditions_of_an_events_filter_are_checked_for_engage(sandbox):
    where = 'user["seats"] * 2 > 10 and properties["$os"] == "iOS"'
    first, last = sandbox.dataset.first_date.isoformat(), sandbox.dataset.last_date.isoformat()
    r = run(sandbox, "--events", "--from", first, "--to", last, "--where", where)
    assert r.returncode == 0, r.stderr
    # the profile condition goes to /engage, checked there (U007: `*` is outside engage's
    # grammar, fine in an export where), never to /export: no S003 error
    assert "U007" in r.stderr and "S003" not in r.stderr
    got = [json.loads(line) for line in r.stdout.splitlines()]
    big = {p["$distinct_id"] for p in sandbox.profiles('properties["seats"] * 2 > 10')}
    truth = [e for e in sandbox.events(first, last, where='properties["$os"] == "iOS"')
             if e["properties"]["distinct_id"] in big]
    assert multiset(got) == multiset(truth) and got
    assert {q.path for q in sandbox.requests} == {"/api/query/engage", "/api/2.0/export"}


def test_a_distinct_id_test_the_planner_moves_to_a_parameter_is_not_s002(sandbox):
    distinct_id = sandbox.profiles()[0]["$distinct_id"]
    r = run(sandbox, "--profiles", "--where", f'properties["$distinct_id"] == "{distinct_id}"')
    assert r.returncode == 0, r.stderr
    assert "S002" not in r.stderr
    assert [json.loads(line)["$distinct_id"] for line in r.stdout.splitlines()] == [distinct_id]


def test_check_where_places_findings_in_the_text_as_written():
    text = 'properties["distinct_id"] == "x" or\n  user["a"] * 2 == 1'
    found = check_where(text, "events")
    assert [(d.code, d.line, d.column) for d in found] == [("S001", 1, 1), ("U007", 2, 3)]
    # a profiles query: properties[...] are profile properties (no S001; S002 instead)
    assert [d.code for d in check_where(text, "profiles")] == ["S002", "U007"]
    assert [d.code for d in check_where("1 +", "events")] == ["E106"]


# -- the REPL --------------------------------------------------------------------------------

def repl(sb, script, *args):
    env = env_for(sb)
    env.update(MPQL_HISTORY="")
    return subprocess.run([sys.executable, "-m", "mpql", "repl", "--base-url", sb.url, *args],
                          input=script, capture_output=True, text=True, timeout=120, env=env)


def test_repl_input_is_checked_as_run_sends_it(sandbox):
    r = repl(sandbox, 'user["plan"] == "pro"\nuser["seats"] * 2 > 10\nproperties["x"] == NOW\n')
    assert r.returncode == 0, r.stdout  # warnings only: U007 (engage part), U004 (export)
    assert "U007" in r.stdout and "U004" in r.stdout and "S003" not in r.stdout


def test_repl_run_refuses_an_error_for_the_real_endpoint(sandbox):
    # In the `any` context the input itself is fine; :run sends it to /export, where S001 is
    # an error: shown, and nothing is sent.
    r = repl(sandbox, ':endpoint any\nproperties["distinct_id"] == "u-1"\n:run 1\n')
    assert r.returncode == 1, r.stdout
    before_run = r.stdout.split("mpql> :run 1")[0]
    assert "S001" not in before_run
    after_run = r.stdout.split("mpql> :run 1")[1]
    assert "S001" in after_run and "nothing was sent" in after_run
    assert sandbox.requests == []


# -- the partition, for any filter ------------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import mpql  # noqa: E402
from mpql.language import ast as A  # noqa: E402


def _leaves(scope, names):
    prop = st.builds(A.Property, st.just(scope), st.sampled_from(names))
    value = st.one_of(st.builds(A.Number, st.integers(0, 3)), st.builds(A.String, st.just("v")),
                      st.builds(A.Now))
    return st.one_of(
        st.builds(lambda p, op, v: A.Compare(op, p, v), prop, st.sampled_from(["==", "<"]),
                  value),
        st.builds(lambda p: A.Call("defined", (p,)), prop),
        st.builds(lambda p: A.Call("list", (p,)), prop),
    )


_FILTERS = st.recursive(
    st.one_of(_leaves("properties", ["a", "distinct_id"]), _leaves("user", ["x", "$distinct_id"])),
    lambda c: st.one_of(st.builds(A.And, c, c), st.builds(A.Or, c, c), st.builds(A.Not, c)),
    max_leaves=6)


def _key(d):
    return d.code, d.span.start, d.span.end, d.message


@given(_FILTERS)
def test_each_finding_comes_from_the_endpoint_its_part_is_sent_to(node):
    text = mpql.format(node)
    found = check_where(text, "events")
    export = {_key(d) for d in mpql.check(text, endpoint="export")}
    engage = {_key(d) for d in mpql.check(text, endpoint="engage")}
    parts = profile_parts(mpql.parse(text))
    for d in found:
        inside = any(p.start <= d.span.start and d.span.end <= p.end for p in parts)
        assert _key(d) in (engage if inside else export), (text, d.code)
        assert 0 <= d.span.start <= d.span.end <= len(text)
    if parts:
        assert "S003" not in {d.code for d in found}  # user[...] never reaches /export
    else:
        assert [_key(d) for d in found] == [_key(d) for d in mpql.check(text, endpoint="export")]

"""`mpql schema pull` as a real subprocess: against the embedded sandbox (no credentials) and
against a running sandbox with MP_* credentials; plus the typing of listed values."""

from __future__ import annotations

import json

import pytest
from _helpers import clean_env
from _helpers import credentials_env as env_for
from _helpers import run_mpql as mpql

from mpql.checker import schema as S
from mpql.sandbox import Limits, Sandbox

SECRET = "pull-known-secret-7c1d"
RAISED = ["--query-per-hour", "1000000"]  # the server has no limits; the client paces to 60/h


@pytest.fixture(scope="module")
def server():
    with Sandbox(secret=SECRET, limits=Limits.unlimited()) as sb:
        yield sb


def test_pull_from_the_embedded_sandbox_feeds_lint(tmp_path):
    out = tmp_path / "schema.json"
    r = mpql("schema", "pull", "-o", str(out), env=clean_env())
    assert r.returncode == 0, r.stderr
    assert "embedded sandbox" in r.stderr
    data = json.loads(out.read_text())
    assert set(data) == {"mpql_schema", "event"}  # no endpoint lists profile properties
    event = data["event"]
    with Sandbox() as ref:  # the same default dataset the subprocess served
        names = ref.query("events/names")
        wanted = {p for n in names for p in ref.query("events/properties/top", event=n, limit=100)}
    assert set(event) == wanted
    assert event["$os"] == "string" and event["order_date"] == "datetime"
    assert event["amount"] == "unknown"   # numbers are listed as text: number or string?
    lint = mpql("lint", "--endpoint", "export", "--schema", str(out), "-e",
                'properties["$brwser"] == "Chrome"', env=clean_env())
    assert lint.returncode == 1 and "S007" in lint.stdout + lint.stderr


def test_pulled_types_agree_with_inferred_types_where_they_say_something(server, tmp_path):
    """Every property pull types (not unknown) has that same type when inferred from an
    export of the same days: pull may know less than infer, never something else."""
    out = tmp_path / "pulled.json"
    r = mpql("schema", "pull", *RAISED, "--base-url", server.url, "-o", str(out), "-q",
             env=env_for(server))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    pulled = json.loads(out.read_text())["event"]
    export = tmp_path / "export.jsonl"
    import datetime as dt

    today = server.today()
    export.write_text("".join(json.dumps(e) + "\n" for e in server.events(
        today - dt.timedelta(days=30), today)))
    inferred, _ = S.infer_schema(export.read_text().splitlines())
    typed = {k: v for k, v in pulled.items() if v != "unknown"}
    assert len(typed) >= 20
    assert {k: inferred.event[k] for k in typed} == typed


def test_pull_selected_events_without_values_asks_only_for_their_properties(server, tmp_path):
    server.clear_requests()
    r = mpql("schema", "pull", *RAISED, "--base-url", server.url, "--event", "Purchase", "--no-values",
             env=env_for(server))
    assert r.returncode == 0, r.stderr
    event = json.loads(r.stdout)["event"]
    assert set(event) == set(server.query("events/properties/top", event="Purchase", limit=100))
    assert set(event.values()) == {"unknown"}
    paths = [rec.path for rec in server.requests]
    assert paths == ["/api/query/events/properties/top"]
    assert server.requests[0].params["limit"] == "100"


def test_pull_retries_faults_and_reports_mixpanel_errors_without_the_secret(server):
    server.add_faults("events/names#1:503; events/properties/top#1:429:retry-after=1")
    r = mpql("schema", "pull", *RAISED, "--base-url", server.url, "--events", "2", "--no-values",
             env=env_for(server))
    server.clear_faults()
    assert r.returncode == 0, r.stderr
    assert "retry" in r.stderr
    r = mpql("schema", "pull", *RAISED, "--base-url", server.url, env=env_for(server, "wrong-secret-x"))
    assert r.returncode == 2
    assert "401" in r.stderr and "wrong-secret-x" not in r.stderr + r.stdout


@pytest.mark.parametrize("args,words", [
    (["--values", "0"], "--values: expected a number from 1 to 10000"),
    (["--events", "100000"], "--events: expected a number from 1 to 10000"),
    (["--base-url", "http://127.0.0.1:9"], "--base-url needs credentials"),
])
def test_bad_flags_exit_2_with_one_clear_line(args, words):
    r = mpql("schema", "pull", *args, env=clean_env())
    assert r.returncode == 2 and words in r.stderr
    assert "Traceback" not in r.stderr


def test_listed_values_are_typed_conservatively():
    assert S.listed_value_type("Chrome") == "string"
    assert S.listed_value_type("2026-03-01T10:00:00") == "datetime"
    assert S.listed_value_type('["a", "b"]') == "list"
    for ambiguous in ("12", "-1.5", "1e3", "true", "false"):
        assert S.listed_value_type(ambiguous) == "unknown"
    assert S.listed_value_type(12) == "number"  # a server that lists typed values
    schema, conflicts = S.schema_from_metadata({
        "A": {"s": ["x", "y"], "n": ["1", "2"], "mixed": ["x", "2026-01-01"], "gone": None,
              "cross": ["x"]},
        "B": {"cross": ['["l"]'], "s": ["z"]},
    })
    assert schema.event == {"s": "string", "n": "unknown", "mixed": "unknown",
                            "gone": "unknown", "cross": "unknown"}
    assert schema.profile is None
    assert conflicts == {"mixed": ["datetime", "string"], "cross": ["list", "string"]}

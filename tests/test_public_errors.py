"""Every error the public API raises is an ``mpql.MpqlError``: each public function and
constructor (``mpql.__all__``, ``mpql.sandbox``, the builder, planner, evaluator and executor
entry points) is fed arbitrary bad arguments, and whatever it does, it never lets a bare
ValueError, TypeError, KeyError, AttributeError or JSON error escape.

Where Python code would expect a built-in exception, the mpql one is also that (ArgumentError
is a ValueError, ArgumentTypeError a TypeError, QueryError a ValueError, BuildError a
TypeError), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mpql
import mpql.aggregates as aggregates
import mpql.sandbox as sandbox
from mpql import Client, ProjectSecret, Query, ServiceAccount
from mpql.evaluator import Semantics
from mpql.planner import Plan

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
    st.binary(max_size=10), st.sampled_from(["", "((", "x", "events", "wire", "us", "eu",
                                             "2024-01-01", "2024-13-01", "NaN", "{}", "[]",
                                             '{"steps": 5}', '{"version": 1, "steps": []}']),
)
#: Anything a caller might pass by mistake.
bad = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3),
    st.tuples(inner)), max_leaves=6) | st.builds(object)

EVENT = {"event": "e", "properties": {"distinct_id": "u", "x": 1}}

#: A saved plan (two steps: engage, then export), whose fields a hand edit may break.
SAVED = Query.events(mpql.user("plan") == "pro", from_date="2024-06-01",
                     to_date="2024-06-02").plan().to_dict()


def _edited_plan(field, value):
    data = {**SAVED, "steps": [dict(s) for s in SAVED["steps"]]}
    data["steps"][-1][field] = value
    plan = Plan.from_dict(data)
    plan.explain()
    plan.to_curl()
    return plan


def _call(fn, *args, **kwargs):
    """Run ``fn``; only success or an MpqlError is acceptable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ProjectSecret warns that it is deprecated
        try:
            result = fn(*args, **kwargs)
            if hasattr(result, "__next__"):  # a lazy run: start it
                next(result, None)
        except mpql.MpqlError:
            pass


TARGETS = {
    "parse": lambda v: mpql.parse(v),
    "format": lambda v: mpql.format(v),
    "format style": lambda v: mpql.format('properties["a"] == 1', style=v),
    "check": lambda v: mpql.check(v),
    "check endpoint": lambda v: mpql.check("1 == 1", endpoint=v),
    "check param": lambda v: mpql.check("1 == 1", param=v),
    "check schema": lambda v: mpql.check('properties["a"] == 1', schema=v),
    "ast.Property": lambda v: mpql.ast.Property(v, "x"),
    "ast.Number": lambda v: mpql.ast.Number(v),
    "ast.Compare": lambda v: mpql.ast.Compare("==", v, mpql.ast.Number(1)),
    "ast.Var": lambda v: mpql.ast.Var(v),
    "ast.Call": lambda v: mpql.ast.Call(v, ()),
    "prop": lambda v: mpql.prop(v),
    "user": lambda v: mpql.user(v),
    "event": lambda v: mpql.event(v),
    "behavior": lambda v: mpql.behavior(v),
    "lit": lambda v: mpql.lit(v),
    "and_": lambda v: mpql.and_(v, mpql.prop("a") == 1),
    "or_": lambda v: mpql.or_(mpql.prop("a") == 1, v),
    "not_": lambda v: mpql.not_(v),
    "term ==": lambda v: mpql.prop("a") == v,
    "term <": lambda v: mpql.prop("a") < v,
    "term +": lambda v: mpql.prop("a") + v,
    "term in": lambda v: mpql.prop("a").is_in(v) if hasattr(mpql.prop("a"), "is_in") else None,
    "Query.events where": lambda v: Query.events(v, from_date="2024-01-01", to_date="2024-01-02"),
    "Query.events from": lambda v: Query.events(from_date=v, to_date="2024-01-02"),
    "Query.events to": lambda v: Query.events(from_date="2024-01-01", to_date=v),
    "Query.events events": lambda v: Query.events(from_date="2024-01-01", to_date="2024-01-02",
                                                  events=v),
    "Query.events limit": lambda v: Query.events(from_date="2024-01-01", to_date="2024-01-02",
                                                 limit=v),
    "Query.profiles where": lambda v: Query.profiles(v),
    "Query.profiles output": lambda v: Query.profiles(output_properties=v),
    "Query.profiles ids": lambda v: Query.profiles(distinct_ids=v),
    "plan region": lambda v: Query.profiles().plan(region=v),
    "plan auth": lambda v: Query.profiles().plan(auth=v),
    "plan chunk": lambda v: Query.events(from_date="2024-01-01", to_date="2024-01-03").plan(chunk=v),
    "Plan.from_json": lambda v: Plan.from_json(v),
    "Plan.from_dict": lambda v: Plan.from_dict(v),
    **{f"Plan.from_dict step {f}": (lambda v, f=f: _edited_plan(f, v)) for f in SAVED["steps"][-1]},
    "ServiceAccount": lambda v: ServiceAccount(v, v, v),
    "ProjectSecret": lambda v: ProjectSecret(v),
    "evaluate expr": lambda v: mpql.evaluate(v, EVENT),
    "evaluate record": lambda v: mpql.evaluate('properties["x"] == 1', v),
    "evaluate now": lambda v: mpql.evaluate("NOW > 1", EVENT, now=v),
    "evaluate scope": lambda v: mpql.evaluate("1 == 1", EVENT, scope=v),
    "evaluate semantics": lambda v: mpql.evaluate("1 == 1", EVENT, semantics=v),
    "evaluate profile": lambda v: mpql.evaluate('user["x"] == 1', EVENT, profile=v),
    "compile_predicate expr": lambda v: mpql.compile_predicate(v),
    "compile_predicate scope": lambda v: mpql.compile_predicate("1 == 1", scope=v),
    "compile_predicate profiles": lambda v: mpql.compile_predicate('user["x"] == 1',
                                                                   profiles=v)(EVENT),
    "compile_predicate record": lambda v: mpql.compile_predicate('properties["x"] == 1')(v),
    "Semantics timezone": lambda v: Semantics(timezone=v),
    "Semantics logic_operand": lambda v: Semantics(logic_operand=v),
    "Client region": lambda v: Client(None, v),
    "Client credentials": lambda v: Client(v),
    "sandbox.Dataset": lambda v: sandbox.Dataset(v),
    # Constructed, not started: no server, no files.
    "Sandbox data_dir": lambda v: sandbox.Sandbox(v),
    "Sandbox port": lambda v: sandbox.Sandbox(port=v),
    "Sandbox faults": lambda v: sandbox.Sandbox(faults=v),
    "Sandbox time_scale": lambda v: sandbox.Sandbox(time_scale=v),
    "Sandbox limits": lambda v: sandbox.Sandbox(limits=v),
    "Sandbox project_id": lambda v: sandbox.Sandbox(project_id=v),
    "Sandbox page_size": lambda v: sandbox.Sandbox(page_size=v),
    "Sandbox timezone": lambda v: sandbox.Sandbox(timezone=v),
    "sandbox.Limits": lambda v: sandbox.Limits(query_per_hour=v),
    "Query.segmentation event": lambda v: Query.segmentation(v, from_date="2024-06-01",
                                                             to_date="2024-06-02").plan(),
    "Query.segmentation on": lambda v: Query.segmentation("e", on=v, from_date="2024-06-01",
                                                          to_date="2024-06-02").plan(),
    "Query.funnel": lambda v: Query.funnel(v, from_date="2024-06-01", to_date="2024-06-02"),
    "aggregates.compute endpoint": lambda v: aggregates.compute(v, [], {}),
    "aggregates.compute events": lambda v: aggregates.compute("segmentation", v, {
        "event": "e", "from_date": "2024-06-01", "to_date": "2024-06-02"}),
    "aggregates.compute query": lambda v: aggregates.compute("segmentation", [], v),
}


#: The usual mistakes, tried on every target in every run.
COMMON = [None, True, 0, -1, 1.5, float("nan"), float("inf"), "", "((", "x", b"x", [], {},
          ["a"], {"a": 1}, ("a",), object(), "9" * 5000]


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_common_mistakes_raise_only_mpql_errors(name):
    for value in COMMON:
        _call(TARGETS[name], value)


@pytest.mark.parametrize("argument", ["out", "users", "days", "seed", "end_date",
                                      "events_per_user_day"])
def test_generate_with_bad_arguments_raises_only_mpql_errors(tmp_path, monkeypatch, argument):
    # Only the common mistakes (a random large `users` would generate for minutes). A string
    # `out` is a relative path: write it under tmp_path, never into the checkout.
    monkeypatch.chdir(tmp_path)
    good = {"out": tmp_path / "g", "users": 2, "days": 1, "seed": 1, "end_date": "2024-06-01",
            "events_per_user_day": 1.0, "overwrite": True}
    for value in COMMON:
        _call(sandbox.generate, **{**good, argument: value})


# One property over all targets: the profile's example budget is shared among them (`make
# fuzz` gives each hundreds), which keeps the default run short.
@given(name=st.sampled_from(sorted(TARGETS)), value=bad)
def test_bad_arguments_raise_only_mpql_errors(name, value):
    _call(TARGETS[name], value)


@given(events=bad, profiles=bad)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_write_dataset_raises_only_mpql_errors(tmp_path, events, profiles):
    _call(sandbox.write_dataset, tmp_path / "ds", events if isinstance(events, list) else [events],
          profiles if isinstance(profiles, list) else [profiles], overwrite=True)


def test_the_argument_errors_are_also_the_builtin_ones():
    with pytest.raises(mpql.ArgumentTypeError) as info:
        mpql.parse(None)
    assert isinstance(info.value, TypeError) and isinstance(info.value, mpql.MpqlError)
    with pytest.raises(ValueError, match="unknown style"):
        mpql.format("1 == 1", style="fancy")
    with pytest.raises(TypeError, match="endpoint must be a string"):
        mpql.check("1 == 1", endpoint=5)
    with pytest.raises(TypeError, match="profiles must be a mapping"):
        mpql.compile_predicate('user["x"] == 1', profiles=[1])


def test_format_accepts_builder_terms_and_what_parse_returns():
    term = (mpql.prop("plan") == "pro") & (mpql.user("seats") > 2)
    text = 'properties["plan"] == "pro" and user["seats"] > 2'
    assert mpql.format(term) == mpql.format(mpql.parse(text)) == mpql.format(text) == text
    assert mpql.format(term, style="wire") == \
        '(properties["plan"] == "pro") and (user["seats"] > 2)'
    with pytest.raises(mpql.ArgumentTypeError, match="got int"):
        mpql.format(5)


def test_an_impossible_utc_offset_in_a_datetime_literal_is_undefined():
    # datetime("…+99:00") used to escape as a bare ValueError from the timezone constructor.
    assert mpql.evaluate('datetime("2024-01-01T00:00+99:00")', EVENT) is mpql.Undefined
    assert dt  # (pinned dates only)


def test_an_export_line_broken_inside_its_braces_is_a_transport_error():
    """A real loopback server answers an export with a line that starts with `{` and ends
    with `}` but is not JSON: the client raised json.JSONDecodeError; now TransportError."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Export(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            good = json.dumps({"event": "e", "properties": {"time": 1717200000,
                                                            "distinct_id": "u"}})
            body = (good + "\n" + '{"event": "e", "properties": {broken}}' + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Export)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        auth = ServiceAccount("u", "s3cret", 1)
        plan = Query.events(from_date="2024-06-01", to_date="2024-06-01").plan(
            auth=auth, base_url=url)
        with pytest.raises(mpql.TransportError, match="not valid JSON"):
            list(Client(auth, base_url=url).run(plan))
    finally:
        server.shutdown()
        server.server_close()

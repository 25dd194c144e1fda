"""The REPL engine without a terminal: evaluation reports, explanations of empty results,
commands, data loading, and that no input ever ends the session."""

from __future__ import annotations

import gzip
import re
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpql.errors import InputError
from mpql.repl.data import Dataset, load_file
from mpql.repl.engine import COMMANDS, PlainOutput, Session

EVENTS = [
    {"event": "Signup", "properties": {"distinct_id": "u1", "time": 1700000000,
                                       "$os": "Mac OS X", "plan": "pro", "amount": 12}},
    {"event": "Login", "properties": {"distinct_id": "u2", "time": 1700003600,
                                      "$os": "Windows", "plan": "free", "amount": 3}},
    {"event": "Login", "properties": {"distinct_id": "u1", "time": 1700007200,
                                      "$os": "Mac OS X", "plan": "pro"}},
    {"event": "Purchase", "properties": {"distinct_id": "u3", "time": 1700010800,
                                         "$os": "Linux", "plan": "pro", "amount": "7"}},
]
PROFILES = [
    {"$distinct_id": "u1", "$properties": {"customer_id": "C-1", "$email": "a@x.io"}},
    {"$distinct_id": "u2", "$properties": {"customer_id": "C-2", "$email": "b@x.io"}},
]


def new_session(events=EVENTS, profiles=PROFILES, **kw):
    buf = io.StringIO()
    s = Session(Dataset(list(events), list(profiles), ["test data"]), out=PlainOutput(buf), **kw)
    return s, buf


def answer(session, buf, text):
    buf.seek(0)
    buf.truncate()
    ok = session.submit(text)
    return ok, buf.getvalue()


@pytest.fixture
def s():
    return new_session()


def test_report_counts_share_and_first_matches(s):
    session, buf = s
    ok, out = answer(session, buf, 'properties["$os"]=="Mac OS X"')
    lines = out.splitlines()
    assert ok
    assert lines[0] == 'properties["$os"] == "Mac OS X"'
    assert "2 of 4 events match (50.0%)" in lines
    matches = [line for line in lines if line.startswith("  ")]
    assert matches == [
        '  Signup  distinct_id="u1"  2023-11-14 22:13:20  $os="Mac OS X"',
        '  Login   distinct_id="u1"  2023-11-15 00:13:20  $os="Mac OS X"',
    ]


def test_only_the_first_few_matches_are_listed(s):
    session, buf = new_session(show=1)
    ok, out = answer(session, buf, 'properties["plan"] == "pro"')
    assert "3 of 4 events match (75.0%)" in out
    assert "  … 2 more (:show N prints full records)" in out
    ok, out = answer(session, buf, ":show 2")
    assert [json.loads(line)["event"] for line in out.splitlines()] == ["Signup", "Login"]


def test_empty_result_names_the_value_never_seen_and_suggests_one(s):
    session, buf = s
    ok, out = answer(session, buf, 'properties["$os"] == "mac os x"')
    assert "0 of 4 events match (0.0%)" in out
    assert 'why: properties["$os"] is never "mac os x" in the loaded events; did you mean ' \
        '"Mac OS X"? (most common: "Mac OS X" (2), "Windows" (1), "Linux" (1))' in out


def test_export_spellings_of_distinct_id_and_time_are_not_missing_properties(s):
    session, buf = s
    ok, out = answer(session, buf, 'properties["$distinct_id"] == "u9"')
    assert "0 of 4 events match" in out and "no loaded event has" not in out
    assert 'properties["$distinct_id"] is never "u9"' in out
    ok, out = answer(session, buf, 'defined(properties["$time"])')
    assert "4 of 4 events match" in out


def test_fix_applies_safe_fixes_and_enters_the_result(s):
    session, buf = s
    ok, out = answer(session, buf, ":fix")
    assert not ok and "nothing to fix" in out
    answer(session, buf, 'properties["plan"] === "pro"')
    ok, out = answer(session, buf, ":fix")
    assert ok
    assert out.splitlines()[:2] == ['fixed (replace `===` with `==`): properties["plan"] == "pro"',
                                    'properties["plan"] == "pro"']
    assert "3 of 4 events match (75.0%)" in out
    ok, out = answer(session, buf, ":fix")
    assert out.strip() == "no safe fixes for the last expression"


def test_empty_result_names_a_missing_property(s):
    session, buf = s
    ok, out = answer(session, buf, 'defined(properties["plna"])')
    assert 'why: no loaded event has properties["plna"]; did you mean properties["plan"]?' in out


def test_empty_conjunction_is_broken_down_per_condition(s):
    session, buf = s
    ok, out = answer(session, buf, 'properties["plan"] == "pro" and properties["$os"] == "Windows"')
    assert "0 of 4 events match" in out
    assert "each condition matches some events on its own, but no single one satisfies" in out
    assert '        3  properties["plan"] == "pro"' in out
    assert '        1  properties["$os"] == "Windows"' in out


def test_empty_result_names_a_type_that_the_property_never_holds(s):
    session, buf = s
    ok, out = answer(session, buf, 'properties["$os"] == 1')
    assert 'properties["$os"] holds string values in the loaded events, never number; `==` ' \
        "between different types is always false" in out


def test_when_nothing_explains_it_the_report_says_so(s):
    session, buf = s
    ok, out = answer(session, buf, "1 == 2")
    assert "why: nothing in the expression points at a cause" in out


def test_non_boolean_expression_shows_its_values(s):
    session, buf = s
    ok, out = answer(session, buf, 'number(properties["amount"])')
    assert "not a filter: its values over 4 events (4 distinct):" in out
    assert "undefined" in out and "12" in out


def test_syntax_errors_render_like_lint_and_count_as_failures(s):
    session, buf = s
    ok, out = answer(session, buf, 'properties["a"] === 1')
    assert not ok and session.failures == 1
    assert out.startswith("E101 ")
    assert " --> <input>:1:17" in out and "= help:" in out
    # the previous expression stays current
    assert session.current is None


def test_endpoint_switches_what_is_evaluated(s):
    session, buf = s
    ok, out = answer(session, buf, ":endpoint engage")
    assert out.strip() == "endpoint: engage (expressions are evaluated against 2 profiles)"
    ok, out = answer(session, buf, 'properties["customer_id"] == "C-2"')
    assert "1 of 2 profiles match (50.0%)" in out
    assert '  $distinct_id="u2"  customer_id="C-2"' in out
    ok, out = answer(session, buf, ":endpoint nope")
    assert not ok and "unknown endpoint `nope`" in out


def test_user_properties_are_read_from_the_loaded_profiles(s):
    session, buf = s
    ok, out = answer(session, buf, 'user["customer_id"] == "C-1"')
    # Raw export lines carry no profile (the checker warns), but the planner answers user[...]
    # with an /engage step first, so the REPL evaluates it against the loaded profiles.
    assert "2 of 4 events match (50.0%)" in out
    # Checked as :run sends it: user[...] goes to /engage (U005 there is opt-in), not to
    # /export (where S003 would call it an error although the planner never sends it there).
    assert "S003" not in out


@pytest.mark.parametrize("expr, endpoint", [
    ('properties["plan"] == "pro"', "export"),
    ('properties["$os"] == "Windows" or properties["amount"] == "7"', "export"),
    ('user["customer_id"] == "C-1" and properties["$os"] == "Mac OS X"', "export"),
    ('properties["customer_id"] == "C-2"', "engage"),
])
def test_run_over_http_agrees_with_the_local_evaluation(expr, endpoint, monkeypatch):
    for name in ("MP_SECRET", "MP_USERNAME", "MP_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    session, buf = new_session(endpoint=endpoint)
    try:
        ok, local = answer(session, buf, expr)
        ok, remote = answer(session, buf, ":run 100")
    finally:
        session.close()
    assert ok, remote
    n = int(local.split(" of ")[0].splitlines()[-1])
    assert "from the sandbox on 127.0.0.1 serving the loaded data" in remote
    assert f"; the local evaluation selects {n}" in remote
    assert remote.splitlines()[-1].startswith(f"{n} record")
    # the records listed are the local matches, in the same order
    def rows(text):
        return [x for x in text.splitlines() if x.startswith("  ") and x[2] not in " |="]

    assert rows(remote)[:3] == rows(local)[:3] and rows(local)


def test_run_respects_the_limit(s, monkeypatch):
    monkeypatch.delenv("MP_SECRET", raising=False)
    session, buf = s
    try:
        answer(session, buf, "1 == 1")
        ok, out = answer(session, buf, ":run 2")
    finally:
        session.close()
    assert out.splitlines()[-1].startswith("2 records from the sandbox")
    assert "stopped at the limit (:run N for more)" in out
    ok, out = answer(session, buf, ":run zero")
    assert not ok and ":run takes a positive number of records, found `zero`" in out


def test_format_commands_use_the_current_expression_or_their_argument(s):
    session, buf = s
    ok, out = answer(session, buf, ":wire")
    assert not ok and "no expression yet" in out
    answer(session, buf, 'properties["a"]==1 and (properties["b"]==2 or properties["c"]==3)')
    ok, out = answer(session, buf, ":wire")
    assert out.strip() == '(properties["a"] == 1) and ((properties["b"] == 2) or ' \
        '(properties["c"] == 3))'
    ok, out = answer(session, buf, ":fmt not(1==1)")
    assert out.strip() == "not 1 == 1"
    ok, out = answer(session, buf, ":ast 1 + 2")
    assert out.splitlines() == ["Arith op='+'", "  Number value=1", "  Number value=2"]


def test_schema_lists_properties_with_types_and_coverage(s):
    session, buf = s
    ok, out = answer(session, buf, ":schema")
    assert "event properties (properties[\"…\"]; 4 events loaded):" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("amount"))
    assert "number|string" in line and "3/4" in line
    assert "profile properties (user[\"…\"]; 2 profiles loaded):" in out


def test_help_lists_every_command(s):
    session, buf = s
    ok, out = answer(session, buf, ":help")
    for name in ("help", "endpoint", "load", "schema", "ast", "fmt", "wire", "plan", "curl",
                 "run", "quit"):
        assert f"  :{name}" in out
        assert name in COMMANDS
    ok, out = answer(session, buf, ":help run")
    assert out.startswith(":run [N]")


def test_unknown_command_suggests_a_close_one(s):
    session, buf = s
    ok, out = answer(session, buf, ":wrie")
    assert not ok and "unknown command `:wrie` (did you mean :wire?)" in out


def test_load_adds_records_and_reports_bad_lines_with_their_number(s, tmp_path):
    session, buf = s
    good = tmp_path / "more.jsonl"
    good.write_text(json.dumps(EVENTS[0]) + "\n\n" + json.dumps(PROFILES[0]) + "\n")
    ok, out = answer(session, buf, f":load {good}")
    assert ok and "loaded 1 event and 1 profile" in out and "now 5 events and 3 profiles" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(EVENTS[0]) + "\n{oops\n")
    ok, out = answer(session, buf, f":load {bad}")
    assert not ok and f"{bad}:2: not a JSON record" in out
    assert len(session.data.events) == 5  # a failed load changes nothing


def test_load_replaces_the_sample_data(tmp_path):
    buf = io.StringIO()
    session = Session(Dataset(list(EVENTS), [], ["sample"], sample=True), out=PlainOutput(buf))
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(EVENTS[1]) + "\n")
    session.submit(f":load {path}")
    assert session.data.events == [EVENTS[1]] and not session.data.sample


def test_data_files_in_every_accepted_shape(tmp_path):
    gz = tmp_path / "e.jsonl.gz"
    gz.write_bytes(gzip.compress((json.dumps(EVENTS[0]) + "\nterminated early\n").encode()))
    data = load_file(gz)
    assert data.events == [EVENTS[0]] and "terminated early" in data.notes[0]
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"page": 0, "results": PROFILES}, indent=2))
    assert load_file(page).profiles == PROFILES
    arr = tmp_path / "arr.json"
    arr.write_text(json.dumps(EVENTS))
    assert load_file(arr).events == EVENTS
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"foo": 1}\n')
    with pytest.raises(InputError, match=r"odd.jsonl:1: expected an export event"):
        load_file(odd)


def test_records_that_fail_evaluation_are_counted_not_fatal(s):
    session, buf = s
    # A non-boolean operand of `and` fails the query in Mixpanel (evaluator semantics).
    ok, out = answer(session, buf, 'properties["plan"] == "pro" and 1')
    assert not ok
    assert "3 events could not be evaluated; the first (event #1): `and` needs boolean " \
        "operands" in out
    assert "why: Mixpanel fails the query on these events" in out
    ok, out = answer(session, buf, "1 == 1")
    assert ok and "4 of 4 events match (100.0%)" in out


def test_quit_sets_the_flag(s):
    session, buf = s
    assert not session.quit
    answer(session, buf, ":q")
    assert session.quit


def test_mixed_types_are_pointed_out_even_when_something_matches(s):
    session, buf = s
    ok, out = answer(session, buf, 'properties["amount"] > 5')
    assert "1 of 4 events match (25.0%)" in out  # 12 matches; "7" is a string, never > 5
    assert 'note: properties["amount"] is a string in 1 of the 3 events that have it; `>` ' \
        "against a number never selects those; wrap it in number(...) to compare them all" in out
    ok, out = answer(session, buf, 'number(properties["amount"]) > 5')
    assert "2 of 4 events match (50.0%)" in out and "note:" not in out


def test_a_schema_feeds_the_checker_and_completion(tmp_path):
    from mpql.repl.completion import complete

    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"mpql_schema": 1, "event": {
        "$os": "string", "plan": "string", "amount": "number", "revenue": "number"}}))
    session, buf = new_session(schema_path=str(schema))
    ok, out = answer(session, buf, 'properties["revnue"] > 1')
    assert "S007" in out and "did you mean `revenue`?" in out
    got = {s.display: s.meta for s in complete('properties["rev', session.catalog)}
    assert got == {"revenue": "number"}  # declared, not seen in the data
    ok, out = answer(session, buf, ":schema")
    assert re.search(r"revenue\s+number\s+schema only", out)
    # the declared type wins over the observed number|string
    assert re.search(r"amount\s+number\s+3/4", out)
    ok, out = answer(session, buf, f":schema {tmp_path / 'missing.json'}")
    assert not ok and "missing.json: no such file" in out


def test_plan_and_curl_for_the_current_filter(s):
    session, buf = s
    ok, out = answer(session, buf, ":plan")
    assert not ok and "no expression yet" in out
    answer(session, buf, 'properties["plan"] == "pro"')
    ok, out = answer(session, buf, ":plan")
    assert ok
    # dates default to the loaded events' range (1700000000.. is 2023-11-14/15 UTC)
    assert "from_date = 2023-11-14" in out and "to_date   = 2023-11-15" in out
    assert "https://data.mixpanel.com/api/2.0/export" in out
    ok, out = answer(session, buf, ":curl 2024-01-01 2024-01-02")
    # two days: one request (the default chunking, docs/planner.md)
    assert ok and "from_date=2024-01-01&to_date=2024-01-02" in out
    assert '"$MP_USERNAME:$MP_SECRET"' in out
    ok, out = answer(session, buf, ":plan 2024-02-30")
    assert not ok and out.startswith("error: ") and "Traceback" not in out
    answer(session, buf, ":endpoint engage")
    ok, out = answer(session, buf, ":plan")
    assert "https://mixpanel.com/api/query/engage" in out


def test_an_internal_error_is_reported_and_the_session_goes_on(s, monkeypatch, capsys):
    session, buf = s

    def boom(*_args, **_kw):
        raise RuntimeError("kaput")

    monkeypatch.setattr(session, "_check", boom)
    ok, out = answer(session, buf, "1 == 1")
    assert not ok and "kaput" not in out and session.internal_errors == 1
    assert capsys.readouterr().err == (
        "mpql repl: internal error: RuntimeError: kaput while handling '1 == 1' (a bug in mpql "
        "— please report it; MPQL_DEBUG=1 shows the traceback)\n")
    monkeypatch.undo()
    ok, out = answer(session, buf, "1 == 1")
    assert ok and "4 of 4 events match" in out


TOKENS = ['properties["plan"]', 'properties["amount"]', 'user["customer_id"]', 'event["x"]',
          '"pro"', '"7"', "12", "-3", "1.5", "true", "NOW", "and", "or", "not", "in", "==",
          "!=", ">", "<=", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",", "defined(",
          "number(", "string(", "datetime(", "boolean(", "list(", 'behaviors["b"]',
          ":wire", ":ast", ":fix", ":schema", ":endpoint engage", ":endpoint export", " ",
          "\n", "#", "=", "x"]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(TOKENS), max_size=8).map(" ".join), max_size=4))
def test_property_no_input_ends_the_session_or_crashes_it(inputs):
    session, buf = new_session()
    for text in inputs:
        ok = session.submit(text)
        assert isinstance(ok, bool)
    assert session.internal_errors == 0, buf.getvalue()
    assert session.failures <= len(inputs)


def test_substring_tests_are_case_sensitive_and_the_explanation_says_so(s):
    session, buf = s
    ok, out = answer(session, buf, '"mac" in properties["$os"]')
    assert "0 of 4 events match" in out
    assert 'why: no value of properties["$os"] contains "mac"; with the case ignored these ' \
        'would: "Mac OS X" (2) (`in` is case-sensitive)' in out
    ok, out = answer(session, buf, '"Mac" in properties["$os"]')
    assert "2 of 4 events match (50.0%)" in out


def test_file_arguments_may_be_quoted(s, tmp_path):
    session, buf = s
    path = tmp_path / "with space.jsonl"
    path.write_text(json.dumps(EVENTS[0]) + "\n")
    ok, out = answer(session, buf, f':load "{path}"')
    assert ok and "loaded 1 event and 0 profiles" in out


def test_why_breaks_the_current_filter_down_per_condition(s):
    session, buf = s
    answer(session, buf, 'properties["plan"] == "pro" and properties["$os"] == "Mac OS X"')
    ok, out = answer(session, buf, ":why")
    assert out.splitlines() == [
        "2 conditions joined by `and`; how many of the 4 events each one selects on its own:",
        '  3  properties["plan"] == "pro"',
        '  2  properties["$os"] == "Mac OS X"',
        "together: 2",
    ]
    answer(session, buf, 'properties["plan"] == "free" or properties["$os"] == "Linux"')
    ok, out = answer(session, buf, ":why")
    assert "2 conditions joined by `or`" in out and "together: 2" in out


def test_save_appends_lintable_canonical_filters_with_their_endpoint(s, tmp_path):
    import subprocess
    import sys

    session, buf = s
    path = tmp_path / "filters.mpql"
    ok, out = answer(session, buf, f":save {path}")
    assert not ok and "no expression yet" in out
    answer(session, buf, 'properties["plan"]=="pro"')
    answer(session, buf, f":save {path}")
    answer(session, buf, 'properties["$os"] == "Linux"')
    answer(session, buf, f":save {path}")
    answer(session, buf, ":endpoint engage")
    answer(session, buf, 'properties["customer_id"] == "C-1"')
    ok, out = answer(session, buf, f":save {path}")
    assert ok and out.strip() == f"appended to {path}"
    assert path.read_text() == (
        '# mpql: endpoint=export\n\nproperties["plan"] == "pro"\n\n'
        'properties["$os"] == "Linux"\n\n'
        '# mpql: endpoint=engage\n\nproperties["customer_id"] == "C-1"\n')
    for argv in (["lint", str(path)], ["fmt", "--check", str(path)]):
        r = subprocess.run([sys.executable, "-m", "mpql", *argv], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr


def test_a_raw_line_separator_inside_a_value_does_not_split_the_record(tmp_path):
    # JSON allows U+2028 unescaped in strings; str.splitlines() would cut the line there.
    record = {"event": "e", "properties": {"note": "one\u2028two", "time": 1700000000}}
    path = tmp_path / "ls.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\r\n", encoding="utf-8")
    assert load_file(path).events == [record]


def test_a_big_dataset_gets_its_catalog_in_the_background(monkeypatch):
    monkeypatch.setattr(Session, "BACKGROUND_CATALOG", 1)
    session, buf = new_session()
    assert session._catalog_job is not None  # built in a thread
    ok, out = answer(session, buf, 'properties["$os"] == "mac os x"')
    assert 'did you mean "Mac OS X"?' in out  # the explanation waited for the catalog
    assert session._catalog_job is None
    assert session.catalog.get("event", "$os").count == 4


def test_a_failing_background_build_is_reported_where_it_is_needed(monkeypatch, capsys):
    import mpql.repl.engine as engine

    monkeypatch.setattr(Session, "BACKGROUND_CATALOG", 1)

    def broken(*_a, **_k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engine.Catalog, "from_records", broken)
    session, buf = new_session()
    ok, out = answer(session, buf, ":schema")
    # A bug goes to stderr, one line, as in every command; the transcript has the answer only.
    assert capsys.readouterr().err == (
        "mpql repl: internal error: RuntimeError: disk on fire while indexing the loaded data, "
        "so completion and explanations know no properties (a bug in mpql — please report it; "
        "MPQL_DEBUG=1 shows the traceback)\n")
    assert "internal error" not in out
    assert "no properties known" in out and session.failures == session.internal_errors == 1
    ok, out = answer(session, buf, "1 == 1")  # reported once; the session goes on
    assert ok and "4 of 4 events match" in out and capsys.readouterr().err == ""


def test_run_with_credentials_goes_to_the_given_server(tmp_path, monkeypatch):
    """The credentials path of :run (MP_* set), aimed with --base-url at a sandbox standing in
    for Mixpanel — real HTTP, real auth; the secret appears nowhere in the output."""
    from mpql.sandbox import Sandbox, write_dataset
    from mpql.sandbox._limits import Limits

    write_dataset(tmp_path / "data", EVENTS, PROFILES)
    with Sandbox(tmp_path / "data", limits=Limits.unlimited()) as box:
        creds = box.credentials
        monkeypatch.setenv("MP_USERNAME", creds.username)
        monkeypatch.setenv("MP_SECRET", creds.secret)
        monkeypatch.setenv("MP_PROJECT_ID", str(creds.project_id))
        session, buf = new_session(base_url=box.url)
        answer(session, buf, 'properties["plan"] == "pro"')
        ok, out = answer(session, buf, ":run 10")
        assert ok, out
        assert out.splitlines()[-1] == f"3 records from {box.url}"
        assert creds.secret not in out
        # Two days are one export request with the default chunking (docs/planner.md)
        assert [r.path for r in box.requests] == ["/api/2.0/export"]
        monkeypatch.setenv("MP_SECRET", "wrong-" + creds.secret)
        ok, out = answer(session, buf, ":run")
        assert not ok and out.startswith("error: ") and creds.secret not in out
    for name in ("MP_USERNAME", "MP_SECRET", "MP_PROJECT_ID"):
        monkeypatch.delenv(name)
    session, buf = new_session(base_url="http://127.0.0.1:9")
    answer(session, buf, "1 == 1")
    ok, out = answer(session, buf, ":run")
    assert not ok and "--base-url http://127.0.0.1:9 needs credentials" in out


def test_ctrl_c_cancels_one_input_interactively_but_ends_a_script(s, monkeypatch):
    from mpql.repl.script import run_script

    session, buf = s

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(session, "_check", interrupted)
    ok, out = answer(session, buf, "1 == 1")
    assert not ok and "error: interrupted" in out and not session.quit
    session.interrupted = False
    with pytest.raises(KeyboardInterrupt):
        run_script(["1 == 1\n", "2 == 2\n"], session)
    assert "2 == 2" not in buf.getvalue()

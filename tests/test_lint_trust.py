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
from hypothesis import given, strategies as st

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
             stdin='properties["x"] === 1\n')
    assert r.returncode == 1 and r.stdout.startswith("<stdin>:1:17: E101")
    # -e alone lints only the expression, not the directory
    (tmp_path / "bad.mpql").write_text('properties["x"] === 1\n')
    r = mpql("lint", "--isolated", "-e", 'properties["a"] == 1', cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_path_skips_hidden_and_vendored_folders(tmp_path):
    for folder in ("node_modules/pkg", ".venv/lib", "build", "src/queries", "venv/x"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "q.mpql").write_text('properties["x"] === 1\n')
    r = mpql("lint", "--isolated", "--format", "concise", cwd=tmp_path, stdin="")
    assert r.stdout.splitlines() == [
        "src/queries/q.mpql:1:17: E101 [*] `===` is not an operator"], r.stdout


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
        "# mpql: endpoint=export\n" + BAD_EXPORT + "\nproperties[\"a\"] === 1\n")
    r = mpql("lint", "--isolated", "--format", "json", "q.mpql", cwd=tmp_path)
    urls = {d["code"]: d["url"] for d in json.loads(r.stdout)}
    assert urls == {"S001": DOCS_BASE_URL + "rules/S001.md",
                    "E101": DOCS_BASE_URL + "language.md#e101-assignment-for-comparison"}
    r = mpql("lint", "--isolated", "--format", "sarif", "q.mpql", cwd=tmp_path)
    driver = json.loads(r.stdout)["runs"][0]["tool"]["driver"]
    assert {x["id"]: x["helpUri"] for x in driver["rules"]} == urls
    assert driver["informationUri"] == DOCS_BASE_URL + "lint.md"
    r = mpql("lint", "--isolated", "q.mpql", cwd=tmp_path)
    assert f"= help: for further information visit {DOCS_BASE_URL}rules/S001.md" in r.stdout


def test_docs_base_url_can_be_overridden(tmp_path):
    env = {**__import__("os").environ, "MPQL_DOCS_URL": "https://docs.example.com/mpql/docs"}
    r = subprocess.run([sys.executable, "-m", "mpql", "lint", "--isolated", "--format", "json",
                        "--endpoint", "export", "-e", BAD_EXPORT], capture_output=True,
                       text=True, env=env, timeout=60)
    assert json.loads(r.stdout)[0]["url"] == "https://docs.example.com/mpql/docs/rules/S001.md"


# -- 3: only clearly-Mixpanel expressions are extracted; --fix leaves the rest alone ------------

CORPUS = Path(__file__).parent / "lint_corpus"


def _snapshot(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_non_mixpanel_corpus_has_no_findings_and_fix_changes_no_byte(tmp_path):
    import shutil

    root = tmp_path / "proj"
    shutil.copytree(CORPUS / "not_mixpanel", root)
    before = _snapshot(root)
    assert {"pandas_report.py", "mongo_repo.py", "sqlalchemy_models.py", "django_views.py",
            "other_apis.py", "workflow.json", "parse_fixtures.json",
            ".github/workflows/ci.yml"} <= set(before)
    hosts = sorted(p for p in before if p.endswith((".py", ".json")))
    for args in ([], hosts):  # discovered from `.`, and named one by one (as pre-commit does)
        r = mpql("lint", "--isolated", "--select", "ALL", "--format", "json", *args, cwd=root)
        assert r.returncode == 0 and json.loads(r.stdout) == [], r.stdout + r.stderr
        r = mpql("lint", "--isolated", "--select", "ALL", "--diff", *args, cwd=root)
        assert r.returncode == 0 and r.stdout == "", r.stdout
        r = mpql("lint", "--isolated", "--select", "ALL", "--fix", "--unsafe-fixes", *args,
                 cwd=root)
        assert r.returncode == 0, r.stdout + r.stderr
    # a workflow YAML named on the command line is refused, not read as .mpql and "fixed"
    r = mpql("lint", "--isolated", "--fix", ".github/workflows/ci.yml", "queries.sql", cwd=root)
    assert r.returncode == 2 and "not .yml" in r.stderr
    assert _snapshot(root) == before


MIXPANEL_FINDINGS = [
    "headless.py:5:42: S004",
    "httpx_client.py:9:50: S006",           # engage, from base_url + "/query/engage"
    "httpx_client.py:21:62: U001",
    "mixpanel_api_legacy.py:6:39: S001",
    "mixpanel_reports.json:1:36: T003",     # file name marks it
    "mixpanel_utils_jobs.py:12:54: D004",
    "mixpanel_utils_jobs.py:14:75: U008",
    "mixpanel_utils_jobs.py:14:79: C001",
    "mpql_usage.py:5:13: S001",
    "mpql_usage.py:6:36: E101",
    "mpql_usage.py:7:21: S004",
    "mpql_usage.py:8:43: U002",
    "report_config.json:3:26: S001",        # a Mixpanel export URL marks it, and sets export
    "requests_export.py:6:8: S003",         # the constant is also sent to /export
    "requests_export.py:11:24: S001",       # params["where"] = …, URL from an f-string
    "requests_export.py:24:54: S004",       # engage, from the URL constant
    "saved_queries.json:4:37: S003",
    "saved_queries.json:5:58: S004",
]


def test_mixpanel_corpus_is_found_with_the_endpoint_of_each_request():
    r = mpql("lint", "--isolated", "--format", "concise", ".", cwd=CORPUS / "mixpanel")
    found = [" ".join(line.split(" ")[:2]) for line in r.stdout.splitlines()]
    assert found == MIXPANEL_FINDINGS, r.stdout


def _units(path: Path, **kw):
    from mpql.checker.extract import extract, file_kind

    return [(u.text, u.settings.get("endpoint"))
            for u in extract(file_kind(path.name), path.read_text(encoding="utf-8"), **kw)]


def test_extracted_units_and_endpoints():
    jobs = _units(CORPUS / "mixpanel" / "mixpanel_utils_jobs.py")
    assert jobs == [
        ('(("Albany" in properties["$city"]) and (defined (properties["$city"])))', "engage"),
        ('properties["$time"] > "2024-01-01"', "export"),
        ('properties["plan"] == "pro" AND true', "engage"),
    ]  # people_set's first argument holds profile values: "home office" is not an expression
    assert _units(CORPUS / "mixpanel" / "requests_export.py") == [
        ('user["plan"] == "pro"', "engage"), ('user["plan"] == "pro"', "export"),
        ('properties["distinct_id"] == "u1"', "export"), ('event["$os"] == "iOS"', "engage")]
    for path in sorted((CORPUS / "not_mixpanel").glob("*.py")):
        assert _units(path) == [], path


@pytest.mark.parametrize("src,units", [
    # requests / httpx, every way of naming the URL
    ('import requests\nrequests.get("https://mixpanel.com/api/2.0/export", '
     'params={"where": "A"})', [("A", "export")]),
    ('import requests as rq\nrq.request("GET", url="https://data-in.mixpanel.com/api/2.0/'
     'export?x=1", params=dict(where="A"))', [("A", "export")]),
    ('import httpx\nc = httpx.Client()\nc.get("https://example.com/api/2.0/export", '
     'params={"on": "A"})', [("A", "export")]),             # the API path alone
    ('import httpx\nBASE = "https://eu.mixpanel.com"\ndef f():\n    u = BASE + "/api/query/'
     'engage"\n    httpx.post(u, data={"where": "A"})', [("A", "engage")]),
    ('import requests\nfrom settings import MIXPANEL_EXPORT_URL\nrequests.get('
     'MIXPANEL_EXPORT_URL, params={"where": "A"})', [("A", "export")]),  # named for it
    ('import requests\nimport settings\nrequests.get(settings.MIXPANEL_API + "/x", '
     'params={"where": "A"})', [("A", None)]),
    ('import requests\nrequests.get("https://api.example.com/export", params={"where": "A"})',
     []),                                                    # not Mixpanel
    ('import requests\ndef f(url):\n    requests.get(url, params={"where": "A"})', []),
    ('import requests\nrequests.get("https://notmixpanel.com/api", params={"where": "A"})', []),
    # mpql's API
    ('import mpql\nmpql.check("A", endpoint="engage", param="on")', [("A", "engage")]),
    ('from mpql.planner import Query\nQuery.events("A", from_date="x", to_date="y")',
     [("A", None)]),
    ('from mpql.sandbox import Sandbox\nwith Sandbox() as sb:\n    sb.events("2024-01-01", '
     '"2024-01-31")', []),                                   # dates, not an expression
    ('import mpql\nc = mpql.Client(None)\nc.profiles("A")', [("A", "engage")]),
    # Mixpanel libraries, and names that only look like them
    ('from mixpanel_query.client import MixpanelQueryClient\nc = MixpanelQueryClient("k", '
     '"s")\nc.get_engage(where="A")', [("A", "engage")]),
    ('import mixpanel_jql\nmixpanel_jql.JQL("s", events=mixpanel_jql.Events({'
     '"event_selectors": [{"event": "e", "selector": "A"}]}))', [("A", "jql")]),
    ('from mixpanel_utils import MixpanelUtils\ndef run(mp: MixpanelUtils):\n'
     '    mp.export_people("f", {"selector": "A"})', [("A", "engage")]),   # annotation
    ('from mixpanel_utils import MixpanelUtils as MU\nMU("s").query_engage({"where": "A"})',
     [("A", "engage")]),
    ('import requests\nclass C:\n    URL = "https://mixpanel.com/api/2.0/export"\n'
     '    def go(self):\n        requests.get(self.URL, params={"where": "A"})',
     [("A", "export")]),                                    # class constant via self
    ('import pandas as pd\nfrom mixpanel_utils import MixpanelUtils\ndef a():\n'
     '    client = MixpanelUtils()\ndef b():\n    client = pd.HDFStore("x")\n'
     '    client.select("k", where="A")', []),               # same name, other function
    ('import requests\nW = "A"\nW = "B"\nrequests.get("https://mixpanel.com/api/2.0/'
     'export", params={"where": W})', []),                   # rebound: no single literal
    ('import mixpanel_helpers\nmixpanel_helpers.log(on="click")', []),  # not a known library
    ('from mixpanel_export import EventStream\nEventStream("k", "s").request({"where": "A"}, '
     'print)', [("A", None)]),
    ('client.export(where="A")', []),                        # unknown `client`
    ('def export(where):\n    pass\nexport(where="A")', []),
    ('d = {"where": "A", "endpoint": "export"}', []),         # a dict no Mixpanel call gets
])
def test_python_sites(tmp_path, src, units):
    path = tmp_path / "m.py"
    path.write_text(src + "\n", encoding="utf-8")
    assert _units(path) == units


def test_configured_calls_and_json_globs(tmp_path):
    (tmp_path / "app.py").write_text(
        "from myapp import mp\nimport myapp\n"
        "mp.query(where='properties[\"distinct_id\"] == \"u\"', endpoint=\"export\")\n"
        "c = myapp.Client()\nc.profiles(where='event[\"x\"] == 1')\n", encoding="utf-8")
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "a.json").write_text(
        '{"where": "properties[\\"distinct_id\\"] == \\"u\\""}', encoding="utf-8")
    r = mpql("lint", "--isolated", "--endpoint", "export", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stdout  # not Mixpanel as far as mpql can tell
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mpql.extract]\ncalls = ["myapp.mp.query", "myapp.Client.*"]\n'
        'json = ["queries/*.json"]\n', encoding="utf-8")
    r = mpql("lint", "--format", "concise", "--endpoint", "export", ".", cwd=tmp_path)
    assert [" ".join(x.split(" ")[:2]) for x in r.stdout.splitlines()] == [
        "app.py:3:17: S001", "app.py:5:19: S004", "queries/a.json:1:12: S001"], r.stdout


@pytest.mark.parametrize("table,needle", [
    ('extract = "x"', "`extract` must be a table"),
    ('[tool.mpql.extract]\ncalls = [1]', "`extract.calls` must be a list"),
    ('[tool.mpql.extract]\nfiles = ["x"]', "unknown key `extract.files`"),
])
def test_extract_config_errors(tmp_path, table, needle):
    body = table if table.startswith("[") else "[tool.mpql]\n" + table
    (tmp_path / "pyproject.toml").write_text(body + "\n", encoding="utf-8")
    r = mpql("lint", "-e", 'properties["a"] == 1', cwd=tmp_path)
    assert r.returncode == 2 and needle in r.stderr, r.stderr


# -- properties: what is not Mixpanel is never touched; what is, is found exactly ----------------

_IDENT = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: "mpql" not in s and "mixpanel" not in s and s not in {
        "import", "from", "def", "class", "if", "in", "is", "or", "and", "not", "for", "as",
        "with", "del", "try", "else", "elif", "while", "pass", "None", "True", "False",
        "global", "lambda", "raise", "yield", "return", "assert", "async", "await", "break",
        "except", "finally", "continue", "nonlocal", "match", "case", "type", "_"})
_MODULES = st.sampled_from(["pandas", "pymongo", "sqlalchemy", "django.db.models", "requests",
                            "httpx", "sqlite_utils", "boto3", "tables"])


@given(_MODULES, _IDENT, _IDENT, st.lists(st.text(max_size=40), min_size=1, max_size=3),
       st.sampled_from(["where", "on", "selector", "born_where"]))
def test_property_non_mixpanel_python_is_never_linted_or_fixed(module, obj, method, values,
                                                               key):
    from mpql.checker.lint import LintOptions, fix_text, lint_text

    lines = [f"import {module} as lib", f"{obj} = lib.{method}()"]
    for v in values:
        lines.append(f"{obj}.{method}({key}={v!r}, params={{{key!r}: {v!r}}})")
        lines.append(f"lib.{method}(dict({key}={v!r}))")
        lines.append(f"requests_like = {{'url': 'https://example.com/api', {key!r}: {v!r}}}")
    src = "\n".join(lines) + "\n"
    options = LintOptions(select=("ALL",))
    assert lint_text(src, "m.py", options) == []
    new, applied, _ = fix_text(src, "m.py", options, unsafe=True)
    assert new == src and applied == 0


@given(st.text(max_size=60), st.sampled_from(["'", '"', "'''", '"""']),
       st.sampled_from([("https://data.mixpanel.com/api/2.0/export", "export"),
                        ("https://eu.mixpanel.com/api/query/engage", "engage"),
                        ("https://mixpanel.com/api/query/segmentation", "segmentation")]),
       st.booleans())
def test_property_mixpanel_request_literal_is_found_exactly(text, quote, target, via_variable):
    from mpql.checker.extract import extract

    url, endpoint = target
    if "\r" in text or "\x00" in text:
        return  # a file read by the linter never holds these (line endings normalised)
    body = (text.replace("\\", "\\\\").replace(quote[0], "\\" + quote[0])
            .replace("\n", "\\n"))
    literal = f"{quote}{body}{quote}"
    if via_variable:
        src = (f"import requests\nURL = {url!r}\nparams = {{'from_date': 'x'}}\n"
               f"params['where'] = {literal}\nrequests.get(URL, params=params)\n")
    else:
        src = f"import requests\nrequests.post({url!r}, data={{'where': {literal}}})\n"
    units = extract("python", src)
    assert [(u.text, u.settings.get("endpoint")) for u in units] == [(text, endpoint)]


@given(st.recursive(st.text(max_size=8) | st.integers(),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["where", "on", "selector", "name", "x"]),
                                      inner, max_size=4), max_leaves=12))
def test_property_unmarked_json_has_no_expressions(doc):
    from mpql.checker.extract import extract

    text = json.dumps(doc)
    assert extract("json", text) == []
    marked = json.dumps({"endpoint": "export", "doc": doc})
    found = extract("json", marked)
    expected = sum(1 for _ in _string_values_under_keys(doc))
    assert len(found) == expected


def _string_values_under_keys(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("where", "on", "selector") and isinstance(v, str):
                yield v
            else:
                yield from _string_values_under_keys(v)
    elif isinstance(node, list):
        for item in node:
            yield from _string_values_under_keys(item)


@pytest.mark.parametrize("doc,units", [
    ({"endpoint": "https://data.mixpanel.com/api/2.0/export", "where": "A"}, [("A", "export")]),
    ({"endpoint": "engage", "q": [{"selector": "A"}]}, [("A", "engage")]),
    ({"mixpanel": {"where": "A"}, "on": "push"}, [("A", None)]),  # marks its value only
    ({"mixpanel_queries": [{"on": "A"}]}, [("A", None)]),
    ({"on": "push", "mixpanel_token": "t"}, []),                   # a scalar marks nothing
    ({"mpql": 1, "on": "A"}, [("A", None)]),                       # the explicit mark
    ({"endpoint": "orders", "where": "A"}, []),                    # not a Mixpanel endpoint
    ({"url": "https://api.example.com/export", "where": "A"}, []),
])
def test_json_markers(tmp_path, doc, units):
    path = tmp_path / "q.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert _units(path) == units


def test_deeply_nested_hosts_are_x002_not_a_crash(tmp_path):
    (tmp_path / "q.json").write_text('{"mpql": 1, "where": "a", "x": ' + "[" * 100000
                                     + "]" * 100000 + "}", encoding="utf-8")
    (tmp_path / "q.py").write_text("import mixpanel_utils as m\nx = m" + ".f()" * 3000 + "\n",
                                   encoding="utf-8")
    r = mpql("lint", "--isolated", "--format", "concise", "q.json", "q.py", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert r.stdout.splitlines() == [
        "q.json:1:1: X002 cannot read expressions from this file: nested too deeply to read",
        "q.py:1:1: X002 cannot read expressions from this file: nested too deeply to read"]

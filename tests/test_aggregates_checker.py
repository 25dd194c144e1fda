"""The checker's aggregate contexts: `on` is a value (T011), `born_where` a filter — through
the Python API, the linter on host files and the `mpql lint` command."""

from __future__ import annotations

import json
import subprocess
import sys

import mpql


def test_on_condition_is_flagged_only_in_on():
    text = 'properties["$browser"] == "Chrome"'
    assert [d.code for d in mpql.check(text, endpoint="segmentation", param="on")] == ["T011"]
    assert mpql.check(text, endpoint="segmentation") == []
    assert mpql.check('properties["$browser"]', endpoint="funnels", param="on") == []


def test_born_where_is_checked_as_a_filter_and_named():
    found = mpql.check('string(properties["x"])', endpoint="retention", param="born_where")
    assert [d.code for d in found] == ["T006"]
    assert "`born_where`" in found[0].message


def test_lint_reads_on_and_born_where_keywords_in_python(tmp_path):
    src = tmp_path / "report.py"
    src.write_text(
        "from mpql import Query\n"
        "q = Query.retention('Sign', 'Use', from_date='2024-01-01', to_date='2024-01-02',\n"
        "                    born_where='string(properties[\"x\"])')\n"
        "s = Query.segmentation('A', from_date='2024-01-01', to_date='2024-01-02',\n"
        "                       on='properties[\"plan\"] == \"pro\"')\n")
    done = subprocess.run([sys.executable, "-m", "mpql", "lint", "--format", "json", str(src)],
                          capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    found = {(d["code"], d["location"]["row"]) if "location" in d else (d["code"], d.get("line"))
             for d in json.loads(done.stdout)}
    codes = {c for c, _ in found}
    assert {"T006", "T011"} <= codes, done.stdout


def test_lint_command_takes_param_born_where():
    done = subprocess.run([sys.executable, "-m", "mpql", "lint", "--param", "born_where",
                           "--endpoint", "retention", "-e", 'string(properties["x"])'],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "born_where" in done.stdout + done.stderr

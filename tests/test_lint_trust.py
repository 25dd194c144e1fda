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

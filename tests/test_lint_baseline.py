"""`mpql lint --baseline` / `--write-baseline` through real subprocess runs on real files, and
a property: fingerprints survive inserting blank and comment lines."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from mpql.checker.baseline import entries_for, file_key
from mpql.checker.lint import LintOptions, lint_text

OLD = 'properties["y"] == "1" and properties["y"] == 2'
NEW = 'properties["q"] == 1 and properties["q"] == 2'
CLEAN = 'properties["$os"] == "iOS"'


def mpql(*args, cwd):
    return subprocess.run([sys.executable, "-m", "mpql", "lint", "--isolated", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=60)


def test_baseline_lifecycle(tmp_path):
    f = tmp_path / "q.mpql"
    f.write_text(f"{CLEAN}\n\n{OLD}\n", encoding="utf-8")
    assert mpql("q.mpql", cwd=tmp_path).returncode == 1

    w = mpql("--write-baseline", "base.json", "q.mpql", cwd=tmp_path)
    assert w.returncode == 0, w.stderr
    assert "Wrote 1 baseline entry to base.json." in w.stderr
    data = json.loads((tmp_path / "base.json").read_text())
    assert data["version"] == 1
    [entry] = data["entries"]
    assert entry["file"] == "q.mpql" and entry["code"] == "C002"
    # No line numbers: they would un-baseline a finding whenever lines are added above it.
    assert set(entry) == {"file", "code", "fingerprint", "occurrence", "message"}

    r = mpql("--baseline", "base.json", "q.mpql", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""

    # A new problem is reported, the old one still is not.
    f.write_text(f"{CLEAN}\n\n{OLD}\n\n{NEW}\n", encoding="utf-8")
    r = mpql("--baseline", "base.json", "--format", "concise", "q.mpql", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.strip().splitlines() == [
        'q.mpql:5:1: C002 `properties["q"]` cannot equal both 1 and 2: this filter never '
        'matches']
    for fmt in ("json", "sarif", "github", "full"):
        out = mpql("--baseline", "base.json", "--format", fmt, "q.mpql", cwd=tmp_path).stdout
        assert 'properties[\\"q\\"]' in out or 'properties["q"]' in out, fmt
        assert 'properties[\\"y\\"]' not in out and 'properties["y"]' not in out, fmt
    stats = mpql("--baseline", "base.json", "--statistics", "q.mpql", cwd=tmp_path)
    assert stats.stdout.split() == ["1", "C002", "contradictory-conditions"]
    stats_all = mpql("--statistics", "q.mpql", cwd=tmp_path)
    assert stats_all.stdout.split()[0] == "2"

    # Unrelated edits above the old problem shift its line: still baselined.
    f.write_text(f"# a comment\n\n# another\n\n{CLEAN}\n\n\n"
                 f"properties[\"y\"]  ==  \"1\"\n  and properties[\"y\"] == 2\n", encoding="utf-8")
    r = mpql("--baseline", "base.json", "q.mpql", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no longer match" not in r.stderr

    # The old problem fixed: an informational note, not a failure.
    f.write_text(f"{CLEAN}\n\nproperties[\"y\"] == \"1\"\n", encoding="utf-8")
    r = mpql("--baseline", "base.json", "q.mpql", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 baseline entry no longer matches" in r.stderr


def test_stale_only_counted_for_linted_files(tmp_path):
    """pre-commit lints only changed files: the others' entries are not "no longer matching"."""
    (tmp_path / "a.mpql").write_text(f"{OLD}\n", encoding="utf-8")
    (tmp_path / "b.mpql").write_text(f"{OLD}\n", encoding="utf-8")
    assert mpql("--write-baseline", "x.json", "a.mpql", "b.mpql", cwd=tmp_path).returncode == 0
    (tmp_path / "a.mpql").write_text(f"{CLEAN}\n", encoding="utf-8")
    r = mpql("--baseline", "x.json", "a.mpql", cwd=tmp_path)
    assert r.returncode == 0 and "1 baseline entry no longer matches" in r.stderr
    r = mpql("--baseline", "x.json", "b.mpql", cwd=tmp_path)
    assert r.returncode == 0 and "no longer match" not in r.stderr


def test_occurrences_counted(tmp_path):
    """Two identical findings baselined; a third identical copy is new."""
    f = tmp_path / "q.mpql"
    f.write_text(f"{OLD}\n\n{OLD}\n", encoding="utf-8")
    assert mpql("--write-baseline", "b.json", "q.mpql", cwd=tmp_path).returncode == 0
    occ = sorted(e["occurrence"] for e in json.loads((tmp_path / "b.json").read_text())
                 ["entries"])
    assert occ == [0, 1]
    f.write_text(f"{OLD}\n\n{OLD}\n\n{OLD}\n", encoding="utf-8")
    r = mpql("--baseline", "b.json", "--format", "concise", "q.mpql", cwd=tmp_path)
    assert r.returncode == 1 and len(r.stdout.strip().splitlines()) == 1


def test_config_baseline_relative_to_config(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "q.mpql").write_text(f"{OLD}\n", encoding="utf-8")
    (tmp_path / "mpql.toml").write_text('baseline = "lint-baseline.json"\n', encoding="utf-8")
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "mpql", "lint", *a], cwd=tmp_path / "sub",
        capture_output=True, text=True, timeout=60)
    assert run("q.mpql").returncode == 2  # named in config but missing: an error
    assert run("--write-baseline", "../lint-baseline.json", "q.mpql").returncode == 0
    entries = json.loads((tmp_path / "lint-baseline.json").read_text())["entries"]
    assert entries[0]["file"] == "sub/q.mpql"
    assert run("q.mpql").returncode == 0
    assert run("--no-baseline", "q.mpql").returncode == 1


@pytest.mark.parametrize("content,needle", [
    ("{not json", "invalid JSON at line 1"),
    ("[]", "expected a JSON object"),
    ('{"entries": []}', "`version`"),
    ('{"version": 2, "entries": []}', "version 2 is not supported"),
    ('{"version": 1, "entries": {}}', "`entries` must be a list"),
    ('{"version": 1, "entries": [{"file": "q.mpql"}]}', "entry 0"),
])
def test_bad_baseline_exit_2(tmp_path, content, needle):
    (tmp_path / "q.mpql").write_text(f"{OLD}\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(content, encoding="utf-8")
    r = mpql("--baseline", "b.json", "q.mpql", cwd=tmp_path)
    assert r.returncode == 2
    assert needle in r.stderr and "b.json" in r.stderr and "Traceback" not in r.stderr


def test_missing_baseline_and_bad_combination(tmp_path):
    (tmp_path / "q.mpql").write_text(f"{OLD}\n", encoding="utf-8")
    r = mpql("--baseline", "nope.json", "q.mpql", cwd=tmp_path)
    assert r.returncode == 2 and "no such file" in r.stderr and "--write-baseline" in r.stderr
    r = mpql("--write-baseline", "b.json", "--fix", "q.mpql", cwd=tmp_path)
    assert r.returncode == 2 and "--fix" in r.stderr
    assert not (tmp_path / "b.json").exists()


def test_python_host_baselined(tmp_path):
    (tmp_path / "m.py").write_text(f"import mixpanel_utils as c\nc.export(where='{OLD}')\n",
                                   encoding="utf-8")
    assert mpql("m.py", cwd=tmp_path).returncode == 1
    assert mpql("--write-baseline", "b.json", "m.py", cwd=tmp_path).returncode == 0
    (tmp_path / "m.py").write_text(f"import mixpanel_utils as c\n\n\nimport y\n"
                                   f"c.export(where='{OLD}')\n",
                                   encoding="utf-8")
    assert mpql("--baseline", "b.json", "m.py", cwd=tmp_path).returncode == 0


def _fingerprints(text: str) -> list:
    found = lint_text(text, "q.mpql", LintOptions())
    key = file_key(None, "q.mpql", None)
    return sorted((code, fp, n) for _, code, fp, n, _, _ in
                  entries_for(found, text, "q.mpql", key))


_EXPRS = [OLD, NEW, 'properties["distinct_id"] == "u1"', "properties['$os'] == \"iOS\"", CLEAN,
          'properties["a"] == "1" and\n  properties["a"] == 3']
_FILLER = st.lists(st.sampled_from(["", "# note", "#", "   ", "# mpql is fun"]), max_size=3)


@settings(deadline=None)
@given(st.lists(st.sampled_from(_EXPRS), min_size=1, max_size=4),
       st.lists(_FILLER, min_size=5, max_size=5))
def test_fingerprints_stable_under_blank_and_comment_lines(exprs, fillers):
    exprs = [*exprs, OLD]  # at least one finding to fingerprint
    plain = "\n\n".join(exprs) + "\n"
    padded = []
    for i, e in enumerate(exprs):
        padded.extend(fillers[i % len(fillers)])
        padded.extend(["", e, ""])
    text = "\n".join(padded) + "\n"
    before = _fingerprints(plain)
    assert before == _fingerprints(text)
    assert before

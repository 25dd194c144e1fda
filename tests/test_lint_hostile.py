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

"""`make fuzz` reaches every property test, with the fuzz profile's budget.

Three ways a property test escapes `make fuzz` (HYPOTHESIS_PROFILE=fuzz, `pytest -m hypothesis`):
it pins ``max_examples`` (or loads/registers its own profile), which overrides the profile; its
``@given`` is nested inside a plain test function, so the plugin does not mark it; or the
Makefile selects tests by something other than the marker.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _test_files():
    return sorted(p for p in TESTS.glob("test_*.py"))


def _given_functions(tree: ast.Module):
    """(qualified name, nested?) of every function decorated with ``@given``."""
    found = []

    def is_given(dec):
        target = dec.func if isinstance(dec, ast.Call) else dec
        return (isinstance(target, ast.Name) and target.id == "given") or (
            isinstance(target, ast.Attribute) and target.attr == "given")

    def visit(node, prefix, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if any(is_given(d) for d in child.decorator_list):
                    found.append((prefix + child.name, in_function))
                visit(child, prefix + child.name + ".", True)
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + "::", in_function)
            else:
                visit(child, prefix, in_function)

    visit(tree, "", False)
    return found


def test_no_test_pins_its_example_budget_or_profile():
    pins = []
    for path in _test_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bmax_examples\s*=|\b(load|register)_profile\s*\(", line):
                pins.append(f"{path.name}:{number}: {line.strip()}")
    assert not pins, ("tests must not override the hypothesis profile (tests/conftest.py "
                      "decides, `make fuzz` raises it):\n" + "\n".join(pins))


def test_no_given_is_hidden_inside_a_plain_test():
    nested = [f"{p.name}::{name}" for p in _test_files()
              for name, inner in _given_functions(ast.parse(p.read_text(encoding="utf-8")))
              if inner]
    assert not nested, ("a @given inside a test function is not marked `hypothesis`, so "
                        "`make fuzz` skips it; move it to module level:\n" + "\n".join(nested))


def test_make_fuzz_selects_every_hypothesis_test():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^fuzz:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "no `fuzz` target in the Makefile"
    command = recipe[1]
    assert "HYPOTHESIS_PROFILE=fuzz" in command
    assert re.search(r"-m\s+hypothesis\b", command) and " -k " not in command, command

    expected = {f"{p.name}::{name}" for p in _test_files()
                for name, _ in _given_functions(ast.parse(p.read_text(encoding="utf-8")))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "hypothesis",
         "-p", "no:cacheprovider", str(TESTS)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    collected = set()
    for line in done.stdout.splitlines():
        if "::" in line:
            file, _, name = line.partition("::")
            collected.add(f"{Path(file).name}::{name.split('[')[0]}")
    missing = sorted(expected - collected)
    assert not missing, "property tests `make fuzz` would not run:\n" + "\n".join(missing)
    assert expected, "found no @given tests at all"

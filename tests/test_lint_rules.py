"""Per-rule case files (tests/rules/<CODE>.toml, sqlfluff style): every `pass` case must not
report the rule, every `fail` case must, and `fixed` is what `--fix` (with only that rule
selected) makes of the `fail` text. Every rule has a case file with both kinds of case, and
every rule with a fix has at least one `fixed` case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

from mpql.checker.lint import LintOptions, fix_text, lint_text
from mpql.checker.rules import RULES
from mpql.checker.schema import parse_schema

CASES_DIR = Path(__file__).parent / "rules"
LINT_RULES = sorted(code for code in RULES if not code.startswith("E"))


def _load():
    out = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for case in data["case"]:
            out.append(pytest.param(path.stem, case, id=f"{path.stem}-{case['name']}"))
    return out


CASES = _load()


def _options(code, case, only=False):
    schema = parse_schema(json.loads(case["schema"])) if "schema" in case else None
    select = (code,) if only else tuple(case.get("select", ()))
    return LintOptions(endpoint=case.get("endpoint"), param=case.get("param"),
                       behaviors=case.get("behaviors"), schema=schema, select=select)


def _lint(code, case, text, only=False):
    kind = case.get("kind")
    name = {"python": "case.py", "json": "case.json"}.get(kind, "<expr>")
    return lint_text(text, name, _options(code, case, only), kind or "mpql",
                     single=kind is None)


@pytest.mark.parametrize("code,case", CASES)
def test_rule_case(code, case):
    if "pass" in case:
        found = [d for d in _lint(code, case, case["pass"]) if d.code == code]
        assert found == [], f"{code} reported on a pass case: {[d.message for d in found]}"
        return
    text = case["fail"]
    found = [d for d in _lint(code, case, text, only=True) if d.code == code]
    assert found, f"{code} not reported on {text!r}"
    for d in found:
        assert d.name == RULES[code].name and d.message and d.severity in (
            "error", "warning", "info")
    if "fixed" in case:
        kind = case.get("kind")
        new, applied, _ = fix_text(text, "<expr>", _options(code, case, only=True),
                                   kind or "mpql", unsafe=case.get("unsafe", False),
                                   single=kind is None)
        assert new == case["fixed"]
        assert applied >= 1
        if case.get("unsafe"):  # without --unsafe-fixes nothing changes
            same, _, _ = fix_text(text, "<expr>", _options(code, case, only=True),
                                  kind or "mpql", single=kind is None)
            assert same == text


def test_every_rule_has_pass_and_fail_cases():
    kinds: dict = {}
    for param in CASES:
        code, case = param.values
        kinds.setdefault(code, set()).update(k for k in ("pass", "fail", "fixed") if k in case)
    for code in LINT_RULES:
        assert {"pass", "fail"} <= kinds.get(code, set()), f"{code} needs pass and fail cases"
        if RULES[code].fix:
            assert "fixed" in kinds[code], f"{code} has a fix but no `fixed` case"
    assert set(kinds) <= set(LINT_RULES), "case file for an unknown rule"


def test_rule_docs_in_sync():
    """docs/rules/<CODE>.md is generated from the rule table
    (`python -m mpql.checker.rules docs/rules`); a stale page fails here."""
    from mpql.checker.rules import _R, render_rule_doc

    docs = Path(__file__).parent.parent / "docs" / "rules"
    for rule in _R:
        page = docs / f"{rule.code}.md"
        assert page.is_file(), f"missing {page}"
        assert page.read_text(encoding="utf-8") == render_rule_doc(rule), f"{page} is stale"
        for heading in ("## What it does", "## Why is this bad?", "## Example",
                        "## Use instead", "## Fix"):
            assert heading in page.read_text(encoding="utf-8")

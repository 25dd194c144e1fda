"""Conformance: every case in tests/semantics/*.txt (one per row of docs/mixpanel-reference.md's semantics
tables), run through the reference interpreter, the compiled value function and the compiled
predicate. The case format is described in tests/semantics/README.md."""

from __future__ import annotations

import ast as pyast
import json
from datetime import datetime, timezone
from pathlib import Path

import attrs
import pytest

from mpql.errors import EvaluationError
from mpql.evaluator import (
    DEFAULT_SEMANTICS, Semantics, Undefined, compile_expression, compile_predicate, evaluate, kind,
)

CASES_DIR = Path(__file__).parent / "semantics"
_ERROR = object()


@attrs.frozen
class Case:
    id: str
    expr: str
    record: dict
    scope: str
    expected: object
    semantics: Semantics
    now: int
    profiles: dict | None
    behaviors: dict | None


def _expected(text: str):
    if text == "undefined":
        return Undefined
    if text == "error":
        return _ERROR
    if text.startswith("datetime "):
        return datetime.fromisoformat(text[len("datetime "):]).replace(tzinfo=timezone.utc)
    return json.loads(text)


def _record(scope: str, text: str | None) -> dict:
    data = json.loads(text) if text else {}
    if any(k in data for k in ("properties", "$properties", "event", "$distinct_id")):
        return data
    if scope == "events":
        return {"event": "e", "properties": data}
    return {"$distinct_id": "u1", "$properties": data}


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.txt")):
        scope, sem, now, profiles, behaviors = "events", DEFAULT_SEMANTICS, 1700000000, None, None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("!"):
                directive, _, rest = line[1:].partition(" ")
                if directive == "scope":
                    scope = rest
                elif directive == "semantics":
                    if rest == "default":
                        sem = DEFAULT_SEMANTICS
                    else:
                        changes = {}
                        for item in rest.split():
                            key, _, value = item.partition("=")
                            changes[key] = pyast.literal_eval(value)
                        sem = attrs.evolve(sem, **changes)
                elif directive == "now":
                    now = int(rest)
                elif directive == "profiles":
                    profiles = json.loads(rest) or None
                elif directive == "behaviors":
                    behaviors = json.loads(rest) or None
                else:
                    raise ValueError(f"{path.name}:{number}: unknown directive {directive!r}")
                continue
            left, sep, expected = line.rpartition(" => ")
            if not sep:
                raise ValueError(f"{path.name}:{number}: a case needs ` => EXPECTED`")
            expr, _, record_text = left.partition(" @ ")
            cases.append(Case(
                f"{path.stem}:{number}", expr.strip(), _record(scope, record_text), scope,
                _expected(expected.strip()), sem, now, profiles, behaviors,
            ))
    return cases


CASES = load_cases()


def _same(actual, expected) -> bool:
    if expected is Undefined:
        return actual is Undefined
    if kind(actual) != kind(expected):
        return False
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(map(_same, actual, expected))
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(_same(actual[k], expected[k]) for k in expected)
    return actual == expected


def _profile_for(case: Case, record: dict):
    if case.profiles is None:
        return None
    did = record.get("properties", {}).get("distinct_id")
    return case.profiles.get(did, None) if did is not None else None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case):
    kwargs = dict(now=case.now, semantics=case.semantics)
    direct = dict(kwargs, scope=case.scope,
                  profile=_profile_for(case, case.record),
                  behaviors=(case.behaviors or {}).get(case.record.get("$distinct_id"))
                  if case.behaviors else None)
    joined = dict(kwargs, profiles=case.profiles, behaviors=case.behaviors)
    value_fn = compile_expression(case.expr, case.scope, **joined)
    predicate = compile_predicate(case.expr, case.scope, **joined)

    if case.expected is _ERROR:
        with pytest.raises(EvaluationError):
            evaluate(case.expr, case.record, **direct)
        with pytest.raises(EvaluationError):
            value_fn(case.record)
        with pytest.raises(EvaluationError):
            predicate(case.record)
        return

    got = evaluate(case.expr, case.record, **direct)
    assert _same(got, case.expected), f"interpreter: {case.expr} gave {got!r}"
    compiled = value_fn(case.record)
    assert _same(compiled, case.expected), f"compiled: {case.expr} gave {compiled!r}\n{value_fn.source}"
    if case.expected in (True, False, Undefined) and kind(case.expected) != "number" \
            or case.semantics.non_boolean_filter == "false":
        assert predicate(case.record) is (case.expected is True), predicate.source
    else:
        with pytest.raises(EvaluationError):
            predicate(case.record)


def test_every_spec_table_row_has_cases():
    """Guard against a case file silently losing a section."""
    by_file: dict[str, int] = {}
    for case in CASES:
        by_file[case.id.split(":")[0]] = by_file.get(case.id.split(":")[0], 0) + 1
    assert set(by_file) >= {"operators", "casts", "functions", "records", "pitfalls", "unconfirmed"}
    assert len(CASES) > 250

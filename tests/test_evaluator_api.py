"""The evaluator's public API: entry points, values, errors, options, and the example."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import mpql
from mpql.errors import EvaluationError, InputError, MpqlError
from mpql.evaluator import Semantics, Undefined, compile_expression, compile_predicate, evaluate

ROOT = Path(__file__).resolve().parents[1]


def test_names_are_exported_from_mpql():
    assert mpql.evaluate is evaluate
    assert mpql.compile_predicate is compile_predicate
    assert mpql.Undefined is Undefined


def test_undefined_is_a_falsy_singleton():
    assert not Undefined and repr(Undefined) == "Undefined"
    assert type(Undefined)() is Undefined
    assert copy.copy(Undefined) is Undefined and copy.deepcopy([Undefined])[0] is Undefined
    assert pickle.loads(pickle.dumps(Undefined)) is Undefined


def test_record_shapes():
    event = {"event": "e", "properties": {"plan": "pro"}}
    profile = {"$distinct_id": "u1", "$properties": {"plan": "pro"}}
    assert evaluate('properties["plan"]', event) == "pro"
    assert evaluate('properties["plan"]', profile) == "pro"
    assert evaluate('properties["plan"]', {"plan": "pro"}) == "pro"  # bare properties
    assert compile_predicate('properties["plan"] == "pro"', "profiles")(profile) is True
    with pytest.raises(InputError, match="looks like an Engage result"):
        compile_predicate('properties["plan"] == "pro"')(profile)
    for bad in (None, [], "x", {"properties": []}, {"properties": "plan"}, {"event": "e"}):
        for text in ('defined(properties["plan"])', 'properties["plan"] == "x"', "true",
                     'not defined(properties["plan"])', '"a" in properties["plan"]'):
            with pytest.raises(InputError, match="expected an event record"):
                compile_predicate(text)(bad)
    with pytest.raises(ValueError, match="scope"):
        compile_predicate("true", "people")


def test_text_or_node_and_parse_errors():
    node = mpql.parse('properties["n"] + 1')
    assert evaluate(node, {"n": 1}) == evaluate('properties["n"] + 1', {"n": 1}) == 2
    with pytest.raises(mpql.ParseError):
        compile_predicate('properties["n"] === 1')
    with pytest.raises(TypeError):
        evaluate(42, {})


def test_evaluation_error_names_the_operand():
    text = 'properties["ok"] == 1 and properties["plan"]'
    with pytest.raises(EvaluationError) as info:
        compile_predicate(text)({"event": "e", "properties": {"ok": 1, "plan": "pro"}})
    err = info.value
    assert isinstance(err, MpqlError)
    assert err.value == "pro" and err.node == mpql.parse('properties["plan"]')
    assert text[err.node.span.start:err.node.span.end] == 'properties["plan"]'
    assert "a string (\"pro\")" in str(err) and "boolean(" in str(err)
    lenient = Semantics(logic_operand="undefined")
    assert compile_predicate(text, semantics=lenient)({"event": "e", "properties": {"ok": 1, "plan": "pro"}}) is False


def test_non_boolean_filter_choice():
    record = {"event": "e", "properties": {"plan": "pro"}}
    assert compile_predicate('properties["plan"]')(record) is False
    with pytest.raises(EvaluationError, match="not a boolean"):
        compile_predicate('properties["plan"]', semantics=Semantics(non_boolean_filter="raise"))(record)


def test_now():
    record = {"event": "e", "properties": {"time": 1700000000}}
    week_ago = 'event["$time"] >= datetime(NOW - 604800)'
    assert compile_predicate(week_ago, now=1700100000)(record) is True
    assert compile_predicate(week_ago, now=datetime(2023, 12, 1, tzinfo=timezone.utc))(record) is False
    assert evaluate("NOW", {}, now=1700000000.9) == 1700000000
    with pytest.raises(ValueError, match="aware"):
        evaluate("NOW", {}, now=datetime(2023, 1, 1))
    with pytest.raises(TypeError):
        evaluate("NOW", {}, now="yesterday")
    # default: the current time
    import time
    assert abs(evaluate("NOW", {}) - time.time()) < 5


def test_semantics_validation():
    with pytest.raises(ValueError, match="unknown timezone"):
        Semantics(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="logic_operand"):
        Semantics(logic_operand="maybe")
    with pytest.raises(ValueError, match="ne_with_undefined"):
        Semantics(ne_with_undefined=1)
    with pytest.raises(TypeError):
        compile_predicate("true", semantics={"timezone": "UTC"})


def test_profiles_and_behaviors_joins():
    profiles = {"u1": {"$distinct_id": "u1", "$properties": {"age": 40}}, "u2": {"age": 20}}
    keep = compile_predicate('user["age"] > 30', profiles=profiles)
    assert [keep({"event": "e", "properties": {"distinct_id": d}}) for d in ("u1", "u2", "u3")] == \
        [True, False, False]
    assert evaluate('user["age"]', {"event": "e", "properties": {}}, profile={"age": 5}) == 5
    counts = {"u1": {"bought": 2}}
    keep = compile_predicate('behaviors["bought"] > 0', "profiles", behaviors=counts)
    assert keep({"$distinct_id": "u1", "$properties": {}}) is True
    assert keep({"$distinct_id": "u2", "$properties": {}}) is False


def test_hostile_names_and_literals_are_data_not_code():
    # Everything from the expression is inlined with repr() or bound by name, never spliced.
    nasty = "x'); __import__('os').system('echo pwned'); ('"
    text = f'properties["{nasty}"] == "{nasty}" and "{nasty}" in properties["s"]'
    keep = compile_predicate(text)
    assert keep({"event": "e", "properties": {nasty: nasty, "s": f"<{nasty}>"}}) is True
    assert keep({"event": "e", "properties": {nasty: "other", "s": nasty}}) is False
    assert "__import__('os')" not in keep.source.replace(repr(nasty), "")
    multiline = 'properties["a\\nb"] == "c\\"d"'
    assert compile_predicate(multiline)({"event": "e", "properties": {"a\nb": 'c"d'}}) is True


def test_compile_expression_returns_values_and_source():
    fn = compile_expression('string(properties["n"] * 2) + "!"')
    assert fn({"event": "e", "properties": {"n": 2.5}}) == "5!"
    assert fn({"event": "e", "properties": {}}) is Undefined
    assert fn.source.startswith("def _mpql_value(r):")


def test_deep_expressions_compile():
    # builders can produce long chains; the compiler flattens and/or chains
    text = " or ".join(f'properties["p{i}"] == {i}' for i in range(300))
    keep = compile_predicate(text)
    assert keep({"event": "e", "properties": {"p299": 299}}) is True
    assert keep({"event": "e", "properties": {"p299": 1}}) is False


def test_example_runs():
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "filter_offline.py")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "2 of the records" in done.stdout
    assert "Undefined" in done.stdout


def test_typing_memo_keeps_string_identity():
    # Regression: the ISO-date memo returned the first string object it saw for an equal
    # string, and the substring fast path tests `typed(v) is v`.
    first, second = "".join(["abcd-", "efghij"]), "".join(["abcd-e", "fghij"])
    assert first == second and first is not second
    keep = compile_predicate('"e" in properties["s"]')
    assert keep({"event": "e", "properties": {"s": first}}) is True
    assert keep({"event": "e", "properties": {"s": second}}) is True


def test_explain_shows_every_value_and_what_was_skipped():
    from mpql.evaluator import explain

    record = {"event": "e", "properties": {"plan": "free", "n": "42"}}
    text = explain('properties["plan"] == "pro" and properties["n"] > 10', record)
    lines = text.splitlines()
    assert lines[0].startswith('properties["plan"] == "pro" and properties["n"] > 10')
    assert lines[0].endswith("→ false")
    assert any('properties["plan"]' in ln and '"free" (string)' in ln for ln in lines)
    assert lines[-1].endswith("not evaluated (the left operand decided)")
    text = explain('properties["n"] > 10', record)
    assert '"42" (string)' in text and text.splitlines()[0].endswith("→ undefined")
    text = explain('true and properties["plan"]', record)
    assert "error: Mixpanel would reject the query" in text
    assert "✗ not a boolean operand" in text.splitlines()[-1]


def test_docs_python_examples_run():
    """The ```python blocks of docs/semantics.md run, and their `# value` comments hold."""
    import re

    text = (ROOT / "docs" / "semantics.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, "docs/semantics.md", "exec"), namespace)  # noqa: S102
        for line in block.splitlines():
            m = re.match(r"(.+?)\s+# (-?\d+|True|False|Undefined)$", line)
            if m and not line.startswith(" "):
                got = eval(m.group(1), namespace)  # noqa: S307
                want = Undefined if m.group(2) == "Undefined" else eval(m.group(2))  # noqa: S307
                assert got is want or got == want and type(got) is type(want), line


def test_long_chains_compile_and_evaluate_without_recursion():
    from mpql.evaluator import compile_expression
    from mpql.language import ast as A

    n = 3000  # far beyond Python's nested-parentheses and recursion limits
    text = " + ".join(f'properties["p{i}"]' for i in range(n))
    record = {"event": "e", "properties": {f"p{i}": i for i in range(n)}}
    total = sum(range(n))
    assert evaluate(text, record) == total
    assert compile_expression(text)(record) == total
    assert compile_predicate(f"{text} == {total}")(record) is True
    chain = A.Boolean(True)
    for i in range(n):  # builders make left-nested chains like this
        chain = A.And(chain, A.Compare("==", A.Property("properties", f"p{i}"), A.Number(i)))
    assert evaluate(chain, record) is True
    assert compile_predicate(chain)(record) is True
    record["properties"]["p2999"] = -1
    assert evaluate(chain, record) is False and compile_predicate(chain)(record) is False


def test_long_chain_with_a_folded_prefix():
    # Regression (found by `make fuzz`): 16 constant operators folded away left a one-step
    # chain, written as `(x)[-1]` instead of the tuple `(x,)[-1]`.
    from mpql.evaluator import compile_expression

    text = " + ".join(['""'] * 17) + ' + properties["a"]'
    for props, want in (({}, Undefined), ({"a": "x"}, "x")):
        record = {"event": "e", "properties": props}
        assert evaluate(text, record) is want or evaluate(text, record) == want
        assert compile_expression(text)(record) == want

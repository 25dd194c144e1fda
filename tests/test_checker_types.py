"""Static types and the Python API of the checker: the type table (docs/mixpanel-reference.md §1.5–1.7), the
built-in property table, schemas in both formats, contexts, and `mpql.check` on trees."""

from __future__ import annotations

import pytest

import mpql
from mpql.checker import Context, infer_type, parse_schema
from mpql.checker import types as T
from mpql.diagnostics import apply_edits
from mpql.errors import ConfigError
from mpql.evaluator import Undefined
from mpql.language import ast as A

LEXICON = {"results": [
    {"entityType": "event", "name": "Purchase", "schemaJson": {"properties": {
        "amount": {"type": "number"}, "item": {"type": "string"},
        "when": {"type": "string", "format": "date-time"},
        "tags": {"type": "array"}, "maybe": {"type": ["integer", "null"]}}}},
    {"entityType": "event", "name": "Refund", "schemaJson": {"properties": {
        "amount": {"type": "string"}}}},
    {"entityType": "profile", "name": "$user", "schemaJson": {"properties": {
        "company_size": {"type": "integer"}}}},
], "status": "ok"}


@pytest.mark.parametrize("text,endpoint,expected", [
    ('"a"', "any", "string"), ("1.5", "any", "number"), ("true", "any", "boolean"),
    ("[1, 2]", "any", "list"), ("NOW", "engage", "number"),
    ('properties["plan"]', "any", "unknown"),
    ('properties["$os"]', "export", "string"),
    ('properties["$screen_width"]', "export", "number"),
    ('properties["$wifi"]', "export", "boolean"),
    ('properties["$time"]', "export", "datetime"),
    ('properties["time"]', "export", "number"),
    ('properties["$last_seen"]', "engage", "datetime"),
    ('properties["$last_seen"]', "any", "datetime"),
    ('user["$created"]', "segmentation", "datetime"),
    ('behaviors["x"]', "engage", "number"),
    ('string(properties["a"])', "any", "string"),
    ('number("42")', "any", "number"), ('number("x")', "any", "undefined"),
    ('number([1])', "any", "undefined"),
    ('boolean(properties["a"])', "any", "boolean"),
    ('datetime("2024-01-01")', "any", "datetime"), ('datetime("1/1/2024")', "any", "undefined"),
    ("datetime(0)", "any", "undefined"), ("datetime(NOW - 5)", "engage", "datetime"),
    ('defined(properties["a"])', "any", "boolean"),
    ('floor("a")', "any", "undefined"), ('floor(properties["a"])', "any", "number"),
    ('"a" + "b"', "any", "string"), ("1 + 2", "any", "number"), ('"a" + 1', "any", "undefined"),
    ('properties["a"] + 1', "any", "number"), ('"a" - 1', "any", "undefined"),
    ("1 / 0", "any", "undefined"), ("1 % 0", "any", "undefined"), ('-"a"', "any", "undefined"),
    ('properties["a"] == "x"', "any", "boolean"), ('1 == "1"', "any", "boolean"),
    ("1 < 2", "any", "boolean"), ('"a" < "b"', "any", "unknown"), ('1 < "b"', "any", "undefined"),
    ('true < false', "any", "undefined"),
    ('"a" in "abc"', "any", "boolean"), ('1 in "abc"', "any", "undefined"),
    ('"a" in [1]', "any", "boolean"), ('"a" in 5', "any", "undefined"),
    ('not "a"', "any", "undefined"), ('not properties["a"]', "any", "boolean"),
    ('properties["a"] and properties["b"]', "any", "boolean"),
])
def test_type_table(text, endpoint, expected):
    assert infer_type(text, endpoint=endpoint) == expected


def test_lexicon_schema():
    schema = parse_schema(LEXICON)
    assert schema.lookup("event", "amount") == "unknown"  # number on one event, string on another
    assert schema.lookup("event", "when") == "datetime"
    assert schema.lookup("event", "tags") == "list"
    assert schema.lookup("event", "maybe") == "number"
    assert schema.lookup("profile", "company_size") == "number"
    assert infer_type('properties["item"]', "export", schema=LEXICON) == "string"
    found = mpql.check('properties["company_sise"] > 5', endpoint="engage", schema=LEXICON)
    assert [d.code for d in found] == ["S007"]
    assert "did you mean `company_size`?" in found[0].help


def test_simple_schema_flat_and_errors():
    schema = parse_schema({"plan": "string", "n": "integer", "d": "date-time"})
    assert schema.lookup("event", "n") == schema.lookup("profile", "n") == "number"
    with pytest.raises(ConfigError, match="`plan` has type 'text-ish'"):
        parse_schema({"plan": "text-ish"})
    with pytest.raises(ConfigError, match="Lexicon entry 0 has no `entityType`"):
        parse_schema({"results": [{"name": "x"}]})
    with pytest.raises(ConfigError, match="expected a JSON object"):
        parse_schema("nope")


def test_context_validation():
    assert Context.make("Profiles").endpoint == "engage"
    assert Context.make("export", "selector").param == "where"
    assert Context.make("engage", behaviors="a, b").behaviors == ("a", "b")
    assert Context.make("engage", behaviors="none").behaviors == ()
    with pytest.raises(ValueError, match="unknown endpoint 'insights'"):
        Context.make("insights")
    with pytest.raises(ValueError, match="unknown param"):
        Context.make("export", "group_by")


def test_check_on_a_tree_without_source():
    tree = A.Compare("==", A.Property("properties", "distinct_id"), A.Number(5))
    found = mpql.check(tree, endpoint="export")
    assert {d.code for d in found} == {"S001", "T001"}  # distinct_id is a string
    assert all(d.fix is None for d in found)  # no text to edit
    with pytest.raises(TypeError, match="takes an expression string"):
        mpql.check(42)


def test_syntax_errors_are_diagnostics():
    (d,) = mpql.check('properties["a"] === 1')
    assert (d.code, d.name, d.severity) == ("E101", "assignment-for-comparison", "error")
    assert mpql.check('properties["a"] === 1', ignore=["E1"]) == []


def test_single_equals_is_a_warning_with_a_safe_fix_not_an_error():
    (d,) = mpql.check('properties["plan"] = "Ent"')
    assert (d.code, d.name, d.severity) == ("U010", "single-equals", "warning")
    assert d.fix.applicability == "safe"
    assert apply_edits('properties["plan"] = "Ent"', d.fix.edits) == 'properties["plan"] == "Ent"'
    # a tree has no spelling: built in code, `==` is all there is
    assert mpql.check(mpql.parse('properties["plan"] = "Ent"')) == []


def test_any_variable_types_and_scope():
    assert infer_type('any(X, properties["tags"], X == "a")') == T.BOOLEAN
    # the variable takes the type of a literal list's items: comparing it with a string is T001
    found = mpql.check('any(X, [1, 2], X == "1")')
    assert [d.code for d in found] == ["T001"]
    assert mpql.check('any(X, [1, 2], X == properties["n"])') == []
    # a variable is a value, not a constant: no C001 on X == 1
    assert mpql.check('any(X, properties["ids"], X == 1)') == []


def test_unbound_and_shadowed_variables_in_trees_built_in_code():
    (d,) = mpql.check(A.Compare("==", A.Var("X"), A.Number(1)))
    assert (d.code, d.severity) == ("E126", "error") and "not bound" in d.message
    inner = A.Any("X", A.Property("properties", "b"), A.Compare("==", A.Var("X"), A.Number(1)))
    (d,) = mpql.check(A.Any("X", A.Property("properties", "a"), inner))
    assert d.code == "E126" and "already the variable" in d.message


def test_two_argument_string_types():
    assert infer_type('string(properties["g"], "undefined")') == T.STRING
    assert infer_type('string(properties["g"], 0)') == T.UNKNOWN
    assert [d.code for d in mpql.check('string(properties["g"], "u") == 1')] == ["T001"]


def test_select_and_ignore():
    text = "properties['a'] == 1 AND true"
    assert {d.code for d in mpql.check(text)} == {"U001", "U008", "C001"}
    assert {d.code for d in mpql.check(text, select=["U"])} == {"U001", "U008"}
    assert {d.code for d in mpql.check(text, ignore=["keyword-case", "C"])} == {"U001"}
    assert {d.code for d in mpql.check(text, select=["ALL"])} >= {"U001", "U008", "C001", "F001"}
    with pytest.raises(ValueError, match="unknown rule selector `Q1`"):
        mpql.check(text, select=["Q1"])


def test_mixpanel_doc_examples_are_clean():
    # Spec §1.11 examples in the contexts they were given for.
    examples = [
        ('properties["account_id"] in [1,2,3,4]', "any"),
        ('user["$email"] == "allison@example.com"', "segmentation"),
        ('defined(properties["My Prop"])', "any"),
        ('not defined(properties["city"])', "any"),
        ('event["$time"] >= datetime("2024-01-01T00:00:00")', "export"),
        ('(properties["$city"] == "Chicago")', "export"),
        ('(not "Facebook" in properties["$referring_domain"])', "export"),
        ('(properties["$browser"] == "Chrome" and not "" in properties["$email"])', "any"),
        ('properties["$os"]=="Linux"', "retention"),
        ('has_prefix(string(user["signup_date"]), "2016")', "jql"),
        ('properties["country"] == "US" and user["age"] > 30', "jql"),
        ('(("Albany" in properties["$city"]) and (defined (properties["$city"])))', "engage"),
        ('(boolean(properties["$email"]) == true)', "engage"),
        ('datetime(properties["$last_seen"]) >= datetime("2026-09-01T00:00:00")', "engage"),
        ('datetime(properties["$last_seen"]) >= datetime(NOW - 604800) and '
         'datetime(properties["$last_seen"]) < datetime(NOW)', "engage"),
        ('properties["$last_seen"] > datetime("2026-09-01T00:00:00")', "engage"),
        ('(behaviors["signed_up"] > 0) and (behaviors["purchased"] == 0)', "engage"),
    ]
    for text, endpoint in examples:
        found = [d for d in mpql.check(text, endpoint=endpoint) if d.severity != "info"]
        assert found == [], (text, [(d.code, d.message) for d in found])


@pytest.mark.parametrize("op, outcome", [
    ("<", "is undefined, so the comparison never matches"),
    (">=", "is undefined, so the comparison never matches"),
    ("==", "is always false"),
    ("!=", "is always true"),
])
def test_a_datetime_compared_with_now_is_d005_and_says_why(op, outcome):
    # NOW is Unix seconds, a number; Mixpanel compares a datetime with a number as it does any
    # two types (docs/semantics.md, Operators): ordering undefined, == false, != true.
    where = f'datetime(properties["x"]) {op} NOW'
    record = {"$distinct_id": "u", "$properties": {"x": "2024-01-01T00:00:00"}}
    value = mpql.evaluate(where, record, scope="profiles", now=1_800_000_000)
    if op in ("==", "!="):
        assert value is (op == "!=")
    else:
        assert value is Undefined
    (d,) = mpql.check(where, endpoint="engage")
    assert (d.code, d.severity) == ("D005", "error")
    assert d.message == (f'`datetime(properties["x"])` is a datetime and `NOW` a number (Unix '
                         f"seconds): `{op}` between them {outcome}")
    assert d.help == "NOW is Unix seconds: compare it as a datetime, datetime(NOW)"
    # Wrapping NOW changes what the filter selects (nothing → the intended records): unsafe.
    assert d.fix.applicability == "unsafe" and d.fix.message == "wrap `NOW` in datetime()"
    assert apply_edits(where, d.fix.edits) == f'datetime(properties["x"]) {op} datetime(NOW)'


def test_d005_on_a_plain_number_does_not_claim_it_is_seconds():
    (d,) = mpql.check('datetime(properties["x"]) > 1700000000000', endpoint="engage")
    assert d.code == "D005"
    assert d.message == ('`datetime(properties["x"])` is a datetime and `1700000000000` a '
                         "number: `>` between them is undefined, so the comparison never matches")
    assert d.help == ("if 1700000000000 is a Unix timestamp, compare it as a datetime: "
                      "datetime(1700000000000) (seconds, or milliseconds above 4294967295)")
    assert d.fix.applicability == "unsafe"

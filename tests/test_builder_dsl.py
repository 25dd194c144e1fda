"""The builder produces exactly the parser's AST, refuses ambiguous Python, and cannot be
tricked into an escaping bug."""

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mpql
from mpql import NOW, and_, any_, behavior, event, lit, not_, or_, prop, user
from mpql.builder import Term, condition
from mpql.language import ast as A


@pytest.mark.parametrize("term,text", [
    (prop("a") == 1, 'properties["a"] == 1'),
    (prop("a") != "x", 'properties["a"] != "x"'),
    (user("age") >= 18, 'user["age"] >= 18'),
    (prop("n") < 2.5, 'properties["n"] < 2.5'),
    (event("$time") > dt.date(2024, 1, 2), 'event["$time"] > datetime("2024-01-02T00:00:00")'),
    (prop("t") <= dt.datetime(2024, 1, 2, 3, 4, 5, 999), 'properties["t"] <= datetime("2024-01-02T03:04:05")'),
    (behavior("bought") > 0, 'behaviors["bought"] > 0'),
    ((prop("a") + 1) * 2 % 3, '(properties["a"] + 1) * 2 % 3'),
    (10 - prop("a") / 4, '10 - properties["a"] / 4'),
    (-prop("a"), '-properties["a"]'),
    (-lit(5), "-5"),
    (NOW - 86400, "NOW - 86400"),
    (prop("$email").contains("@example.com"), '"@example.com" in properties["$email"]'),
    (prop("id").is_in([1, 2, 3]), 'properties["id"] in [1, 2, 3]'),
    (prop("x").defined(), 'defined(properties["x"])'),
    (~prop("x").defined(), 'not defined(properties["x"])'),
    (prop("n").number() > 3, 'number(properties["n"]) > 3'),
    (prop("s").string() == "1", 'string(properties["s"]) == "1"'),
    (prop("b").boolean(), 'boolean(properties["b"])'),
    (prop("d").datetime() > NOW, 'datetime(properties["d"]) > NOW'),
    (prop("l").list(), 'list(properties["l"])'),
    (prop("f").floor() == prop("f").ceil().round(), 'floor(properties["f"]) == round(ceil(properties["f"]))'),
    ((prop("a") == 1) & (prop("b") == 2) | (prop("c") == 3),
     'properties["a"] == 1 and properties["b"] == 2 or properties["c"] == 3'),
    (and_(prop("a") == 1, prop("b") == 2, prop("c") == 3),
     'properties["a"] == 1 and properties["b"] == 2 and properties["c"] == 3'),
    (or_(prop("a") == 1, 'properties["b"] == 2'), 'properties["a"] == 1 or properties["b"] == 2'),
    (not_(prop("a") == 1), 'not properties["a"] == 1'),
    (and_([prop("a") == 1, prop("b") == 2]), 'properties["a"] == 1 and properties["b"] == 2'),
    (condition('user["x"] == "y"') & (prop("a") == True), 'user["x"] == "y" and properties["a"] == true'),
    # Mixpanel's hot-shard selector
    (prop("k").defined() & (prop("k").any(lambda x: x == "v") | (prop("k").string("undefined") == "v")),
     'defined(properties["k"]) and (any(X, properties["k"], X == "v") '
     'or string(properties["k"], "undefined") == "v")'),
    (any_(user("plans"), lambda p: (p == "pro") | (p == "team")),
     'any(X, user["plans"], X == "pro" or X == "team")'),
    (any_(["a", "b"], lambda x: x == prop("p")), 'any(X, ["a", "b"], X == properties["p"])'),
    (prop("tags").any(lambda x: 'properties["n"] > 1'), 'any(X, properties["tags"], properties["n"] > 1)'),
    (prop("s").string(0), 'string(properties["s"], 0)'),
])
def test_builder_equals_parser(term, text):
    assert isinstance(term, Term)
    assert term.expr == mpql.parse(text)
    assert str(term) == mpql.format(text)


def test_wire_text():
    t = (prop("a") == 1) & (NOW - 5 > prop("t"))
    assert t.text("wire") == '(properties["a"] == 1) and ((NOW - 5) > properties["t"])'
    assert mpql.parse(t.text("wire")) == t.expr


@pytest.mark.parametrize("make", [
    lambda: bool(prop("a") == 1),
    lambda: (prop("a") == 1) and (prop("b") == 2),
    lambda: 1 < prop("a") < 5,
    lambda: "x" in prop("a"),
    lambda: list(prop("a")),
    lambda: prop("a") == None,  # noqa: E711
    lambda: prop("a") != None,  # noqa: E711
    lambda: prop("a") == float("nan"),
    lambda: prop("a") > math.inf,
    lambda: and_(),
    lambda: or_([]),
    lambda: prop("a").is_in([]),
    lambda: prop("a").is_in("abc"),
    lambda: prop("a").is_in([[1, 2]]),
    lambda: prop(3),
    lambda: prop("a") == object(),
    lambda: prop("a") == b"bytes",
    lambda: prop("t") > dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    lambda: and_(prop("a") == 1, 42),
])
def test_refused_with_build_error(make):
    with pytest.raises(mpql.BuildError) as info:
        make()
    assert isinstance(info.value, TypeError)  # BuildError is a TypeError too
    assert len(str(info.value)) > 20


def test_bool_error_explains_the_fix():
    with pytest.raises(TypeError, match=r"&.*\|.*and_\(\)"):
        if prop("a") == 1:
            pass


def test_none_hint_points_to_defined():
    with pytest.raises(mpql.BuildError, match=r"\.defined\(\)"):
        prop("a") == None  # noqa: E711


def test_terms_are_not_hashable():
    with pytest.raises(TypeError):
        hash(prop("a"))


def test_untrusted_string_stays_a_literal():
    evil = 'x" or true or "'
    t = user("customer_id") == evil
    assert t.expr == A.Compare("==", A.Property("user", "customer_id"), A.String(evil))
    assert mpql.parse(t.text("wire")) == t.expr


def test_many_operands_build_a_shallow_tree():
    t = or_(*[prop("id") == i for i in range(5000)])
    depth, stack = 0, [(t.expr, 1)]
    while stack:
        node, d = stack.pop()
        depth = max(depth, d)
        stack.extend((c, d + 1) for c in A.children(node))
    assert depth < 20
    text = t.text("wire")  # would overflow the recursion limit if it were a 5000-deep chain
    assert text.count(" or ") == 4999


# --- properties -------------------------------------------------------------------------------

names = st.text(max_size=30)
scalars = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
)


@given(scope=st.sampled_from([prop, user, event, behavior]), name=names, value=scalars,
       op=st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
def test_property_any_unicode_roundtrips(scope, name, value, op):
    term = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[op](
        scope(name), value)
    for style in ("pretty", "wire"):
        assert mpql.parse(term.text(style)) == term.expr


@given(name=names, values=st.lists(scalars, min_size=1, max_size=5), needle=st.text(max_size=20))
def test_property_lists_and_contains_roundtrip(name, values, needle):
    term = prop(name).is_in(values) | user(name).contains(needle)
    assert mpql.parse(term.text("wire")) == term.expr
    assert mpql.parse(str(term)) == term.expr


def test_sets_give_the_same_expression_and_plan_under_any_hash_seed():
    """A set's iteration order depends on PYTHONHASHSEED: built from a set, the expression,
    the request parameters and the executor's resume keys changed from run to run."""
    import os
    import subprocess
    import sys

    code = ("from mpql import prop, Query\n"
            "print(prop('a').is_in({'x', 'y', 'z', 'w', 'v'}))\n"
            "q = Query.profiles(distinct_ids={'a', 'b', 'c', 'd', 'e'})\n"
            "print(q.plan(project_id=1).to_json())\n"
            "e = Query.events(from_date='2024-01-01', to_date='2024-01-01',\n"
            "                 events={'p', 'q', 'r'})\n"
            "print(e.plan(project_id=1).to_json())\n")
    outs = set()
    for seed in ("1", "2", "3", "4"):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}, timeout=60)
        assert r.returncode == 0, r.stderr
        outs.add(r.stdout)
    assert len(outs) == 1
    assert 'properties["a"] in ["v", "w", "x", "y", "z"]' in outs.pop()


def test_nested_any_gets_distinct_generated_names():
    term = any_(prop("a"), lambda x: any_(prop("b"), lambda y: x == y) & (x > 1))
    outer = term.expr
    inner = outer.predicate.left
    assert outer.var != inner.var  # no shadowing: both bindings stay reachable
    assert inner.predicate == A.Compare("==", A.Var(outer.var), A.Var(inner.var))
    assert mpql.parse(str(term)) == outer and mpql.check(term) == []
    assert mpql.evaluate(outer, {"a": [1, 2], "b": [2]}) is True
    assert mpql.evaluate(outer, {"a": [1, 3], "b": [1]}) is False


def test_any_refuses_a_condition_that_is_not_a_function():
    with pytest.raises(mpql.BuildError, match="function of the element"):
        any_(prop("a"), 'X == 1')
    with pytest.raises(mpql.BuildError, match="None"):
        prop("a").string(None)


@given(name=names, value=scalars, default=st.text(max_size=10))
def test_property_any_and_string_default_roundtrip(name, value, default):
    """Untrusted names and values in any(...) and string(x, default) stay literals."""
    term = prop(name).any(lambda x: (x == value) | (x == default)) | (
        prop(name).string(default) == value)
    for style in ("pretty", "wire"):
        assert mpql.parse(term.text(style)) == term.expr

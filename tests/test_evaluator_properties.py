"""Property tests: the compiled fast paths agree with the reference interpreter, printing
does not change meaning, and the laws of Mixpanel's three-valued logic hold."""

from __future__ import annotations

from datetime import datetime

import attrs
from hypothesis import given
from hypothesis import strategies as st

from mpql.errors import EvaluationError
from mpql.evaluator import (
    Semantics, Undefined, compile_expression, compile_predicate, evaluate, kind,
)
from mpql.language import ast as A
from mpql.language import format as mpql_format
from mpql.language import parse

NOW = 1700000000
NAMES = ["a", "b", "c", "$time", "distinct_id", "$distinct_id", "time"]
VALUES = [
    0, 1, -1, 1.0, 0.0, 2.5, -7, 3, 1700000000, 1700000000123, 4294967296,
    True, False, None, "", "a", "b", "1", "ab", "true", "false",
    "2024-01-01", "2024-01-01T00:00:00", "2024-02-30", "2023-11-14T22:13:20",
    [], [1, "a"], ["a"], [True], {"k": 1}, ["b", "2024-01-01", None, 2.5], [[1], {"k": 1}],
]
# For the datetime fast paths (compiler._compare_datetime): ISO-shaped but not dates, other
# shapes datetime("…") accepts, the seconds around the literals, numbers of every range.
DATE_EDGES = [
    "2024-02-30T10:00:00", "2023-12-31T24:00:00", "2023-12-31T23:59:60", "0000-01-01T00:00:00",
    "2024-01-01 00:00:00", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.9", "2024-1-1",
    "2023-12-31T23:59:59", "2024-01-01T00:00:01", "1970-01-01T00:00:01", "1970-01-01",
    "2024-01-01T00:00:0\u0661", " 2024-01-01T00:00:00", "2024-01-01X00:00:00",
    1704067199, 1704067200, 1704067200.5, 1704067199.9, 1704067200999, 1704067199999,
    4294967295, 4294967295.5, 0.5, -5, 10**20, 253402300800000, float(2**60),
]
STRINGS = ["", "a", "b", "1", "ab", "false", "2024-01-01", "2024-01-01T00:00:00", "2024-02-30"]
NUMBERS = [0, 1, -1, 1.0, 0.0, 2.5, -7, 3, 1700000000, 4294967296]

json_values = st.sampled_from(VALUES)
properties = st.dictionaries(st.sampled_from(NAMES), json_values, max_size=6)
profile_props = st.dictionaries(st.sampled_from(NAMES), json_values, max_size=4)

literals = st.one_of(
    st.sampled_from(STRINGS).map(A.String),
    st.sampled_from(NUMBERS).map(A.Number),
    st.booleans().map(A.Boolean),
)
leaves = st.one_of(
    st.builds(A.Property, st.sampled_from(["properties", "properties", "event", "user", "behaviors"]),
              st.sampled_from(NAMES)),
    literals,
    st.just(A.Now()),
)


def _extend(children):
    return st.one_of(
        st.builds(A.Compare, st.sampled_from(A.COMPARE_OPS), children, children),
        st.builds(A.In, children, children),
        st.builds(A.In, children, st.lists(literals, max_size=4).map(A.ListLiteral)),
        st.builds(A.And, children, children),
        st.builds(A.Or, children, children),
        st.builds(A.Not, children),
        st.builds(A.Neg, children),
        st.builds(A.Arith, st.sampled_from(A.ARITH_OPS), children, children),
        st.builds(A.Call, st.sampled_from(["defined", "boolean", "number", "string", "datetime",
                                           "list", "floor", "round", "ceil"]),
                  children.map(lambda c: (c,))),
        st.builds(A.Call, st.just("has_prefix"), st.tuples(children, children)),
        st.builds(A.Call, st.just("string"), st.tuples(children, children)),
        _anys(children),
    )


def _anys(children):
    """any(V, items, condition): `NOW` leaves of the condition become the variable; a nested
    any(...) gets another name (shadowing is an error)."""

    def make(items, predicate):
        inner = {n.var for n in A.walk(predicate) if isinstance(n, A.Any)}
        var = next(v for v in ("X", "Y", "Z", "W", "V", "U2", "T", "S", "R", "Q") if v not in inner)
        return A.Any(var, items, A.transform(
            predicate, lambda n: A.Var(var) if isinstance(n, A.Now) else n))

    return st.builds(make, children, children)


exprs = st.recursive(leaves, _extend, max_leaves=10)

# Comparisons and `in` never raise, so laws about and/or can use them freely.
atoms = st.one_of(
    st.builds(A.Compare, st.sampled_from(A.COMPARE_OPS), leaves, leaves),
    st.builds(A.In, leaves, leaves),
    st.builds(A.Call, st.just("defined"), leaves.map(lambda c: (c,))),
)

semantics = st.builds(
    Semantics,
    timezone=st.sampled_from(["UTC", "America/New_York"]),
    logic_operand=st.sampled_from(["raise", "undefined"]),
    non_boolean_filter=st.sampled_from(["false", "raise"]),
    iso_strings_are_datetimes=st.booleans(),
    ne_with_undefined=st.sampled_from([True, "undefined"]),
    undefined_equals_undefined=st.booleans(),
    null_is_defined=st.booleans(),
    string_ordering=st.sampled_from(["undefined", "lexicographic"]),
    round_half=st.sampled_from(["half-away", "half-even"]),
    any_non_list=st.sampled_from(["undefined", "singleton"]),
    string_default=st.sampled_from(["undefined", "undefined-or-null"]),
)


def _outcome(fn, *args, **kwargs):
    try:
        return ("value", fn(*args, **kwargs))
    except EvaluationError:
        return ("error", None)


def _same(a, b) -> bool:
    if a is Undefined or b is Undefined:
        return a is b
    if kind(a) != kind(b):
        return False
    if kind(a) == "list":
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b


def _event(props, did_profile):
    props = dict(props, distinct_id="u1") if did_profile else props
    return {"event": "e", "properties": props}


@given(exprs, properties, profile_props, st.booleans(), semantics)
def test_property_compiled_agrees_with_interpreter_on_events(expr, props, profile, joined, sem):
    record = _event(props, joined)
    profiles = {"u1": profile} if joined else None
    want = _outcome(evaluate, expr, record, now=NOW, scope="events",
                    profile=profile if joined else None, semantics=sem)
    got = _outcome(compile_expression(expr, "events", now=NOW, profiles=profiles, semantics=sem),
                   record)
    assert want[0] == got[0] and _same(want[1], got[1]), (str(expr), want, got)
    predicate = compile_predicate(expr, "events", now=NOW, profiles=profiles, semantics=sem)
    selected = _outcome(predicate, record)
    if want[0] == "error":
        assert selected[0] == "error"
    elif want[1] is True or want[1] is False or want[1] is Undefined:
        assert selected == ("value", want[1] is True), (str(expr), want, selected)
    elif sem.non_boolean_filter == "raise":
        assert selected[0] == "error"
    else:
        assert selected == ("value", False)


@given(exprs, properties, st.dictionaries(st.sampled_from(NAMES), json_values, max_size=3), semantics)
def test_property_compiled_agrees_with_interpreter_on_profiles(expr, props, counts, sem):
    record = {"$distinct_id": "u1", "$properties": props}
    want = _outcome(evaluate, expr, record, now=NOW, scope="profiles", behaviors=counts, semantics=sem)
    fn = compile_expression(expr, "profiles", now=NOW, behaviors={"u1": counts}, semantics=sem)
    got = _outcome(fn, record)
    assert want[0] == got[0] and _same(want[1], got[1]), (str(expr), want, got)


@given(exprs, properties, st.sampled_from(["pretty", "wire"]))
def test_property_printing_preserves_meaning(expr, props, style):
    record = _event(props, False)
    text = mpql_format(expr, style=style)
    want = _outcome(evaluate, expr, record, now=NOW)
    got = _outcome(evaluate, parse(text), record, now=NOW)
    assert want[0] == got[0] and _same(want[1], got[1]), text


def _selects(expr, record) -> bool:
    return evaluate(expr, record, now=NOW) is True


@given(atoms, atoms, properties)
def test_property_and_or_are_commutative(p, q, props):
    record = _event(props, False)
    assert _selects(A.And(p, q), record) == _selects(A.And(q, p), record)
    assert _selects(A.Or(p, q), record) == _selects(A.Or(q, p), record)


@given(atoms, atoms, properties)
def test_property_de_morgan(p, q, props):
    # and/or give booleans and read undefined as false, and `not undefined` is true, so De
    # Morgan's laws hold for operands that are true, false or undefined.
    record = _event(props, False)
    assert evaluate(A.Not(A.And(p, q)), record, now=NOW) == \
        evaluate(A.Or(A.Not(p), A.Not(q)), record, now=NOW)
    assert evaluate(A.Not(A.Or(p, q)), record, now=NOW) == \
        evaluate(A.And(A.Not(p), A.Not(q)), record, now=NOW)


@given(atoms, properties)
def test_property_excluded_middle_and_contradiction(p, props):
    # Even an undefined p: `p or not p` selects (not undefined is true), `p and not p` never.
    record = _event(props, False)
    assert _selects(A.Or(p, A.Not(p)), record)
    assert not _selects(A.And(p, A.Not(p)), record)


@given(leaves, leaves, properties)
def test_property_ne_is_negation_of_eq(a, b, props):
    record = _event(props, False)
    eq = evaluate(A.Compare("==", a, b), record, now=NOW)
    ne = evaluate(A.Compare("!=", a, b), record, now=NOW)
    assert eq in (True, False) and ne is (not eq)
    assert eq == evaluate(A.Compare("==", b, a), record, now=NOW)  # symmetric


@given(leaves, st.lists(literals, min_size=1, max_size=4), properties)
def test_property_in_list_is_a_disjunction_of_equalities(x, items, props):
    record = _event(props, False)
    disjunction = A.Compare("==", x, items[0])
    for item in items[1:]:
        disjunction = A.Or(disjunction, A.Compare("==", x, item))
    assert _selects(A.In(x, A.ListLiteral(items)), record) == _selects(disjunction, record)


@given(leaves, leaves, properties)
def test_property_ordering_is_consistent(a, b, props):
    record = _event(props, False)
    lt = evaluate(A.Compare("<", a, b), record, now=NOW)
    ge = evaluate(A.Compare(">=", a, b), record, now=NOW)
    gt = evaluate(A.Compare(">", b, a), record, now=NOW)
    # ordering is defined exactly when both sides are numbers (or datetimes); then < and >=
    # are complements and a < b is b > a
    assert (lt is Undefined) == (ge is Undefined)
    if lt is not Undefined:
        assert lt is (not ge) and lt is gt


@given(st.sampled_from(NUMBERS + [5, -5, 7.5, -7.5]), st.sampled_from([3, -3, 2, -2, 0.5, 4]))
def test_property_mod_has_the_sign_of_the_dividend(a, b):
    r = evaluate(A.Arith("%", A.Number(a), A.Number(b)), {})
    assert abs(r) < abs(b)
    assert r == 0 or (r > 0) == (a > 0)
    # and it is the remainder of truncated division
    q = int(a / b)
    assert abs(a - (q * b + r)) < 1e-9


@given(st.sampled_from(STRINGS + ["x", "2024-01-01T10:00:00"]),
       st.sampled_from(STRINGS + ["x", "2024-01-01T10:00:00"]), st.booleans())
def test_property_substring_fast_path(needle, hay, iso):
    sem = attrs.evolve(Semantics(), iso_strings_are_datetimes=iso)
    expr = A.In(A.String(needle), A.Property("properties", "p"))
    record = {"event": "e", "properties": {"p": hay}}
    assert compile_predicate(expr, semantics=sem)(record) is (evaluate(expr, record, semantics=sem) is True)


def _shapes():
    """Every specialised shape the compiler has, with every literal of the pools."""
    p = A.Property("properties", "p")
    lits = [A.String(s) for s in STRINGS] + [A.Number(n) for n in NUMBERS] + \
        [A.Boolean(True), A.Boolean(False)]
    for lit in lits:
        for op in A.COMPARE_OPS:
            yield A.Compare(op, p, lit)
            yield A.Compare(op, lit, p)
        yield A.In(lit, p)
        yield A.Not(A.Compare("==", p, lit))
    for i in range(len(lits)):
        yield A.In(p, A.ListLiteral(lits[i:i + 3]))
    yield A.In(p, A.ListLiteral([]))
    yield A.Call("defined", (p,))
    yield A.Not(A.Call("defined", (p,)))
    x = A.Var("X")
    for lit in lits:  # any(...) compiles `X <op> literal` with the property fast paths
        for op in A.COMPARE_OPS:
            yield A.Any("X", p, A.Compare(op, x, lit))
        yield A.Not(A.Any("X", p, A.Compare("!=", lit, x)))
    for lit in lits[:4]:
        yield A.Call("string", (p, lit))
        for other in lits:  # the string(prop, d) == "text" fast path
            yield A.Compare("==", A.Call("string", (p, lit)), other)
            yield A.Compare("!=", other, A.Call("string", (p, lit)))
    yield A.Any("X", A.ListLiteral(lits[:3]), A.Compare("==", x, p))
    yield A.Any("X", p, A.Any("Y", A.ListLiteral(lits[:3]), A.Compare(">", x, A.Var("Y"))))
    for text in ["2024-01-01T00:00:00", "2023-11-14T22:13:20", "1970-01-01T00:00:01"]:
        when = A.Call("datetime", (A.String(text),))
        for op in ("<", "<=", ">", ">="):
            for subject in (p, A.Call("datetime", (p,)), A.Property("event", "$time"),
                            A.Property("properties", "$time")):
                yield A.Compare(op, subject, when)
                yield A.Compare(op, when, subject)


def test_fast_paths_agree_with_the_interpreter_exhaustively():
    """Not random: every shape × every value × the semantics that change the fast paths."""
    shapes = list(_shapes())
    variants = [
        Semantics(),
        Semantics(iso_strings_are_datetimes=False, ne_with_undefined="undefined",
                  null_is_defined=False, undefined_equals_undefined=True,
                  any_non_list="singleton", string_default="undefined-or-null",
                  logic_operand="undefined"),
    ]
    records = [{"event": "e", "properties": {"p": v}} for v in VALUES + DATE_EDGES] + \
        [{"event": "e", "properties": {"time": v}} for v in VALUES + [10**20, 1700000000999]] + \
        [{"event": "e", "properties": {"time": 1, "$time": v}} for v in VALUES] + \
        [{"event": "e", "properties": {}}]
    checked = 0
    for sem in variants:
        for expr in shapes:
            predicate = compile_predicate(expr, semantics=sem)
            value_fn = compile_expression(expr, semantics=sem)
            for record in records:
                want = evaluate(expr, record, semantics=sem)
                assert _same(value_fn(record), want), (str(expr), record, value_fn.source)
                assert predicate(record) is (want is True), (str(expr), record, predicate.source)
                checked += 1
    assert checked > 50_000


_DATEISH = st.text(alphabet="0123456789-T:.Z +a", min_size=8, max_size=24)
_MUTATED = st.builds(
    lambda base, i, ch: base[:i] + ch + base[i + 1:],
    st.sampled_from(["2024-03-05T12:34:56", "2024-03-05", "2024-02-29T00:00:00.123Z",
                     "2023-02-29", "1999-12-31T23:59:60"]),
    st.integers(0, 23), st.sampled_from("0123456789-T:.Z +a\u0663"),
)


@given(st.one_of(_DATEISH, _MUTATED))
def test_property_iso_typing_fast_path_matches_the_regex_definition(text):
    """values._iso_property skips the regex for the two common shapes; it must accept exactly
    the strings ISO_PROPERTY describes that are real dates, with the same instant."""
    from datetime import timezone

    from mpql.evaluator import values

    values._ISO_CACHE.clear()
    got = values._iso_property(text)
    if values.ISO_PROPERTY.match(text):
        want = values.parse_datetime_text(text, timezone.utc)
        want = text if want is Undefined else want
    else:
        want = text
    assert got == want and type(got) is type(want)


@given(st.lists(st.tuples(st.sampled_from(A.ARITH_OPS), leaves), min_size=14, max_size=30),
       leaves, properties)
def test_property_long_arithmetic_chains_agree(steps, first, props):
    """Chains over 16 operators compile to a flat tuple of assignments (compiler._c_Arith)."""
    expr = first
    for op, operand in steps:
        expr = A.Arith(op, expr, operand)
    record = _event(props, False)
    want = _outcome(evaluate, expr, record, now=NOW)
    got = _outcome(compile_expression(expr, now=NOW), record)
    assert want[0] == got[0] and _same(want[1], got[1]), str(expr)


def test_iso19_validity_matches_iso_parse_on_every_one_character_mutation():
    """compiler._compare_datetime compares `YYYY-MM-DDTHH:MM:SS` strings as text and asks
    values.iso19_is_date whether they are dates: it must agree with iso_parse (the typing
    of data) on every string of that shape — here each base with every position replaced
    by every character that could fool a parser."""
    from mpql.evaluator import values

    bases = ["2024-03-05T12:34:56", "2024-02-29T23:59:59", "2023-02-28T00:00:00",
             "1900-02-28T24:00:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59"]
    chars = "0123456789-T:.Z +,Wa\u0663\u00e9"
    checked = 0
    for base in bases:
        for i in range(19):
            for ch in chars:
                text = base[:i] + ch + base[i + 1:]
                if text[4:17:3] != "--T::":
                    continue  # not this shape: the compiler never asks
                values._ISO_CACHE.clear()
                typed = values.iso_parse(text)
                assert values.iso19_is_date(text) is (type(typed) is datetime), text
                checked += 1
    assert checked > 1000

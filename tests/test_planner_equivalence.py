"""The mixed-scope rewrite is exact: on random data, engage steps + export requests + the local
filter select exactly the events the original expression selects — no more, no fewer, no
duplicates — for any and/or/not structure, for users with and without profiles, and whatever
strategy the URL budget forces (inline ids, batches, client-side filter).

The reference semantics below is a small, independent three-valued evaluator for the generated
subset, written from docs/mixpanel-reference.md §1.6 (undefined for missing properties; `==` across types false,
`!=` its negation; ordering needs numbers; `and`/`or` treat undefined as false; `not undefined`
is true). When mpql.evaluator is available the same property is also checked with it.
"""

import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mpql
from mpql.errors import PlanError
from mpql.language import ast as A
from mpql.planner import Query
from mpql.planner.rewrite import empty_profile_truth

UNDEF = object()
TODAY = dt.date(2025, 1, 1)


def _same(a, b):
    ta = bool if isinstance(a, bool) else float if isinstance(a, (int, float)) else type(a)
    tb = bool if isinstance(b, bool) else float if isinstance(b, (int, float)) else type(b)
    return ta is tb and a == b


def ev(node, props, profile):
    if isinstance(node, A.Property):
        source = profile if node.scope == "user" else props
        return (source or {}).get(node.name, UNDEF)
    if isinstance(node, (A.String, A.Number, A.Boolean)):
        return node.value
    if isinstance(node, A.ListLiteral):
        return [ev(i, props, profile) for i in node.items]
    if isinstance(node, A.Call) and node.name == "defined":
        return ev(node.args[0], props, profile) is not UNDEF
    if isinstance(node, A.Compare):
        a, b = ev(node.left, props, profile), ev(node.right, props, profile)
        if node.op in ("==", "!="):
            eq = a is not UNDEF and b is not UNDEF and _same(a, b)
            return eq if node.op == "==" else not eq
        nums = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
        if not nums:
            return UNDEF
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[node.op]
    if isinstance(node, A.In):
        a, b = ev(node.left, props, profile), ev(node.right, props, profile)
        if a is UNDEF or b is UNDEF:
            return UNDEF
        if isinstance(b, list):
            return any(_same(a, x) for x in b)
        if isinstance(a, str) and isinstance(b, str):
            return a in b
        return UNDEF
    if isinstance(node, A.Not):
        v = ev(node.operand, props, profile)
        return True if v is UNDEF else (not v) if isinstance(v, bool) else UNDEF
    if isinstance(node, (A.And, A.Or)):
        a, b = (truth(ev(n, props, profile)) for n in (node.left, node.right))
        return (a and b) if isinstance(node, A.And) else (a or b)
    raise AssertionError(f"not in the generated subset: {node!r}")


def truth(v):
    if v is UNDEF:
        return False
    assert isinstance(v, bool), v
    return v


def selects(node, props, profile):
    return ev(node, props, profile) is True


# --- generators -------------------------------------------------------------------------------

VALUES = ["p", "q", 1, 2, True]
values = st.sampled_from(VALUES)


def _literal(v):
    return A.Boolean(v) if isinstance(v, bool) else A.Number(v) if isinstance(v, int) else A.String(v)


def leaves(scope, names):
    prop = st.builds(A.Property, st.just(scope), st.sampled_from(names))
    return st.one_of(
        st.builds(lambda p, op, v: A.Compare(op, p, _literal(v)), prop,
                  st.sampled_from(["==", "!=", ">", "<="]), values),
        st.builds(lambda p: A.Call("defined", (p,)), prop),
        st.builds(lambda p, vs: A.In(p, A.ListLiteral([_literal(v) for v in vs])), prop,
                  st.lists(values, min_size=1, max_size=2)),
        st.builds(lambda p, s: A.In(A.String(s), p), prop, st.sampled_from(["p", "q"])),
    )


event_leaf = leaves("properties", ["a", "b"])
profile_leaf = leaves("user", ["x", "y"])


def combine(children):
    return st.one_of(
        st.builds(A.And, children, children),
        st.builds(A.Or, children, children),
        st.builds(A.Not, children),
    )


exprs = st.recursive(st.one_of(event_leaf, profile_leaf), combine, max_leaves=7)
profile_exprs = st.recursive(profile_leaf, combine, max_leaves=5)

# Long ids, so that the small URL budgets below force batching and the client-side filter.
USERS = [f"user-{i:02d}-" + "x" * 24 for i in range(10)]
IDS = USERS + ["$device:0d9f6c2e-5f1b-4a7e-9a51-2b1f0c3d4e5f"]
maybe = st.one_of(st.none(), values)
profile_st = st.one_of(
    st.none(),  # no profile at all
    st.builds(lambda x, y: {k: v for k, v in (("x", x), ("y", y)) if v is not None}, maybe, maybe),
)
profiles_st = st.fixed_dictionaries({i: profile_st for i in USERS})  # $device: never
events_st = st.lists(
    st.builds(lambda i, a, b: (i, {k: v for k, v in (("a", a), ("b", b)) if v is not None}),
              st.sampled_from(IDS), maybe, maybe),
    max_size=40,
)


def run_plan(where, profiles, events, max_url, evaluator_selects):
    plan = Query.events(where, from_date="2024-01-01", to_date="2024-01-01", today=TODAY).plan(
        project_id=1, chunk="none", max_url_length=max_url)
    *engage_steps, export = plan.steps
    ids = {}
    for i, step in enumerate(engage_steps):
        assert step.endpoint == "engage" and not step.output
        w = mpql.parse(step.params["where"])
        assert all(not (isinstance(n, A.Property) and n.scope == "properties")
                   for n in A.walk(w)), "an event property leaked into an engage where"
        ids[i] = [uid for uid, prof in profiles.items()
                  if prof is not None and evaluator_selects(w, prof, prof)]
    expansion = mpql.planner.expand(
        export, ids,
        predicate_factory=lambda e: (lambda rec: evaluator_selects(e, rec["properties"], None)))
    records = [{"event": "E", "properties": {**props, "distinct_id": did, "$distinct_id": did}}
               for did, props in events]
    out = []
    for req in expansion.requests:
        text = req.params.get("where")
        w = mpql.parse(text) if text else None
        if w is not None:
            for n in A.walk(w):
                assert not (isinstance(n, A.Property) and (n.scope == "user"
                            or n.name.startswith("$mpql:"))), f"not resolvable by export: {text}"
        out += [k for k, r in enumerate(records)
                if w is None or evaluator_selects(w, r["properties"], None)]
    if expansion.keep is not None:
        out = [k for k in out if expansion.keep(records[k])]
    return sorted(out), expansion


def assert_same_events(where, profiles, events, max_url, sel):
    """The plan, run on these profiles and events, selects exactly the events (same indexes,
    same multiplicity) that ``sel`` (the reference semantics) selects for ``where``."""
    truth_ = [k for k, (did, props) in enumerate(events) if sel(where, props, profiles.get(did))]
    try:
        got, _ = run_plan(where, profiles, events, max_url, sel)
    except PlanError as exc:
        assume("longer than" not in str(exc))  # the event conditions alone exceed the budget
        raise
    assert got == truth_


@given(where=exprs, profiles=profiles_st, events=events_st,
       max_url=st.sampled_from([300, 360, 480, 8000]))
def test_property_rewrite_selects_exactly_the_same_events(where, profiles, events, max_url):
    assert_same_events(where, profiles, events, max_url, selects)


@given(p=profile_exprs)
def test_property_empty_profile_truth_matches_reference(p):
    assert empty_profile_truth(p) == selects(p, {}, None)


def test_strategies_are_all_exercised():
    """The URL budgets above really reach every strategy (so the property covers them)."""
    profiles = {f"u{i}": {"x": "p"} for i in range(60)}
    seen = set()
    for where, max_url in [('user["x"] == "p" and properties["a"] == 1', 8000),
                           ('user["x"] == "p" and properties["a"] == 1', 330),
                           ('user["x"] == "p" or properties["a"] == 1', 330),
                           ('user["x"] == "q" and properties["a"] == 1', 330)]:
        events = [(f"u{i}", {"a": i % 3}) for i in range(60)]
        got, expansion = run_plan(mpql.parse(where), profiles, events, max_url, selects)
        want = [k for k, (d, p) in enumerate(events)
                if selects(mpql.parse(where), p, profiles.get(d))]
        assert got == want
        seen.add(expansion.strategy)
    assert seen == {"where-in", "where-in-batched", "client-filter", "nothing-to-do"}


@given(where=exprs, profiles=profiles_st, events=events_st,
       max_url=st.sampled_from([330, 8000]))
def test_property_rewrite_with_mpql_evaluator(where, profiles, events, max_url):
    from mpql.evaluator import evaluate

    def sel(node, props, profile):
        record = {"event": "E", "properties": props}
        return evaluate(node, record, profile=profile) is True

    assert_same_events(where, profiles, events, max_url, sel)


pressured = st.one_of(
    st.builds(A.And, profile_leaf, event_leaf),
    st.builds(A.Or, profile_leaf, event_leaf),
    st.builds(lambda p, e: A.And(A.Not(p), e), profile_leaf, event_leaf),
    st.builds(lambda p, q, e: A.And(A.And(p, e), A.Not(q)), profile_leaf, profile_leaf, event_leaf),
    st.builds(lambda p, q, e: A.Or(A.And(p, e), q), profile_leaf, profile_leaf, event_leaf),
)
full_profiles = st.fixed_dictionaries({i: st.builds(
    lambda x, y: {k: v for k, v in (("x", x), ("y", y)) if v is not None}, maybe, maybe)
    for i in USERS})


@given(where=pressured, profiles=st.one_of(full_profiles, profiles_st), events=events_st,
       max_url=st.sampled_from([300, 340, 400]))
def test_property_rewrite_exact_under_url_pressure(where, profiles, events, max_url):
    """Small URL budgets and many matching profiles: batches and the client-side filter."""
    assert_same_events(where, profiles, events, max_url, selects)


@given(p=profile_exprs)
def test_property_empty_profile_truth_matches_mpql_evaluator(p):
    from mpql.evaluator import evaluate
    assert empty_profile_truth(p) == (
        evaluate(p, {"event": "E", "properties": {}}, profile=None) is True)


def test_client_filter_uses_mpql_evaluator_by_default():
    where = mpql.parse('(user["x"] == "p" or properties["a"] == 1) and properties["b"] != 2')
    profiles = {u: {"x": "p"} for u in USERS}
    events = [(u, {"a": i % 3, "b": i % 4}) for i, u in enumerate(USERS * 3)]
    plan = Query.events(where, from_date="2024-01-01", to_date="2024-01-01", today=TODAY).plan(
        chunk="none", max_url_length=300)
    expansion = plan.expand(1, {0: [u for u in USERS if profiles[u]["x"] == "p"][:7]})
    assert expansion.strategy == "client-filter"
    (request,) = expansion.requests
    server = mpql.compile_predicate(mpql.parse(request.params["where"]), scope="events")
    records = [{"event": "E", "properties": {**props, "distinct_id": d}} for d, props in events]
    kept = [k for k, r in enumerate(records) if server(r) and expansion.keep(r)]
    matched = set(USERS[:7])
    want = [k for k, (d, props) in enumerate(events)
            if (d in matched or props["a"] == 1) and props["b"] != 2]
    assert kept == want

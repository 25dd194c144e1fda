"""Scope analysis and the mixed-scope rewrite: which parts of a `where` only `/engage` can answer,
and how `/export` can still select exactly the same events.

An events `where` may test profile properties (``user["customer_id"] == "…"``) that `/export`
cannot evaluate (docs/mixpanel-reference.md §1.10: UNCONFIRMED that export honours ``user[...]``). The rewrite walks
the boolean structure (``and``/``or``/``not``) from the top and replaces each *maximal
profile-only* subtree ``P`` in boolean position by an **id atom**: a sentinel property
``properties["$mpql:ids-of-step-N"]`` that stands for ``properties["$distinct_id"] in
ids(P)``, where ``ids(P)`` is what an engage step with ``where=P`` returns.

That replacement is exact for every event under any boolean context because, in boolean
position, only "true" versus "not true" matters (``and``/``or``/top level treat undefined as
false, ``not`` maps both false and undefined to true), and for every event ``e``:

* if ``e``'s user has a profile, engage evaluated ``P`` on that very profile, so ``P(e)`` is
  true ⇔ ``distinct_id(e) ∈ ids(P)``;
* if the user has no profile (anonymous ``$device:`` ids, users never given a profile), every
  ``user[...]`` is undefined, so ``P(e) = P(∅)``, a constant we compute here. When ``P(∅)`` is
  not true, no such event matches ``P`` and none is in ``ids(P)`` (engage only returns
  profiles) — exact. When ``P(∅)`` is true (``not defined(user["x"])``, ``user["x"] != "a"``)
  engage cannot list those users, so the planner asks engage for ``not P`` instead and writes
  ``not (id in ids(not P))``: profile users match iff ``P`` is true, profile-less users
  (never in the set) always match — exact again.

A subtree that mixes scopes below the boolean level (``properties["a"] == user["b"]``) cannot
be split and is a PlanError. See docs/planner.md for the full argument and its assumptions.
"""

from __future__ import annotations

import math

import attrs

from ..errors import PlanError
from ..language import ast as A
from ..language.printer import format_expr

__all__ = ["ProfilePart", "split_events_where", "kinds", "sentinel_name", "is_sentinel",
           "empty_profile_truth", "simplify", "polarities"]

EVENT, PROFILE, BEHAVIOR = "event", "profile", "behavior"
_SCOPE_KIND = {"properties": EVENT, "event": EVENT, "user": PROFILE, "behaviors": BEHAVIOR}
SENTINEL_PREFIX = "$mpql:ids-of-step-"


def sentinel_name(step_index: int) -> str:
    """The sentinel property name for the ids of step ``step_index`` (shown 1-based)."""
    return f"{SENTINEL_PREFIX}{step_index + 1}"


def is_sentinel(node: A.Expr) -> bool:
    return (isinstance(node, A.Property) and node.scope == "properties"
            and node.name.startswith(SENTINEL_PREFIX))


def sentinel_step(node: A.Property) -> int:
    return int(node.name[len(SENTINEL_PREFIX):]) - 1


def kinds(node: A.Expr) -> frozenset:
    """The property kinds (event / profile / behavior) referenced anywhere in ``node``."""
    found = set()
    for n in A.walk(node):
        if isinstance(n, A.Property):
            found.add(_SCOPE_KIND[n.scope])
    return frozenset(found)


@attrs.frozen
class ProfilePart:
    """A maximal profile-only condition ``expr``; ``engage_where`` is what its engage step asks
    (``expr`` or ``not expr``); ``negated`` says which."""

    expr: A.Expr
    engage_where: A.Expr
    negated: bool
    step: int  # index of the engage step that answers it


_CONNECTIVES = (A.And, A.Or, A.Not)


def split_events_where(where: A.Expr, first_step: int = 0):
    """``(template, parts)``: ``where`` with every maximal profile-only condition replaced by an
    id atom (negated where needed), and the parts in order of first appearance. Identical
    conditions share one part. Raises PlanError for behaviors and cross-scope comparisons."""
    if BEHAVIOR in kinds(where):
        raise PlanError(
            'behaviors["…"] can only be used in a profiles query with a `behaviors` definition '
            "(engage); an events query cannot test it"
        )
    parts: list[ProfilePart] = []

    def atom(p: A.Expr) -> A.Expr:
        for part in parts:
            if part.expr == p:
                break
        else:
            truth = empty_profile_truth(p)
            negated = truth is True
            part = ProfilePart(p, _negate(p) if negated else p, negated, first_step + len(parts))
            parts.append(part)
        node = A.Property("properties", sentinel_name(part.step))
        return A.Not(node) if part.negated else node

    def visit(node: A.Expr) -> A.Expr:
        k = kinds(node)
        if PROFILE not in k:
            return node
        if EVENT not in k:
            return atom(node)
        if isinstance(node, A.Not):
            return A.Not(visit(node.operand))
        if isinstance(node, (A.And, A.Or)):
            return type(node)(visit(node.left), visit(node.right))
        raise PlanError(
            f"`{format_expr(node)}` mixes event and profile properties inside one comparison; "
            "/export cannot see profiles and /engage cannot see events, so it cannot be split "
            "into requests. Compare each side with a literal instead (e.g. look the profile "
            "value up first), or filter the exported events locally with `mpql filter`"
        )

    return visit(where), parts


_ALWAYS_BOOLEAN = (A.Compare, A.In, A.And, A.Or, A.Not, A.Boolean, A.Any)


def _negate(p: A.Expr) -> A.Expr:
    """``not p``, without a double negation where that is exact: ``not not q`` equals ``q``
    in boolean position whenever ``q`` is boolean or undefined (comparisons, ``in``, logic,
    ``defined``), but not for a bare non-boolean value, so only those are unwrapped."""
    if isinstance(p, A.Not) and (
        isinstance(p.operand, _ALWAYS_BOOLEAN)
        or (isinstance(p.operand, A.Call) and p.operand.name in ("defined", "has_prefix"))
    ):
        return p.operand
    return A.Not(p)


def polarities(node: A.Expr, positive: bool = True, out=None) -> list:
    """``[(sentinel_node, positive)]`` for every id atom occurrence in boolean position."""
    out = [] if out is None else out
    if is_sentinel(node):
        out.append((node, positive))
    elif isinstance(node, A.Not):
        polarities(node.operand, not positive, out)
    elif isinstance(node, (A.And, A.Or)):
        polarities(node.left, positive, out)
        polarities(node.right, positive, out)
    return out


def simplify(node: A.Expr) -> A.Expr:
    """Fold ``true``/``false`` literals through ``and``/``or``/``not`` (bottom-up)."""

    def fn(n: A.Expr) -> A.Expr:
        if isinstance(n, A.Not) and isinstance(n.operand, A.Boolean):
            return A.Boolean(not n.operand.value)
        if isinstance(n, (A.And, A.Or)):
            is_and = isinstance(n, A.And)
            for a, b in ((n.left, n.right), (n.right, n.left)):
                if isinstance(a, A.Boolean):
                    if a.value is is_and:  # true and b → b ; false or b → b
                        return b
                    return A.Boolean(not is_and)  # false and b → false ; true or b → true
        return n

    return A.transform(node, fn)


# ---------------------------------------------------------------------------------------------
# P(∅): the value of a profile-only condition for a user without a profile.
#
# Every profile property is undefined there, so this is constant folding with Mixpanel's
# three-valued rules (docs/mixpanel-reference.md §1.6). The choices for UNCONFIRMED cases are the evaluator's
# defaults (mpql/evaluator/semantics.py): `!=` with undefined is true, undefined equals
# nothing, ordering needs two numbers. Constants whose exact value would matter but that we do
# not compute (datetime literals, NOW arithmetic, casts of constants) are OPAQUE: known to be
# defined, value unknown. If the answer depends on an opaque value the planner refuses.


class _Undefined:
    def __repr__(self) -> str:
        return "UNDEF"


class _Opaque:
    def __repr__(self) -> str:
        return "OPAQUE"


UNDEF, OPAQUE = _Undefined(), _Opaque()


class Undecidable(Exception):
    pass


def empty_profile_truth(node: A.Expr) -> bool:
    """Whether ``node`` is true for a user with no profile (all profile properties undefined)."""
    try:
        return _fold(node) is True
    except Undecidable:
        raise PlanError(
            f"cannot decide whether `{format_expr(node)}` holds for users without a profile "
            "(it depends on a constant mpql does not evaluate); simplify the constant part, "
            "or add `defined(user[\"…\"]) and …` to make it false for them"
        ) from None


def _type(v):
    if isinstance(v, bool):
        return bool
    if isinstance(v, (int, float)):
        return float
    return type(v)


def _fold(node: A.Expr):  # noqa: C901 - one branch per node kind
    if isinstance(node, A.Property):
        return UNDEF
    if isinstance(node, (A.String, A.Number, A.Boolean)):
        return node.value
    if isinstance(node, A.Now):
        return OPAQUE  # engage and export evaluate NOW at different moments anyway
    if isinstance(node, A.ListLiteral):
        return [_fold(i) for i in node.items]
    if isinstance(node, A.Call):
        args = [_fold(a) for a in node.args]
        if node.name == "defined":
            return args[0] is not UNDEF
        if any(a is UNDEF for a in args):
            # number/string/datetime/list/floor/round/ceil/has_prefix of undefined: undefined.
            # boolean(undefined) is false in Mixpanel's UI typecasting rules [S13].
            return False if node.name == "boolean" else UNDEF
        if node.name == "number" and _type(args[0]) is float:
            return args[0]
        if node.name == "string" and isinstance(args[0], str):
            return args[0]
        return OPAQUE
    if isinstance(node, A.Neg):
        v = _fold(node.operand)
        if v is UNDEF or v is OPAQUE:
            return v
        return -v if _type(v) is float else UNDEF
    if isinstance(node, A.Arith):
        a, b = _fold(node.left), _fold(node.right)
        if a is UNDEF or b is UNDEF:
            return UNDEF
        if a is OPAQUE or b is OPAQUE:
            return OPAQUE
        if node.op == "+" and isinstance(a, str) and isinstance(b, str):
            return a + b
        if _type(a) is not float or _type(b) is not float:
            return UNDEF
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "*":
            return a * b
        if b == 0:
            return UNDEF
        return a / b if node.op == "/" else math.fmod(a, b)
    if isinstance(node, A.Compare):
        a, b = _fold(node.left), _fold(node.right)
        if node.op in ("==", "!="):
            if a is UNDEF or b is UNDEF:
                return node.op == "!="  # undefined equals nothing; != is its negation
            if a is OPAQUE or b is OPAQUE:
                raise Undecidable
            eq = _type(a) is _type(b) and a == b
            return eq if node.op == "==" else not eq
        if a is UNDEF or b is UNDEF:
            return UNDEF
        if a is OPAQUE or b is OPAQUE:
            raise Undecidable
        if _type(a) is float and _type(b) is float:
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[node.op]
        return UNDEF
    if isinstance(node, A.In):
        a, b = _fold(node.left), _fold(node.right)
        if a is UNDEF or b is UNDEF:
            return UNDEF
        if a is OPAQUE or b is OPAQUE or (isinstance(b, list) and OPAQUE in b):
            raise Undecidable
        if isinstance(a, str) and isinstance(b, str):
            return a in b
        if isinstance(b, list):
            return any(_type(a) is _type(x) and a == x for x in b if x is not UNDEF)
        return UNDEF
    if isinstance(node, A.Not):
        v = _fold(node.operand)
        if v is UNDEF:
            return True
        if isinstance(v, bool):
            return not v
        if v is OPAQUE:
            raise Undecidable
        return UNDEF
    if isinstance(node, (A.And, A.Or)):
        a, b = _truth(_fold(node.left)), _truth(_fold(node.right))
        return (a and b) if isinstance(node, A.And) else (a or b)
    raise Undecidable  # pragma: no cover - every node kind is handled above


def _truth(v) -> bool:
    if v is UNDEF:
        return False
    if isinstance(v, bool):
        return v
    raise Undecidable  # an opaque or non-boolean operand of and/or


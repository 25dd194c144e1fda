"""Lint a query's where against the endpoints its plan really sends it to, with the findings
placed in the text the user wrote.

``mpql run`` and the REPL (input and ``:run``) check a filter before anything is sent. The
endpoint is not a guess: a profiles query goes to ``/engage``; an events query goes to
``/export``, except its profile-only conditions (``user["plan"] == "pro"``), which the planner
answers with ``/engage`` first (rewrite.py). So the text is checked twice — as an export where
and as an engage where — and each finding is kept from the check of the endpoint its part of
the text is sent to: inside a profile-only condition the engage findings (U007, …),
elsewhere the export ones (S001, U003, U004, U009, …). Checking the user's text, not the wire
form, keeps the positions exact and the lexical rules (U001 single quotes, U008 keyword case).
Engage findings inside an events filter come without their fix: U005's (opt-in) `user[...]` →
`properties[...]` is right for an engage where, wrong inside an events filter.

One exception, because the planner acts on it: a top-level ``properties["$distinct_id"] ==
"…"`` test of a profiles query is sent as engage's ``distinct_id(s)`` parameter, so S002 (use
that parameter) is not reported for it.
"""

from __future__ import annotations

import attrs

from ..errors import PlanError
from ..language import ast as A
from .rewrite import EVENT, PROFILE, kinds

__all__ = ["check_where", "profile_parts"]

_MIXED = ("a comparison of a profile property with an event property cannot be split into "
          "requests (/export cannot see profiles, /engage cannot see events): compare each "
          "side with a literal, or filter exported events locally with `mpql filter`")
_ENGAGE = ("this profile condition is sent to /engage, which mpql's planner asks first for the "
           "matching $distinct_ids")


def check_where(text: str, kind: str, *, behaviors=None, distinct_ids: bool = False,
                schema=None) -> list:
    """The checker's diagnostics for the where ``text`` of a ``kind`` ("events" or
    "profiles") query as its plan sends it, sorted by position; a syntax error is returned as
    its E1xx diagnostic, as ``mpql.check`` does. ``behaviors``: the names a profiles query
    defines; ``distinct_ids``: whether it already has ids (then the where's id test stays in
    the where)."""
    from ..checker import check
    from ..errors import ParseError
    from ..language import parse

    if kind not in ("events", "profiles"):
        raise ValueError(f"kind must be 'events' or 'profiles', got {kind!r}")
    try:
        where = parse(text)
    except ParseError as exc:
        return [exc.diagnostic]
    if kind == "profiles":
        found = check(text, endpoint="engage", schema=schema, behaviors=behaviors)
        moved = None if distinct_ids else _moved_id_test(where)
        return [d for d in found
                if not (d.code == "S002" and moved is not None and _within(d.span, moved))]
    parts = profile_parts(where)
    found = [d for d in check(text, endpoint="export", schema=schema)
             if not any(_within(d.span, p) for p in parts)]
    if not parts and _mixes_scopes(where):
        # Nothing can be split off: S003's usual advice (let the planner split it) is wrong.
        found = [attrs.evolve(d, help=_MIXED) if d.code == "S003" else d for d in found]
    if parts:
        # Without their fixes: an engage fix (U005: `user[...]` → `properties[...]`) would
        # turn the condition into an event-property test in this events filter.
        found += [attrs.evolve(d, fix=None, help=(d.help + "; " if d.help else "") + _ENGAGE)
                  for d in check(text, endpoint="engage", schema=schema, behaviors=behaviors)
                  if any(_within(d.span, p) for p in parts)]
    return sorted(found, key=lambda d: (d.span.start, d.span.end, d.code))


def profile_parts(where) -> list:
    """Spans of the maximal profile-only conditions of an events where (every occurrence):
    the parts the planner sends to /engage. Empty when the where cannot be split (the plan
    then stops with a PlanError that says why)."""
    spans: list = []

    def visit(node) -> None:
        k = kinds(node)
        if PROFILE not in k:
            return
        if EVENT not in k:
            if node.span is not None:
                spans.append(node.span)
            return
        if isinstance(node, A.Not):
            visit(node.operand)
        elif isinstance(node, (A.And, A.Or)):
            visit(node.left)
            visit(node.right)
        else:
            raise PlanError("mixed")  # a comparison of both scopes: the plan refuses it

    if where is None:
        return []
    try:
        visit(where)
    except PlanError:
        return []
    return spans


def _mixes_scopes(where) -> bool:
    """A profile-and-event comparison somewhere (the plan refuses such a where)."""
    return any(kinds(n) >= {EVENT, PROFILE} and not isinstance(n, (A.And, A.Or, A.Not))
               for n in A.walk(where))


def _moved_id_test(where):
    """The span of the top-level ``$distinct_id`` test the planner moves into engage's
    distinct_id(s) parameter, or None."""
    from .query import _distinct_id_test

    if where is None:
        return None
    for conjunct in A.conjuncts(where):
        if _distinct_id_test(conjunct):
            return conjunct.span
    return None


def _within(span, outer) -> bool:
    return outer.start <= span.start and span.end <= outer.end

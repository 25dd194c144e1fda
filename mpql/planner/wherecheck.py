"""Lint a query's where against the endpoints its plan really sends it to, with the findings
placed in the text the user wrote.

``mpql run`` and the REPL (input and ``:run``) check a filter before anything is sent. The
endpoint is not a guess: a profiles query goes to ``/engage``; an events query goes to
``/export``, except its profile-only conditions (``user["plan"] == "pro"``), which the planner
answers with ``/engage`` first (rewrite.py). So the text is checked twice — as an export where
and as an engage where — and each finding is kept from the check of the endpoint its part of
the text is sent to: inside a profile-only condition the engage findings (U005, U007, …),
elsewhere the export ones (S001, U003, U004, U009, …). Checking the user's text, not the wire
form, keeps the positions exact and the lexical rules (U001 single quotes, U008 keyword case).

One exception, because the planner acts on it: a top-level ``properties["$distinct_id"] ==
"…"`` test of a profiles query is sent as engage's ``distinct_id(s)`` parameter, so S002 (use
that parameter) is not reported for it.
"""

from __future__ import annotations

from ..errors import PlanError
from ..language import ast as A
from .rewrite import EVENT, PROFILE, kinds

__all__ = ["check_where", "profile_parts"]


def check_where(query, text: str, *, schema=None) -> list:
    """The checker's diagnostics for ``text`` (the where ``query`` was built from) as the
    plan sends it; sorted by position. Empty when the checker is not installed."""
    try:
        from ..checker import check
    except ImportError:  # pragma: no cover - the checker is part of the package
        return []
    behaviors = [b["name"] for b in query.behaviors] if query.behaviors else None
    where = query.where
    if query.kind == "profiles":
        found = check(text, endpoint="engage", schema=schema, behaviors=behaviors)
        moved = None if query.distinct_ids else _moved_id_test(where)
        return [d for d in found
                if not (d.code == "S002" and moved is not None and _within(d.span, moved))]
    parts = profile_parts(where)
    found = [d for d in check(text, endpoint="export", schema=schema)
             if not any(_within(d.span, p) for p in parts)]
    if parts:
        found += [d for d in check(text, endpoint="engage", schema=schema, behaviors=behaviors)
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

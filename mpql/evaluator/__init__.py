"""Mixpanel's expression semantics, offline: evaluate a filter on records you already have.

Two entry points, both exported from ``mpql``::

    mpql.evaluate('properties["n"] % 3', {"event": "e", "properties": {"n": -7}})   # → -1
    keep = mpql.compile_predicate('properties["plan"] == "pro"', scope="events")
    selected = [line for line in export_lines if keep(line)]

``evaluate`` walks the tree once for one record and returns the Mixpanel value (``Undefined``
included). ``compile_predicate`` compiles the expression into one Python function
(compiler.py) that answers "does Mixpanel select this record?" for records in the shapes
Mixpanel returns them (records.py); use it for anything more than a handful of records.

Layout: ``semantics.py`` (every UNCONFIRMED choice, in one object), ``values.py`` (types,
operators, casts — the semantics tables of docs/mixpanel-reference.md §1.6–1.8), ``records.py`` (where a property
reference finds its value), ``interpreter.py`` (the reference tree walk), ``compiler.py``
(code generation with specialised fast paths). docs/semantics.md is the user-facing account.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable, Mapping
from datetime import datetime

from ..errors import ArgumentError, ArgumentTypeError, EvaluationError
from ..language import ast as A
from .compiler import compile_function
from .interpreter import Interpreter, Tracer
from .records import EVENTS, PROFILES, RECORD_SCOPES, Resolver, mapping_lookup, properties_of
from .semantics import DEFAULT, Semantics
from .values import Ops, Undefined, UndefinedType, format_value, kind

__all__ = [
    "evaluate",
    "explain",
    "compile_predicate",
    "compile_expression",
    "Undefined",
    "UndefinedType",
    "Semantics",
    "DEFAULT_SEMANTICS",
    "EvaluationError",
    "kind",
    "format_value",
    "EVENTS",
    "PROFILES",
]

DEFAULT_SEMANTICS = DEFAULT

_OPS_CACHE: dict = {}


def _ops(semantics: Semantics | None) -> Ops:
    semantics = DEFAULT if semantics is None else semantics
    if not isinstance(semantics, Semantics):
        raise ArgumentTypeError(f"semantics must be an mpql.evaluator.Semantics, got {type(semantics).__name__}")
    ops = _OPS_CACHE.get(semantics)
    if ops is None:
        ops = _OPS_CACHE[semantics] = Ops(semantics)
    return ops


def _node(expr) -> A.Expr:
    if isinstance(expr, A.Expr):
        return expr
    if isinstance(expr, str):
        from ..language import parse

        return parse(expr)
    raise ArgumentTypeError(f"expected an expression (text or mpql.ast node), got {type(expr).__name__}")


def _now_seconds(now, semantics: Semantics, scope: str):
    """``NOW``: whole Unix seconds [S24]; undefined on events if the semantics say so."""
    if scope == EVENTS and not semantics.now_on_events:
        return None
    if now is None:
        return int(_time.time())
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ArgumentError("now must be a timezone-aware datetime (or Unix seconds)")
        return math.floor(now.timestamp())
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        raise ArgumentTypeError(f"now must be Unix seconds or an aware datetime, got {now!r}")
    return math.floor(now)


def _check_scope(scope: str) -> str:
    if scope not in RECORD_SCOPES:
        raise ArgumentError(f"scope must be 'events' or 'profiles', got {scope!r}")
    return scope


def evaluate(
    expr,
    record: Mapping,
    *,
    now=None,
    profile: Mapping | None = None,
    behaviors: Mapping | None = None,
    scope: str | None = None,
    semantics: Semantics | None = None,
):
    """The Mixpanel value of ``expr`` (text or an ``mpql.ast`` node) for one record.

    ``record`` is an export line (``{"event", "properties"}``), an Engage result
    (``{"$distinct_id", "$properties"}``), or — for convenience — a bare mapping of
    properties (treated as an event's properties). ``scope`` forces the shape instead of
    guessing it. ``profile`` is the user's profile properties, used by ``user["x"]`` on an
    event; ``behaviors`` maps behaviour names to counts for ``behaviors["x"]`` on a profile.
    ``now`` (Unix seconds or an aware datetime; default: the current time) is ``NOW``.

    Returns a bool, number, string, ``None`` (null), list, dict, an aware ``datetime``, or
    ``Undefined``. Raises ``EvaluationError`` where Mixpanel fails the query (a non-boolean
    ``and``/``or`` operand, per ``semantics.logic_operand``).
    """
    node, record, interp, props = _prepare(expr, record, now, profile, behaviors, scope, semantics, Interpreter)
    return interp.value(node, record, props)


def _prepare(expr, record, now, profile, behaviors, scope, semantics, interpreter_class):
    node = _node(expr)
    if scope is None:
        if isinstance(record, Mapping) and isinstance(record.get("$properties"), Mapping):
            scope = PROFILES
        elif isinstance(record, Mapping) and isinstance(record.get("properties"), Mapping):
            scope = EVENTS
        elif isinstance(record, Mapping) and ("$properties" in record or "properties" in record):
            # A record whose property object is not an object: report its shape (as
            # compile_predicate does) rather than reading it as a bare property mapping.
            scope = PROFILES if "$properties" in record else EVENTS
        elif isinstance(record, Mapping):
            scope, record = EVENTS, {"properties": record}
        else:
            raise ArgumentTypeError(f"record must be a mapping, got {type(record).__name__}")
    _check_scope(scope)
    sem = DEFAULT if semantics is None else semantics
    ops = _ops(sem)
    if isinstance(profile, Mapping) and isinstance(profile.get("$properties"), Mapping):
        profile = profile["$properties"]
    resolver = Resolver(
        scope,
        ops.typed,
        profile_of=None if profile is None else (lambda _did: profile),
        behaviors_of=None if behaviors is None else (lambda _did: behaviors),
    )
    props = properties_of(record, scope)
    return node, record, interpreter_class(ops, resolver, _now_seconds(now, sem, scope)), props


def explain(
    expr,
    record: Mapping,
    *,
    now=None,
    profile: Mapping | None = None,
    behaviors: Mapping | None = None,
    scope: str | None = None,
    semantics: Semantics | None = None,
) -> str:
    """Every sub-expression of ``expr`` with its value on ``record``, as a tree (arguments as
    for ``evaluate``). The first line is the filter's own value; operands that ``and``/``or``
    did not need are marked "not evaluated". Never raises EvaluationError: the failing
    operand is shown as an error."""
    node, record, interp, props = _prepare(expr, record, now, profile, behaviors, scope, semantics, Tracer)
    try:
        interp.value(node, record, props)
    except EvaluationError:
        pass
    from .tracing import render_trace

    return render_trace(interp.steps, node)


def _resolver(scope, ops, profiles, behaviors) -> Resolver:
    return Resolver(
        _check_scope(scope),
        ops.typed,
        profile_of=mapping_lookup(profiles, engage_records=True),
        behaviors_of=mapping_lookup(behaviors, engage_records=False, name="behaviors"),
    )


def compile_predicate(
    expr,
    scope: str = EVENTS,
    *,
    now=None,
    profiles: Mapping | None = None,
    behaviors: Mapping | None = None,
    semantics: Semantics | None = None,
) -> Callable[[Mapping], bool]:
    """``f(record) -> bool``: whether Mixpanel's filter ``expr`` selects the record.

    ``scope`` is "events" (records are export lines ``{"event", "properties"}``) or
    "profiles" (Engage results ``{"$distinct_id", "$properties"}``). ``profiles`` maps a
    distinct_id to that user's profile (its properties, or an Engage result) for
    ``user["x"]`` on events; ``behaviors`` maps a distinct_id to ``{name: count}`` for
    ``behaviors["x"]`` on profiles. Without them those references are undefined. ``NOW`` is
    ``now`` (Unix seconds or an aware datetime), by default the time of compilation, so one
    run sees one consistent instant.

    A record of the wrong shape raises ``InputError``; a non-boolean ``and``/``or`` operand
    raises ``EvaluationError`` (``semantics.logic_operand``). The generated source is on
    ``f.source``.
    """
    sem = DEFAULT if semantics is None else semantics
    ops = _ops(sem)
    resolver = _resolver(scope, ops, profiles, behaviors)
    return compile_function(
        _node(expr), ops, resolver, _now_seconds(now, sem, scope), predicate=True
    )


def compile_expression(
    expr,
    scope: str = EVENTS,
    *,
    now=None,
    profiles: Mapping | None = None,
    behaviors: Mapping | None = None,
    semantics: Semantics | None = None,
) -> Callable[[Mapping], object]:
    """Like ``compile_predicate`` but ``f(record)`` returns the Mixpanel value (for ``on``
    breakdowns and the REPL). ``f.source`` is the generated Python."""
    sem = DEFAULT if semantics is None else semantics
    ops = _ops(sem)
    resolver = _resolver(scope, ops, profiles, behaviors)
    return compile_function(_node(expr), ops, resolver, _now_seconds(now, sem, scope), predicate=False)

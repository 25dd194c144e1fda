"""What every aggregate shares: compiling ``where``/``on``, segment keys, profiles, limits.

``where`` compiles to a predicate and ``on`` to a value function with the evaluator
(mpql.evaluator.compile_predicate / compile_expression), so aggregates see exactly the
semantics of ``mpql filter``. ``user[...]`` reads the ``profiles`` given (Engage results or a
mapping distinct_id → properties).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping

from ..errors import ArgumentTypeError, InputError, QueryError
from ..evaluator import compile_expression, compile_predicate
from ..evaluator import _ops as _evaluator_ops
from ..evaluator.semantics import DEFAULT, Semantics
from ..evaluator.values import Undefined
from ..language import ast as A

__all__ = ["Compiled", "semantics_of", "profiles_map", "top_segments", "distinct_id_of",
           "to_node", "is_number"]


def semantics_of(semantics) -> Semantics:
    if semantics is None:
        return DEFAULT
    if not isinstance(semantics, Semantics):
        raise ArgumentTypeError(f"semantics must be an mpql.evaluator.Semantics, got "
                                f"{type(semantics).__name__}")
    return semantics


def to_node(name: str, expr) -> A.Expr | None:
    """Expression text, a builder term or an AST → AST (QueryError/ParseError if bad)."""
    if expr is None:
        return None
    if isinstance(expr, A.Expr):
        return expr
    inner = getattr(expr, "expr", None)
    if isinstance(inner, A.Expr):
        return inner
    if isinstance(expr, str):
        if not expr.strip():
            raise QueryError(f"{name} is empty: leave it out or give an expression")
        from ..language import parse

        return parse(expr)
    raise QueryError(f"{name} must be expression text, a builder expression or an AST node, "
                     f"got {type(expr).__name__}")


def profiles_map(profiles) -> Mapping | None:
    """``profiles`` as a distinct_id → properties mapping (accepts Engage results too)."""
    if profiles is None or isinstance(profiles, Mapping):
        return profiles
    out = {}
    for i, p in enumerate(profiles, 1):
        if not isinstance(p, Mapping) or "$distinct_id" not in p:
            raise InputError(f"profile #{i}: expected an Engage result "
                             f'{{"$distinct_id": …, "$properties": {{…}}}}, got {p!r:.80}')
        out[str(p["$distinct_id"])] = p.get("$properties") or {}
    return out


class Compiled:
    """``where`` → ``keep(record)``; ``on`` → ``key(record)`` (a segment key string) and
    ``value(record)`` (the raw Mixpanel value)."""

    def __init__(self, where, on, *, semantics: Semantics, profiles=None, now=None) -> None:
        self.sem = semantics
        self.profiles = profiles_map(profiles)
        where_node = to_node("where", where)
        on_node = to_node("on", on)
        kw = dict(profiles=self.profiles, semantics=semantics, now=now)
        self.keep = (compile_predicate(where_node, "events", **kw)
                     if where_node is not None else None)
        self.value = (compile_expression(on_node, "events", **kw)
                      if on_node is not None else None)
        ops = _evaluator_ops(semantics)
        to_string = ops.to_string
        undefined = semantics.undefined_segment
        as_json = semantics.segment_key == "json"

        def key(value) -> str:
            if value is Undefined:
                return undefined
            if type(value) is str and not as_json:
                return value
            if value is None:
                return "null"
            if as_json or isinstance(value, (list, dict)):
                try:
                    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                                      default=str)
                except (TypeError, ValueError):
                    return str(value)
            text = to_string(value)
            return undefined if text is Undefined else text

        self.key = key



def compile_optional(name: str, expr, semantics, profiles, now=None):
    node = to_node(name, expr)
    if node is None:
        return None
    return compile_predicate(node, "events", profiles=profiles_map(profiles),
                             semantics=semantics, now=now)


def distinct_id_of(props):
    did = props.get("distinct_id")
    if did is None:
        did = props.get("$distinct_id")
    return None if did is None else str(did) if type(did) is not str else did


def is_number(value) -> bool:
    t = type(value)
    return (t is int or t is float) and (t is int or math.isfinite(value))


def top_segments(totals: Mapping[str, float], limit: int | None) -> list[str]:
    """Segment keys by total, largest first (ties by key), cut to ``limit``."""
    order = sorted(totals, key=lambda k: (-totals[k], k))
    return order if limit is None else order[:limit]


def record_parts(record, n: int):
    """``(name, properties)`` of an export line, or InputError naming line ``n``."""
    try:
        props = record["properties"]
        name = record.get("event")
    except (KeyError, TypeError, AttributeError):
        raise InputError(f"event #{n}: expected an export line "
                         f'{{"event": …, "properties": {{…}}}}, got {record!r:.80}') from None
    if not isinstance(props, Mapping):
        raise InputError(f"event #{n}: \"properties\" must be an object, got {props!r:.60}")
    return name, props


def as_events(events) -> Iterable:
    if isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
        raise ArgumentTypeError(f"events must be an iterable of export lines, got "
                                f"{type(events).__name__}")
    return events


_MAX_SECONDS = 4294967295


def bad_line(rec, n) -> InputError:
    """The precise InputError for an export line that the fast path could not read."""
    try:
        record_parts(rec, n)
    except InputError as exc:
        return exc
    if "event" not in rec:
        return InputError(f"event #{n}: the export line has no \"event\" name")
    t = rec["properties"].get("time")
    return InputError(f"event #{n}: properties.time must be Unix seconds (or milliseconds), got "
                      f"{t!r:.40}; aggregates cannot place an event without it")


def timed(events, names=None):
    """``(n, name, seconds, record, properties)`` for every export line (only those named in
    ``names`` when given), with ``time`` read as seconds (milliseconds above 4294967295)."""
    for n, rec in enumerate(as_events(events), 1):
        try:
            name = rec["event"]
            if names is not None and name not in names:
                continue
            props = rec["properties"]
            t = props["time"]
        except (KeyError, TypeError, AttributeError):
            raise bad_line(rec, n) from None
        tt = type(t)
        if (tt is not int and tt is not float) or t != t or not isinstance(props, Mapping):
            raise bad_line(rec, n)
        if t > _MAX_SECONDS:
            t = t / 1000
        yield n, name, t, rec, props

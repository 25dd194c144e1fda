"""From a planned step to concrete HTTP requests, once the ids it consumes are known.

``expand(step, ids)`` is the run-time half of the mixed-scope rewrite (mpql/planner/rewrite.py)
and the single implementation of the id strategies that ``Consumes`` records, so that the
executor, ``Plan.to_curl`` and the tests agree byte for byte:

1. **where-in**: every id atom becomes ``properties["$distinct_id"] == "id"`` (one id) or
   ``… in ["a", "b"]``; an empty set becomes ``false`` and the where is simplified (a where
   that simplifies to ``false`` needs no request at all). Used when every URL fits.
2. **where-in, batched**: when an atom is a top-level conjunct (``splittable``), its ids are
   packed greedily by *encoded length* into batches so that each URL fits; batches are
   disjoint and the atom is a necessary condition, so each event comes from at most one
   batch — exact, no duplicates. Other atoms stay inline if they fit, else go to 3.
3. **client-filter**: atoms that cannot be inlined are replaced by the constant that only
   widens the server's result (``true`` where the atom is under an even number of ``not``,
   ``false`` under an odd one), the server ``limit`` is dropped (it would cut before the
   filter), and ``keep(record)`` re-applies the exact test locally: pure id logic by set
   lookup, conditions that mix ids with event properties through the evaluator.

Requests are listed date chunk by date chunk, batch by batch.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Mapping

import attrs

from .._convert import to_dict, to_tuple
from ..errors import PlanError
from ..language import ast as A
from ..language import parse
from ..language.printer import format_expr, quote
from . import encode as E
from .model import Step
from .rewrite import is_sentinel, sentinel_step, simplify

__all__ = ["Request", "Expansion", "expand", "id_test", "record_distinct_id"]

_ACCEPT = {"engage": "application/json", "export": "text/plain"}


@attrs.frozen
class Request:
    """One HTTP request. ``url`` includes the encoded query string; ``body`` is the encoded form
    body (POST) or None; ``params`` are the values as sent, before percent-encoding."""

    method: str
    url: str
    body: str | None
    params: Mapping[str, str] = attrs.field(converter=to_dict)
    headers: Mapping[str, str] = attrs.field(converter=to_dict)
    chunk: tuple | None = None


@attrs.frozen
class Expansion:
    """``requests`` to send; ``keep`` the local record filter (or None); ``strategy`` one of
    "plain", "where-in", "where-in-batched", "client-filter", "nothing-to-do"; ``reason``."""

    requests: tuple = attrs.field(converter=to_tuple)
    keep: Callable[[dict], bool] | None = None
    strategy: str = "plain"
    reason: str = ""
    limit: int | None = None


def id_test(ids, prop: str = "$distinct_id") -> A.Expr:
    """The exact test "the event's distinct id is one of ``ids``"."""
    ids = list(ids)
    target = A.Property("properties", prop)
    if not ids:
        return A.Boolean(False)
    if len(ids) == 1:
        return A.Compare("==", target, A.String(ids[0]))
    return A.In(target, A.ListLiteral([A.String(i) for i in ids]))


def record_distinct_id(record: Mapping) -> str | None:
    """An export record's distinct id (export writes ``properties.distinct_id``)."""
    props = record.get("properties") or {}
    for key in ("distinct_id", "$distinct_id"):
        if key in props and props[key] is not None:
            return str(props[key])
    value = record.get("distinct_id", record.get("$distinct_id"))
    return None if value is None else str(value)


@lru_cache(maxsize=1)
def _plain():
    # Compiled on first use: this character class costs ~20 ms to compile (CLI start-up).
    return re.compile(r'^[^"\\\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]*$')


def _literal_cost(ident: str) -> int:
    """Encoded length of the string literal for ``ident`` (fast path: nothing to escape)."""
    literal = f'"{ident}"' if _plain().match(ident) else quote(ident)
    return len(E.encode_component(literal))


def _request(step: Step, params: dict, chunk=None) -> Request:
    sent = {k: E.encode_value(k, v, step.json_params) for k, v in params.items() if v is not None}
    headers = {"accept": _ACCEPT.get(step.endpoint, "application/json")}
    if step.encoding == "form":
        in_url = {k: v for k, v in params.items() if k in step.url_params and v is not None}
        in_body = {k: v for k, v in params.items() if k not in step.url_params}
        query = E.encode_params(in_url, step.json_params)
        url = step.url + ("?" + query if query else "")
        headers["content-type"] = "application/x-www-form-urlencoded"
        return Request(step.method, url, E.encode_params(in_body, step.json_params), sent,
                       headers, chunk)
    query = E.encode_params(params, step.json_params)
    return Request(step.method, step.url + ("?" + query if query else ""), None, sent, headers,
                   chunk)


def _chunks(step: Step) -> list:
    from .query import date_chunks

    p = step.params
    if step.endpoint != "export" or "from_date" not in p:
        return [None]
    return date_chunks(p["from_date"], p["to_date"], step.chunking)


def _with_chunk(params: dict, chunk) -> dict:
    if chunk is None:
        return dict(params)
    out = dict(params)
    out["from_date"], out["to_date"] = chunk
    return out


def expand(step: Step, ids: Mapping[int, Any] | None = None, *,
           predicate_factory: Callable | None = None) -> Expansion:
    """The concrete requests of ``step``. ``ids`` maps the index of each step this one consumes
    to the distinct ids it produced (any iterable; compared as strings, de-duplicated).
    ``predicate_factory(expr) -> (record -> bool)`` evaluates event conditions for the
    client-filter strategy (default: ``mpql.compile_predicate(expr, scope="events")``)."""
    chunks = _chunks(step)
    if not step.inputs:
        reqs = [_request(step, _with_chunk(step.params, c), c) for c in chunks]
        return Expansion(reqs, None, "plain", "no ids to substitute", step.limit)
    if step.encoding != "query":
        raise PlanError(f"a {step.endpoint} step cannot consume ids (only export steps do)")
    ids = ids or {}
    sets: dict[int, list[str]] = {}
    for c in step.inputs:
        if c.step not in ids:
            raise PlanError(f"step needs the distinct ids found by step {c.step + 1}: pass "
                            f"ids={{{c.step}: [...]}}")
        raw = ids[c.step]
        if isinstance(raw, (str, bytes)):
            raise PlanError(f"ids for step {c.step + 1} must be a collection of ids, not a "
                            "single string")
        raw = list(raw)
        if any(i is None for i in raw):
            # str(None) would be the id "None" (a real user could have it): refuse instead.
            raise PlanError(f"ids for step {c.step + 1} contain None: pass only the distinct "
                            "ids the profiles have (skip records without $distinct_id)")
        sets[c.step] = list(dict.fromkeys(str(i) for i in raw))
    prop = {c.step: c.property for c in step.inputs}
    template = parse(step.params["where"])
    max_url = step.max_url_length or 8000

    def render(inline: dict, relaxed: set) -> A.Expr | None:
        def visit(node, positive):
            if is_sentinel(node):
                k = sentinel_step(node)
                if k in relaxed:
                    return A.Boolean(positive)
                return id_test(inline[k], prop[k])
            if isinstance(node, A.Not):
                return A.Not(visit(node.operand, not positive))
            if isinstance(node, (A.And, A.Or)):
                return type(node)(visit(node.left, positive), visit(node.right, positive))
            return node

        return simplify(visit(template, True))

    def params_for(where: A.Expr, drop_limit: bool) -> dict | None:
        if where == A.Boolean(False):
            return None
        params = dict(step.params)
        if where == A.Boolean(True):
            params.pop("where", None)
        else:
            params["where"] = format_expr(where, "wire")
        if drop_limit:
            params.pop("limit", None)
        return params

    def length(params: dict) -> int:
        return len(_request(step, _with_chunk(params, chunks[0]), chunks[0]).url)

    def finish(param_sets: list, relaxed: set, strategy: str, reason: str) -> Expansion:
        reqs = [_request(step, _with_chunk(p, c), c) for c in chunks for p in param_sets]
        for r in reqs:
            if len(r.url) > max_url:  # pragma: no cover - guarded by the packing arithmetic
                raise PlanError(f"internal: a planned URL is {len(r.url)} characters")
        keep = _keep(template, relaxed, sets, predicate_factory) if relaxed else None
        if not reqs:
            strategy, reason = "nothing-to-do", "no profile matched, so no event can match"
        return Expansion(reqs, keep, strategy, reason, step.limit)

    everything = set(sets)
    # Whether the where can match at all depends only on which id sets are empty.
    if params_for(render({k: v[:1] for k, v in sets.items()}, set()), False) is None:
        return finish([], set(), "nothing-to-do", "")
    # 1. every id inline — skipped without printing when a lower bound on the URL (each id at
    #    least its own length plus quotes) already exceeds the budget.
    lower_bound = len(step.url) + sum(len(i) + 2 for ids_ in sets.values() for i in ids_)
    if lower_bound <= max_url:
        params = params_for(render(sets, set()), False)
        if length(params) <= max_url:
            return finish([params], set(), "where-in", "every id fits in one URL per request")

    # 2. split one top-level atom into batches
    splittable = [c.step for c in step.inputs if c.splittable and sets[c.step]]
    if splittable:
        b = max(splittable, key=lambda k: len(sets[k]))
        others = everything - {b}
        for relaxed in (set(), others):
            # Measure the URL around a two-item list of markers; each real id then adds its
            # own encoded length plus one separator (the list text is additive).
            marker = "\x00"
            base = params_for(render({**sets, b: [marker, marker]}, relaxed), bool(relaxed))
            if base is None:
                continue
            sep = len(E.encode_component(", "))
            base_len = length(base) - 2 * len(E.encode_component(quote(marker))) - sep
            costs = [_literal_cost(i) for i in sets[b]]
            # `properties[p] == "x"` is up to 2 characters longer than `… in ["x"]`: slack.
            budget = max_url - base_len - 2
            if max(costs) > budget:
                continue
            batches, cur, used = [], [], 0
            for ident, cost in zip(sets[b], costs):
                extra = cost + (sep if cur else 0)
                if cur and used + extra > budget:
                    batches.append(cur)
                    cur, used = [], 0
                    extra = cost
                cur.append(ident)
                used += extra
            batches.append(cur)
            param_sets = []
            for batch in batches:
                p = params_for(render({**sets, b: batch}, relaxed), bool(relaxed))
                if p is not None:
                    param_sets.append(p)
            reason = (f"{len(sets[b])} ids of step {b + 1} split into {len(batches)} batches "
                      f"of URLs ≤ {max_url} characters")
            if relaxed:
                reason += "; the other id tests are applied locally"
            return finish(param_sets, relaxed, "where-in-batched", reason)

    # 3. relax every atom, filter locally
    params = params_for(render(sets, everything), True)
    if params is None:  # pragma: no cover - relaxing only widens
        return finish([], set(), "nothing-to-do", "")
    if length(params) > max_url:
        raise PlanError(f"the export where is longer than {max_url} characters even without "
                        "the id lists; shorten it or raise max_url_length")
    return finish([params], everything, "client-filter",
                  "the ids do not fit in a URL and cannot be split soundly; exporting with the "
                  "event conditions only and keeping the records whose id passes the test")


# ---------------------------------------------------------------------------------------------


def _keep(template: A.Expr, relaxed: set, sets: dict, factory) -> Callable[[dict], bool]:
    """The local filter: every top-level conjunct that contains a relaxed atom, evaluated
    exactly (the server already enforced the others)."""
    lookups = {k: frozenset(v) for k, v in sets.items()}
    checks = []
    for conj in A.conjuncts(template):
        atoms = {sentinel_step(n) for n in A.walk(conj) if is_sentinel(n)}
        if not atoms & relaxed:
            continue
        if _pure(conj):
            checks.append(_pure_check(conj, lookups))
        else:
            if factory is None:
                from mpql.evaluator import compile_predicate

                def factory(expr):
                    return compile_predicate(expr, scope="events")

            pred = factory(conj)
            names = {k: f"$mpql:ids-of-step-{k + 1}" for k in atoms}

            def check(record, pred=pred, names=names):
                ident = record_distinct_id(record)
                props = dict(record.get("properties") or {})
                for k, name in names.items():
                    props[name] = ident in lookups[k]
                return bool(pred({**record, "properties": props}))

            checks.append(check)

    def keep(record: dict) -> bool:
        return all(check(record) for check in checks)

    return keep


def _pure(node: A.Expr) -> bool:
    return all(isinstance(n, (A.And, A.Or, A.Not, A.Boolean)) or is_sentinel(n)
               for n in A.walk(node))


def _pure_check(node: A.Expr, lookups: dict) -> Callable[[dict], bool]:
    def ev(n, ident):
        if is_sentinel(n):
            return ident in lookups[sentinel_step(n)]
        if isinstance(n, A.Boolean):
            return n.value
        if isinstance(n, A.Not):
            return not ev(n.operand, ident)
        if isinstance(n, A.And):
            return ev(n.left, ident) and ev(n.right, ident)
        return ev(n.left, ident) or ev(n.right, ident)

    def check(record: dict) -> bool:
        return ev(node, record_distinct_id(record))

    return check

"""Why did nothing match? Explanations for an empty evaluation result, from the loaded data.

The checker explains what is wrong with an expression in general; this module explains what is
wrong with it *for the loaded data*: a property no record carries (with "did you mean"), a value
the property never takes (with the values it does take), a literal of a type the property never
holds, and — for a conjunction — how many records each condition matches on its own, which
points at the condition that empties the result.

Everything here is derived from the data and the AST; it never guesses. When none of these
explains the empty result, the report says so.
"""

from __future__ import annotations

import difflib

from ..language import ast as A
from ..language.printer import format_expr, quote
from .catalog import Catalog, scope_for_accessor, value_type

__all__ = ["explain_empty", "mixed_type_notes", "describe_property"]

MAX_NOTES = 6


def describe_property(prop: A.Property) -> str:
    return f"{prop.scope}[{quote(prop.name)}]"


def _literal(node):
    if isinstance(node, (A.String, A.Number, A.Boolean)):
        return node.value
    return _NOLIT


_NOLIT = object()


def _did_you_mean(name: str, names: list[str]) -> str | None:
    lowered = {n.lower(): n for n in names}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return close[0]
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def _fmt_value(value) -> str:
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def explain_empty(expr: A.Expr, catalog: Catalog, scope: str, endpoint: str,
                  count_matches=None) -> list[str]:
    """Notes (one line each) on why ``expr`` matched no record of ``scope``.

    ``count_matches(subexpr) -> int`` counts the loaded records a sub-expression selects; it is
    used for the per-condition breakdown of a conjunction (omitted when None)."""
    notes: list[str] = []
    seen_props: set = set()
    noun = f"{scope}s"
    for node in A.walk(expr):
        if isinstance(node, A.Property) and (node.scope, node.name) not in seen_props:
            seen_props.add((node.scope, node.name))
            note = _missing_property(node, catalog, endpoint, noun)
            if note:
                notes.append(note)
        elif isinstance(node, A.Compare) and node.op in ("==", "!="):
            notes.extend(_unseen_value(node.left, node.right, node.op, catalog, endpoint, noun))
        elif isinstance(node, A.In) and isinstance(node.right, A.ListLiteral) \
                and isinstance(node.left, A.Property):
            notes.extend(_unseen_in_list(node.left, node.right, catalog, endpoint, noun))
        elif isinstance(node, A.In) and isinstance(node.left, A.String) \
                and isinstance(node.right, A.Property):
            notes.extend(_unseen_substring(node.left.value, node.right, catalog, endpoint,
                                           noun))
        elif isinstance(node, A.Compare):
            notes.extend(_type_mismatch(node, catalog, endpoint, noun))
    parts = A.conjuncts(expr)
    if count_matches is not None and len(parts) > 1:
        counts = [(count_matches(p), p) for p in parts]
        lines = [f"  {n:>7}  {format_expr(p)}" for n, p in counts]
        if all(n for n, _ in counts):
            notes.append(f"each condition matches some {noun} on its own, but no single one "
                         "satisfies all of them:")
        else:
            notes.append("matches per condition on its own:")
        notes.extend(lines)
    if not notes:
        notes.append(f"nothing in the expression points at a cause: no loaded {scope} "
                     "satisfies it")
    return notes


#: Event properties Mixpanel's filters spell differently from the export lines that carry
#: them (the evaluator resolves them the same way, mpql/evaluator/records.py).
EXPORT_ALIASES = {"$distinct_id": "distinct_id", "$time": "time"}


def _lookup(catalog: Catalog, scope: str, name: str, *, values: bool = False):
    field = catalog.get(scope, name)
    if (field is None or not field.count) and scope == "event" and name in EXPORT_ALIASES:
        # `$time` is a datetime made from `time`: an alias for presence, not for values.
        if values and name == "$time":
            return None
        field = catalog.get(scope, EXPORT_ALIASES[name])
    return field


def _missing_property(prop: A.Property, catalog: Catalog, endpoint: str, noun: str):
    scope = scope_for_accessor(prop.scope, endpoint)
    if scope is None:
        return None
    field = _lookup(catalog, scope, prop.name)
    if field is not None and field.count:
        return None
    if catalog.records[scope] == 0:
        return f"{describe_property(prop)} reads {scope}s, and no {scope}s are loaded"
    names = [f.name for f in catalog.sorted_fields(scope) if f.count]
    guess = _did_you_mean(prop.name, names)
    hint = f"; did you mean {prop.scope}[{quote(guess)}]?" if guess else ""
    return f"no loaded {scope} has {describe_property(prop)}{hint}"


def _field_for(node, catalog: Catalog, endpoint: str):
    if not isinstance(node, A.Property):
        return None
    scope = scope_for_accessor(node.scope, endpoint)
    if scope is None:
        return None
    field = _lookup(catalog, scope, node.name, values=True)
    return field if field is not None and field.count else None


def _unseen_value(left, right, op, catalog, endpoint, noun) -> list[str]:
    prop, lit = (left, right) if isinstance(left, A.Property) else (right, left)
    value = _literal(lit)
    field = _field_for(prop, catalog, endpoint)
    if field is None or value is _NOLIT:
        return []
    observed = [t for t in field.type.split("|") if t != "null"]
    lit_type = value_type(value)
    if lit_type not in observed and not (lit_type == "string" and "datetime" in observed):
        return [f"{describe_property(prop)} holds {' or '.join(observed)} values in the loaded "
                f"{noun}, never {lit_type}; `{op}` between different types is "
                + ("always false" if op == "==" else "always true")]
    if op != "==" or field.high_cardinality:
        return []
    values = dict(field.top_values(10_000))
    if value in values:
        return []
    return [_never_takes(prop, [value], field, noun)]


def _unseen_in_list(prop, lst, catalog, endpoint, noun) -> list[str]:
    field = _field_for(prop, catalog, endpoint)
    if field is None or field.high_cardinality:
        return []
    wanted = [_literal(i) for i in lst.items]
    if any(v is _NOLIT for v in wanted):
        return []
    values = dict(field.top_values(10_000))
    if any(v in values for v in wanted):
        return []
    return [_never_takes(prop, wanted, field, noun)]


def _unseen_substring(text: str, prop, catalog, endpoint, noun) -> list[str]:
    # `"x" in prop` is a case-sensitive substring test (or list membership for list values).
    field = _field_for(prop, catalog, endpoint)
    if field is None or field.high_cardinality:
        return []
    values = [(v, n) for v, n in field.top_values(10_000) if isinstance(v, str)]
    if any(text in v for v, _ in values):
        return []
    folded = [(v, n) for v, n in values if text.lower() in v.lower()]
    if folded:
        shown = ", ".join(f"{quote(v)} ({n})" for v, n in folded[:3])
        return [f"no value of {describe_property(prop)} contains {quote(text)}; with the case "
                f"ignored these would: {shown} (`in` is case-sensitive)"]
    return [f"no value of {describe_property(prop)} in the loaded {noun} contains {quote(text)}"]


def _never_takes(prop, wanted, field, noun) -> str:
    top = field.top_values(5)
    shown = ", ".join(f"{_fmt_value(v)} ({n})" for v, n in top)
    what = " or ".join(_fmt_value(v) for v in wanted)
    text = f"{describe_property(prop)} is never {what} in the loaded {noun}"
    strings = [str(v) for v, _ in field.top_values(10_000) if isinstance(v, str)]
    guesses = [g for v in wanted if isinstance(v, str)
               for g in [_did_you_mean(v, strings)] if g]
    if guesses:
        text += f"; did you mean {quote(guesses[0])}?"
    if shown:
        text += f" (most common: {shown})"
    return text


def _type_mismatch(node: A.Compare, catalog, endpoint, noun) -> list[str]:
    # Ordering (<, >, …) needs numbers or datetimes on both sides (docs/mixpanel-reference.md §1.6).
    for side, other in ((node.left, node.right), (node.right, node.left)):
        field = _field_for(side, catalog, endpoint)
        value = _literal(other)
        if field is None or value is _NOLIT:
            continue
        observed = [t for t in field.type.split("|") if t != "null"]
        if isinstance(value, str) and "number" in observed:
            return [f"{describe_property(side)} holds numbers in the loaded {noun}, compared "
                    f"here with the string {quote(value)}: ordering a number against a string "
                    "is always false"]
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and observed and set(observed) <= {"string"}:
            return [f"{describe_property(side)} holds strings in the loaded {noun}; `{node.op}` "
                    f"needs numbers on both sides (wrap it in number(...) if the strings are "
                    "numeric)"]
    return []


def mixed_type_notes(expr: A.Expr, catalog: Catalog, scope: str, endpoint: str) -> list[str]:
    """Notes for comparisons that silently skip some records because the property holds
    different types in different records (`seats` is 50 in most profiles, "50" in some).
    Shown whether or not anything matched: the result is smaller than it looks."""
    notes = []
    seen = set()
    for node in A.walk(expr):
        if not isinstance(node, A.Compare):
            continue
        for side, other in ((node.left, node.right), (node.right, node.left)):
            field = _field_for(side, catalog, endpoint)
            value = _literal(other)
            if field is None or value is _NOLIT or (side.scope, side.name) in seen:
                continue
            counts = field.type_counts()
            lit_type = value_type(value)
            if lit_type == "string" and "datetime" in counts:
                lit_type = "datetime"
            others = {t: n for t, n in counts.items() if t not in (lit_type, "null")}
            if lit_type not in counts or not others:
                continue
            seen.add((side.scope, side.name))
            what = ", ".join(f"a {t} in {n:,}" for t, n in sorted(others.items()))
            cast = {"number": "number", "string": "string"}.get(lit_type)
            hint = f"; wrap it in {cast}(...) to compare them all" if cast else ""
            notes.append(f"{describe_property(side)} is {what} of the {field.count:,} "
                         f"{scope}s that have it; `{node.op}` against a {lit_type} never "
                         f"selects those{hint}")
    return notes

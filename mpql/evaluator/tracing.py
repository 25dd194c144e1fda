"""Why did (or didn't) a filter select this record? Every sub-expression with its value.

``explain(expr, record)`` renders the reference interpreter's trace (interpreter.Tracer) as
a tree, so the usual surprises of Mixpanel's semantics are visible at a glance — a number
sent as a string, a missing property turning a comparison undefined, an operand that
``and`` never looked at::

    properties["plan"] == "pro" and properties["n"] > 10        → false
    ├── properties["plan"] == "pro"                             → true
    │   ├── properties["plan"]                                  → "pro" (string)
    │   └── "pro"                                               → "pro" (string)
    └── properties["n"] > 10                                    → undefined
        ├── properties["n"]                                     → "42" (string)
        └── 10                                                  → 10 (number)

Used by ``mpql filter --trace`` and available to the REPL.
"""

from __future__ import annotations

from ..errors import EvaluationError
from ..language import ast as A
from ..language.printer import format_expr
from .values import Undefined, format_value, kind

__all__ = ["render_trace", "describe_value"]

_MAX_TEXT = 60


def describe_value(value) -> str:
    if isinstance(value, EvaluationError):
        return "error: Mixpanel would reject the query"
    if value is Undefined:
        return "undefined"
    if value is True or value is False:
        return "true" if value else "false"
    text = format_value(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({kind(value)})"


def _text(node: A.Expr) -> str:
    text = format_expr(node)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def render_trace(steps: list, node: A.Expr) -> str:
    """The steps of a Tracer as an indented tree with values in one column."""
    rows: list[tuple[str, str]] = []

    def emit(index: int, prefix: str, last: bool, top: bool) -> int:
        depth, current, value = steps[index]
        branch = "" if top else ("└── " if last else "├── ")
        rows.append((prefix + branch + _text(current), describe_value(value)))
        child_prefix = prefix if top else prefix + ("    " if last else "│   ")
        # children: the following steps one level deeper, until we are back at this depth
        kids = []
        j = index + 1
        while j < len(steps) and steps[j][0] > depth:
            if steps[j][0] == depth + 1:
                kids.append(j)
            j += 1
        if isinstance(current, A.And):
            skipped = A.conjuncts(current)[len(kids):]
        elif isinstance(current, A.Or):
            skipped = A.disjuncts(current)[len(kids):]
        else:
            skipped = ()
        failed = isinstance(value, EvaluationError)
        for n, k in enumerate(kids):
            before = len(rows)
            emit(k, child_prefix, n == len(kids) - 1 and not skipped, False)
            if failed and steps[k][1] is value.node:
                left, right = rows[before]
                rows[before] = (left, right + "  ✗ not a boolean operand")
        reason = "evaluation stopped" if failed else "the left operand decided"
        for n, rest in enumerate(skipped):
            rows.append((child_prefix + ("└── " if n == len(skipped) - 1 else "├── ") + _text(rest),
                         f"not evaluated ({reason})"))
        return j

    if steps:
        emit(0, "", True, True)
    width = min(max(len(r[0]) for r in rows), _MAX_TEXT + 12) if rows else 0
    return "\n".join(f"{left.ljust(width)}  → {right}" for left, right in rows)

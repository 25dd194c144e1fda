"""The builder DSL: compose mpql expressions in Python, safely, from values you do not control.

Every builder value is a ``Term``: a thin wrapper around an AST node (``term.expr``) that adds
Python operators. The AST is exactly the one the parser produces, so::

    >>> from mpql import prop, user
    >>> (prop("plan") == "Premium").expr == mpql.parse('properties["plan"] == "Premium"')
    True

Why a wrapper instead of operators on the AST nodes: AST nodes must keep structural ``==``
(tests, caches and the planner compare trees), while a builder needs ``==`` to *build* a
comparison. Keeping the two apart means neither lies.

Values are turned into literals by one converter, ``lit()``; strings are always literals there,
never parsed, so an untrusted value such as ``'x" or true or "'`` stays a string. Where a
*condition* is expected (``and_``, ``or_``, ``not_``, ``&``, ``|``, ``condition()`` and the
planner's ``where=``) a ``str`` is expression text and is parsed.

A ``Term`` refuses ``bool()`` (so ``a == 1 and b == 2`` and ``1 < x < 5`` raise instead of
silently dropping a condition) and is not hashable. See docs/builder.md.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
from typing import Any, Callable, Iterable

from ..errors import BuildError
from ..language import ast as A

__all__ = [
    "Term",
    "prop",
    "user",
    "event",
    "behavior",
    "lit",
    "condition",
    "and_",
    "or_",
    "not_",
    "any_",
    "NOW",
    "to_expr",
]

#: Above this many operands ``and_``/``or_`` build a balanced tree (depth log n) instead of the
#: parser's left-nested chain, so that printing a huge generated filter cannot hit Python's
#: recursion limit. Both shapes print to equivalent text.
_CHAIN_LIMIT = 32


_NO_DEFAULT = object()


class Term:
    """A builder expression. ``.expr`` is the AST node; operators build new Terms."""

    __slots__ = ("expr",)
    __hash__ = None  # type: ignore[assignment]  # == builds a condition, so no hashing

    def __init__(self, expr: A.Expr) -> None:
        if not isinstance(expr, A.Expr):
            raise BuildError(f"Term wraps an mpql AST node, got {type(expr).__name__}")
        self.expr = expr

    # -- text ----------------------------------------------------------------------------------
    def __str__(self) -> str:
        from ..language.printer import format_expr

        return format_expr(self.expr)

    def __repr__(self) -> str:
        return f"Term({self})"

    def text(self, style: str = "pretty") -> str:
        """The expression as text: ``"pretty"`` (canonical) or ``"wire"`` (sent to Mixpanel)."""
        from ..language.printer import format_expr

        return format_expr(self.expr, style)

    # -- safety ----------------------------------------------------------------------------------
    def __bool__(self) -> bool:
        raise BuildError(
            f"the truth value of an mpql expression ({self}) is not defined: Python's `and`, "
            "`or`, `not`, `if` and chained comparisons (`1 < x < 5`) cannot build expressions. "
            "Use `&`, `|`, `~` (with parentheses: `(a == 1) & (b == 2)`), or and_(), or_(), "
            "not_(); write `1 < x < 5` as `(x > 1) & (x < 5)`"
        )

    def __contains__(self, item: Any) -> bool:
        raise BuildError(
            "`value in term` cannot build an expression (Python forces the result to a bool); "
            f"use {self}.contains(value) for a substring or list-membership test"
        )

    def __iter__(self):
        raise BuildError(f"an mpql expression ({self}) is not iterable")

    # -- comparison ------------------------------------------------------------------------------
    def _cmp(self, op: str, other: Any) -> "Term":
        if other is None:
            hint = "not_(x.defined())" if op == "==" else "x.defined()"
            raise BuildError(
                f"cannot compare {self} {op} None: Mixpanel has no null literal; "
                f"to test whether a property is set use {hint}"
            )
        return Term(A.Compare(op, self.expr, to_value(other)))

    def __eq__(self, other: Any) -> "Term":  # type: ignore[override]
        return self._cmp("==", other)

    def __ne__(self, other: Any) -> "Term":  # type: ignore[override]
        return self._cmp("!=", other)

    def __lt__(self, other: Any) -> "Term":
        return self._cmp("<", other)

    def __le__(self, other: Any) -> "Term":
        return self._cmp("<=", other)

    def __gt__(self, other: Any) -> "Term":
        return self._cmp(">", other)

    def __ge__(self, other: Any) -> "Term":
        return self._cmp(">=", other)

    # -- arithmetic ------------------------------------------------------------------------------
    def __add__(self, other: Any) -> "Term":
        return Term(A.Arith("+", self.expr, to_value(other)))

    def __radd__(self, other: Any) -> "Term":
        return Term(A.Arith("+", to_value(other), self.expr))

    def __sub__(self, other: Any) -> "Term":
        return Term(A.Arith("-", self.expr, to_value(other)))

    def __rsub__(self, other: Any) -> "Term":
        return Term(A.Arith("-", to_value(other), self.expr))

    def __mul__(self, other: Any) -> "Term":
        return Term(A.Arith("*", self.expr, to_value(other)))

    def __rmul__(self, other: Any) -> "Term":
        return Term(A.Arith("*", to_value(other), self.expr))

    def __truediv__(self, other: Any) -> "Term":
        return Term(A.Arith("/", self.expr, to_value(other)))

    def __rtruediv__(self, other: Any) -> "Term":
        return Term(A.Arith("/", to_value(other), self.expr))

    def __mod__(self, other: Any) -> "Term":
        return Term(A.Arith("%", self.expr, to_value(other)))

    def __rmod__(self, other: Any) -> "Term":
        return Term(A.Arith("%", to_value(other), self.expr))

    def __neg__(self) -> "Term":
        # `-5` parses as the literal Number(-5); keep the builder's `-lit(5)` equal to that.
        if isinstance(self.expr, A.Number) and not isinstance(self.expr.value, bool):
            return Term(A.Number(-self.expr.value))
        return Term(A.Neg(self.expr))

    def __pos__(self) -> "Term":
        return self

    # -- logic -----------------------------------------------------------------------------------
    def __and__(self, other: Any) -> "Term":
        return Term(A.And(self.expr, to_condition(other)))

    def __rand__(self, other: Any) -> "Term":
        return Term(A.And(to_condition(other), self.expr))

    def __or__(self, other: Any) -> "Term":
        return Term(A.Or(self.expr, to_condition(other)))

    def __ror__(self, other: Any) -> "Term":
        return Term(A.Or(to_condition(other), self.expr))

    def __invert__(self) -> "Term":
        return Term(A.Not(self.expr))

    # -- methods ---------------------------------------------------------------------------------
    def contains(self, value: Any) -> "Term":
        """``value in self``: substring test on a string, membership on a list property."""
        return Term(A.In(to_value(value), self.expr))

    def is_in(self, values: Iterable[Any]) -> "Term":
        """``self in [v1, v2, …]``: equal to one of ``values`` (a list literal)."""
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise BuildError(
                f"is_in() takes a list or tuple of values, got {type(values).__name__}; "
                "for a substring test use .contains()"
            )
        items = _ordered(values)
        if not items:
            raise BuildError(
                f"{self}.is_in([]) would match nothing: an empty list is almost always a bug "
                "(e.g. an empty lookup result); handle that case before building the filter"
            )
        return Term(A.In(self.expr, _list_literal(items)))

    def defined(self) -> "Term":
        """``defined(self)``: the property is set."""
        return self._call("defined")

    def number(self) -> "Term":
        return self._call("number")

    def string(self, default: Any = _NO_DEFAULT) -> "Term":
        """``string(self)``, or ``string(self, default)``: ``default`` where the cast is
        undefined (a missing property, a list) — the form Mixpanel's hot-shard docs use."""
        if default is _NO_DEFAULT:
            return self._call("string")
        return Term(A.Call("string", (self.expr, to_value(default))))

    def any(self, condition: Callable[["Term"], Any]) -> "Term":
        """``any(X, self, condition(X))``: true when ``condition`` holds for some element of
        this list. ``condition`` is called once with the element as a Term; the variable's
        name is generated (see ``any_``)."""
        return any_(self, condition)

    def boolean(self) -> "Term":
        return self._call("boolean")

    def datetime(self) -> "Term":
        return self._call("datetime")

    def list(self) -> "Term":
        return self._call("list")

    def floor(self) -> "Term":
        return self._call("floor")

    def round(self) -> "Term":
        return self._call("round")

    def ceil(self) -> "Term":
        return self._call("ceil")

    def has_prefix(self, prefix: Any) -> "Term":
        """``has_prefix(self, prefix)`` (documented for JQL only; the checker warns)."""
        return Term(A.Call("has_prefix", (self.expr, to_value(prefix))))

    def _call(self, name: str) -> "Term":
        return Term(A.Call(name, (self.expr,)))


# ---------------------------------------------------------------------------------------------
# Constructors


def _name(kind: str, name: Any) -> str:
    if not isinstance(name, str):
        raise BuildError(f"{kind}() takes the property name as a str, got {type(name).__name__}")
    return name


def prop(name: str) -> Term:
    """``properties["name"]``: an event property (a profile property in a profiles query)."""
    return Term(A.Property("properties", _name("prop", name)))


def user(name: str) -> Term:
    """``user["name"]``: a user-profile property."""
    return Term(A.Property("user", _name("user", name)))


def event(name: str) -> Term:
    """``event["name"]``: an event-level property such as ``$time`` (export)."""
    return Term(A.Property("event", _name("event", name)))


def behavior(name: str) -> Term:
    """``behaviors["name"]``: the count of an engage ``behaviors`` definition."""
    return Term(A.Property("behaviors", _name("behavior", name)))


#: The ``NOW`` macro (current server time, Unix seconds).
NOW = Term(A.Now())


def lit(value: Any) -> Term:
    """A literal from a Python value: str, int, float (finite), bool, list/tuple of those, or
    ``datetime.date``/``datetime.datetime`` (→ ``datetime("YYYY-MM-DDTHH:MM:SS")``).
    A Term is returned unchanged. ``None`` is rejected: use ``.defined()``."""
    return Term(to_value(value))


def condition(value: Any) -> Term:
    """A condition from expression text (parsed), an AST node or a Term."""
    return Term(to_condition(value))


def and_(*conditions: Any) -> Term:
    """All of ``conditions`` (Terms, AST nodes or expression text). At least one is required:
    an empty ``where`` would mean *everything*, which is never what an empty list of
    conditions should silently produce."""
    return Term(_fold(A.And, "and_", conditions))


def or_(*conditions: Any) -> Term:
    """Any of ``conditions``. At least one is required."""
    return Term(_fold(A.Or, "or_", conditions))


def not_(cond: Any) -> Term:
    """``not cond``."""
    return Term(A.Not(to_condition(cond)))


def any_(items: Any, condition: Callable[[Term], Any]) -> Term:
    """``any(X, items, condition(X))``: true when ``condition`` holds for some element of the
    list ``items`` (a Term such as ``prop("tags")``, or a Python list/tuple of literals)::

        any_(prop("tags"), lambda tag: (tag == "vip") | (tag == "gold"))
        # any(X, properties["tags"], X == "vip" or X == "gold")

    ``condition`` is called once, with the element as a Term, and returns a condition (a
    Term, an AST node or expression text). The variable's name is chosen here — ``X``, then
    ``Y``, ``Z``, … avoiding the names of ``any``s nested inside the condition — never taken
    from user input, so it cannot inject text; nested ``any_`` calls get distinct names."""
    if not callable(condition):
        raise BuildError(
            f"any_() takes the condition as a function of the element (e.g. "
            f"lambda x: x == \"vip\"), got {type(condition).__name__} {_short(condition)}"
        )
    items_expr = to_value(items)
    placeholder = f"_mpql_element_{next(_PLACEHOLDERS)}"
    predicate = to_condition(condition(Term(A.Var(placeholder))))
    taken = {n.var for n in A.walk(predicate) if isinstance(n, A.Any)}
    taken |= {n.name for n in A.walk(predicate) if isinstance(n, A.Var)}
    name = next(n for n in _variable_names() if n not in taken)
    predicate = A.transform(
        predicate, lambda n: A.Var(name) if isinstance(n, A.Var) and n.name == placeholder else n)
    return Term(A.Any(name, items_expr, predicate))


def _variable_names():
    yield from ("X", "Y", "Z", "W", "V")
    for i in itertools.count(2):
        yield f"X{i}"


_PLACEHOLDERS = itertools.count()


def _fold(kind: type, fname: str, conditions: tuple) -> A.Expr:
    if len(conditions) == 1 and isinstance(conditions[0], (list, tuple)):
        conditions = tuple(conditions[0])
    if not conditions:
        raise BuildError(
            f"{fname}() needs at least one condition: an empty filter would select every "
            "record; if that is what you want, pass no `where` at all"
        )
    nodes = [to_condition(c) for c in conditions]
    if len(nodes) <= _CHAIN_LIMIT:
        node = nodes[0]
        for item in nodes[1:]:
            node = kind(node, item)
        return node
    return _balanced(kind, nodes)


def _balanced(kind: type, nodes: list) -> A.Expr:
    while len(nodes) > 1:
        paired = [kind(nodes[i], nodes[i + 1]) for i in range(0, len(nodes) - 1, 2)]
        if len(nodes) % 2:
            paired.append(nodes[-1])
        nodes = paired
    return nodes[0]


# ---------------------------------------------------------------------------------------------
# Conversion (the one place Python values become mpql)


def to_expr(value: Any) -> A.Expr:
    """An AST node from a Term, an AST node, or expression text (parsed)."""
    return to_condition(value)


def to_condition(value: Any) -> A.Expr:
    """Where a condition is expected: Terms and nodes as they are, ``str`` parsed as text,
    ``bool`` as ``true``/``false``."""
    if isinstance(value, Term):
        return value.expr
    if isinstance(value, A.Expr):
        return value
    if isinstance(value, str):
        from ..language import parse

        return parse(value)
    if isinstance(value, bool):
        return A.Boolean(value)
    raise BuildError(
        f"expected a condition (a builder expression, an AST node or expression text), got "
        f"{type(value).__name__} {_short(value)}"
    )


def to_value(value: Any) -> A.Expr:
    """Where a value is expected: Terms and nodes as they are; Python values become literals
    (a ``str`` is always a string literal here, never parsed)."""
    if isinstance(value, Term):
        return value.expr
    if isinstance(value, A.Expr):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return _list_literal(_ordered(value))
    return _scalar(value)


def _scalar(value: Any) -> A.Expr:
    if value is None:
        raise BuildError(
            "None has no mpql literal (Mixpanel has no null): to test whether a property is "
            "set use prop(name).defined(), and not_(prop(name).defined()) for unset"
        )
    if isinstance(value, bool):
        return A.Boolean(value)
    if isinstance(value, int):
        return A.Number(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BuildError(
                f"{value!r} cannot be written in a Mixpanel expression (no NaN or infinity); "
                "filter such values out before building"
            )
        return A.Number(value)
    if isinstance(value, str):
        return A.String(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            raise BuildError(
                f"datetime {value.isoformat()} has a timezone, but a Mixpanel datetime literal "
                "has none (Engage reads it in the project timezone): convert it to the "
                "project's timezone and pass a naive datetime, e.g. "
                "value.astimezone(project_tz).replace(tzinfo=None)"
            )
        # Mixpanel compares datetimes at whole seconds, so dropping microseconds changes nothing.
        return A.Call("datetime", (A.String(value.strftime("%Y-%m-%dT%H:%M:%S")),))
    if isinstance(value, _dt.date):
        return A.Call("datetime", (A.String(value.strftime("%Y-%m-%dT00:00:00")),))
    raise BuildError(
        f"cannot turn {type(value).__name__} {_short(value)} into an mpql literal: expected "
        "str, int, float, bool, a list/tuple of those, or datetime.date/datetime.datetime"
    )


def _ordered(values) -> list:
    """The items of ``values``; a set's are sorted, so the same set always gives the same
    expression text (a set's order changes with PYTHONHASHSEED, and with it the URLs, plan
    JSON and the executor's resume keys)."""
    if isinstance(values, (set, frozenset)):
        return sorted(values, key=lambda v: (type(v).__name__, v if isinstance(
            v, (str, int, float)) else repr(v)))
    return list(values)


def _list_literal(values) -> A.ListLiteral:
    items = []
    for item in values:
        if isinstance(item, (list, tuple)):
            raise BuildError("a list literal cannot contain a list: Mixpanel lists hold scalars")
        items.append(item.expr if isinstance(item, Term) else
                     item if isinstance(item, A.Expr) else _scalar(item))
    return A.ListLiteral(items)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

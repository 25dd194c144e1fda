"""The mpql syntax tree: one small frozen attrs class per construct of the language.

Every other part of mpql speaks this tree: the parser produces it, the printer turns it back
into text, the checker types it, the builder composes it, the planner rewrites it and the
evaluator compiles it. Nodes are immutable and compare structurally; the source ``span`` a
node came from is carried along for diagnostics but takes no part in equality or hashing, so a
parsed tree equals the same tree built in Python.

Node kinds (see docs/ast.md for a primer)::

    Expr
    ├── Property(scope, name)        properties["x"], user["x"], event["x"], behaviors["x"]
    ├── String(value)                "text"
    ├── Number(value)                42, 1.5, -3  (int or float; a literal may be negative)
    ├── Boolean(value)               true / false
    ├── Now()                        NOW
    ├── ListLiteral(items)           [1, 2, "a"]
    ├── Call(name, args)             defined(x), number(x), datetime("…"), string(x, "d"), …
    ├── Any(var, items, predicate)   any(X, properties["tags"], X == "v")
    ├── Var(name)                    X — the variable an enclosing Any binds
    ├── Neg(operand)                 -x            (x not a bare number literal)
    ├── Not(operand)                 not x
    ├── Arith(op, left, right)       + - * / %
    ├── Compare(op, left, right)     == != > >= < <=
    ├── In(left, right)              "a" in x, x in [1, 2]
    ├── And(left, right)             binary, left-nested as parsed
    └── Or(left, right)
"""

from __future__ import annotations

from typing import Callable, Iterator, Union

import attrs

from .._lazyre import LazyRegex
from ..errors import ArgumentError, ArgumentTypeError

__all__ = [
    "Span",
    "Expr",
    "Property",
    "String",
    "Number",
    "Boolean",
    "Now",
    "ListLiteral",
    "Call",
    "Any",
    "Var",
    "Neg",
    "Not",
    "Arith",
    "Compare",
    "In",
    "And",
    "Or",
    "SCOPES",
    "ARITH_OPS",
    "COMPARE_OPS",
    "free_vars",
    "is_variable_name",
    "children",
    "walk",
    "fold",
    "transform",
    "conjuncts",
    "disjuncts",
]

#: Property accessors, in the order the docs introduce them.
SCOPES = ("properties", "user", "event", "behaviors")
ARITH_OPS = ("+", "-", "*", "/", "%")
COMPARE_OPS = ("==", "!=", ">", ">=", "<", "<=")


@attrs.frozen
class Span:
    """A half-open range ``[start, end)`` of 0-based character offsets into the source text."""

    start: int
    end: int

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ArgumentError(f"invalid span [{self.start}, {self.end})")

    def slice(self, text: str) -> str:
        return text[self.start : self.end]

    def cover(self, other: "Span | None") -> "Span":
        """The smallest span containing both."""
        if other is None:
            return self
        return Span(min(self.start, other.start), max(self.end, other.end))


def _span_field():
    return attrs.field(default=None, eq=False, repr=False, kw_only=True)


# Equality, hashing and repr come from Expr: iterative (long `or` chains must not hit the
# recursion limit), and generating them once instead of per class keeps `import` fast (attrs'
# generated __repr__ alone costs ~0.5 ms per class at start-up).
_node = attrs.frozen(eq=False, repr=False)


@_node
class Expr:
    """Base of every node. ``span`` is where the node came from in parsed text, else None.

    Equality is structural and ignores spans. It is implemented iteratively (not by attrs'
    generated recursive ``__eq__``) so that comparing or hashing a 10 000-term ``or`` chain
    does not hit the recursion limit.
    """

    span: Span | None = _span_field()

    def __str__(self) -> str:
        from .printer import format_expr

        return format_expr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expr):
            return NotImplemented
        stack = [(self, other)]
        while stack:
            a, b = stack.pop()
            if a is b:
                continue
            if a.__class__ is not b.__class__:
                return False
            for name in _values(a.__class__):
                x, y = getattr(a, name), getattr(b, name)
                if isinstance(x, Expr):
                    stack.append((x, y))
                elif isinstance(x, tuple):
                    if len(x) != len(y):
                        return False
                    stack.extend(zip(x, y))
                elif x != y:
                    return False
        return True

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __repr__(self) -> str:
        """``Compare(op='==', left=Property(scope='properties', name='a'), right=…)`` — the
        attrs format, without the span."""

        def one(node: Expr, subs: tuple) -> str:
            texts = iter(subs)
            parts = []
            for name in _values(node.__class__):
                value = getattr(node, name)
                if isinstance(value, Expr):
                    text = next(texts)
                elif isinstance(value, tuple):
                    inner = ", ".join(next(texts) for _ in value)
                    text = f"({inner},)" if len(value) == 1 else f"({inner})"
                else:
                    text = repr(value)
                parts.append(f"{name}={text}")
            return f"{node.__class__.__name__}({', '.join(parts)})"

        return fold(self, one)

    def __hash__(self) -> int:
        parts = []
        for node in walk(self):
            parts.append(node.__class__.__name__)
            for name in _values(node.__class__):
                value = getattr(node, name)
                if not isinstance(value, (Expr, tuple)):
                    parts.append(value)
                elif isinstance(value, tuple):
                    parts.append(len(value))
        return hash(tuple(parts))


_VALUES: dict = {}


def _values(cls) -> tuple:
    """Names of the fields that take part in equality (all but span), cached per class."""
    names = _VALUES.get(cls)
    if names is None:
        names = _VALUES[cls] = tuple(f.name for f in attrs.fields(cls) if f.name != "span")
    return names


# What the parser reads as a name (grammar/mpql.lark, NAME), so that every Var prints as text
# that parses back to the same Var.
_VAR_NAME = LazyRegex(r"(?:[^\W\d]|\$)[\w$]*")


def _one_of(*allowed: str):
    def check(_instance, attribute, value):
        if value not in allowed:
            raise ArgumentError(f"{attribute.name} must be one of {allowed!r}, got {value!r}")

    return check


def _is_expr(_instance, attribute, value):
    if not isinstance(value, Expr):
        raise ArgumentTypeError(f"{attribute.name} must be an Expr node, got {type(value).__name__}")


def _tuple_of_exprs(value) -> tuple:
    items = tuple(value)
    for item in items:
        if not isinstance(item, Expr):
            raise ArgumentTypeError(f"expected Expr nodes, got {type(item).__name__}")
    return items


@_node
class Property(Expr):
    scope: str = attrs.field(validator=_one_of(*SCOPES))
    name: str = attrs.field(validator=attrs.validators.instance_of(str))


@_node
class String(Expr):
    value: str = attrs.field(validator=attrs.validators.instance_of(str))


def _check_number(_instance, _attribute, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentTypeError(f"Number.value must be int or float, got {type(value).__name__}")
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise ArgumentError("Number.value must be finite (Mixpanel has no NaN or infinity)")


@_node
class Number(Expr):
    value: Union[int, float] = attrs.field(validator=_check_number)


@_node
class Boolean(Expr):
    value: bool = attrs.field(validator=attrs.validators.instance_of(bool))


@_node
class Now(Expr):
    """The ``NOW`` macro: current server time in Unix seconds (docs/mixpanel-reference.md §1.7)."""


@_node
class ListLiteral(Expr):
    items: tuple = attrs.field(converter=_tuple_of_exprs)


def _check_call_name(_instance, attribute, value):
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{attribute.name} must be a str, got {type(value).__name__}")
    if value == "any":
        raise ArgumentError("any(...) is not a Call: build Any(var, items, predicate)")


@_node
class Call(Expr):
    name: str = attrs.field(validator=_check_call_name)
    args: tuple = attrs.field(converter=_tuple_of_exprs)


def _check_var_name(_instance, attribute, value):
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{attribute.name} must be a str, got {type(value).__name__}")
    if not _VAR_NAME.fullmatch(value):
        raise ArgumentError(f"{attribute.name} must be a name (letters, digits, `_`, `$`; not "
                         f"starting with a digit), got {value!r}")
    if not is_variable_name(value):
        raise ArgumentError(f"{attribute.name} {value!r} is reserved: keywords, accessors, "
                         "function names and null/undefined cannot name a variable")


def is_variable_name(name: str) -> bool:
    """Whether ``name`` can name an ``any`` variable: text the parser reads as a name that is
    not a keyword, an accessor, a function or a null spelling (each of which reads as
    something else, so the variable would not print back as itself)."""
    from .parser import FUNCTIONS, RESERVED_WORDS

    return bool(_VAR_NAME.fullmatch(name)) and name.lower() not in RESERVED_WORDS \
        and name not in SCOPES and name not in FUNCTIONS


@_node
class Any(Expr):
    """``any(X, items, predicate)``: true when ``predicate`` holds for some element of the list
    ``items``, with ``X`` bound to that element (Mixpanel's hot-shard docs; docs/language.md).
    ``var`` is scoped to ``predicate`` only."""

    var: str = attrs.field(validator=_check_var_name)
    items: Expr = attrs.field(validator=_is_expr)
    predicate: Expr = attrs.field(validator=_is_expr)


@_node
class Var(Expr):
    """A reference to the variable of an enclosing ``Any``."""

    name: str = attrs.field(validator=_check_var_name)


@_node
class Neg(Expr):
    operand: Expr = attrs.field(validator=_is_expr)


@_node
class Not(Expr):
    operand: Expr = attrs.field(validator=_is_expr)


@_node
class Arith(Expr):
    op: str = attrs.field(validator=_one_of(*ARITH_OPS))
    left: Expr = attrs.field(validator=_is_expr)
    right: Expr = attrs.field(validator=_is_expr)


@_node
class Compare(Expr):
    op: str = attrs.field(validator=_one_of(*COMPARE_OPS))
    left: Expr = attrs.field(validator=_is_expr)
    right: Expr = attrs.field(validator=_is_expr)


@_node
class In(Expr):
    left: Expr = attrs.field(validator=_is_expr)
    right: Expr = attrs.field(validator=_is_expr)


@_node
class And(Expr):
    left: Expr = attrs.field(validator=_is_expr)
    right: Expr = attrs.field(validator=_is_expr)


@_node
class Or(Expr):
    left: Expr = attrs.field(validator=_is_expr)
    right: Expr = attrs.field(validator=_is_expr)


# ---------------------------------------------------------------------------------------------
# Traversal helpers


def children(node: Expr) -> tuple:
    """The direct sub-expressions of ``node``, left to right."""
    if isinstance(node, (ListLiteral,)):
        return node.items
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Any):
        return (node.items, node.predicate)
    if isinstance(node, (Neg, Not)):
        return (node.operand,)
    if isinstance(node, (Arith, Compare, In, And, Or)):
        return (node.left, node.right)
    return ()


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children, left to right (iterative: deep trees
    built in code must not hit the recursion limit)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def fold(node: Expr, combine: Callable[[Expr, tuple], object]):
    """Reduce the tree bottom-up without recursion: ``combine(n, subs)`` gets each node and
    the results for its children (a tuple in ``children(n)`` order) and returns the node's
    result; the root's result is returned. Nodes are visited children first, left to right.
    A chain of thousands of `or` terms is that many levels deep, so recursion would fail."""
    done: dict[int, object] = {}
    stack = [(node, False)]
    while stack:
        current, ready = stack.pop()
        if not ready:
            stack.append((current, True))
            stack.extend((c, False) for c in reversed(children(current)))
            continue
        done[id(current)] = combine(current, tuple(done[id(c)] for c in children(current)))
    return done[id(node)]


def transform(node: Expr, fn: Callable[[Expr], Expr]) -> Expr:
    """Rebuild the tree bottom-up: children first, then ``fn`` on the node with its new
    children. ``fn`` returns the node unchanged to keep it. Spans are preserved. Iterative
    (see ``fold``)."""

    def rebuild(n: Expr, new: tuple) -> Expr:
        if isinstance(n, ListLiteral):
            n = _evolve_if_changed(n, items=new)
        elif isinstance(n, Call):
            n = _evolve_if_changed(n, args=new)
        elif isinstance(n, Any):
            n = _evolve_if_changed(n, items=new[0], predicate=new[1])
        elif isinstance(n, (Neg, Not)):
            n = _evolve_if_changed(n, operand=new[0])
        elif isinstance(n, (Arith, Compare, In, And, Or)):
            n = _evolve_if_changed(n, left=new[0], right=new[1])
        return fn(n)

    return fold(node, rebuild)


def _evolve_if_changed(node: Expr, **changes) -> Expr:
    if all(_same(getattr(node, k), v) for k, v in changes.items()):
        return node
    return attrs.evolve(node, **changes)


def _same(old, new) -> bool:
    if isinstance(old, tuple):
        return len(old) == len(new) and all(a is b for a, b in zip(old, new))
    return old is new


def free_vars(node: Expr) -> list:
    """The ``Var`` nodes of ``node`` that no enclosing ``Any`` inside ``node`` binds, left to
    right. A whole filter must have none (the parser and the checker report them)."""
    out = []
    stack = [(node, frozenset())]
    while stack:
        current, bound = stack.pop()
        if isinstance(current, Var):
            if current.name not in bound:
                out.append(current)
            continue
        if isinstance(current, Any):
            stack.append((current.predicate, bound | {current.var}))
            stack.append((current.items, bound))
            continue
        stack.extend((c, bound) for c in reversed(children(current)))
    return out


def conjuncts(node: Expr) -> list:
    """``a and b and c`` (any nesting) as ``[a, b, c]``."""
    return _flatten(node, And)


def disjuncts(node: Expr) -> list:
    """``a or b or c`` (any nesting) as ``[a, b, c]``."""
    return _flatten(node, Or)


def _flatten(node: Expr, kind: type) -> list:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        if isinstance(current, kind):
            stack.append(current.right)
            stack.append(current.left)
        else:
            out.append(current)
    return out

"""A Mixpanel value inside SQL: one nullable SQL expression per type it can have.

SQL has no dynamic type and its NULL logic is not Mixpanel's ``undefined``, so the compiler
never lets a SQL NULL stand for a Mixpanel value directly. Instead every sub-expression
compiles to a ``V``: for each Mixpanel type the value *might* have, an SQL expression that is
the value when it has that type and NULL otherwise::

    num    DOUBLE   the number                     str   text     the string
    bool   BOOLEAN  the boolean                    dt    DOUBLE   a datetime, whole Unix seconds
    null   BOOLEAN  TRUE when the value is null    lst   JSON     a list (the dialect's JSON type)
    obj    JSON     an object

A type the value cannot have is ``None`` (known at compile time, no SQL at all), so
``1 + 2`` is plain number arithmetic and ``properties["x"]`` carries all seven. Undefined is
"every slot NULL". Operators then follow Mixpanel's tables slot by slot — ``a + b`` is
``num: a.num + b.num, str: a.str || b.str`` — and SQL's NULL propagation gives "undefined
unless both operands have that type" for free. A list *literal* is kept as its items
(``items``), because SQL has no heterogeneous list value; it can only be the right side of
``in`` or an item-wise comparison.
"""

from __future__ import annotations

from sqlglot import exp

__all__ = ["V", "KINDS", "lit_str", "lit_num", "TRUE", "FALSE", "NULL", "case", "coalesce",
           "and_", "or_", "not_", "is_null", "not_null", "try_cast", "parenthesize"]

KINDS = ("num", "str", "bool", "dt", "null", "lst", "obj")

TRUE = exp.true
FALSE = exp.false


def NULL():
    return exp.Null()


def lit_str(text: str) -> exp.Expression:
    return exp.Literal.string(text)


def lit_num(value) -> exp.Expression:
    # repr keeps every digit of a double; a negative literal is a unary minus in SQL.
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "inf" in text or "nan" in text:
            text = format(value, ".17g")
        neg = value < 0 or (value == 0 and text.startswith("-"))
    else:
        text = str(value)
        neg = value < 0
    node = exp.Literal.number(text.lstrip("-"))
    # DOUBLE on every dialect: `7 / 2` must not be integer division anywhere.
    node = exp.Cast(this=node, to=exp.DataType.build("DOUBLE"))
    return exp.Neg(this=node) if neg else node


def paren(e):
    return exp.Paren(this=e) if isinstance(e, (exp.Binary, exp.Not, exp.Neg)) else e


def case(*whens, default=None) -> exp.Expression:
    node = exp.Case()
    for cond, then in whens:
        node = node.when(cond, then)
    if default is not None:
        node = node.else_(default)
    return node


def coalesce(*items) -> exp.Expression:
    items = [i for i in items if i is not None]
    if not items:
        return NULL()
    if len(items) == 1:
        return items[0]
    return exp.Coalesce(this=items[0], expressions=list(items[1:]))


def and_(*items):
    items = [i for i in items if i is not None]
    if len(items) == 1:
        return items[0]
    return exp.and_(*items, copy=False)


def or_(*items):
    items = [i for i in items if i is not None]
    if len(items) == 1:
        return items[0]
    return exp.or_(*items, copy=False)


def not_(e):
    return exp.Not(this=paren(e))


def is_null(e):
    return exp.Is(this=e, expression=exp.Null())


def not_null(e):
    return exp.Not(this=exp.Is(this=e, expression=exp.Null()))


def try_cast(e, to: str) -> exp.Expression:
    # safe=True: TRY_CAST even where sqlglot would assume a lenient CAST (Spark 4 is ANSI).
    return exp.TryCast(this=e, to=exp.DataType.build(to), safe=True)


_OPERATORS = (exp.Binary, exp.Not, exp.Neg, exp.In, exp.Between)


def parenthesize(tree: exp.Expression) -> exp.Expression:
    """Parentheses around every operator operand that is itself an operator.

    A tree built node by node (not parsed) prints without them, and ``NOT a IS NULL`` or
    ``a + b * c`` would then mean something else; redundant parentheses cost nothing."""
    fixes = []
    for node in tree.walk():
        if isinstance(node, _OPERATORS) and not isinstance(node, exp.Dot):
            for key in ("this", "expression"):
                child = node.args.get(key)
                if isinstance(child, _OPERATORS):
                    fixes.append((node, key, child))
    for node, key, child in fixes:
        node.set(key, exp.Paren(this=child))
    return tree


class V:
    """A compiled Mixpanel value (see the module docstring)."""

    __slots__ = KINDS + ("items", "undef", "const", "check", "raw_str")

    def __init__(self, items=None, undef=None, const=None, **slots) -> None:
        for k in KINDS:
            setattr(self, k, slots.pop(k, None))
        if slots:
            raise TypeError(f"unknown slots {sorted(slots)}")
        self.items = items          # list literal: a list of V
        self.undef = undef          # an SQL test for "undefined", when cheaper than the default
        self.const = const          # the Python value, when known at compile time
        #: An SQL boolean that is TRUE or fails the query: an and/or inside this value that
        #: may fail (Semantics.logic_operand="raise") even where its result is not used, as
        #: in ``x + (a and b)`` — the evaluator raises there, so must the SQL.
        self.check = None
        #: Before ISO typing: the property's string (ISO-shaped or not). ``== "literal"``
        #: with a literal that is not ISO-shaped can compare it directly (cheaper).
        self.raw_str = None

    @classmethod
    def undefined(cls) -> "V":
        return cls(undef=exp.true())

    def kinds(self) -> list[str]:
        return [k for k in KINDS if getattr(self, k) is not None]

    def only(self, *kinds) -> bool:
        return all(k in kinds for k in self.kinds()) and self.items is None

    def is_undefined_expr(self) -> exp.Expression:
        """SQL TRUE exactly when the value is undefined."""
        if self.undef is not None:
            return self.undef.copy()
        if self.items is not None:
            return exp.false()
        present = self.kinds()
        if not present:
            return exp.true()
        return and_(*[is_null(getattr(self, k).copy()) for k in present])

    def get(self, kind: str):
        e = getattr(self, kind)
        return None if e is None else e.copy()

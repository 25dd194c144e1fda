"""Expression → one Python function, so filtering a record costs no tree walk.

The compiler turns the syntax tree into the source of a single Python function and ``exec``s
it once (the technique of ``collections.namedtuple`` and attrs). A filter such as
``properties["plan"] == "pro" and properties["n"] > 5`` becomes::

    def _mpql_filter(r):
        try:
            p = r['properties']
            return ((p.get('plan') == 'pro') and (type(_t1 := p.get('n')) in _NUMBER and _t1 > 5))
        except (KeyError, TypeError, AttributeError, IndexError) as exc:
            raise _failed(r, _scope, exc) from None    # InputError if the record is malformed

(``mpql filter --explain`` prints this for any expression.)

Source ids such as [S24] are those of docs/mixpanel-reference.md §0 (Mixpanel's public docs).

Safety: the generated text contains only identifiers and operators the compiler writes, plus
``repr()`` of exact ``str``/``int``/``float`` values (property names, string and number
literals) — the repr of such a value is always a Python literal of the same value, so it
cannot inject code (tests/test_evaluator_api.py tries). Every other value (datetimes, sets,
nodes for error messages, helper closures) is bound in the function's namespace under a
generated name (``_k0``, ``_s1`` …).

Speed comes from three things:

* **constant folding** — literal sub-trees (``datetime("2024-01-01")``, ``NOW - 86400``,
  list literals) are evaluated once, at compile time, with the same ``Ops`` as everything else;
* **specialised shapes** — ``prop == literal``, ``prop != literal``, ``prop <op> number``,
  ``prop in [literals]`` (a tuple or frozenset), ``"lit" in prop``, ``defined(prop)``,
  ``event["$time"] <op> datetime(…)``, ``[datetime(]prop[)] <op> datetime(…)``, ``not …`` and
  ``and``/``or`` chains are written inline as plain Python operations, each guarded so that
  it gives exactly the result of the generic operation (tests/test_evaluator_properties.py
  checks every one against the reference interpreter on a pool of awkward values);
* **result kinds** — every sub-expression is known to yield a bool, a bool-or-undefined, or
  anything; ``and``/``or`` then combine bools with Python's own ``and``/``or`` and only wrap
  the others (``x is True``, or a call that applies Mixpanel's operand rule). Where only
  truth matters (an ``and``/``or``/``not`` operand, the filter itself) a fast path may give
  false for undefined, which drops its ``else U`` branch.

Everything else calls the generic ``Ops`` functions, so semantics live in values.py only.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from datetime import datetime, timezone

from ..errors import EvaluationError
from ..language import ast as A
from .records import EVENTS, PROFILES, SPECIAL_NAMES, Resolver, shape_error
from .interpreter import unbound_variable
from .values import (
    ARITH_METHODS, COMPARE_METHODS, FUNCTION_METHODS, _ISO_CACHE, ISO_PROPERTY, MAX_SECONDS, VALID19, Ops, Undefined, iso19_is_date, iso_parse,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

__all__ = ["compile_function"]

# Result kinds of a compiled sub-expression.
BOOL = "bool"      # always True or False
BOOLU = "boolu"    # True, False or Undefined
ANY = "any"        # any value

_NOCONST = object()

_PROPS_KEY = {EVENTS: "properties", PROFILES: "$properties"}
# Reference scopes that read the record's own property object directly.
_DIRECT_SCOPES = {EVENTS: ("properties", "event"), PROFILES: ("properties", "user")}

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


class _Code:
    __slots__ = ("src", "kind", "const")

    def __init__(self, src: str, kind: str, const=_NOCONST) -> None:
        self.src = src
        self.kind = kind
        self.const = const


def _kind_of(value) -> str:
    if value is True or value is False:
        return BOOL
    if value is Undefined:
        return BOOLU
    return ANY


class _Compiler:
    def __init__(self, ops: Ops, resolver: Resolver, now) -> None:
        self.ops = ops
        self.sem = ops.semantics
        self.resolver = resolver
        self.scope = resolver.scope
        self.now = now
        self.ns: dict = {
            "U": Undefined,
            "_ops": ops,
            "_typed": ops.typed,
            "_read": resolver.read,
            "_EvaluationError": EvaluationError,
            "_NUMBER": frozenset({int, float}),
            "_SIMPLE": frozenset({str, int, float}),
            "_iso_memo": _ISO_CACHE.get,
            "_iso19": iso19_is_date,
            "_valid19": VALID19.get,
            "_datetime": datetime,
        }
        self._names: dict = {}
        self._count = 0
        # any(...) variables in scope: mpql name -> the generated Python name (`_v3`). The
        # user's name never reaches the source text.
        self.vars: dict = {}
        self.raw_vars: dict = {}  # mpql name -> the loop variable holding the untyped element
        # `name in p` is only right when p is a real mapping (on a list or a string it would
        # answer silently); the prologue checks the type only when the body uses it.
        self.uses_in = False

    # -- namespace helpers --------------------------------------------------------------------

    def literal(self, value: str) -> str:
        """A property name as a Python literal (repr of an exact str is always safe)."""
        assert type(value) is str
        return repr(value)

    def bind(self, value, prefix: str = "_k") -> str:
        # Equal values share one name; nodes do not (equal nodes at different places keep
        # their own spans for error messages).
        key = (prefix, type(value), value) if _hashable(value) and not isinstance(value, A.Expr) else None
        if key is not None and key in self._names:
            return self._names[key]
        name = f"{prefix}{self._count}"
        self._count += 1
        self.ns[name] = value
        if key is not None:
            self._names[key] = name
        return name

    def tmp(self) -> str:
        self._count += 1
        return f"_t{self._count}"

    def fn(self, attr: str) -> str:
        """The name of the bound ``Ops`` method ``attr`` in the namespace."""
        name = "_" + attr
        if name not in self.ns:
            self.ns[name] = getattr(self.ops, attr)
        return name

    def const(self, value) -> _Code:
        if value is True:
            return _Code("True", BOOL, True)
        if value is False:
            return _Code("False", BOOL, False)
        if value is Undefined:
            return _Code("U", BOOLU, Undefined)
        if value is None:
            return _Code("None", ANY, None)
        t = type(value)
        if t is str or t is int or t is float:
            # repr() of an exact str/int/float is a Python literal of the same value (finite:
            # Number nodes and Ops never produce NaN or infinity), so it is safe to inline.
            text = repr(value)
            return _Code(f"({text})" if text.startswith("-") else text, _kind_of(value), value)
        return _Code(self.bind(value), _kind_of(value), value)

    # -- nodes --------------------------------------------------------------------------------

    def compile(self, node: A.Expr, truth: bool = False) -> _Code:
        """``truth``: the caller only asks whether the value is ``True`` (and/or operands,
        ``not`` operands, the filter itself), so undefined and false may be produced alike —
        which lets the fast paths drop their ``else U`` branches."""
        method = getattr(self, "_c_" + type(node).__name__)
        return method(node, truth)

    def _fold(self, node: A.Expr, parts: list) -> _Code | None:
        """Evaluate a node whose operands are all constants, once, at compile time."""
        if not all(p.const is not _NOCONST for p in parts):
            return None
        from .interpreter import Interpreter

        try:
            value = Interpreter(self.ops, self.resolver, self.now).value(node, {}, {})
        except EvaluationError:
            return None  # raise per record, as the interpreter would
        return self.const(value)

    def _c_String(self, node, truth=False):
        return self.const(node.value)

    _c_Number = _c_String
    _c_Boolean = _c_String

    def _c_Now(self, node, truth=False):
        return self.const(Undefined if self.now is None else self.now)

    def _c_ListLiteral(self, node, truth=False):
        items = [self.compile(i) for i in node.items]
        if all(i.const is not _NOCONST for i in items):
            value = [i.const for i in items]
            return _Code(self.bind(value, "_l"), ANY, value)
        return _Code("[" + ", ".join(i.src for i in items) + "]", ANY)

    def _direct(self, node) -> str | None:
        """For a property the record's own object holds under its plain name: the name's
        namespace binding (the fast path reads ``p.get(name)``)."""
        if (
            type(node) is A.Property
            and node.scope in _DIRECT_SCOPES[self.scope]
            and node.name not in SPECIAL_NAMES[self.scope]
        ):
            return self.literal(node.name)
        return None

    def _raw(self, node) -> str | None:
        """Source of the untyped value of a property read directly (``p.get(name)``; None when
        missing) or of an ``any`` element (its loop variable), for the comparison fast paths:
        against a number, a boolean or a non-ISO string, typing changes nothing."""
        if type(node) is A.Var:
            return self.raw_vars.get(node.name)
        direct = self._direct(node)
        return None if direct is None else f"p.get({direct})"

    def _c_Property(self, node, truth=False):
        direct = self._direct(node)
        if direct is not None:
            raw = f"p.get({direct}, U)"
            if self.sem.iso_strings_are_datetimes:
                return _Code(f"_typed({raw})", ANY)
            return _Code(raw, ANY)
        return _Code(f"_read(r, p, {node.scope!r}, {self.literal(node.name)})", ANY)

    def _c_Neg(self, node, truth=False):
        operand = self.compile(node.operand)
        return self._fold(node, [operand]) or _Code(f"{self.fn('neg')}({operand.src})", ANY)

    def _c_Not(self, node, truth=False):
        # not_() maps undefined and false alike, so the operand is in a truth context
        operand = self.compile(node.operand, truth=True)
        folded = self._fold(node, [operand])
        if folded:
            return folded
        if operand.kind == BOOL:
            return _Code(f"(not {operand.src})", BOOL)
        if operand.kind == BOOLU:
            # not True → False, not False → True, not undefined → True
            return _Code(f"({operand.src} is not True)", BOOL)
        return _Code(f"{self.fn('not_')}({operand.src})", BOOLU)

    def _c_Arith(self, node, truth=False):
        # `a + b + c …` nests to the left: walk the spine with a loop (no recursion), and
        # write long chains as a flat tuple of assignments — nested calls would hit Python's
        # limit on nested parentheses in source.
        spine = []
        while type(node) is A.Arith:
            spine.append(node)
            node = node.left
        spine.reverse()
        code = self.compile(node)
        steps = []
        for step in spine:
            right = self.compile(step.right)
            folded = self._fold(step, [code, right]) if not steps else None
            if folded:
                code = folded
                continue
            fn = self.fn(ARITH_METHODS[step.op])
            if len(spine) <= 16:
                code = _Code(f"{fn}({code.src}, {right.src})", ANY)
            else:
                steps.append((fn, code.src if not steps else None, right.src))
        if not steps:
            return code
        acc = self.tmp()
        parts = []
        for fn, first, right_src in steps:
            left_src = first if first is not None else acc
            parts.append(f"({acc} := {fn}({left_src}, {right_src}))")
        return _Code(f"({', '.join(parts)},)[-1]", ANY)  # the comma: a 1-step chain is a tuple too

    def _c_Compare(self, node, truth=False):
        left, right = self.compile(node.left), self.compile(node.right)
        folded = self._fold(node, [left, right])
        if folded:
            return folded
        op = node.op
        special = None
        if right.const is not _NOCONST:
            special = self._compare_prop_const(op, node.left, right.const, right.src, truth)
        elif left.const is not _NOCONST:
            special = self._compare_prop_const(_FLIP[op], node.right, left.const, left.src, truth)
        if special is not None:
            return special
        name = COMPARE_METHODS[op]
        if op == "==" or (op == "!=" and self.sem.ne_with_undefined is True):
            kind = BOOL
        else:
            kind = BOOLU
        return _Code(f"{self.fn(name)}({left.src}, {right.src})", kind)

    def _compare_prop_const(self, op, prop_node, c, c_src, truth) -> _Code | None:
        if type(c) is datetime and op not in ("==", "!="):
            return self._compare_datetime(op, prop_node, c, c_src, truth)
        if (type(prop_node) is A.Call and prop_node.name == "string" and len(prop_node.args) == 2
                and op in ("==", "!=") and type(c) is str and not ISO_PROPERTY.match(c)):
            return self._compare_string_default(op, prop_node, c_src)
        raw = self._raw(prop_node)
        if raw is None:
            return None
        tc = type(c)
        if op in ("==", "!="):
            if tc is bool:
                test = f"({raw} is {c_src})"
            elif tc is str:
                if self.sem.iso_strings_are_datetimes and ISO_PROPERTY.match(c):
                    return None  # the property may be a datetime-typed ISO string
                test = f"({raw} == {c_src})"
            elif tc is int or tc is float:
                if c == 0 or c == 1:  # True == 1 and False == 0 in Python, not in Mixpanel
                    t = self.tmp()
                    test = f"(({t} := {raw}) == {c_src} and type({t}) is not bool)"
                else:
                    test = f"({raw} == {c_src})"
            else:
                return None
            if op == "==":
                return _Code(test, BOOL)
            if self.sem.ne_with_undefined is True:
                return _Code(f"(not {test})", BOOL)
            return None
        # ordering against a number: both operands must be numbers [S1]
        if tc is int or tc is float:
            t = self.tmp()
            if truth:
                return _Code(f"(type({t} := {raw}) in _NUMBER and {t} {op} {c_src})", BOOL)
            return _Code(
                f"({t} {op} {c_src} if (type({t} := {raw}) is int "
                f"or type({t}) is float) else U)",
                BOOLU,
            )
        return None

    def _compare_string_default(self, op, call, c_src) -> _Code | None:
        """``string(prop, d) == "text"`` (the hot-shard selector's shape), ``text`` not
        ISO-shaped: a string value is compared as it is (an ISO-shaped one cannot equal the
        text, typed or not); anything else takes the generic cast."""
        subject = call.args[0]
        if type(subject) is A.Var:
            raw = self.raw_vars.get(subject.name)
        else:  # a missing property must read as undefined here, not None (null)
            direct = self._direct(subject)
            raw = None if direct is None else f"p.get({direct}, U)"
        if raw is None or (op == "!=" and self.sem.ne_with_undefined is not True):
            return None
        default = self.compile(call.args[1])
        t = self.tmp()
        value = f"_typed({t})" if self.sem.iso_strings_are_datetimes else t
        generic = f"{self.fn('eq')}({self.fn('string_or')}({value}, {default.src}), {c_src})"
        test = f"(({t} == {c_src}) if type({t} := {raw}) is str else {generic})"
        return _Code(test if op == "==" else f"(not {test})", BOOL)

    def _compare_datetime(self, op, node, c, c_src, truth) -> _Code | None:
        """``<prop> OP datetime-constant`` and ``datetime(<prop>) OP datetime-constant``."""
        generic = None
        if (
            self.scope == EVENTS
            and type(node) is A.Property
            and node.scope in ("properties", "event")
            and node.name == "$time"
        ):
            # The event time of an export line is the integer `time` (seconds, or ms above
            # 4294967295 [S24]); datetime(n) keeps whole seconds, so for a positive int the
            # comparison is plain integer arithmetic. Anything unusual takes the generic path.
            # (`'$time' not in p` runs after `p.get`, which has already failed on a
            # non-mapping, so this needs no type check in the prologue.)
            t = self.tmp()
            seconds = int((c - _EPOCH).total_seconds())
            generic = f"{self.fn(COMPARE_METHODS[op])}(_read(r, p, {node.scope!r}, '$time'), {c_src})"
            if truth:
                generic = f"({generic} is True)"
            return _Code(
                f"({t} {op} {seconds} "
                f"if type({t} := p.get('time')) is int and 0 < {t} <= {MAX_SECONDS} "
                f"and '$time' not in p else "
                f"({t} // 1000 {op} {seconds} "
                f"if type({t}) is int and {MAX_SECONDS} < {t} < {_MAX_MS} and '$time' not in p "
                f"else {generic}))",
                BOOL if truth else BOOLU,
            )
        cast = type(node) is A.Call and node.name == "datetime"
        direct = self._direct(node.args[0] if cast else node)
        if direct is None:
            return None
        compare = self.bind(_make_datetime_compare(self.ops, op, c, cast), "_cmp")
        if truth and (cast or self.sem.iso_strings_are_datetimes) and not c.microsecond:
            # The common data shape, `YYYY-MM-DDTHH:MM:SS` (UTC, S13), orders as its text
            # does, so it is compared as a string with the constant written the same way.
            # Only when that comparison holds must the string be a real date (2024-02-30 is
            # a string, so undefined): false and undefined are alike here, so a failed
            # comparison needs no parsing at all. Every other value takes the closure.
            # Under datetime(…), an integer in the seconds range is compared as Unix seconds.
            t = self.tmp()
            generic = f"({compare}({t}) is True)"
            if cast:
                seconds = int((c - _EPOCH).total_seconds())
                generic = (f"({t} {op} {seconds} if type({t}) is int and 0 < {t} <= {MAX_SECONDS} "
                           f"else {generic})")
            return _Code(
                f"(({t} {op} {_iso_text(c)!r} and (_valid19({t}) or _iso19({t}))) "
                f"if type({t} := p.get({direct}, U)) is str and len({t}) == 19 "
                f"and {t}[4:17:3] == '--T::' else {generic})",
                BOOL,
            )
        return _Code(f"{compare}(p.get({direct}, U))", BOOLU)

    def _c_In(self, node, truth=False):
        left, right = self.compile(node.left), self.compile(node.right)
        folded = self._fold(node, [left, right])
        if folded:
            return folded
        iso = self.sem.iso_strings_are_datetimes
        in_ = self.fn("in_")
        # prop in [literal, …]
        direct = self._direct(node.left)
        if direct is not None and type(right.const) is list:
            items = right.const
            simple = all(
                type(i) in (int, float) or (type(i) is str and not (iso and ISO_PROPERTY.match(i)))
                for i in items
            )
            if simple and truth and 1 <= len(items) <= 8 and all(
                type(i) is str or i not in (0, 1) for i in items
            ):
                # A short tuple of literals compares with ==, which never confuses types here
                # (no 0/1 items, so no True == 1) and never hashes the value (lists are fine).
                items_src = ", ".join(self.const(i).src for i in items)
                return _Code(f"(p.get({direct}) in ({items_src},))", BOOL)
            if simple:
                members = self.bind(frozenset(items), "_s")
                t = self.tmp()
                if truth:
                    # other types (bool, null, list, object, undefined) are never members
                    return _Code(f"(type({t} := p.get({direct}, U)) in _SIMPLE and {t} in {members})", BOOL)
                fallback = f"_typed({t})" if iso else t
                return _Code(
                    f"({t} in {members} if (type({t} := p.get({direct}, U)) is str "
                    f"or type({t}) is int or type({t}) is float) "
                    f"else {in_}({fallback}, {right.src}))",
                    BOOLU,
                )
        # "literal" in prop: substring, or membership when the property is a list
        direct = self._direct(node.right)
        if direct is not None and type(left.const) is str:
            t = self.tmp()
            if iso and truth and not set(left.const) <= _ISO_CHARS:
                # A string containing this needle has a character no ISO date has, so it is
                # not a datetime-typed property: the substring test alone decides.
                return _Code(
                    f"({left.src} in {t} if type({t} := p.get({direct}, U)) is str "
                    f"else ({in_}({left.src}, _typed({t})) is True))",
                    BOOL,
                )
            if iso and truth:
                # an ISO-shaped string property is a datetime: `in` on it is undefined
                return _Code(
                    f"(({left.src} in {t} and ({t}[4:5] != '-' or _typed({t}) is {t})) "
                    f"if type({t} := p.get({direct}, U)) is str "
                    f"else ({in_}({left.src}, _typed({t})) is True))",
                    BOOL,
                )
            if iso:
                guard = f"type({t} := p.get({direct}, U)) is str and ({t}[4:5] != '-' or _typed({t}) is {t})"
                fallback = f"_typed({t})"
            else:
                guard = f"type({t} := p.get({direct}, U)) is str"
                fallback = t
            return _Code(
                f"({left.src} in {t} if ({guard}) else {in_}({left.src}, {fallback}))", BOOLU
            )
        return _Code(f"{in_}({left.src}, {right.src})", BOOLU)

    def _logic(self, node, kind_name: str, parts_nodes: list) -> _Code:
        parts = [self.compile(n, truth=True) for n in parts_nodes]
        joiner = " and " if kind_name == "and" else " or "
        pieces = []
        for sub, code in zip(parts_nodes, parts):
            if code.const is not _NOCONST:
                # A constant operand still follows Mixpanel's rule (an error if non-boolean).
                try:
                    code = self.const(self.ops.truth(code.const, kind_name, sub))
                except EvaluationError:
                    pieces.append(f"_ops.truth({code.src}, {kind_name!r}, {self.bind(sub, '_node')})")
                    continue
            pieces.append(self._truth(code, kind_name, sub))
        return _Code("(" + joiner.join(pieces) + ")", BOOL)

    def _truth(self, code: _Code, operator: str, node) -> str:
        """``code`` as a Python bool, by Mixpanel's operand rule for ``operator`` (and, or,
        any): booleans as they are, undefined as false, anything else ``Ops.truth``'s call."""
        if code.kind == BOOL:
            return code.src
        if code.kind == BOOLU:
            return f"({code.src} is True)"
        return f"_ops.truth({code.src}, {operator!r}, {self.bind(node, '_node')})"

    def _c_And(self, node, truth=False):
        return self._logic(node, "and", A.conjuncts(node))

    def _c_Or(self, node, truth=False):
        return self._logic(node, "or", A.disjuncts(node))

    def _c_Var(self, node, truth=False):
        local = self.vars.get(node.name)
        if local is None:
            raise unbound_variable(node)
        return _Code(local, ANY)

    def _c_Any(self, node, truth=False):
        """``any(X, items, cond)`` → a generator over the elements with ``X`` as a generated
        local, e.g. ``type(_t1 := items) is list and any(_v2 == 'vip' for _v2 in _t1)``.

        A list is iterated as it is; where the element's typed value matters (an ISO string is
        a datetime) ``X`` reads ``_typed(_v2)``, while comparisons with numbers, booleans and
        other strings use the element directly (see ``_raw``). Anything but a list goes
        through ``Ops.any_items`` (undefined, or a one-element list: Semantics.any_non_list).
        The items are bound outside the generator (its iterable may not hold a ``:=``)."""
        items = self.compile(node.items)
        local = f"_v{self._count}"
        self._count += 1
        saved = self.vars.get(node.var), self.raw_vars.get(node.var)
        # A literal list's elements are typed at compile time (below); others when read.
        typed = self.sem.iso_strings_are_datetimes and items.const is _NOCONST
        self.vars[node.var] = f"_typed({local})" if typed else local
        self.raw_vars[node.var] = local
        try:
            pred = self.compile(node.predicate, truth=True)
        finally:
            for table, old in zip((self.vars, self.raw_vars), saved):
                if old is None:
                    del table[node.var]
                else:
                    table[node.var] = old
        folded = self._fold(node, [items, pred])
        if folded:
            return folded
        test = self._truth(pred, "any", node.predicate)
        if items.const is not _NOCONST:  # a list literal: its elements are typed once, here
            found = self.ops.any_items(items.const)
            if found is None:
                return self.const(False if truth else Undefined)
            return _Code(f"any({test} for {local} in {self.bind(tuple(found), '_e')})", BOOL)
        direct = self._direct(node.items)
        items_src = items.src if direct is None else f"p.get({direct}, U)"  # any_items types
        t = self.tmp()
        loop = f"any({test} for {local} in ({t} if type({t}) is list else _ops.any_items({t})))"
        if truth:
            return _Code(f"((type({t} := {items_src}) is list or _ops.any_items({t}) is not None) "
                         f"and {loop})", BOOL)
        return _Code(f"(U if type({t} := {items_src}) is not list and _ops.any_items({t}) is None "
                     f"else {loop})", BOOLU)

    def _c_Call(self, node, truth=False):
        args = [self.compile(a) for a in node.args]
        folded = self._fold(node, args)
        if folded:
            return folded
        name = node.name
        if name == "string" and len(args) == 2:
            return _Code(f"{self.fn('string_or')}({args[0].src}, {args[1].src})", ANY)
        if name == "defined":
            direct = self._direct(node.args[0])
            if direct is not None:
                if self.sem.null_is_defined:
                    self.uses_in = True
                    return _Code(f"({direct} in p)", BOOL)
                return _Code(f"(p.get({direct}) is not None)", BOOL)
            return _Code(f"{self.fn('defined')}({args[0].src})", BOOL)
        if name == "datetime":
            literal = type(node.args[0]) is A.String
            return _Code(f"{self.fn('to_datetime')}({args[0].src}, {literal})", ANY)
        method = self.fn(FUNCTION_METHODS[name])
        return _Code(f"{method}({', '.join(a.src for a in args)})", _CALL_KINDS[name])


# Result kind of each function; the Ops method is values.FUNCTION_METHODS[name].
_CALL_KINDS = {
    "boolean": BOOL, "number": ANY, "string": ANY, "list": ANY,
    "floor": ANY, "round": ANY, "ceil": ANY, "has_prefix": BOOLU,
}


_ISO_CHARS = frozenset("0123456789-T:.Z")
_STARTS_WITH_GET = re.compile(r"\(*(?:type\(_t\d+ := )?p\.get\(")

_OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_MAX_MS = 253402300800000  # 10000-01-01 in ms: beyond it datetime(n) is undefined


def _iso_text(c) -> str:
    """A whole-second datetime as the ``YYYY-MM-DDTHH:MM:SS`` text of its UTC instant."""
    return c.astimezone(timezone.utc).replace(tzinfo=None).isoformat()


def _make_datetime_compare(ops: Ops, op: str, c, cast: bool):
    """One closure for ``[datetime(]prop[)] OP c``: the same steps as typed() → to_datetime()
    → ordering, without the calls in between. A ``YYYY-MM-DDTHH:MM:SS`` string is compared
    as text (see _compare_datetime) and an integer as Unix seconds (what ``datetime(n)``
    makes of it, S24), so neither builds a datetime."""
    compare = _OPERATORS[op]
    to_datetime = ops.to_datetime
    iso = ops.semantics.iso_strings_are_datetimes
    memo = _ISO_CACHE.get
    # datetime(n) keeps whole seconds and so do ISO property strings, so against a
    # whole-second constant the integer and text comparisons are exact.
    whole = not c.microsecond
    seconds = int((c - _EPOCH).total_seconds()) if whole else None
    text = _iso_text(c) if whole and (cast or iso) else None

    if cast:
        def datetime_compare(v):
            t = type(v)
            if t is str:
                if text is not None and len(v) == 19 and v[4:17:3] == "--T::":
                    # an invalid date of this shape is undefined for datetime(…) too
                    return compare(v, text) if iso19_is_date(v) else Undefined
                # A string typed as a date at ingestion is the same instant datetime(…)
                # reads from it (both UTC); the memo makes repeated values cheap.
                d = memo(v) or iso_parse(v)
                if type(d) is not datetime:
                    d = to_datetime(v)
                    if type(d) is not datetime:
                        return Undefined
                return compare(d, c)
            if t is int and seconds is not None:
                if 0 < v <= MAX_SECONDS:
                    return compare(v, seconds)
                if MAX_SECONDS < v < _MAX_MS:
                    return compare(v // 1000, seconds)
            d = to_datetime(v)
            return compare(d, c) if type(d) is datetime else Undefined
    else:
        def datetime_compare(v):
            if type(v) is str and iso:
                if text is not None and len(v) == 19 and v[4:17:3] == "--T::":
                    return compare(v, text) if iso19_is_date(v) else Undefined
                v = memo(v) or iso_parse(v)
            return compare(v, c) if type(v) is datetime else Undefined

    return datetime_compare


def _failed(record, scope: str, exc: Exception) -> Exception:
    """The exception to raise when a compiled function failed: the shape error if the record
    is not of the scope's shape, else the original exception (a bug, not bad input)."""
    try:
        props = record[_PROPS_KEY[scope]]
    except (KeyError, TypeError, IndexError):
        return shape_error(record, scope)
    if not isinstance(props, Mapping):
        return shape_error(record, scope)
    return exc


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def compile_function(
    node: A.Expr, ops: Ops, resolver: Resolver, now, *, predicate: bool
):
    """Compile ``node`` into ``f(record)``: the filter decision (``predicate=True``) or the
    Mixpanel value of the expression. ``f.source`` is the generated Python source (what
    ``mpql filter --explain`` prints)."""
    c = _Compiler(ops, resolver, now)
    try:
        code = c.compile(node, truth=predicate)
    except RecursionError:
        raise EvaluationError(
            "the expression is nested too deeply to compile; mpql's parser allows 100 levels "
            "(builders should combine long and/or chains flat, which compile at any length)",
            node=node,
        ) from None
    if predicate:
        if code.kind == BOOL:
            body = code.src
        elif code.kind == BOOLU:
            body = f"{code.src} is True"
        else:
            body = f"_ops.selects({code.src}, {c.bind(node, '_node')})"
    else:
        body = code.src
    key = _PROPS_KEY[resolver.scope]
    c.ns["_Mapping"] = Mapping
    c.ns["_scope"] = resolver.scope
    c.ns["_failed"] = _failed
    name = "_mpql_filter" if predicate else "_mpql_value"
    # When the first thing the body does is `p.get(…)`, a non-mapping fails right there, so
    # a later `name in p` is safe without the check.
    # A body that never reads p (a constant filter) checks too, so a bad record is still
    # reported rather than silently matched.
    touches = "p.get(" in body or "_read(" in body
    needs_check = (c.uses_in or not touches) and not _STARTS_WITH_GET.match(body)
    check = (
        "        if type(p) is not dict and not isinstance(p, _Mapping):\n"
        "            raise TypeError\n"
        if needs_check else ""
    )
    # A record of the wrong shape fails somewhere in here (no key, not a mapping, no .get);
    # only then is the shape examined, so well-formed records pay nothing for the check.
    source = (
        f"def {name}(r):\n"
        f"    try:\n"
        f"        p = r[{key!r}]\n"
        f"{check}"
        f"        return {body}\n"
        f"    except (KeyError, TypeError, AttributeError, IndexError) as exc:\n"
        f"        raise _failed(r, _scope, exc) from None\n"
    )
    code_obj = compile(source, f"<mpql {name}>", "exec")
    exec(code_obj, c.ns)  # noqa: S102 - source built only from compiler-written tokens
    function = c.ns[name]
    function.source = source
    return function

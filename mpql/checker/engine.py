"""Type and scope inference over the AST, and the rules that use it.

``check()`` parses (syntax errors come back as E1xx diagnostics), infers a static type for
every node bottom-up (docs/mixpanel-reference.md §1.5–1.7: literal types, casts, the built-in property table and the
user schema), resolves every property to the entity it reads in the context (event, profile
or behavior; docs/mixpanel-reference.md §1.10), then walks the tree once, top-down, knowing for each node whether it
is used as a condition. Rules that look at how something was *written* (quotes, exponents,
keyword case, spacing around `-`) read the source text at the node's span, so they run only
when the expression came as text.

Type rules are kept consistent with the evaluator's runtime semantics (docs/semantics.md):
the checker reports a finding only where the runtime answer is certain (undefined, always
false/true) or where docs/mixpanel-reference.md marks the behaviour UNCONFIRMED.
"""

from __future__ import annotations

import math
import os
import re

import attrs

# The language package must be imported before mpql.diagnostics (which it imports itself).
from ..language import ast as A  # noqa: I001
from ..diagnostics import Diagnostic, Edit, Fix, Severity
from ..errors import ArgumentError, ArgumentTypeError, ParseError
from ..language.ast import Span
from ..language.parser import parse
from ..language.printer import format_expr, format_number, quote
from . import types as T
from .rules import DEFAULT_OFF, RULES, resolve_selectors
from .._lazyre import LazyRegex
from .._datetext import DATETIME_LITERAL, DOCUMENTED_LITERAL, parse_datetime_literal
from .schema import Schema, load_schema, parse_schema

__all__ = ["Context", "check", "check_expr", "infer_type"]

_ENDPOINT_ALIASES = {"profiles": "engage", "people": "engage", "events": "export",
                     "raw": "export", "raw-export": "export", "funnel": "funnels"}


@attrs.frozen
class Context:
    """Where an expression is used. ``behaviors``: names the engage request defines (None when
    unknown)."""

    endpoint: str = attrs.field(default="any")
    param: str = attrs.field(default="where")
    behaviors: tuple | None = None

    @endpoint.validator
    def _check_endpoint(self, _attr, value):
        if value not in T.ENDPOINTS:
            raise ArgumentError(f"unknown endpoint {value!r}: expected one of "
                             + ", ".join(T.ENDPOINTS))

    @param.validator
    def _check_param(self, _attr, value):
        if value not in ("where", "on", "born_where"):
            raise ArgumentError(f"unknown param {value!r}: expected 'where', 'on' or 'born_where'")

    @classmethod
    def make(cls, endpoint="any", param="where", behaviors=None) -> "Context":
        for what, value in (("endpoint", endpoint), ("param", param)):
            if value is not None and not isinstance(value, str):
                raise ArgumentTypeError(f"{what} must be a string, got {type(value).__name__}")
        endpoint = (endpoint or "any").strip().lower()
        endpoint = _ENDPOINT_ALIASES.get(endpoint, endpoint)
        param = (param or "where").strip().lower()
        if param == "selector":
            param = "where"
        if isinstance(behaviors, str):
            behaviors = tuple(b.strip() for b in behaviors.split(",") if b.strip()
                              and b.strip().lower() != "none")
        elif behaviors is not None:
            behaviors = tuple(behaviors)
        return cls(endpoint, param, behaviors)

    @property
    def is_event(self) -> bool:
        return self.endpoint in T.EVENT_ENDPOINTS

    @property
    def known(self) -> bool:
        return self.endpoint != "any"


def check(expr_or_text, endpoint="any", param="where", schema=None, *, behaviors=None,
          select=None, ignore=None, context: Context | None = None) -> list[Diagnostic]:
    """Check one expression (text, an ``Expr`` or a builder term) and return its diagnostics,
    sorted by position. ``schema`` is a Schema, a dict in a supported schema format, the path
    of a schema file, or None. ``select``/``ignore`` take codes, names, prefixes or ``ALL``
    (a list, or one comma-separated string); by default every rule except the opt-in style
    rule runs."""
    ctx = context or Context.make(endpoint, param, behaviors)
    if isinstance(schema, (str, os.PathLike)):
        schema = load_schema(schema)
    elif schema is not None and not isinstance(schema, Schema):
        schema = parse_schema(schema)
    enabled = _enabled_codes(select, ignore)
    if isinstance(getattr(expr_or_text, "expr", None), A.Expr):  # a builder Term
        expr_or_text = expr_or_text.expr
    if isinstance(expr_or_text, str):
        text = expr_or_text
        try:
            node = parse(text)
        except ParseError as exc:
            d = exc.diagnostic
            return [d] if d.code in enabled else []
    elif isinstance(expr_or_text, A.Expr):
        node, text = expr_or_text, None
    else:
        raise ArgumentTypeError(f"check() takes an expression string, an mpql Expr or a builder "
                        f"term, got {type(expr_or_text).__name__}")
    return check_expr(node, text, ctx, schema, enabled)


def _enabled_codes(select, ignore) -> frozenset:
    # One string is one selector list ("S001,T"), not a sequence of one-letter selectors.
    select = (select,) if isinstance(select, str) else select
    ignore = (ignore,) if isinstance(ignore, str) else ignore
    if select:
        codes = resolve_selectors(select, what="selector")
    else:
        codes = set(RULES) - DEFAULT_OFF
    if ignore:
        codes -= resolve_selectors(ignore, what="selector")
    return frozenset(codes)


def check_expr(node: A.Expr, text: str | None, ctx: Context, schema: Schema | None,
               enabled: frozenset) -> list[Diagnostic]:
    checker = _Checker(ctx, schema, text, enabled)
    checker.run(node)
    found = checker.found
    found.sort(key=lambda d: (d.span.start, d.span.end, d.code))
    return found


def infer_type(expr_or_text, endpoint="any", schema=None) -> str:
    """The static type of an expression in a context (one of ``types.TYPES``)."""
    node = parse(expr_or_text) if isinstance(expr_or_text, str) else expr_or_text
    if schema is not None and not isinstance(schema, Schema):
        schema = parse_schema(schema)
    return _Checker(Context.make(endpoint), schema, None, frozenset()).type_of(node)


# ---------------------------------------------------------------------------------------------

_NUMERIC_TEXT = LazyRegex(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_MAX_SECONDS = 4294967295
_ENGAGE_ONLY_FUNCS = {"floor", "round", "ceil", "has_prefix"}
_LITERALS = (A.String, A.Number, A.Boolean)
_KNOWN_VALUE = {T.STRING, T.NUMBER, T.BOOLEAN, T.DATETIME, T.LIST}
_PROFILE_TWIN = {"mp_country_code": "$country_code", "$country_code": "mp_country_code"}
_COMMENT = LazyRegex(r"#[^\n]*")
_SINGLE_EQ = LazyRegex(r"(?<![=!<>])=(?!=)")


def _close_matches(name, names, cutoff) -> list:
    import difflib  # only a finding needs it: kept out of `mpql lint` start-up

    return difflib.get_close_matches(name, names, n=1, cutoff=cutoff)


def _article(kind: str) -> str:
    return {"undefined": "undefined", "unknown": "unknown"}.get(kind, f"a {kind}")


class _Checker:
    def __init__(self, ctx: Context, schema: Schema | None, text: str | None, enabled):
        self.ctx = ctx
        self.schema = schema
        self.text = text
        self.enabled = enabled
        self.found: list[Diagnostic] = []
        self._types: dict[int, str] = {}
        self._folds: dict[int, tuple] = {}  # id(node) -> (constant, folded value or None)
        self._binders: dict[int, A.Any] = {}  # id(Var) -> the Any that binds it

    # -- reporting ----------------------------------------------------------------------------

    def report(self, code, node_or_span, message, *, help=None, fix=None, severity=None):
        if code not in self.enabled:
            return
        span = node_or_span if isinstance(node_or_span, Span) else node_or_span.span
        if span is None:
            span = Span(0, len(self.text) if self.text else 0)
        if fix is not None and self.text is None:
            fix = None  # edits need text to apply to
        rule = RULES[code]
        self.found.append(Diagnostic(
            code=code, message=message, span=span, source=self.text or "",
            severity=severity or rule.severity, name=rule.name, help=help, fix=fix))

    def src(self, node) -> str | None:
        if self.text is None or node.span is None:
            return None
        return node.span.slice(self.text)

    def replace(self, node, replacement, message, applicability="safe") -> Fix | None:
        if self.text is None or node.span is None:
            return None
        return Fix(message, [Edit(node.span, replacement)], applicability)

    # -- scopes and types ---------------------------------------------------------------------

    def entity(self, prop: A.Property) -> str:
        """event | profile | behavior | either (properties[...] with an unknown endpoint)."""
        scope, ep = prop.scope, self.ctx.endpoint
        if scope == "behaviors":
            return "behavior"
        if scope == "user":
            return "profile"
        if scope == "event":
            return "event"
        if ep == "engage":
            return "profile"
        if ep == "any":
            return "either"
        return "event"

    def lookup(self, entity: str, name: str) -> str | None:
        if self.schema is not None:
            declared = self.schema.lookup(entity, name)
            if declared is not None:
                return declared
        table = T.BUILTIN_EVENT if entity == "event" else T.BUILTIN_PROFILE
        return table.get(name)

    def prop_type(self, prop: A.Property) -> str:
        entity = self.entity(prop)
        if entity == "behavior":
            return T.NUMBER
        if entity == "either":
            a, b = self.lookup("event", prop.name), self.lookup("profile", prop.name)
            if a and b and a != b:
                return T.UNKNOWN
            return a or b or T.UNKNOWN
        return self.lookup(entity, prop.name) or T.UNKNOWN

    def type_of(self, node: A.Expr) -> str:
        cached = self._types.get(id(node))
        if cached is None:
            # Children first, without recursion: a generated 3000-operand chain is legal.
            for n in _post_order(node, self._types):
                self._types[id(n)] = self._infer(n)
            cached = self._types[id(node)]
        return cached

    def fold(self, node: A.Expr):
        """The constant boolean value of a property-free condition, or None (memoized)."""
        return self._folded(node)[1]

    def constant(self, node: A.Expr) -> bool:
        """True when no property or NOW occurs in ``node``."""
        return self._folded(node)[0]

    def _folded(self, node):
        memo = self._folds
        found = memo.get(id(node))
        if found is None:
            for n in _post_order(node, memo):
                memo[id(n)] = _fold_node(n, memo)
            found = memo[id(node)]
        return found

    def _infer(self, node: A.Expr) -> str:
        if isinstance(node, A.String):
            return T.STRING
        if isinstance(node, A.Number):
            return T.NUMBER
        if isinstance(node, A.Boolean):
            return T.BOOLEAN
        if isinstance(node, A.Now):
            return T.NUMBER
        if isinstance(node, A.ListLiteral):
            return T.LIST
        if isinstance(node, A.Property):
            return self.prop_type(node)
        if isinstance(node, A.Call):
            return self._infer_call(node)
        if isinstance(node, A.Any):
            return T.BOOLEAN
        if isinstance(node, A.Var):
            binder = self._binders.get(id(node))
            return T.UNKNOWN if binder is None else self.element_type(binder.items)
        if isinstance(node, A.Neg):
            t = self.type_of(node.operand)
            return T.NUMBER if t in (T.NUMBER, T.UNKNOWN) else T.UNDEFINED
        if isinstance(node, A.Not):
            t = self.type_of(node.operand)
            return T.BOOLEAN if t in (T.BOOLEAN, T.UNKNOWN, T.UNDEFINED) else T.UNDEFINED
        if isinstance(node, A.Arith):
            a, b = self.type_of(node.left), self.type_of(node.right)
            if node.op == "+":
                if a == b and a in (T.NUMBER, T.STRING):
                    return a
                if a == T.UNKNOWN and b in (T.NUMBER, T.STRING, T.UNKNOWN):
                    return b
                if b == T.UNKNOWN and a in (T.NUMBER, T.STRING):
                    return a
                return T.UNDEFINED
            if node.op in ("/", "%") and _is_zero(node.right):
                return T.UNDEFINED
            if a in (T.NUMBER, T.UNKNOWN) and b in (T.NUMBER, T.UNKNOWN):
                return T.NUMBER
            return T.UNDEFINED
        if isinstance(node, A.Compare):
            if node.op in ("==", "!="):
                return T.BOOLEAN
            a, b = self.type_of(node.left), self.type_of(node.right)
            if T.UNKNOWN in (a, b):
                return T.BOOLEAN if {a, b} <= {T.UNKNOWN, T.NUMBER, T.DATETIME, T.STRING} \
                    else T.UNDEFINED
            if a == b and a in (T.NUMBER, T.DATETIME):
                return T.BOOLEAN
            if a == b == T.STRING:
                return T.UNKNOWN  # UNCONFIRMED (docs/mixpanel-reference.md §1.6)
            return T.UNDEFINED
        if isinstance(node, A.In):
            a, b = self.type_of(node.left), self.type_of(node.right)
            if b in (T.LIST, T.UNKNOWN):
                return T.BOOLEAN
            if b == T.STRING and a in (T.STRING, T.UNKNOWN):
                return T.BOOLEAN
            return T.UNDEFINED
        if isinstance(node, (A.And, A.Or)):
            return T.BOOLEAN
        return T.UNKNOWN  # pragma: no cover - every node kind is handled above

    def _infer_call(self, node: A.Call) -> str:
        name, args = node.name, node.args
        arg = args[0] if args else None
        if name in ("defined", "boolean", "has_prefix"):
            return T.BOOLEAN
        if name == "string":
            if len(args) == 2:  # string(x, default): the default where string(x) is undefined
                return T.STRING if self.type_of(args[1]) == T.STRING else T.UNKNOWN
            return T.STRING
        if name == "list":
            return T.LIST
        if name == "number":
            if isinstance(arg, A.String) and not _NUMERIC_TEXT.match(arg.value):
                return T.UNDEFINED
            t = self.type_of(arg)
            return T.UNDEFINED if t in (T.LIST, T.UNDEFINED) else T.NUMBER
        if name == "datetime":
            if isinstance(arg, A.String):
                return T.DATETIME if _parse_iso(arg.value) else T.UNDEFINED
            value = _number_value(arg)
            if value is not None and value <= 0:
                return T.UNDEFINED
            t = self.type_of(arg)
            return T.DATETIME if t in (T.STRING, T.NUMBER, T.DATETIME, T.UNKNOWN) \
                else T.UNDEFINED
        if name in ("floor", "round", "ceil"):
            t = self.type_of(arg)
            return T.NUMBER if t in (T.NUMBER, T.UNKNOWN) else T.UNDEFINED
        return T.UNKNOWN

    def element_type(self, items: A.Expr) -> str:
        """The type of an ``any`` variable: the one type of a list literal's items, else
        unknown (list properties are not typed element-wise)."""
        if isinstance(items, A.ListLiteral) and items.items:
            kinds = {self.type_of(i) for i in items.items}
            if len(kinds) == 1 and kinds <= _KNOWN_VALUE:
                return kinds.pop()
        return T.UNKNOWN

    def bind_variables(self, root: A.Expr) -> bool:
        """Link every ``Var`` to its ``Any``; report E126 for a tree built in code whose
        variables are unbound or shadowed (text has been checked by the parser). False when
        the tree is not well scoped (no other rule runs on it then)."""
        stack = [(root, {})]
        ok = True
        while stack:
            node, scope = stack.pop()
            if isinstance(node, A.Var):
                binder = scope.get(node.name)
                if binder is None:
                    ok = False
                    self.report("E126", node, f"variable `{node.name}` is not bound",
                                help=f"`{node.name}` names a list element only inside the "
                                     f"condition of any({node.name}, list, condition)")
                else:
                    self._binders[id(node)] = binder
                continue
            if isinstance(node, A.Any):
                if node.var in scope:
                    ok = False
                    self.report("E126", node, f"`{node.var}` is already the variable of an "
                                "enclosing any(...)",
                                help="give the inner any(...) its own variable name")
                stack.append((node.predicate, {**scope, node.var: node}))
                stack.append((node.items, scope))
                continue
            stack.extend((c, scope) for c in A.children(node))
        return ok

    # -- the walk -----------------------------------------------------------------------------

    def run(self, root: A.Expr) -> None:
        if not self.bind_variables(root):
            return
        top_role = "value" if self.ctx.param == "on" else "where"
        if self.ctx.param == "on":
            self.on_value(root)
        # Explicit stack: (node, role, parent). Roles: "where" (the whole filter), "cond"
        # (operand of and/or/not), "value".
        stack = [(root, top_role, None)]
        while stack:
            node, role, parent = stack.pop()
            self.visit(node, role, parent)
            if isinstance(node, (A.And, A.Or)):
                kids = [(node.left, "cond"), (node.right, "cond")]
            elif isinstance(node, A.Not):
                kids = [(node.operand, "cond")]
            elif isinstance(node, A.Any):
                kids = [(node.items, "value"), (node.predicate, "cond")]
            else:
                kids = [(c, "value") for c in A.children(node)]
            for child, child_role in reversed(kids):
                stack.append((child, child_role, node))
        self.style(root)

    def on_value(self, root) -> None:
        """``on`` is a breakdown value: a condition there splits events into true/false."""
        node = root
        if self.type_of(node) == T.BOOLEAN and not isinstance(node, (A.Boolean, A.Property)):
            self.report("T011", node,
                        "`on` is a condition: events are segmented into \"true\" and "
                        "\"false\", not filtered",
                        help="put the condition in `where` and segment `on` a property "
                             "value, e.g. properties[\"$browser\"]")

    def visit(self, node, role, parent) -> None:
        if role in ("where", "cond"):
            self.condition(node, role, parent)
        if isinstance(node, A.Property):
            self.property(node)
        elif isinstance(node, A.Call):
            self.call(node)
        elif isinstance(node, A.String):
            text = self.src(node)
            if text is not None and text.startswith("'"):
                self.report("U001", node, "single-quoted string",
                            help="Mixpanel documents double-quoted strings only",
                            fix=self.replace(node, quote(node.value), "use double quotes"))
        elif isinstance(node, A.Number):
            text = self.src(node)
            if text is not None and ("e" in text or "E" in text):
                self.report("U002", node, f"number `{text}` uses exponent notation",
                            help=f"write it as {format_number(node.value)}",
                            fix=self.replace(node, format_number(node.value),
                                             "write the number in plain decimals"))
        elif isinstance(node, A.Boolean):
            text = self.src(node)
            want = "true" if node.value else "false"
            if text is not None and text != want:
                self.report("U008", node, f"`{text}` should be written `{want}`",
                            help="keyword case-insensitivity is UNCONFIRMED in Mixpanel",
                            fix=self.replace(node, want, f"write `{want}`"))
        elif isinstance(node, A.Now):
            text = self.src(node)
            if text is not None and text != "NOW":
                self.report("U008", node, f"`{text}` should be written `NOW`",
                            help="Mixpanel's examples write the macro in capitals",
                            fix=self.replace(node, "NOW", "write `NOW`"))
            if self.ctx.known and self.ctx.endpoint != "engage":
                self.report("U004", node,
                            f"`NOW` is documented for engage only, not {self.ctx.endpoint}",
                            help="use a literal datetime(\"YYYY-MM-DDTHH:MM:SS\") computed "
                                 "when the query is built")
        elif isinstance(node, A.ListLiteral):
            for item in node.items:
                if not isinstance(item, _LITERALS):
                    self.report("T009", item, "list items must be literals",
                                help="Mixpanel's grammar allows only strings, numbers and "
                                     "booleans inside [...]; compare with `==` and `or` instead")
        elif isinstance(node, A.Neg):
            t = self.type_of(node.operand)
            if t in _KNOWN_VALUE - {T.NUMBER}:
                self.report("T004", node, f"negating {_article(t)} gives undefined",
                            help="unary minus works on numbers only; cast with number(...)")
        elif isinstance(node, A.Not):
            self.keyword_case(node.span.start if node.span else None, "not")
        elif isinstance(node, A.Arith):
            self.arith(node)
        elif isinstance(node, A.Compare):
            self.compare(node)
            self.single_equals(node)
        elif isinstance(node, A.Any):
            self.any_(node)
        elif isinstance(node, A.In):
            self.in_(node)
            self.keyword_in_gap(node, "in")
        elif isinstance(node, (A.And, A.Or)):
            self.keyword_in_gap(node, "and" if isinstance(node, A.And) else "or")
            if not isinstance(parent, type(node)):
                self.chain(node)

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, node, role, parent) -> None:
        const = self.fold(node)
        if const is not None:
            if not (isinstance(parent, (A.And, A.Or, A.Not))
                    and self.fold(parent) is not None):  # report the outermost only
                self.report("C001", node,
                            f"this condition is always {'true' if const else 'false'}",
                            help="it does not depend on any property; remove it or test the "
                                 "property it was meant to test")
            return
        t = self.type_of(node)
        if t == T.BOOLEAN:
            return
        code = "T006" if role == "where" else "T007"
        where = (f"a `{self.ctx.param}` filter" if role == "where"
                 else _operand_of(parent))
        if t == T.UNKNOWN:
            if isinstance(node, A.Property):
                self.report(code, node,
                            f"{where} should be a boolean, and the type of "
                            f"`{_show(node)}` is unknown",
                            help="a bare property is a condition only if it holds JSON "
                                 "true/false; write defined(...) or == true to say which",
                            severity=Severity.WARNING)
            elif role == "where":
                self.report(code, node, f"{where} should be a boolean; this may not be one",
                            severity=Severity.WARNING)
            return
        if t == T.UNDEFINED:
            # The inner finding (T002, T004, T008, …) explains why; undefined is "false".
            return
        if role == "where":
            self.report("T006", node, f"a `{self.ctx.param}` filter must be a boolean, found "
                        f"{_article(t)}",
                        help="compare it: == \"value\", defined(...), or == true")
        elif isinstance(parent, A.Not):
            self.report("T007", node, f"`not` of {_article(t)} is undefined",
                        help="`not` works on booleans; test with defined(...) or a comparison")
        else:
            self.report("T007", node,
                        f"{_operand_of(parent)} is {_article(t)}; Mixpanel raises an error",
                        help="`and`/`or` take booleans only; use a comparison or defined(...)")

    def chain(self, node) -> None:
        is_and = isinstance(node, A.And)
        parts = A.conjuncts(node) if is_and else A.disjuncts(node)
        word = "and" if is_and else "or"
        # C004: duplicates
        seen: list = []
        seen_set: set = set()  # structural hash: linear on long generated chains
        dups = []
        for part in parts:
            if part in seen_set:
                dups.append(part)
            else:
                seen.append(part)
                seen_set.add(part)
        for dup in dups:
            fix = None
            chain_text = self.src(node)
            if chain_text is not None and "#" not in chain_text:
                rebuilt = seen[0]
                for p in seen[1:]:
                    rebuilt = (A.And if is_and else A.Or)(rebuilt, p)
                fix = self.replace(node, format_expr(rebuilt),
                                   f"remove the repeated `{word}` operand")
            self.report("C004", dup, f"`{_show(dup)}` repeats an earlier condition of this "
                        f"`{word}`", help="remove it, or fix the one that was meant", fix=fix)
        if is_and:
            self.contradictions(node, parts)
        else:
            self.tautologies(node, parts)

    def facts(self, parts):
        """``(expression, op, literal)`` for each ``expr OP literal`` part of a chain."""
        for part in parts:
            fact = _fact(part, self.constant)
            if fact is not None:
                yield fact

    def contradictions(self, node, parts) -> None:
        eq: dict = {}
        ne: dict = {}
        lo: dict = {}
        hi: dict = {}
        for key, op, value in self.facts(parts):
            if op == "==" and key in eq and not _same_literal(eq[key][0], value):
                self.report("C002", node,
                            f"`{_show(key)}` cannot equal both {_lit(eq[key][0])} and "
                            f"{_lit(value)}: this filter never matches",
                            help="did you mean `or` (or `in [...]`)?")
                return
            if op in ("==", "!=") and _opposed(key, op, value, eq, ne):
                self.report("C002", node, f"`{_show(key)}` is required to equal and not "
                            f"equal {_lit(value)}: this filter never matches")
                return
            if op in ("==", "!="):
                (eq if op == "==" else ne).setdefault(key, []).append(value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                if op in (">", ">="):
                    cur = lo.get(key)
                    if cur is None or value > cur[0] or (value == cur[0] and op == ">"):
                        lo[key] = (value, op == ">")
                else:
                    cur = hi.get(key)
                    if cur is None or value < cur[0] or (value == cur[0] and op == "<"):
                        hi[key] = (value, op == "<")
        for key in set(lo) | set(hi) | set(eq):
            low, high = lo.get(key), hi.get(key)
            value = eq[key][0] if key in eq else None
            empty = False
            if low and high:
                empty = low[0] > high[0] or (low[0] == high[0] and (low[1] or high[1]))
            if not empty and isinstance(value, (int, float)) and not isinstance(value, bool):
                if low and (value < low[0] or (value == low[0] and low[1])):
                    empty = True
                if high and (value > high[0] or (value == high[0] and high[1])):
                    empty = True
            if empty:
                self.report("C002", node, f"no value of `{_show(key)}` satisfies all of these "
                            "bounds: this filter never matches",
                            help="check the direction of the comparisons")
                return

    def tautologies(self, node, parts) -> None:
        ne: dict = {}
        eq: dict = {}
        for key, op, value in self.facts(parts):
            others = ne.get(key, ())
            if op == "!=" and any(not _same_literal(v, value) for v in others):
                self.report("C003", node,
                            f"`{_show(key)}` always differs from {_lit(others[0])} or "
                            f"from {_lit(value)}: this filter matches everything",
                            help="did you mean `and`?")
                return
            if op in ("==", "!=") and _opposed(key, op, value, eq, ne):
                self.report("C003", node, f"`{_show(key)}` either equals {_lit(value)} or "
                            "not: this filter matches everything")
                return
            if op in ("==", "!="):
                (eq if op == "==" else ne).setdefault(key, []).append(value)

    # -- properties ---------------------------------------------------------------------------

    def property(self, node: A.Property) -> None:
        ep, scope, name = self.ctx.endpoint, node.scope, node.name
        entity = self.entity(node)
        shown = _show(node)
        text = self.src(node)
        if text is not None and "'" in text[len(scope):].lstrip(" \t\r\n[")[:1]:
            self.report("U001", node, "single-quoted property name",
                        help="Mixpanel documents double-quoted strings only",
                        fix=self.replace(node, shown if len(shown) < 60 else format_expr(node),
                                         "use double quotes"))
        if scope == "behaviors":
            if self.ctx.known and ep != "engage":
                self.report("S005", node, f"`{shown}` is only defined in engage queries with "
                            f"`behaviors`, not in {ep}",
                            help="query /engage with a behaviors parameter that defines it")
            elif ep == "engage" and self.ctx.behaviors is not None \
                    and name not in self.ctx.behaviors:
                guess = _close_matches(name, self.ctx.behaviors, cutoff=0.6)
                declared = ", ".join(self.ctx.behaviors) or "none"
                self.report("S005", node, f"behavior `{name}` is not defined by this query "
                            f"(defined: {declared})",
                            help=f"did you mean `{guess[0]}`?" if guess else
                            "add it to the engage `behaviors` parameter",
                            fix=self.replace(node, f"behaviors[{quote(guess[0])}]",
                                             f"use `{guess[0]}`", "unsafe") if guess else None)
            return
        if scope == "user" and ep == "export":
            self.report("S003", node, f"`{shown}` reads a user profile, but raw export events "
                        "carry no profile",
                        help="mpql's planner can split this: select the profiles with /engage, "
                             "then filter the export by their distinct ids (`mpql plan`)")
        if scope == "event" and ep == "engage":
            self.report("S004", node, f"`{shown}` reads an event, but engage filters profiles",
                        help="use properties[...] for profile properties")
        if scope == "user" and ep == "engage":
            self.report("U005", node, f"in engage, write `properties[{quote(name)}]`; "
                        "`user[...]` there is unconfirmed",
                        fix=self.replace(node, f"properties[{quote(name)}]",
                                         "use properties[...]"))
        if scope == "event" and ep in ("segmentation", "funnels", "retention"):
            self.report("U006", node, f"`event[...]` is documented for the export API only, "
                        f"not {ep}",
                        fix=self.replace(node, f"properties[{quote(name)}]",
                                         "use properties[...]", "unsafe"))
        if entity == "event" and name == "distinct_id":
            self.report("S001", node, f"`{shown}` should be spelled `$distinct_id` in a filter",
                        help="the reserved event property is $distinct_id; raw export shows it "
                             "without the `$`",
                        fix=self.replace(node, f"{scope}[\"$distinct_id\"]",
                                         "use `$distinct_id`"))
        if ep == "engage" and entity == "profile" and name in ("$distinct_id", "distinct_id"):
            self.report("S002", node, "filter profiles by id with the engage `distinct_id` / "
                        "`distinct_ids` parameters, not a `where`",
                        help="mpql: Query.profiles(distinct_ids=[...])")
        if entity in ("event", "profile"):
            self.wrong_entity(node, entity)

    def wrong_entity(self, node: A.Property, entity: str) -> None:
        name, shown = node.name, _show(node)
        own = T.BUILTIN_EVENT if entity == "event" else T.BUILTIN_PROFILE
        other = T.BUILTIN_PROFILE if entity == "event" else T.BUILTIN_EVENT
        declared = self.schema.lookup(entity, name) if self.schema else None
        if declared is None and name not in own and name in other \
                and (name.startswith("$") or name.startswith("mp_")):
            twin = _PROFILE_TWIN.get(name)
            if entity == "event":
                where = ("use user[...] to read the profile" if self.ctx.endpoint
                         in ("segmentation", "funnels", "retention", "jql", "any")
                         else "raw events carry no profile; query /engage for it")
                msg = f"`{name}` is a profile property; events do not carry it"
            else:
                where = f"profiles store it as `{twin}`" if twin else \
                    "profiles do not carry event properties"
                msg = f"`{name}` is an event property; profiles do not carry it"
            fix = None
            if twin and twin in own:
                fix = self.replace(node, f"{node.scope}[{quote(twin)}]", f"use `{twin}`",
                                   "unsafe")
            self.report("S006", node, msg, help=where, fix=fix)
            return
        if self.schema is not None and self.schema.covers(entity) and declared is None \
                and name not in own:
            names = sorted(set(self.schema.names(entity)) | set(own))
            guess = _close_matches(name, names, cutoff=0.7)
            self.report("S007", node, f"`{shown}` is not in the schema ({self.schema.source})",
                        help=f"did you mean `{guess[0]}`?" if guess else
                        "add it to the schema if it is new",
                        fix=self.replace(node, f"{node.scope}[{quote(guess[0])}]",
                                         f"use `{guess[0]}`", "unsafe") if guess else None)

    # -- calls --------------------------------------------------------------------------------

    def call(self, node: A.Call) -> None:
        name, ep = node.name, self.ctx.endpoint
        arg = node.args[0] if node.args else None
        if name == "datetime":
            self.datetime_call(node, arg)
        elif name == "number" and isinstance(arg, A.String) \
                and not _NUMERIC_TEXT.match(arg.value):
            self.report("T008", node, f"number({quote(arg.value)}) is always undefined",
                        help="the string is not a decimal number")
        elif name in ("floor", "round", "ceil"):
            t = self.type_of(arg)
            if t in _KNOWN_VALUE - {T.NUMBER}:
                self.report("T004", node, f"{name}() of {_article(t)} is undefined",
                            help=f"{name}() works on numbers; cast with number(...) first")
        elif name == "has_prefix" and self.ctx.known and ep != "jql":
            self.report("U003", node, f"has_prefix() is only documented for JQL, not {ep}",
                        help="for a substring test write \"prefix\" in properties[\"x\"]")
        elif name == "list" and self.ctx.known and ep != "engage":
            self.report("U009", node, f"list() is only evidenced in engage, not {ep}")
        if ep == "engage" and name in _ENGAGE_ONLY_FUNCS:
            self.report("U007", node, f"{name}() is outside Engage's reduced grammar "
                        "(unconfirmed there)")

    def datetime_call(self, node: A.Call, arg) -> None:
        from datetime import datetime, timezone  # lazily: only date checks need it
        if isinstance(arg, A.String):
            value = arg.value
            parsed = _parse_iso(value)
            if parsed is None:
                fixed = _repair_date(value)
                self.report(
                    "D001", arg, f"{quote(value)} is not an ISO 8601 date; datetime() of it "
                    "is undefined",
                    help=(f"write {quote(fixed)}" if fixed else
                          "write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"
                          + (" (is it month/day or day/month?)" if "/" in value else "")),
                    fix=self.replace(arg, quote(fixed), "rewrite as ISO 8601") if fixed
                    else None)
            elif not DOCUMENTED_LITERAL.match(value):
                fixed = _repair_date(value)
                self.report("D001", arg, f"{quote(value)}: Mixpanel documents "
                            "YYYY-MM-DDTHH:MM:SS without offset or fraction",
                            help="engage reads the literal in the project's timezone; convert "
                                 "to it and drop the offset",
                            severity=Severity.WARNING,
                            fix=self.replace(arg, quote(fixed), "use the documented form")
                            if fixed else None)
            return
        value = _number_value(arg)
        if value is None:
            return
        if value <= 0:
            self.report("D002", node, f"datetime({format_number(value)}) is undefined: "
                        "timestamps must be positive")
            return
        unit = "seconds" if value <= _MAX_SECONDS else "milliseconds"
        seconds = value if unit == "seconds" else value / 1000
        try:
            when = datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            when = None
        shown = when.strftime("%Y-%m-%dT%H:%M:%S") if when else "out of range"
        if when is None or not 2000 <= when.year <= 2100:
            alt = ""
            if unit == "seconds":
                alt = " (values up to 4294967295 are read as seconds)"
            self.report("D003", node, f"datetime({format_number(value)}) reads the number as "
                        f"Unix {unit}: {shown} UTC{alt}",
                        help="check the unit: Unix seconds have 10 digits today, milliseconds "
                             "13", severity=Severity.WARNING)
        else:
            self.report("D003", node, f"datetime({format_number(value)}) reads the number as "
                        f"Unix {unit}: {shown} UTC")

    # -- operators ----------------------------------------------------------------------------

    def arith(self, node: A.Arith) -> None:
        a, b = self.type_of(node.left), self.type_of(node.right)
        op = node.op
        if op == "+":
            bad = [t for t in (a, b) if t in _KNOWN_VALUE - {T.NUMBER, T.STRING}]
            if bad:
                self.report("T004", node, f"`+` on {_article(bad[0])} is undefined",
                            help="`+` adds numbers or joins strings")
            elif {a, b} == {T.NUMBER, T.STRING}:
                self.report("T004", node, "`+` of a string and a number is undefined",
                            help="cast one side: number(...) or string(...)")
        else:
            bad = [t for t in (a, b) if t in _KNOWN_VALUE - {T.NUMBER}]
            if bad:
                self.report("T004", node, f"`{op}` on {_article(bad[0])} is undefined",
                            help=f"`{op}` works on numbers only; cast with number(...)")
            elif op in ("/", "%") and _is_zero(node.right):
                self.report("T004", node, f"`{op} 0` is undefined in Mixpanel")
        if op in ("*", "/", "%") and self.ctx.endpoint == "engage":
            self.report("U007", node, f"`{op}` is outside Engage's reduced grammar "
                        "(unconfirmed there)")
        if op == "-":
            self.minus_spacing(node)

    def minus_spacing(self, node: A.Arith) -> None:
        if self.text is None or node.left.span is None or node.right.span is None:
            return
        gap_start, gap_end = node.left.span.end, node.right.span.start
        gap = _COMMENT.sub(lambda m: " " * len(m.group(0)), self.text[gap_start:gap_end])
        pos = gap.find("-")
        if pos < 0:
            return
        minus = gap_start + pos
        after = self.text[minus + 1: minus + 2]
        if not (after.isdigit() or after == "."):
            return
        spaced_before = minus > 0 and self.text[minus - 1] in " \t\r\n"
        fix = Fix("put a space after `-`", [Edit(Span(minus + 1, minus + 1), " ")])
        if not spaced_before:
            fix = Fix("put spaces around `-`", [Edit(Span(minus, minus + 1), " - ")])
        self.report("L001", Span(minus, minus + 1 + _digits(self.text, minus + 1)),
                    "Mixpanel reads `-` followed by a digit as a negative number"
                    + ("" if spaced_before else " (unconfirmed without a space before it)"),
                    help="write a space on both sides of a binary `-`",
                    fix=fix, severity=None if spaced_before else Severity.WARNING)

    def compare(self, node: A.Compare) -> None:
        left, right, op = node.left, node.right, node.op
        a, b = self.type_of(left), self.type_of(right)
        if op not in ("==", "!=") and T.UNKNOWN in (a, b) and T.STRING in (a, b):
            lit = right if isinstance(right, A.String) else left
            if isinstance(lit, A.String) and not _date_like(lit):
                numeric = bool(_NUMERIC_TEXT.match(lit.value))
                self.report("T003", node, f"`{op}` against the string {quote(lit.value)}: "
                            "ordering is defined for numbers; for strings it is unconfirmed",
                            help="compare numbers: number(...) > 18",
                            fix=self.replace(lit, format_number(_to_number(lit.value)),
                                             "compare with a number", "unsafe")
                            if numeric else None)
            return
        if a not in _KNOWN_VALUE or b not in _KNOWN_VALUE:
            return
        if a == b:
            if op not in ("==", "!=") and a in (T.BOOLEAN, T.LIST):
                self.report("T002", node, f"`{op}` on {a}s is undefined",
                            help="ordering works on numbers and datetimes")
            elif op not in ("==", "!=") and a == T.STRING:
                if _date_like(left) or _date_like(right):
                    return self.datetime_mismatch(node, left, right, a, b)
                self.report("T003", node, f"`{op}` between strings is unconfirmed in Mixpanel",
                            help="for numbers stored as strings compare number(...) with a "
                                 "number")
            return
        if T.DATETIME in (a, b):
            return self.datetime_mismatch(node, left, right, a, b)
        if op in ("==", "!="):
            always = "false" if op == "==" else "true"
            fix = self.literal_fix(left, right, a, b)
            self.report("T001", node, f"`{op}` between {_article(a)} and {_article(b)} is "
                        f"always {always}",
                        help="Mixpanel compares values of different types as unequal"
                        + (f"; did you mean {fix.edits[0].replacement}?" if fix else ""),
                        fix=fix)
        else:
            self.report("T002", node, f"`{op}` between {_article(a)} and {_article(b)} is "
                        "undefined", help="ordering needs two numbers or two datetimes; "
                        "cast with number(...) or datetime(...)")

    def literal_fix(self, left, right, a, b) -> Fix | None:
        for lit, want in ((right, a), (left, b)):
            if isinstance(lit, A.String):
                v = lit.value
                if want == T.BOOLEAN and v in ("true", "false"):
                    return self.replace(lit, v, f"compare with the boolean {v}", "unsafe")
                if want == T.NUMBER and _NUMERIC_TEXT.match(v):
                    num = float(v) if any(c in v for c in ".eE") else int(v)
                    if isinstance(num, float) and num.is_integer() and "." not in v:
                        num = int(num)
                    if isinstance(num, float) and not math.isfinite(num):
                        return None
                    return self.replace(lit, format_number(num), "compare with a number",
                                        "unsafe")
            elif isinstance(lit, A.Number) and want == T.STRING:
                return self.replace(lit, quote(format_number(lit.value)),
                                    "compare with a string", "unsafe")
            elif isinstance(lit, A.Boolean) and want == T.STRING:
                v = "true" if lit.value else "false"
                return self.replace(lit, quote(v), "compare with a string", "unsafe")
        return None

    def datetime_mismatch(self, node, left, right, a, b) -> None:
        # A date-looking string literal against a datetime (or against a string that isn't).
        for lit, other in ((right, left), (left, right)):
            if isinstance(lit, A.String) and _date_like(lit) \
                    and self.type_of(other) in (T.DATETIME, T.STRING):
                if self.type_of(other) == T.STRING and not isinstance(other, A.Property):
                    continue
                if self.type_of(other) == T.STRING:
                    continue  # string vs date-looking string: plain string comparison
                self.report("D004", node, f"`{_show(other)}` is a datetime and "
                            f"{quote(lit.value)} a string: the comparison never matches",
                            help=f"wrap the literal: datetime({quote(lit.value)})",
                            fix=self.replace(lit, f"datetime({quote(lit.value)})",
                                             "wrap the literal in datetime()"))
                return
        for prop, other in ((left, right), (right, left)):
            if isinstance(prop, A.Property) and self.type_of(prop) == T.STRING \
                    and self.type_of(other) == T.DATETIME:
                self.report("D006", node, f"`{_show(prop)}` is a string compared with a "
                            "datetime", help=f"wrap it: datetime({_show(prop)})",
                            fix=self.replace(prop, f"datetime({_show(prop)})",
                                             "wrap the property in datetime()"))
                return
        for num, other in ((left, right), (right, left)):
            if self.type_of(num) == T.NUMBER and self.type_of(other) == T.DATETIME:
                text = self.src(num)
                shown = text if text and len(text) <= 60 else _show(num)
                # NOW is Unix seconds by definition; any other number only may be a timestamp.
                now = any(isinstance(n, A.Now) for n in A.walk(num))
                outcome = ("is always false" if node.op == "==" else
                           "is always true" if node.op == "!=" else
                           "is undefined, so the comparison never matches")
                self.report(
                    "D005", node,
                    f"`{_show(other)}` is a datetime and `{shown}` a number"
                    f"{' (Unix seconds)' if now else ''}: `{node.op}` between them {outcome}",
                    help=(f"NOW is Unix seconds: compare it as a datetime, datetime({shown})"
                          if now else
                          f"if {shown} is a Unix timestamp, compare it as a datetime: "
                          f"datetime({shown}) (seconds, or milliseconds above 4294967295)"),
                    # Unsafe: the filter then selects records (it selected none), and a number
                    # that is not a timestamp in seconds or milliseconds would be misread.
                    fix=self.replace(num, f"datetime({text})",
                                     "wrap `NOW` in datetime()" if isinstance(num, A.Now)
                                     else "wrap the number in datetime()",
                                     "unsafe") if text else None)
                return
        a_t, b_t = self.type_of(left), self.type_of(right)
        if a_t == b_t == T.STRING:
            if node.op not in ("==", "!="):
                self.report("T003", node, f"`{node.op}` between strings is unconfirmed in "
                            "Mixpanel; for dates compare datetime(...) values",
                            help="wrap both sides in datetime(...)")
            return
        if node.op in ("==", "!="):
            self.report("T001", node, f"`{node.op}` between {_article(a_t)} and "
                        f"{_article(b_t)} is always {'false' if node.op == '==' else 'true'}")
        else:
            self.report("T002", node, f"`{node.op}` between {_article(a_t)} and "
                        f"{_article(b_t)} is undefined")

    def in_(self, node: A.In) -> None:
        left, right = node.left, node.right
        a, b = self.type_of(left), self.type_of(right)
        if b in (T.NUMBER, T.BOOLEAN, T.DATETIME):
            self.report("T005", node, f"nothing is `in` {_article(b)}",
                        help="`in` tests a substring of a string or a member of a list")
            return
        if b == T.STRING and a in _KNOWN_VALUE - {T.STRING}:
            self.report("T005", node, f"`{_show(left)}` is {_article(a)}, but `in` a string "
                        "tests substrings", help="cast with string(...) if that is intended")
            return
        if isinstance(right, A.ListLiteral) and a in _KNOWN_VALUE:
            kinds = {self.type_of(i) for i in right.items if isinstance(i, _LITERALS)}
            if right.items and kinds and a not in kinds and \
                    all(isinstance(i, _LITERALS) for i in right.items):
                fix = None
                if a == T.STRING and kinds == {T.NUMBER}:
                    fix = self.replace(right, "[" + ", ".join(
                        quote(format_number(i.value)) for i in right.items) + "]",
                        "quote the list items", "unsafe")
                elif a == T.NUMBER and kinds == {T.STRING} and all(
                        _NUMERIC_TEXT.match(i.value) for i in right.items):
                    fix = self.replace(right, "[" + ", ".join(
                        i.value.strip() for i in right.items) + "]",
                        "use number items", "unsafe")
                self.report("T005", node, f"`{_show(left)}` is {_article(a)} and the list "
                            f"holds {' and '.join(sorted(kinds))} values: never a member",
                            help="list membership compares type and value", fix=fix)
        if isinstance(left, A.ListLiteral):
            self.report("T005", node, "a list literal cannot be looked up `in` a value",
                        help="write `value in [...]` with the list on the right")

    def any_(self, node: A.Any) -> None:
        if self.ctx.endpoint == "engage":
            self.report("U007", node, "any() is outside Engage's reduced grammar (it has no "
                        "per-list-item test; unconfirmed there)",
                        help='for membership write "value" in properties["list"]')
        t = self.type_of(node.items)
        if t in _KNOWN_VALUE - {T.LIST}:
            self.report("T010", node.items, f"any() over {_article(t)}, not a list",
                        help="any tries the elements of a list; for one value compare it "
                             "directly (what any does with a non-list is UNCONFIRMED)")
        if not any(isinstance(n, A.Var) and n.name == node.var for n in A.walk(node.predicate)):
            self.report("C005", node, f"the condition of any({node.var}, …) never uses "
                        f"`{node.var}`",
                        help=f"test the element: any({node.var}, …, {node.var} == \"value\")")

    # -- source-text rules --------------------------------------------------------------------

    def single_equals(self, node: A.Compare) -> None:
        """U010: `=` written for `==` (the tree holds `==`; the text says which)."""
        if node.op != "==" or self.text is None or node.left.span is None \
                or node.right.span is None:
            return
        start, end = node.left.span.end, node.right.span.start
        gap = _COMMENT.sub(lambda m: " " * len(m.group(0)), self.text[start:end])
        m = _SINGLE_EQ.search(gap)
        if m:
            span = Span(start + m.start(), start + m.end())
            self.report("U010", span, "`=` used for equality",
                        help="Mixpanel documents `==`; mpql reads `=` as `==` and sends `==`",
                        fix=Fix("replace `=` with `==`", [Edit(span, "==")]))

    def keyword_in_gap(self, node, word: str) -> None:
        if self.text is None or node.left.span is None or node.right.span is None:
            return
        start, end = node.left.span.end, node.right.span.start
        gap = _COMMENT.sub(lambda m: " " * len(m.group(0)), self.text[start:end])
        m = re.search(rf"(?i)\b{word}\b", gap)
        if m and m.group(0) != word:
            span = Span(start + m.start(), start + m.end())
            self.report("U008", span, f"`{m.group(0)}` should be written `{word}`",
                        help="keyword case-insensitivity is UNCONFIRMED in Mixpanel",
                        fix=Fix(f"write `{word}`", [Edit(span, word)]))

    def keyword_case(self, pos, word: str) -> None:
        if self.text is None or pos is None:
            return
        found = self.text[pos: pos + len(word)]
        if found != word and found.lower() == word:
            span = Span(pos, pos + len(word))
            self.report("U008", span, f"`{found}` should be written `{word}`",
                        help="keyword case-insensitivity is UNCONFIRMED in Mixpanel",
                        fix=Fix(f"write `{word}`", [Edit(span, word)]))

    def style(self, root) -> None:
        if "F001" not in self.enabled or self.text is None:
            return
        text = self.text
        if "#" in _strip_strings(text):
            return
        start = len(text) - len(text.lstrip())
        end = len(text.rstrip())
        canonical = format_expr(root)
        if text[start:end] != canonical:
            span = Span(start, end)
            self.report("F001", span, "expression is not in canonical format",
                        help=f"mpql fmt writes: {canonical}",
                        fix=Fix("format with mpql fmt", [Edit(span, canonical)]))


# ---------------------------------------------------------------------------------------------
# helpers


def _show(node) -> str:
    text = format_expr(node)
    return text if len(text) <= 60 else text[:57] + "…"


def _lit(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value)
    return format_number(value)


def _operand_of(parent) -> str:
    if isinstance(parent, A.And):
        return "an `and` operand"
    if isinstance(parent, A.Or):
        return "an `or` operand"
    if isinstance(parent, A.Not):
        return "the operand of `not`"
    return "a condition"


def _is_zero(node) -> bool:
    return isinstance(node, A.Number) and node.value == 0


def _number_value(node):
    if isinstance(node, A.Number):
        return node.value
    if isinstance(node, A.Neg) and isinstance(node.operand, A.Number):
        return -node.operand.value
    return None


def _digits(text: str, pos: int) -> int:
    n = 0
    while pos + n < len(text) and (text[pos + n].isdigit() or text[pos + n] in ".eE"):
        n += 1
    return n


def _strip_strings(text: str) -> str:
    return re.sub(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', '""', text)


def _parse_iso(value: str):
    # The evaluator's own recogniser: D001 is an error exactly when datetime() of the literal
    # is undefined there (mpql/_datetext.py).
    return parse_datetime_literal(value)


_REPAIRS = [
    (LazyRegex(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$"), False),
    (LazyRegex(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), False),
    (LazyRegex(r"^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?$"), True),
    (LazyRegex(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?$"), True),
]


def _repair_date(value: str) -> str | None:
    """The documented ISO form of an unambiguous date, else None."""
    from datetime import datetime, timezone  # lazily: only date checks need it
    text = value.strip()
    for pattern, has_time in _REPAIRS:
        m = pattern.match(text)
        if not m:
            continue
        parts = [int(g) if g is not None else 0 for g in m.groups()]
        try:
            when = datetime(*parts[:3], *(parts[3:6] if has_time else ()))
        except ValueError:
            return None
        return when.strftime("%Y-%m-%dT%H:%M:%S" if has_time else "%Y-%m-%d")
    m = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$",
                 text)
    if m and "." in text and not re.search(r"(Z|[+-]\d{2}:?\d{2})$", text):
        return m.group(1)  # dropping a fraction of a second keeps the instant's second
    return None


def _to_number(text: str):
    value = float(text)
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _date_like(node):
    return isinstance(node, A.String) and bool(DATETIME_LITERAL.match(node.value.strip()))


def _literal_value(node):
    if isinstance(node, (A.String, A.Boolean)):
        return node.value
    v = _number_value(node)
    return v


def _same_literal(a, b) -> bool:
    return type(a) is type(b) and a == b or (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _opposed(key, op, value, eq: dict, ne: dict) -> bool:
    """An earlier part tested ``key`` against the same literal with the opposite operator
    (``x == v`` then ``x != v``, or the reverse)."""
    earlier = ne if op == "==" else eq
    return any(_same_literal(v, value) for v in earlier.get(key, ()))


def _fact(part, constant):
    """(expression, op, literal) for `expr OP literal` / `literal OP expr`, else None."""
    if not isinstance(part, A.Compare):
        return None
    flip = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
    left_lit = _literal_value(part.left)
    right_lit = _literal_value(part.right)
    if right_lit is not None and left_lit is None and not constant(part.left):
        return part.left, part.op, right_lit
    if left_lit is not None and right_lit is None and not constant(part.right):
        return part.right, flip[part.op], left_lit
    return None


def _post_order(node, done) -> list:
    """The nodes under ``node`` not yet in ``done`` (keyed by id), children before parents."""
    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) not in done:
            out.append(n)
            stack.extend(A.children(n))
    out.reverse()
    return out


def _fold_node(node, memo) -> tuple:
    """(constant, value) of one node from its children's entries in ``memo``: constant when no
    property or NOW occurs in it; value is the boolean a property-free condition always has
    (or what an and/or is forced to by one constant side), else None."""
    kids = [memo[id(c)] for c in A.children(node)]
    constant = not isinstance(node, (A.Property, A.Now, A.Var)) and all(k[0] for k in kids)
    if isinstance(node, A.Boolean):
        return constant, node.value
    if not isinstance(node, (A.Compare, A.In, A.And, A.Or, A.Not)):
        return constant, None
    if isinstance(node, A.Not):
        inner = kids[0][1]
        return constant, (None if inner is None or not constant else not inner)
    if isinstance(node, (A.And, A.Or)):
        l, r = kids[0][1], kids[1][1]
        if constant:
            if l is None or r is None:
                return constant, None
            return constant, (l and r) if isinstance(node, A.And) else (l or r)
        if isinstance(node, A.And):
            return constant, (False if (l is False or r is False) else None)
        return constant, (True if (l is True or r is True) else None)
    if not constant:
        return constant, None
    return constant, _fold_literal(node)


def _fold_literal(node):
    """The value of a property-free comparison or `in` between literals, or None."""
    if isinstance(node, A.Compare):
        a, b = _literal_value(node.left), _literal_value(node.right)
        if a is None or b is None:
            return None
        same_type = type(a) is type(b) or (
            isinstance(a, (int, float)) and isinstance(b, (int, float))
            and not isinstance(a, bool) and not isinstance(b, bool))
        if node.op == "==":
            return same_type and a == b
        if node.op == "!=":
            return not (same_type and a == b)
        if not same_type or isinstance(a, (str, bool)):
            return None  # undefined / unconfirmed: other rules say so
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[node.op]
    if isinstance(node, A.In):
        a = _literal_value(node.left)
        if isinstance(node.right, A.String) and isinstance(a, str):
            return a in node.right.value
        if isinstance(node.right, A.ListLiteral) and a is not None:
            return any(_same_literal(a, _literal_value(i)) for i in node.right.items)
        return None
    return None

"""Expression → SQL, with the evaluator's semantics (mpql/evaluator/values.py) slot by slot.

Every node compiles to a ``V`` (_values.py): one nullable SQL expression per Mixpanel type
the value may have. The operator tables of values.Ops are restated here over those slots;
tests/test_sql_conformance.py runs the evaluator's conformance table through DuckDB and Spark
and a hypothesis property compares random expressions on random records, so the two
statements cannot drift apart silently.

What SQL cannot express is refused with ``SqlCompileError`` naming the construct and the way
out, never approximated silently:

* ``user["…"]`` on events (the evaluator joins profiles by distinct_id; SQL would need a
  second table) and ``behaviors["…"]`` on profiles;
* ``Semantics(logic_operand="raise")`` / ``non_boolean_filter="raise"`` on an engine without
  an error function (Snowflake), when an operand may be a non-boolean;
* ``==`` between a list literal and anything but another list literal.

Documented numeric deviations (docs/sql.md): numbers are DOUBLE, so integers above 2**53
compare as Mixpanel's own doubles do (the Python evaluator compares them exactly), and
``string(x)`` of a non-integral number uses the engine's float formatting (Spark writes
``1.5E-7`` where Python writes ``1.5e-07``).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlglot import exp

from ..errors import MpqlError
from ..evaluator.semantics import DEFAULT, Semantics
from ..evaluator.values import MAX_SECONDS, Ops, Undefined, kind
from ..language import ast as A
from ._dialects import Dialect, cast
from ._values import (
    V, and_, case, coalesce, is_null, lit_num, lit_str, not_, not_null, or_, parenthesize, try_cast,
)

__all__ = ["SqlCompileError", "Layout", "LAYOUTS", "Compiler"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: datetime(n) is undefined past 9999-12-31T23:59:59 (Python's datetime, and Mixpanel's UI).
_MAX_EPOCH = 253402300800

# The shapes of values.ISO_PROPERTY and values._DATETIME_TEXT, in the RE2/Java subset.
_ISO_PROPERTY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z?)?"
_DATETIME_TEXT = (
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]{1,9})?)?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_WS = r"[ \t\n\r\f\v]*"
_INT_TEXT = _WS + r"[+-]?[0-9]+" + _WS
_NUMBER_TEXT = _WS + r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)" + _WS


_ISO_RE = re.compile(_ISO_PROPERTY)


class SqlCompileError(MpqlError):
    """An expression (or a Semantics choice) that cannot be written in the requested SQL."""


class Layout:
    """Where a record's parts are: the table's column names for one data layout."""

    def __init__(self, name, scope, properties, *, event=None, distinct_id=None, time=None,
                 table=None, distinct_id_text=False):
        self.name = name
        self.scope = scope
        self.properties = properties
        self.event = event
        self.distinct_id = distinct_id
        #: The distinct_id column is text by the layout's schema (Data Pipelines: STRING);
        #: otherwise its type is whatever the reader gave it (read as JSON: see _id_column).
        self.distinct_id_text = distinct_id_text
        self.time = time
        self.table = table


LAYOUTS = {
    # Raw Export JSONL: {"event": …, "properties": {…, "time": …, "distinct_id": …}}
    ("export", "events"): Layout("export", "events", "properties", event="event", table="events"),
    # Mixpanel Data Pipelines (docs.mixpanel.com/docs/data-pipelines): mp_master_event has
    # event_name, time (TIMESTAMP), distinct_id (STRING) and the remaining properties as JSON.
    ("pipelines", "events"): Layout("pipelines", "events", "properties", event="event_name",
                                    distinct_id="distinct_id", time="time", table="mp_master_event",
                                    distinct_id_text=True),
    ("pipelines", "profiles"): Layout("pipelines", "profiles", "properties",
                                      distinct_id="distinct_id", table="mp_people_data",
                                      distinct_id_text=True),
    # Engage results: {"$distinct_id": …, "$properties": {…}}; the id may be any JSON value.
    ("engage", "profiles"): Layout("engage", "profiles", "$properties", distinct_id="$distinct_id",
                                   table="profiles"),
}


def _col(name: str) -> exp.Expression:
    return exp.column(exp.to_identifier(name, quoted=True))


class Compiler:
    """Compiles expressions for one dialect, layout and Semantics."""

    def __init__(self, dialect: Dialect, layout: Layout, semantics: Semantics = DEFAULT,
                 now: int | None = None, *, fold: bool = True, json_text: bool | None = None,
                 bind: bool = False):
        self.d = dialect
        #: bind=True: each property is read once, into columns computed in nested derived
        #: tables (``layers``: parse → extract → type slots → datetime typing) which the
        #: condition then references. Engines need this (the inline form repeats every
        #: extraction in every slot, and Spark's SQL parser runs out of memory on big ones).
        self.bind = bind
        self.layers: list[list] = [[], [], [], []]
        self._bound: dict = {}
        self._pending: list = []  # the checks of the operands compiled so far (see value)
        self._env: dict = {}      # any(X, …): the V each variable stands for
        #: DuckDB engine: properties are read from the whole record ``_rec`` at
        #: /properties/… (one JSON parse per property; see _duckdb.py).
        self.within: tuple = ()
        self._lambdas = 0
        self.layout = layout
        self.scope = layout.scope
        self.sem = semantics
        self.ops = Ops(semantics)
        self.fold = fold
        if layout.scope == "events" and not semantics.now_on_events:
            now = None
        self.now = now
        props = _col(layout.properties)
        if json_text is None:
            json_text = dialect.name in ("spark", "databricks")
        self.props = dialect.parse_json_column(props) if json_text else props
        if bind and json_text:
            self.layers[0].append(("_mpql_props", self.props))
            self.props = _col("_mpql_props")

    # -- entry points ------------------------------------------------------------------------

    def condition(self, node: A.Expr) -> exp.Expression:
        """A SQL boolean that is TRUE exactly when the filter selects the record (never NULL)."""
        v = self.value(node)
        cond = self._selects(v, node)
        if v.check is not None:
            cond = case((v.check, cond), default=exp.false())
        return parenthesize(cond)

    def value_columns(self, node: A.Expr) -> dict:
        """``{slot: SQL}`` for every slot the value may fill (``mpql.sql`` value reads)."""
        v = self.value(node)
        if v.items is not None:
            raise SqlCompileError("a list literal has no SQL value (use it with `in`)")
        if v.check is None:
            return {k: parenthesize(v.get(k)) for k in v.kinds()}
        return {k: parenthesize(case((v.check.copy(), v.get(k)))) for k in v.kinds()}

    def value(self, node: A.Expr) -> V:
        outer, self._pending = self._pending, []
        try:
            if self.fold and _constant(node):
                v = self._const(node)
            else:
                method = getattr(self, "_c_" + type(node).__name__, None)
                if method is None:
                    raise SqlCompileError(f"cannot compile a {type(node).__name__} node to SQL")
                v = method(node)
        finally:
            inner, self._pending = self._pending, outer
        # A failing and/or below this node fails the query even if this node drops its
        # value (``x + (a and b)``): its check travels up to the condition.
        checks = [c for c in inner if c is not None]
        if v.check is not None:
            checks.append(v.check)
        if checks:
            if v.kinds() or v.items is not None or v.undef is not None:
                v = _copy(v)
            v.check = and_(*[c.copy() for c in checks])
        outer.append(v.check)
        return v

    # -- constants ---------------------------------------------------------------------------

    def _const(self, node: A.Expr) -> V:
        from ..evaluator import evaluate

        value = evaluate(node, {"event": "e", "properties": {}}, now=self.now or 0,
                         scope="events", semantics=self.sem)
        if isinstance(node, A.Now) or any(isinstance(n, A.Now) for n in A.walk(node)):
            if self.now is None:
                value = Undefined if isinstance(node, A.Now) else self._now_undefined(node)
        return self._literal(value)

    def _now_undefined(self, node):
        # NOW is undefined here (now_on_events=False): evaluate without folding.
        saved, self.fold = self.fold, False
        try:
            return _Deferred(self.value(node))
        finally:
            self.fold = saved

    def _literal(self, value) -> V:
        if isinstance(value, _Deferred):
            return value.v
        if value is Undefined:
            return V.undefined()
        k = kind(value)
        if k == "number":
            return V(num=lit_num(value), const=value)
        if k == "string":
            return V(str=lit_str(value), const=value)
        if k == "boolean":
            return V(bool=exp.true() if value else exp.false(), const=value)
        if k == "null":
            return V(null=exp.true(), const=None)
        if k == "datetime":
            return V(dt=lit_num(int((value - _EPOCH).total_seconds())), const=value)
        if k == "list":
            return V(items=[self._literal(item) for item in value], const=value)
        raise SqlCompileError(f"cannot write {k} {value!r} as an SQL constant")

    # -- leaves ------------------------------------------------------------------------------

    def _c_String(self, node):
        return V(str=lit_str(node.value), const=node.value)

    def _c_Number(self, node):
        return V(num=lit_num(node.value), const=node.value)

    def _c_Boolean(self, node):
        return V(bool=exp.true() if node.value else exp.false(), const=node.value)

    def _c_Now(self, node):
        if self.now is None:
            return V.undefined()
        return V(num=lit_num(self.now), const=self.now)

    def _c_ListLiteral(self, node):
        return V(items=[self.value(item) for item in node.items])

    def _c_Property(self, node):
        scope, name = node.scope, node.name
        lay = self.layout
        if self.scope == "events":
            if scope in ("properties", "event"):
                return self._event_prop(name)
            if scope == "user":
                if name in ("$distinct_id", "distinct_id"):
                    return self._raw_distinct_id()
                raise SqlCompileError(
                    f'user["{name}"] on events needs each event\'s profile, which is in another '
                    "table: filter the events with properties[…] here and join the profiles "
                    "table yourself, or evaluate with mpql's Python engine (profiles=…)"
                )
            return V.undefined()  # behaviors[…] does not exist on events
        # profiles
        if scope in ("properties", "user"):
            v = self._typed(self._raw(name))
            if name in ("$distinct_id", "distinct_id") and lay.distinct_id:
                v = _fallback(v, self._id_column())
            return v
        if scope == "behaviors":
            raise SqlCompileError(
                f'behaviors["{name}"] counts events per profile, which a profiles table does not '
                "hold: compute the counts in SQL from the events table, or use mpql's Python "
                "engine (behaviors=…)"
            )
        return V.undefined()  # event[…] on a profile

    def _raw(self, name: str) -> V:
        if not self.bind:
            return self.d.typed_json(self.d.field(self.props.copy(), name))
        found = self._bound.get(name)
        if found is None:
            i = len(self._bound)
            j = f"_mpql_j{i}"
            if self.within:
                self.layers[1].append((j, self.d.field(self.props.copy(), name, within=self.within)))
            else:
                self.layers[1].append((j, self.d.field(self.props.copy(), name)))
            raw = self.d.typed_json(_col(j))
            slots = {}
            for k in raw.kinds():
                self.layers[2].append((f"_mpql_{k}{i}", raw.get(k)))
                slots[k] = _col(f"_mpql_{k}{i}")
            found = self._bound[name] = (i, slots, is_null(_col(j)))
        i, slots, undef = found
        v = V(undef=undef.copy(), **{k: e.copy() for k, e in slots.items()})
        v.const = ("bound", i)
        return v

    def _event_prop(self, name: str) -> V:
        lay = self.layout
        v = self._typed(self._raw(name))
        if name == "$time":
            if lay.time:
                seconds = exp.Floor(this=self.d.timestamp_seconds(_col(lay.time)))
                v = _fallback(v, V(dt=cast(seconds, "DOUBLE")))
            else:
                v = _fallback(v, self._datetime_from_number(self._raw("time")))
        elif name == "$distinct_id":
            v = _fallback(v, self._typed(self._raw("distinct_id")))
            if lay.distinct_id:
                v = _fallback(v, self._id_column())
        elif name == "distinct_id" and lay.distinct_id:
            v = _fallback(v, self._id_column())
        elif name == "time" and lay.time:
            seconds = exp.Floor(this=self.d.timestamp_seconds(_col(lay.time)))
            v = _fallback(v, V(num=cast(seconds, "DOUBLE")))
        return v

    def _raw_distinct_id(self) -> V:
        """``Resolver.distinct_id``: the raw (untyped) distinct_id, else $distinct_id."""
        v = _fallback(self._raw("distinct_id"), self._raw("$distinct_id"))
        if self.layout.distinct_id:
            v = _fallback(v, self._id_column())
        return v

    def _id_column(self) -> V:
        """The layout's distinct_id column, as the evaluator reads the record's id
        (records.Resolver): as it is — a number stays a number, ``null`` is null, and a
        string is never typed as a datetime. Data Pipelines' schema makes it a STRING; any
        other column (an Engage table: DuckDB's read_json makes a numeric id BIGINT, a mix
        JSON) is read through the dialect's JSON type."""
        col = _col(self.layout.distinct_id)
        if self.layout.distinct_id_text:
            return V(str=cast(col, "VARCHAR"))
        if not self.bind:
            return self.d.typed_json(self.d.to_json(col))
        # Bound once, after the layer that may compute the column (the DuckDB engine does).
        if not any(n == "_mpql_id" for n, _ in self.layers[2]):
            self.layers[2].append(("_mpql_id", self.d.to_json(col)))
        return self.d.typed_json(_col("_mpql_id"))

    def _typed(self, v: V) -> V:
        """values.Ops.typed: property strings shaped like ISO dates are datetimes
        (docs/semantics.md)."""
        if not self.sem.iso_strings_are_datetimes or v.str is None:
            return v
        s = v.str
        if self.bind and isinstance(v.const, tuple) and v.const[0] == "bound":
            i = v.const[1]
            name = f"_mpql_dt{i}"
            if not any(n == name for n, _ in self.layers[3]):
                seconds = case((self.d.regex_full(s.copy(), _ISO_PROPERTY), self._iso_seconds(s)))
                self.layers[3].append((name, seconds))
            out = V(undef=v.undef, **{k: v.get(k) for k in ("num", "bool", "null", "lst", "obj")})
            out.dt = _col(name)
            out.str = case((is_null(_col(name)), s.copy()))
            out.raw_str = s.copy()
            return out
        seconds = case((self.d.regex_full(s.copy(), _ISO_PROPERTY), self._iso_seconds(s)))
        out = V(undef=v.undef, **{k: v.get(k) for k in ("num", "bool", "null", "lst", "obj")})
        out.dt = seconds
        out.str = case((is_null(seconds.copy()), s.copy()))
        out.raw_str = s.copy()
        return out

    def _iso_seconds(self, s) -> exp.Expression:
        """Unix seconds of text already shaped like ISO_PROPERTY; NULL if no real instant."""
        d = self.d

        def part(start, length):
            return exp.Substring(this=s.copy(), start=exp.Literal.number(start),
                                 length=exp.Literal.number(length))

        def num(start):
            return coalesce(try_cast(part(start, 2), "INT"), exp.Literal.number(0))

        date = d.date_from_text(part(1, 10))
        seconds = exp.Add(
            this=exp.Mul(this=cast(d.days_since_epoch(date), "DOUBLE"), expression=exp.Literal.number(86400)),
            expression=exp.Add(
                this=exp.Mul(this=num(12), expression=exp.Literal.number(3600)),
                expression=exp.Add(this=exp.Mul(this=num(15), expression=exp.Literal.number(60)), expression=num(18)),
            ),
        )
        valid = and_(
            exp.NEQ(this=part(1, 4), expression=lit_str("0000")),
            exp.LT(this=num(12), expression=exp.Literal.number(24)),
            exp.LT(this=num(15), expression=exp.Literal.number(60)),
            exp.LT(this=num(18), expression=exp.Literal.number(60)),
        )
        return case((and_(not_null(date.copy()), valid), seconds))

    def _datetime_from_number(self, n: V) -> V:
        """values.datetime_from_number: > 0; up to MAX_SECONDS seconds, above milliseconds."""
        x = n.num
        if x is None:
            return V.undefined()
        seconds = exp.Floor(this=case(
            (exp.LTE(this=x.copy(), expression=exp.Literal.number(MAX_SECONDS)), x.copy()),
            default=exp.Div(this=x.copy(), expression=exp.Literal.number(1000)),
        ))
        ok = and_(exp.GT(this=x.copy(), expression=exp.Literal.number(0)),
                  exp.LT(this=seconds.copy(), expression=exp.Literal.number(_MAX_EPOCH)))
        return V(dt=case((ok, cast(seconds, "DOUBLE"))))

    # -- comparison --------------------------------------------------------------------------

    def _eq(self, a: V, b: V) -> exp.Expression:
        """``==`` as an SQL boolean that is never NULL (values.Ops.eq)."""
        if a.items is not None or b.items is not None:
            return self._eq_list_literal(a, b)
        terms = []
        # A property string against a literal that is no ISO date: the property's string
        # equals it only if it is no ISO date either, so the typing can be skipped.
        for p, q in ((a, b), (b, a)):
            if p.raw_str is not None and isinstance(q.const, str) and q.str is not None \
                    and not _ISO_RE.fullmatch(q.const):
                a, b = (V(**{k: p.get(k) for k in p.kinds() if k not in ("str", "dt")}, undef=p.undef),
                        q) if p is a else (q, V(**{k: p.get(k) for k in p.kinds() if k not in ("str", "dt")}, undef=p.undef))
                terms.append(exp.EQ(this=p.raw_str.copy(), expression=q.get("str")))
                break
        for k in ("num", "str", "bool", "dt"):
            x, y = a.get(k), b.get(k)
            if x is not None and y is not None:
                terms.append(exp.EQ(this=x, expression=y))
        if a.null is not None and b.null is not None:
            terms.append(and_(a.get("null"), b.get("null")))
        for k in ("lst", "obj"):
            x, y = a.get(k), b.get(k)
            if x is not None and y is not None:
                terms.append(exp.EQ(this=self.d.json_text(x), expression=self.d.json_text(y)))
        if self.sem.undefined_equals_undefined:
            terms.append(and_(a.is_undefined_expr(), b.is_undefined_expr()))
        terms.append(exp.false())
        return coalesce(*terms)

    def _eq_list_literal(self, a: V, b: V) -> exp.Expression:
        if a.items is not None and b.items is not None:
            if len(a.items) != len(b.items):
                return exp.false()
            return and_(*[self._eq(x, y) for x, y in zip(a.items, b.items)]) if a.items else exp.true()
        other = b if a.items is not None else a
        if other.lst is not None:
            raise SqlCompileError(
                "comparing a list literal with a list property (`==`) is not supported in SQL; "
                "test membership with `in` instead"
            )
        # A list literal never equals a non-list value; undefined_equals_undefined does not
        # apply (a literal is defined).
        return exp.false()

    def _c_Compare(self, node):
        a, b = self.value(node.left), self.value(node.right)
        op = node.op
        if op == "==":
            return V(bool=self._eq(a, b))
        if op == "!=":
            ne = not_(self._eq(a, b))
            if self.sem.ne_with_undefined is True:
                return V(bool=ne)
            return V(bool=case((or_(a.is_undefined_expr(), b.is_undefined_expr()), exp.Null()), default=ne))
        if a.items is not None or b.items is not None:
            return V.undefined()
        cls = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[op]
        kinds = ["num", "dt"] + (["str"] if self.sem.string_ordering == "lexicographic" else [])
        terms = [cls(this=a.get(k), expression=b.get(k)) for k in kinds
                 if getattr(a, k) is not None and getattr(b, k) is not None]
        if not terms:
            return V.undefined()
        return V(bool=coalesce(*terms))

    def _c_In(self, node):
        a, b = self.value(node.left), self.value(node.right)
        terms = []
        if b.str is not None and a.str is not None:
            terms.append(self.d.contains(b.get("str"), a.get("str")))
        if b.items is not None:
            if a.items is not None:
                member = or_(*[self._eq_list_literal(a, item) if item.items is not None
                               else exp.false() for item in b.items]) if b.items else exp.false()
                terms.append(member)
            else:
                member = or_(*[self._eq(a, item) for item in b.items]) if b.items else exp.false()
                terms.append(case((a.is_undefined_expr(), exp.Null()), default=member))
        if b.lst is not None and a.items is None:
            # values._same against each element as stored (elements are not ISO-typed).
            member = self.d.any_element(b.get("lst"), lambda x: self._eq(a, x))
            terms.append(case((a.is_undefined_expr(), exp.Null()),
                              (not_null(b.get("lst")), member)))
        if not terms:
            return V.undefined()
        return V(bool=coalesce(*terms))

    # -- logic -------------------------------------------------------------------------------

    def _truth(self, v: V, node, operator: str) -> exp.Expression:
        """values.Ops.truth: booleans as they are, undefined false, anything else an error
        (logic_operand="raise") or false. Never NULL."""
        others = [k for k in v.kinds() if k != "bool"] + (["items"] if v.items is not None else [])
        if not others or self.sem.logic_operand == "undefined":
            return coalesce(v.get("bool"), exp.false()) if v.bool is not None else exp.false()
        failure = self._failure(node, operator)
        other_present = or_(*[not_null(v.get(k)) for k in others if k != "items"]) if v.items is None else exp.true()
        return case((not_null(v.get("bool")), v.get("bool")) if v.bool is not None else (exp.false(), exp.false()),
                    (other_present, failure), default=exp.false())

    def _failure(self, node, operator: str) -> exp.Expression:
        from ..language.printer import format_expr

        if operator == "filter":
            message = (f"mpql: the filter `{format_expr(node)}` is not a boolean "
                       "(Semantics.non_boolean_filter='raise')")
        else:
            message = (f"mpql: `{operator}` needs boolean operands, but `{format_expr(node)}` is "
                       "not a boolean (Mixpanel rejects the query)")
        err = self.d.error(message)
        if err is None:
            setting = "non_boolean_filter='false'" if operator == "filter" else "logic_operand='undefined'"
            raise SqlCompileError(
                f"{self.d.name} has no way to fail a query, which Semantics needs when "
                f"`{format_expr(node)}` (an `{operator}` operand) is not a boolean: compare it "
                f"explicitly, wrap it in boolean(…), or compile with Semantics({setting})"
            )
        # CAST: the error function's own type (VOID/NULL) must fit the boolean CASE.
        return cast(err, "BOOLEAN")

    def _c_And(self, node):
        return self._chain(A.conjuncts(node), "and")

    def _c_Or(self, node):
        return self._chain(A.disjuncts(node), "or")

    def _chain(self, operands, operator):
        # Left to right, stopping at the deciding operand (a later operand may not raise):
        # CASE WHEN NOT t1 THEN FALSE WHEN NOT t2 THEN FALSE … ELSE TRUE END for `and`.
        whens = []
        for operand in operands:
            v = self.value(operand)
            check = self._pending.pop()  # this operand's own: applies only when it is reached
            t = self._truth(v, operand, operator)
            if check is not None:
                t = case((check, t), default=exp.false())
            whens.append((not_(t) if operator == "and" else t, exp.false() if operator == "and" else exp.true()))
        if all(not _may_raise(t) for t, _ in whens):
            terms = [w[0] for w in whens]
            return V(bool=not_(or_(*terms)) if operator == "and" else or_(*terms))
        result = case(*whens, default=exp.true() if operator == "and" else exp.false())
        out = V(bool=result)
        # TRUE, or the failure: never NULL, and no engine can fold it away.
        out.check = case((is_null(result.copy()), exp.Null()), default=exp.true())
        return out

    def _c_Not(self, node):
        v = self.value(node.operand)
        whens = []
        if v.bool is not None:
            whens.append((not_null(v.get("bool")), not_(v.get("bool"))))
        whens.append((v.is_undefined_expr(), exp.true()))
        return V(bool=case(*whens, default=exp.Null()))

    def _selects(self, v: V, node) -> exp.Expression:
        others = [k for k in v.kinds() if k != "bool"]
        if self.sem.non_boolean_filter == "raise" and (others or v.items is not None):
            return self._truth(v, node, "filter").transform(lambda n: n)
        return coalesce(v.get("bool"), exp.false()) if v.bool is not None else exp.false()

    # -- arithmetic --------------------------------------------------------------------------

    def _c_Neg(self, node):
        v = self.value(node.operand)
        return V(num=exp.Neg(this=v.get("num"))) if v.num is not None else V.undefined()

    def _c_Arith(self, node):
        spine = []
        while type(node) is A.Arith:
            spine.append(node)
            node = node.left
        value = self.value(node)
        for step in reversed(spine):
            value = self._arith(step.op, value, self.value(step.right))
        return value

    def _arith(self, op, a: V, b: V) -> V:
        x, y = a.get("num"), b.get("num")
        out = V()
        if x is not None and y is not None:
            if op == "+":
                r = exp.Add(this=x, expression=y)
            elif op == "-":
                r = exp.Sub(this=x, expression=y)
            elif op == "*":
                r = exp.Mul(this=x, expression=y)
            else:
                nonzero = exp.NEQ(this=y.copy(), expression=exp.Literal.number(0))
                cls = exp.Div if op == "/" else exp.Mod
                r = case((nonzero, cls(this=x, expression=y)))
            out.num = self._finite(r)
        if op == "+" and a.str is not None and b.str is not None:
            out.str = self.d.concat(a.get("str"), b.get("str"))
        if out.num is None and out.str is None:
            return V.undefined()
        return out

    def _finite(self, r):
        return case((self.d.is_finite(r.copy()), r))

    # -- functions ---------------------------------------------------------------------------

    def _c_Var(self, node):
        v = self._env.get(node.name)
        if v is None:
            raise SqlCompileError(f"the variable {node.name} is used outside any(…) that binds it")
        return _copy(v)

    def _c_Any(self, node):
        """values.Ops.any_: elements typed like property values; undefined unless a list
        (Semantics.any_non_list); true when some element's condition is true."""
        items = self.value(node.items)

        def test(element: V, status=False):
            outer = self._env.get(node.var)
            self._env[node.var] = element
            try:
                v = self.value(node.predicate)
                inner = self._pending.pop()
            finally:
                if outer is None:
                    self._env.pop(node.var, None)
                else:
                    self._env[node.var] = outer
            if status:
                # 1 true, 0 false or undefined, 2 a non-boolean (the query fails if no true
                # element comes before it: any stops at the first true one).
                others = [k for k in v.kinds() if k != "bool"]
                whens = []
                if v.bool is not None:
                    whens.append((not_null(v.get("bool")), case((v.get("bool"), exp.Literal.number(1)),
                                                               default=exp.Literal.number(0))))
                if others:
                    whens.append((or_(*[not_null(v.get(k)) for k in others]), exp.Literal.number(2)))
                st = case(*whens, default=exp.Literal.number(0)) if whens else exp.Literal.number(0)
                return st if inner is None else case((inner, st), default=exp.Literal.number(0))
            t = self._truth(v, node.predicate, "any")
            return t if inner is None else case((inner, t), default=exp.false())

        whens = []
        if items.items is not None:
            # Left to right, stopping at the first true one (a later failure must not fire).
            tests = [(test(self._typed_element(item)), exp.true()) for item in items.items]
            return V(bool=case(*tests, default=exp.false()) if tests else exp.false())
        if items.lst is not None:
            self._lambdas += 1
            name = f"_mpql_x{self._lambdas}"
            # Compile the condition once to see whether it can fail (a non-boolean value).
            probe = self._probe_any(node)
            if probe and self.sem.logic_operand == "raise":
                try:
                    first_true, first_bad = self.d.first_positions(
                        items.get("lst"), lambda x: test(self._typed(x), status=True), name, (1, 2))
                except NotImplementedError:
                    raise SqlCompileError(
                        f"{self.d.name}: any(…) whose condition may be a non-boolean cannot fail "
                        "the query at the right element here; compare explicitly, or compile "
                        "with Semantics(logic_operand='undefined')") from None
                zero = exp.Literal.number(0)
                fails = and_(exp.GT(this=first_bad, expression=zero),
                             or_(exp.EQ(this=first_true.copy(), expression=zero.copy()),
                                 exp.LT(this=first_bad.copy(), expression=first_true.copy())))
                member = case((fails, self._failure(node.predicate, "any")),
                              default=exp.GT(this=first_true.copy(), expression=zero.copy()))
            else:
                member = self.d.any_element(items.get("lst"), lambda x: test(self._typed(x)), name)
            whens.append((not_null(items.get("lst")), member))
        if self.sem.any_non_list == "singleton":
            scalar = V(**{k: items.get(k) for k in ("num", "str", "bool", "dt", "null", "obj")
                          if getattr(items, k) is not None})
            if scalar.kinds():
                whens.append((not_(scalar.is_undefined_expr()), test(scalar)))
        if not whens:
            return V.undefined()
        return V(bool=case(*whens))

    def _probe_any(self, node) -> bool:
        """Whether any(…)'s condition may be a non-boolean for some element (compiled once
        with a fully dynamic element, and thrown away)."""
        saved = (self._pending, self._lambdas, [list(layer) for layer in self.layers], dict(self._bound))
        self._pending = []
        outer = self._env.get(node.var)
        self._env[node.var] = self._typed(self.d.typed_json(exp.column("_mpql_probe"), in_list=True))
        try:
            v = self.value(node.predicate)
            return any(k != "bool" for k in v.kinds()) or v.items is not None
        finally:
            self._pending, self._lambdas, layers, self._bound = saved
            self.layers[:] = layers
            if outer is None:
                self._env.pop(node.var, None)
            else:
                self._env[node.var] = outer

    def _typed_element(self, v: V) -> V:
        # A list literal's items are literals, typed as they are (values.Ops.typed leaves
        # non-strings alone and the ISO typing applies to strings).
        if self.sem.iso_strings_are_datetimes and v.const is not None and isinstance(v.const, str):
            return self._literal(self.ops.typed(v.const))
        return v

    def _c_Call(self, node):
        name = node.name
        if name == "string" and len(node.args) == 2:
            value = self._f_string(self.value(node.args[0]))
            default = self.value(node.args[1])
            if default.items is not None:
                raise SqlCompileError("string(x, default): a list literal default has no SQL value")
            if self.sem.string_default == "undefined-or-null" and value.null is not None:
                value = V(str=value.get("str")) if value.str is not None else V.undefined()
            return _fallback(value, default)
        if name == "datetime":
            arg = node.args[0]
            if type(arg) is A.String:
                # A literal reads in the project timezone (docs/semantics.md): parse it here, with the
                # evaluator's own function.
                return self._literal(self.ops.to_datetime(arg.value, literal=True))
            return self._to_datetime(self.value(arg))
        method = getattr(self, "_f_" + name, None)
        if method is None:
            raise SqlCompileError(f"the function {name}() has no SQL translation")
        return method(*[self.value(a) for a in node.args])

    def _f_defined(self, a: V):
        test = not_(a.is_undefined_expr())
        if not self.sem.null_is_defined and a.null is not None:
            test = and_(test, is_null(a.get("null")))
        return V(bool=test)

    def _f_boolean(self, a: V):
        if a.items is not None:
            return V(bool=exp.true())
        terms = []
        if a.bool is not None:
            terms.append(a.get("bool"))
        if a.str is not None:
            terms.append(and_(exp.NEQ(this=a.get("str"), expression=lit_str("")),
                              exp.NEQ(this=a.get("str"), expression=lit_str("false"))))
        if a.num is not None:
            terms.append(exp.NEQ(this=a.get("num"), expression=exp.Literal.number(0)))
        others = [k for k in ("dt", "lst", "obj") if getattr(a, k) is not None]
        if others:
            terms.append(case((or_(*[not_null(a.get(k)) for k in others]), exp.true())))
        terms.append(exp.false())
        return V(bool=coalesce(*terms))

    def _f_number(self, a: V):
        if a.items is not None:
            return V.undefined()
        terms = []
        if a.num is not None:
            terms.append(a.get("num"))
        if a.str is not None:
            s = a.get("str")
            text = self.d.regex_group(s.copy(), "^" + _NUMBER_TEXT + "$", 1)
            parsed = self.d.to_double(text)
            terms.append(case((self.d.regex_full(s, _NUMBER_TEXT), self._finite(parsed))))
        if a.bool is not None:
            terms.append(case((a.get("bool"), exp.Literal.number(1)),
                              (not_(a.get("bool")), exp.Literal.number(0))))
        if a.dt is not None:
            terms.append(a.get("dt"))
        if not terms:
            return V.undefined()
        return V(num=cast(coalesce(*terms), "DOUBLE"))

    def _f_string(self, a: V):
        if a.items is not None:
            return V.undefined()
        terms = []
        if a.str is not None:
            terms.append(a.get("str"))
        if a.bool is not None:
            terms.append(case((a.get("bool"), lit_str("true")), (not_(a.get("bool")), lit_str("false"))))
        if a.num is not None:
            x = a.get("num")
            whole = and_(exp.EQ(this=x.copy(), expression=exp.Floor(this=x.copy())),
                         exp.LT(this=exp.Abs(this=x.copy()), expression=exp.Literal.number("1e16")))
            terms.append(case((whole, self.d.int_to_text(x.copy())), default=self.d.double_to_text(x)))
        if a.dt is not None:
            terms.append(self._iso_text(a.get("dt")))
        out = V()
        if terms:
            out.str = coalesce(*terms)
        if a.null is not None:
            out.null = a.get("null")
        if out.str is None and out.null is None:
            return V.undefined()
        return out

    def _iso_text(self, seconds) -> exp.Expression:
        d = self.d
        days = exp.Floor(this=exp.Div(this=seconds.copy(), expression=exp.Literal.number(86400)))
        rem = exp.Sub(this=seconds.copy(), expression=exp.Mul(this=days.copy(), expression=exp.Literal.number(86400)))
        hh = exp.Floor(this=exp.Div(this=rem.copy(), expression=exp.Literal.number(3600)))
        mm = exp.Floor(this=exp.Div(this=exp.Mod(this=rem.copy(), expression=exp.Literal.number(3600)),
                                    expression=exp.Literal.number(60)))
        ss = exp.Mod(this=rem.copy(), expression=exp.Literal.number(60))
        text = d.date_text_from_days(days)
        for piece in (lit_str("T"), d.lpad2(hh), lit_str(":"), d.lpad2(mm), lit_str(":"), d.lpad2(ss)):
            text = d.concat(text, piece)
        return text

    def _f_list(self, a: V):
        if a.items is not None:
            return a
        return V(lst=a.get("lst")) if a.lst is not None else V.undefined()

    def _math(self, a: V, fn_):
        return V(num=cast(fn_(a.get("num")), "DOUBLE")) if a.num is not None else V.undefined()

    def _f_floor(self, a):
        return self._math(a, lambda x: exp.Floor(this=x))

    def _f_ceil(self, a):
        return self._math(a, lambda x: exp.Ceil(this=x))

    def _f_round(self, a):
        half = exp.Literal.number("0.5")
        if self.sem.round_half == "half-away":
            def r(x):
                return exp.Mul(this=exp.Sign(this=x.copy()),
                               expression=exp.Floor(this=exp.Add(this=exp.Abs(this=x.copy()), expression=half)))
        else:
            def r(x):
                f = exp.Floor(this=x.copy())
                tie = exp.EQ(this=exp.Sub(this=x.copy(), expression=f.copy()), expression=half.copy())
                even = exp.EQ(this=exp.Mod(this=f.copy(), expression=exp.Literal.number(2)), expression=exp.Literal.number(0))
                return case((and_(tie, even), f.copy()),
                            (tie.copy(), exp.Add(this=f.copy(), expression=exp.Literal.number(1))),
                            default=exp.Floor(this=exp.Add(this=x.copy(), expression=half.copy())))
        return self._math(a, r)

    def _f_has_prefix(self, a, b):
        if a.str is None or b.str is None:
            return V.undefined()
        return V(bool=self.d.starts_with(a.get("str"), b.get("str")))

    def _to_datetime(self, a: V) -> V:
        """values.Ops.to_datetime for a value that is not a string literal (data: UTC)."""
        if a.items is not None:
            return V.undefined()
        terms = []
        if a.dt is not None:
            terms.append(a.get("dt"))
        if a.num is not None:
            terms.append(self._datetime_from_number(V(num=a.get("num"))).dt)
        if a.str is not None:
            terms.append(self._parse_datetime_text(a.get("str")))
        if not terms:
            return V.undefined()
        return V(dt=coalesce(*terms))

    def _parse_datetime_text(self, s) -> exp.Expression:
        """values.parse_datetime_text(text.strip(), UTC) in SQL."""
        d = self.d
        pattern = "^" + _WS + _DATETIME_TEXT + _WS + "$"

        def g(i):
            return d.regex_group(s.copy(), pattern, i)

        def n(i):
            return try_cast(g(i), "INT")

        def n0(i):
            return coalesce(n(i), exp.Literal.number(0))

        date_text = d.concat(d.concat(d.concat(g(1), lit_str("-")), d.concat(d.lpad2(n(2)), lit_str("-"))), d.lpad2(n(3)))
        date = d.date_from_text(date_text)
        off = g(7)
        sign = case((exp.EQ(this=exp.Substring(this=off.copy(), start=exp.Literal.number(1), length=exp.Literal.number(1)),
                             expression=lit_str("-")), exp.Literal.number(-1)), default=exp.Literal.number(1))
        digits = exp.Replace(this=off.copy(), expression=lit_str(":"), replacement=lit_str(""))
        off_h = coalesce(try_cast(exp.Substring(this=digits.copy(), start=exp.Literal.number(2), length=exp.Literal.number(2)), "INT"), exp.Literal.number(0))
        off_m = coalesce(try_cast(exp.Substring(this=digits.copy(), start=exp.Literal.number(4), length=exp.Literal.number(2)), "INT"), exp.Literal.number(0))
        offset = exp.Mul(this=sign, expression=exp.Add(this=exp.Mul(this=off_h, expression=exp.Literal.number(3600)),
                                                      expression=exp.Mul(this=off_m, expression=exp.Literal.number(60))))
        seconds = exp.Sub(
            this=exp.Add(
                this=exp.Mul(this=cast(d.days_since_epoch(date.copy()), "DOUBLE"), expression=exp.Literal.number(86400)),
                expression=exp.Add(this=exp.Mul(this=n0(4), expression=exp.Literal.number(3600)),
                                   expression=exp.Add(this=exp.Mul(this=n0(5), expression=exp.Literal.number(60)), expression=n0(6))),
            ),
            expression=offset,
        )
        valid = and_(
            d.regex_full(s.copy(), pattern.strip("^$")),
            not_null(date.copy()),
            exp.NEQ(this=g(1), expression=lit_str("0000")),
            exp.LT(this=n0(4), expression=exp.Literal.number(24)),
            exp.LT(this=n0(5), expression=exp.Literal.number(60)),
            exp.LT(this=n0(6), expression=exp.Literal.number(60)),
        )
        ok = and_(valid, exp.GTE(this=seconds.copy(), expression=exp.Literal.number(-62135596800)),
                  exp.LT(this=seconds.copy(), expression=exp.Literal.number(_MAX_EPOCH)))
        return case((ok, seconds))


def _copy(v: V) -> V:
    out = V(items=v.items, undef=v.undef, const=v.const, **{k: getattr(v, k) for k in v.kinds()})
    return out


class _Deferred:
    def __init__(self, v):
        self.v = v


def _fallback(first: V, second: V) -> V:
    """``first`` when it is defined, else ``second`` (``props.get(a, props.get(b))``)."""
    undef = first.is_undefined_expr()
    out = V(undef=and_(undef.copy(), second.is_undefined_expr()))
    for k in ("num", "str", "bool", "dt", "null", "lst", "obj"):
        x, y = first.get(k), second.get(k)
        if x is None and y is None:
            continue
        if y is None:
            setattr(out, k, x)
        elif x is None:
            setattr(out, k, case((undef.copy(), y)))
        else:
            setattr(out, k, case((undef.copy(), y), default=x))
    return out


def _constant(node: A.Expr) -> bool:
    """A sub-tree without properties and without and/or (whose failure is the query's)."""
    if isinstance(node, (A.String, A.Number, A.Boolean)):
        return False  # already literal
    # (A variable is only evaluable inside its any(…).)
    return not any(isinstance(n, (A.Property, A.And, A.Or, A.Var, A.Any)) for n in A.walk(node))


def _may_raise(e: exp.Expression) -> bool:
    return any(isinstance(n, exp.Anonymous) and n.name.lower() in ("error", "raise_error")
               for n in e.walk())


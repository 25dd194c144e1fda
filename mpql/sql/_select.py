"""Whole SELECT statements around a compiled condition: the derived tables that read each
property once (Compiler(bind=True)), event and date restrictions, counts and segmentation.
"""

from __future__ import annotations

from datetime import date

from sqlglot import exp

from ._compile import Compiler, SqlCompileError, _col
from ._values import and_, parenthesize

__all__ = ["bound_source", "build_select", "UNITS"]

UNITS = ("day", "week", "month")


def bound_source(comp: Compiler, source: exp.Expression) -> exp.Expression:
    """``source`` (a table or subquery) wrapped in the derived tables of ``comp.layers``."""
    current = source
    depth = 0
    for layer in comp.layers:
        if not layer:
            continue
        select = exp.select(exp.Star(), *[exp.alias_(parenthesize(e), name, quoted=True)
                                          for name, e in layer])
        select = select.from_(current.copy() if depth == 0 else current)
        current = exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(f"_mpql_l{depth}")))
        depth += 1
    return current


def bound_names(comp: Compiler) -> list[str]:
    return [name for layer in comp.layers for name, _ in layer]


def _day(name: str, value) -> date:
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise SqlCompileError(f"{name}: expected a date YYYY-MM-DD, got {value!r}") from None


def build_select(comp: Compiler, node, *, table=None, events=None, from_date=None, to_date=None,
                 count=False, on=None, unit=None, limit=None) -> exp.Expression:
    lay = comp.layout
    conds = []
    if node is not None:
        conds.append(comp.condition(node))
    if events:
        if lay.event is None:
            raise SqlCompileError(f"layout {lay.name!r} ({lay.scope}) has no event names")
        conds.append(exp.In(this=_col(lay.event), expressions=[exp.Literal.string(e) for e in events]))
    time_sql = None
    if from_date is not None or to_date is not None or unit is not None:
        if lay.scope != "events":
            raise SqlCompileError("dates and time units apply to events, not profiles")
        t = comp.value(_time_node())
        time_sql = t.get("dt")
    if from_date is not None:
        start = _day("from_date", from_date)
        conds.append(exp.GTE(this=time_sql.copy(), expression=exp.Literal.number(_epoch(start))))
    if to_date is not None:
        end = _day("to_date", to_date)
        conds.append(exp.LT(this=time_sql.copy(), expression=exp.Literal.number(_epoch(end) + 86400)))
    select = exp.select()
    group = []
    if unit is not None:
        if unit not in UNITS:
            raise SqlCompileError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
        select = select.select(exp.alias_(_bucket(comp, time_sql, unit), "period", quoted=True))
        group.append(exp.column("period", quoted=True))
    if on is not None:
        # Mixpanel segments by the value as text; undefined rows are left out.
        v = comp._f_string(comp.value(on))
        if v.str is None:
            raise SqlCompileError("the `on` expression never has a value that can segment")
        select = select.select(exp.alias_(parenthesize(v.get("str")), "segment", quoted=True))
        group.append(exp.column("segment", quoted=True))
        conds.append(exp.Not(this=exp.Is(this=parenthesize(v.get("str")), expression=exp.Null())))
    # Every expression is compiled by now, so the derived tables hold every property read.
    source = exp.Table(this=exp.to_identifier(table or lay.table, quoted=True))
    if comp.bind:
        source = bound_source(comp, source)
    if count or group:
        select = select.select(exp.alias_(exp.Count(this=exp.Star()), "count", quoted=True))
    elif comp.bind and bound_names(comp):
        if comp.d.name == "spark":  # Spark has no SELECT * EXCEPT: the layout's columns
            select = select.select(*[_col(c) for c in _layout_columns(lay)])
        else:
            select = select.select(exp.Star(**{"except": [_col(n) for n in bound_names(comp)]}))
    else:
        select = select.select(exp.Star())
    select = select.from_(source)
    if conds:
        select = select.where(parenthesize(and_(*conds)))
    if group:
        select = select.group_by(*group).order_by(*[g.copy() for g in group])
    if limit is not None:
        select = select.limit(int(limit))
    return select


def _layout_columns(lay) -> list[str]:
    cols = [c for c in (lay.event, lay.time, lay.distinct_id) if c]
    return cols + [lay.properties]


def _time_node():
    from ..language import ast as A

    return A.Property("event", "$time")


def _epoch(d: date) -> int:
    return (d - date(1970, 1, 1)).days * 86400


def _bucket(comp: Compiler, seconds, unit):
    """The start of the UTC day/week (Monday)/month holding ``seconds``, as YYYY-MM-DD."""
    d = comp.d
    days = exp.Floor(this=exp.Div(this=seconds.copy(), expression=exp.Literal.number(86400)))
    if unit == "day":
        return parenthesize(d.date_text_from_days(days))
    if unit == "week":
        # 1970-01-01 was a Thursday: Monday-based weeks start 3 days before day 0.
        shifted = exp.Add(this=days, expression=exp.Literal.number(3))
        monday = exp.Sub(this=days.copy(), expression=exp.Mod(this=shifted, expression=exp.Literal.number(7)))
        return parenthesize(d.date_text_from_days(monday))
    text = d.date_text_from_days(days)
    return parenthesize(d.concat(exp.Substring(this=text, start=exp.Literal.number(1), length=exp.Literal.number(7)),
                                 exp.Literal.string("-01")))

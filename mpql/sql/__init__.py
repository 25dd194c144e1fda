"""Mixpanel expressions as SQL: DuckDB, Spark/Databricks, BigQuery, Snowflake.

::

    import mpql
    mpql.to_sql('properties["plan"] == "pro"', dialect="duckdb")          # a WHERE condition
    mpql.sql.select_sql('…', dialect="bigquery", layout="pipelines")       # a whole SELECT

The SQL has mpql's evaluator semantics (docs/semantics.md), not SQL's: a missing property is
*undefined* (false under and/or, true under not), ``==`` is false across types, ordering
needs two numbers or two datetimes, ``/ 0`` is undefined, ISO strings in properties are
datetimes. It is built as sqlglot syntax trees and printed for the dialect, never pasted from
strings. docs/sql.md maps every operator; the package's parts:

* ``_values.py``  — a Mixpanel value as one nullable SQL expression per type;
* ``_dialects.py`` — JSON access, regexes, dates and errors per engine;
* ``_compile.py`` — the operators, casts and functions over those values;
* ``_duckdb.py``  — ``mpql filter --engine duckdb`` (JSONL, .gz, directories, Parquet);
* ``_spark.py``   — filtering a Spark DataFrame.

sqlglot and DuckDB are imported only when this package is (``import mpql`` does not).
"""

from __future__ import annotations

from ._compile import LAYOUTS, Compiler, SqlCompileError
from ._dialects import DIALECTS, get_dialect

__all__ = ["to_sql", "condition", "select_sql", "query_sql", "SqlCompileError", "DIALECTS", "LAYOUT_NAMES",
           "compiler"]

LAYOUT_NAMES = ("export", "pipelines", "engage")


def _node(expr):
    """Text, an ``mpql.ast`` node, or a builder term (``prop("x") == 1``)."""
    from ..evaluator import _node as node_of
    from ..language import ast as A

    inner = getattr(expr, "expr", None)
    if isinstance(inner, A.Expr):
        expr = inner
    return node_of(expr)


def _scope(layout: str, scope: str | None) -> str:
    if layout not in LAYOUT_NAMES:
        raise ValueError(f"unknown layout {layout!r}: expected one of {', '.join(LAYOUT_NAMES)}")
    if scope is None:
        return "profiles" if layout == "engage" else "events"
    if (layout, scope) not in LAYOUTS:
        allowed = sorted(s for (lay, s) in LAYOUTS if lay == layout)
        raise ValueError(f"layout {layout!r} holds {' or '.join(allowed)}, not {scope!r}")
    return scope


def compiler(dialect: str = "duckdb", layout: str = "export", *, scope: str | None = None,
             semantics=None, now=None, fold: bool = True, json_text: bool | None = None,
             bind: bool = False) -> Compiler:
    """A ``Compiler`` for one dialect, layout and ``Semantics`` (advanced use)."""
    from ..evaluator import DEFAULT_SEMANTICS, _now_seconds

    sem = DEFAULT_SEMANTICS if semantics is None else semantics
    scope = _scope(layout, scope)
    now_s = _now_seconds(now, sem, scope)
    return Compiler(get_dialect(dialect), LAYOUTS[(layout, scope)], sem, now_s, fold=fold,
                    json_text=json_text, bind=bind)


def condition(expr, dialect: str = "duckdb", layout: str = "export", **options):
    """The filter as a sqlglot expression (a boolean that is never NULL)."""
    return compiler(dialect, layout, **options).condition(_node(expr))


def to_sql(expr, dialect: str = "duckdb", layout: str = "export", *, scope: str | None = None,
           semantics=None, now=None, pretty: bool = False, json_text: bool | None = None) -> str:
    """SQL text of a condition that is TRUE exactly when Mixpanel's filter ``expr`` selects a
    row of ``layout`` (see docs/sql.md):

    * ``"export"`` — Raw Export lines: columns ``event`` (text) and ``properties`` (JSON);
    * ``"pipelines"`` — Mixpanel Data Pipelines: ``mp_master_event`` (``event_name``,
      ``time``, ``distinct_id``, ``properties``) or, with ``scope="profiles"``,
      ``mp_people_data`` (``distinct_id``, ``properties``);
    * ``"engage"`` — Engage results: ``$distinct_id`` and ``$properties``.

    ``dialect`` is duckdb, spark, databricks, bigquery or snowflake. ``now`` (Unix seconds or
    an aware datetime; default: now) is ``NOW``. ``json_text``: the properties column holds
    JSON *text* to be parsed (the default for Spark/Databricks, whose native type is
    VARIANT). Raises ``SqlCompileError`` for what the dialect cannot express.
    """
    cond = condition(expr, dialect, layout, scope=scope, semantics=semantics, now=now,
                     json_text=json_text)
    return cond.sql(dialect=get_dialect(dialect).sqlglot, pretty=pretty)


def select_sql(expr=None, dialect: str = "duckdb", layout: str = "export", *, table=None,
               scope: str | None = None, events=None, from_date=None, to_date=None,
               count: bool = False, on=None, unit: str | None = None, semantics=None, now=None,
               pretty: bool = False, json_text: bool | None = None, limit=None) -> str:
    """A whole SELECT (see ``Query.to_sql``): rows of ``table`` (default: the layout's) whose
    event is one of ``events``, whose time is within ``from_date``…``to_date`` (inclusive, UTC
    days) and that ``expr`` selects. ``count=True`` counts them instead; ``on`` (an
    expression) segments the count by its value, and ``unit`` ("day", "week", "month") by
    time as well, like Mixpanel's segmentation report."""
    from ._select import build_select

    # Whole statements read each property once, in derived tables (readable, and fast).
    comp = compiler(dialect, layout, scope=scope, semantics=semantics, now=now,
                    json_text=json_text, bind=True)
    node = None if expr is None else _node(expr)
    on_node = None if on is None else _node(on)
    tree = build_select(comp, node, table=table, events=events, from_date=from_date,
                        to_date=to_date, count=count, on=on_node, unit=unit, limit=limit)
    return tree.sql(dialect=comp.d.sqlglot, pretty=pretty)


def query_sql(query, dialect: str = "duckdb", layout: str | None = None, *, table=None,
              count: bool = False, on=None, unit: str | None = None, semantics=None, now=None,
              pretty: bool = False, json_text: bool | None = None) -> str:
    """``Query.to_sql``: a ``mpql.Query`` as a SELECT over exported data. Events default to the
    ``export`` layout, profiles to ``engage``; what only Mixpanel's servers know (cohorts,
    behaviours) is refused with ``SqlCompileError``."""
    if query.kind == "events":
        layout = layout or "export"
        return select_sql(query.where, dialect, layout, table=table, scope="events",
                          events=query.event_names, from_date=query.from_date,
                          to_date=query.to_date, count=count, on=on, unit=unit,
                          semantics=semantics, now=now, pretty=pretty, json_text=json_text,
                          limit=None if count or on or unit else query.limit)
    layout = layout or "engage"
    for field, what in (("cohort_id", "a cohort"), ("behaviors", "behaviors"),
                        ("group_key", "group profiles")):
        if getattr(query, field, None) is not None:
            raise SqlCompileError(f"{what} ({field}=…) exist only on Mixpanel's servers: "
                                  "the SQL cannot select by it")
    if on is not None or unit is not None:
        raise SqlCompileError("on= and unit= segment events; a profiles query can only count")
    where = query.where
    if query.distinct_ids:
        from ..language import ast as A

        ids = A.In(A.Property("properties", "$distinct_id"),
                   A.ListLiteral(tuple(A.String(str(d)) for d in query.distinct_ids)))
        where = ids if where is None else A.And(where, ids)
    return select_sql(where, dialect, layout, table=table, scope="profiles", count=count,
                      semantics=semantics, now=now, pretty=pretty, json_text=json_text)

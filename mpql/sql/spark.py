"""Filter a Spark DataFrame with a Mixpanel expression (Spark 4 / Databricks, VARIANT).

::

    from mpql.sql import spark as mpql_spark
    events = spark.read.text("export/*.jsonl")…            # columns: event, properties (JSON text)
    pro = mpql_spark.filter(events, 'properties["plan"] == "pro"')
    spark.sql(mpql.sql.select_sql('…', dialect="spark", table="events"))   # or plain SQL

``filter`` reads each referenced property once (derived columns, dropped again) and keeps
the DataFrame's own columns. ``properties`` may be JSON text (parsed with try_parse_json) or
already a VARIANT (``json_text=False``). Needs the ``spark`` extra (``pip install
'mpql[spark]'``) and Java 17+.
"""

from __future__ import annotations

from sqlglot import exp

from . import compiler as _compiler

__all__ = ["filter", "condition_sql"]


def condition_sql(expr, layout: str = "export", **options) -> str:
    """The Spark SQL condition (inline form, for ``df.where(…)`` or a WHERE clause)."""
    from . import to_sql

    return to_sql(expr, "spark", layout, **options)


def filter(df, expr, layout: str = "export", *, scope=None, semantics=None, now=None,
           json_text: bool | None = None):  # noqa: A001 - the DataFrame verb
    """The rows of ``df`` that Mixpanel's filter ``expr`` selects (same columns)."""
    from ..evaluator import _node

    comp = _compiler("spark", layout, scope=scope, semantics=semantics, now=now,
                     json_text=json_text, bind=True)
    cond = comp.condition(_node(expr))
    original = list(df.columns)
    current = df
    for layer in comp.layers:
        if layer:
            current = current.selectExpr("*", *[f"{e.sql('spark')} AS `{name}`" for name, e in layer])
    return current.where(exp.Paren(this=cond).sql("spark")).select(*original)

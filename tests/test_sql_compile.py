"""mpql.sql without an engine: SQL for every dialect parses back with sqlglot in that dialect,
matches the golden files (tests/golden/sql/, regenerate with MPQL_REGEN_SQL=1 after checking
the diff), refuses what it cannot express, and stays out of ``import mpql``.

BigQuery and Snowflake have no engine here (no live warehouse in this environment), so for
them parse-back and golden files are the whole check; DuckDB and Spark SQL is executed in
tests/test_sql_engines.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot

import mpql.sql as S
from mpql.evaluator import Semantics

GOLDEN = Path(__file__).parent / "golden" / "sql"
NOW = 1700000000

#: One expression per operator, cast and function, plus awkward property names.
EXPRESSIONS = [
    'properties["plan"] == "pro"',
    'properties["n"] != 10',
    'properties["n"] > 5 and properties["n"] <= 10.5',
    'not (properties["a"] < properties["b"]) or properties["c"] >= 1',
    '"pro" in properties["plan"]',
    'properties["os"] in ["iOS", "Android", 1]',
    '"vip" in properties["tags"]',
    'properties["a"] + properties["b"] == "ab"',
    '(properties["n"] - 1) * 2 / properties["d"] % 3 == -1',
    '-properties["n"] > 0',
    'defined(properties["x"]) and not defined(properties["y"])',
    'boolean(properties["flag"])',
    'number(properties["s"]) > 10',
    'string(properties["n"]) == "1"',
    'datetime(properties["d"]) >= datetime("2024-01-01T00:00:00")',
    'properties["$time"] > datetime(NOW - 86400)',
    'event["$distinct_id"] == "u1"',
    'floor(properties["n"]) == round(properties["n"]) and ceil(properties["n"]) > 0',
    'has_prefix(properties["url"], "https://")',
    'list(properties["l"]) == properties["l"]',
    'properties["it\'s"] == "a" and properties["say \\"hi\\""] == "b"',
    'properties["$os.name"] == "ü" and properties["a/b~c"] == "d"',
]
DIALECTS = ["duckdb", "spark", "databricks", "bigquery", "snowflake"]
SEM = Semantics(logic_operand="undefined")


#: The golden files hold a few short ones (a property read is long SQL: see docs/sql.md).
GOLDEN_EXPRESSIONS = [
    'properties["n"] > 5 and properties["n"] <= 10.5',
    'properties["os"] in ["iOS", "Android", 1]',
    '-properties["n"] / properties["d"] % 3 == -1',
    'has_prefix(properties["it\'s"], "https://")',
]


def _generate(dialect: str) -> str:
    blocks = []
    for layout in ("export", "pipelines"):
        for text in GOLDEN_EXPRESSIONS:
            sql = S.to_sql(text, dialect, layout, now=NOW, semantics=SEM, pretty=True)
            blocks.append(f"-- {layout}: {text}\n{sql};\n")
    blocks.append("-- engage: " + EXPRESSIONS[1] + "\n"
                  + S.to_sql(EXPRESSIONS[1], dialect, "engage", now=NOW, pretty=True) + ";\n")
    # The Engage id column keeps its type (a number stays a number): read as the JSON type.
    ident = 'properties["distinct_id"] == 5'
    blocks.append(f"-- engage: {ident}\n" + S.to_sql(ident, dialect, "engage", now=NOW, pretty=True) + ";\n")
    blocks.append("-- select: count per day and $os\n" + S.select_sql(
        'properties["plan"] > 1', dialect, "pipelines", events=["Signup"],
        from_date="2024-01-01", to_date="2024-01-31", on='properties["n"] + 1', unit="day",
        now=NOW, semantics=SEM, pretty=True) + ";\n")
    return "\n".join(blocks)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_golden_sql(dialect):
    path = GOLDEN / f"{dialect}.sql"
    text = _generate(dialect)
    if os.environ.get("MPQL_REGEN_SQL"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"SQL for {dialect} changed: MPQL_REGEN_SQL=1"


def _strings(tree):
    return sorted(lit.this for lit in tree.find_all(sqlglot.exp.Literal) if lit.is_string)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sql_parses_back_in_its_dialect(dialect):
    """sqlglot reads the SQL back in the same dialect, with every string literal (property
    keys, JSON paths, patterns) intact: a mangled quote or escape would not survive this.
    sqlglot normalises some functions on the way (DATEDIFF for UNIX_DATE, ``->`` for
    json_extract), so the text itself is not compared; DuckDB runs both versions below."""
    for layout in ("export", "pipelines", "engage"):
        for text in EXPRESSIONS:
            tree = S.condition(text, dialect, layout, now=NOW, semantics=SEM)
            sql = tree.sql(dialect=dialect)
            back = sqlglot.parse_one(sql, read=dialect, error_level=sqlglot.ErrorLevel.RAISE)
            # ('$' and 'day' become a JSON root / a date-part keyword, not strings.)
            missing = set(_strings(tree)) - set(_strings(back)) - {"$", "day", "$[*]"}
            assert not missing, (dialect, layout, text, missing)


def test_duckdb_sql_read_back_by_sqlglot_means_the_same():
    import json

    import duckdb

    rows = [{"plan": "pro", "n": 7, "a": "x", "b": "y", "tags": ["vip"], "it's": "a",
             'say "hi"': "b", "$os.name": "ü", "a/b~c": "d", "d": "2024-02-01"},
            {"n": "7", "s": " 12 ", "url": "https://x", "l": [1], "flag": "false"}, {}]
    con = duckdb.connect(config={"threads": 1})
    values = ", ".join("(" + sqlglot.exp.Literal.string(json.dumps(r)).sql("duckdb") + "::JSON)" for r in rows)
    for text in EXPRESSIONS:
        sql = S.to_sql(text, "duckdb", now=NOW, semantics=SEM)
        back = sqlglot.parse_one(sql, read="duckdb").sql("duckdb")
        q = "SELECT {} FROM (VALUES {}) t(properties)"
        assert con.execute(q.format(sql, values)).fetchall() == con.execute(q.format(back, values)).fetchall(), text


def test_string_literals_survive_every_dialect():
    tricky = "it's \\ \"q\" ü 日本 \n"
    from mpql.builder import prop

    expr = prop("k") == tricky
    for dialect in DIALECTS:
        sql = S.to_sql(expr, dialect, now=NOW)
        literals = [lit.this for lit in sqlglot.parse_one(sql, read=dialect).find_all(sqlglot.exp.Literal)
                    if lit.is_string]
        assert tricky in literals, dialect


def test_snowflake_refuses_failing_operands_it_cannot_raise():
    with pytest.raises(S.SqlCompileError, match="logic_operand='undefined'"):
        S.to_sql('properties["plan"] and true', "snowflake")
    assert S.to_sql('properties["plan"] and true', "snowflake",
                    semantics=Semantics(logic_operand="undefined"))
    # Comparisons never fail, so nothing needs raising even in the default semantics.
    assert S.to_sql('properties["plan"] == "a" and true', "snowflake")


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="unknown SQL dialect 'mysql'"):
        S.to_sql("true", "mysql")
    with pytest.raises(ValueError, match="unknown layout"):
        S.to_sql("true", "duckdb", "csv")
    with pytest.raises(ValueError, match="holds profiles"):
        S.to_sql("true", "duckdb", "engage", scope="events")
    with pytest.raises(S.SqlCompileError, match="list literal"):
        S.to_sql('properties["l"] == [1, 2]', "duckdb")


def test_import_mpql_stays_free_of_sqlglot_and_duckdb():
    code = ("import sys, mpql; mpql.parse('true'); mpql.compile_predicate('true');"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlglot', 'duckdb', 'pyspark')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_mpql_to_sql_is_exported():
    import mpql

    assert mpql.to_sql('properties["a"] == 1', "duckdb", now=NOW) == S.to_sql('properties["a"] == 1', "duckdb", now=NOW)

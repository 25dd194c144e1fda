"""mpql.sql against real engines: the evaluator's conformance table and random expressions
run through DuckDB and Spark (pyspark local mode) must give the evaluator's answers.

Spark's JVM takes seconds to start on this 2-core machine, so there is one session for the
whole run and every Spark test sends one query per batch (many cases or records at once).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import attrs
import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

import mpql.sql as S
from mpql.errors import EvaluationError
from mpql.evaluator import Semantics, Undefined, compile_expression, compile_predicate
from mpql.language import ast as A
from mpql.sql._dialects import fn
from mpql.sql._select import bound_source

from test_evaluator_conformance import CASES, _ERROR, _same
from test_evaluator_properties import exprs, properties

KINDS = ("num", "str", "bool", "dt", "null", "lst", "obj")
SPARK_TYPES = {"num": "DOUBLE", "str": "STRING", "bool": "BOOLEAN", "dt": "DOUBLE",
               "null": "BOOLEAN", "lst": "STRING", "obj": "STRING"}
NOW = 1700000000


def _sql_cases():
    """Conformance cases SQL can express: user[…] on events and behaviors[…] need joins."""
    return [c for c in CASES if not c.profiles and not c.behaviors
            and _expressible(S._node(c.expr), c.scope)]


def _layout(scope):
    return "export" if scope == "events" else "engage"


def _rows(record, scope):
    if scope == "events":
        return record.get("event"), json.dumps(record.get("properties"))
    return record.get("$distinct_id"), json.dumps(record.get("$properties"))


def _decode(values: dict):
    """The Mixpanel value from the slot columns of one row (at most one is not NULL)."""
    for k in KINDS:
        val = values.get(k)
        if val is None:
            continue
        if k == "null":
            return None
        if k == "dt":
            return datetime.fromtimestamp(val, timezone.utc)
        if k in ("lst", "obj"):
            return json.loads(val)
        return val
    return Undefined


# -- DuckDB ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect(config={"threads": 1})
    yield con
    con.close()


def _duck_table(records, scope):
    """The records as an inline table (VALUES), columns as in the layout."""
    names = ["id", "event", "properties"] if scope == "events" else ["id", "$distinct_id", "$properties"]
    tuples = []
    for i, r in enumerate(records):
        ident, props = _rows(r, scope)
        tuples.append(exp.Tuple(expressions=[
            exp.Literal.number(i),
            exp.Cast(this=exp.Null() if ident is None else exp.Literal.string(str(ident)), to=exp.DataType.build("VARCHAR")),
            exp.Cast(this=exp.Literal.string(props), to=exp.DataType.build("JSON")),
        ]))
    return exp.Values(expressions=tuples, alias=exp.TableAlias(
        this=exp.to_identifier("t"), columns=[exp.to_identifier(n, quoted=True) for n in names]))


def _duck_eval(con, node, records, scope, semantics, *, fold=True, bind=False):
    """[(value, selected)] per record, or EvaluationError if the query failed with mpql's
    error."""
    comp = S.compiler("duckdb", _layout(scope), semantics=semantics, now=NOW, fold=fold, bind=bind)
    cols = comp.value_columns(node)
    cond = comp.condition(node)
    table = _duck_table(records, scope)
    source = bound_source(comp, table) if bind else table
    select = exp.select(exp.column("id"), *[exp.alias_(e, k) for k, e in cols.items()],
                        exp.alias_(cond, "_sel")).from_(source).order_by("id")
    try:
        rows = con.execute(select.sql("duckdb")).fetchall()
    except duckdb.Error as e:
        if "mpql:" in str(e):
            raise EvaluationError(str(e)) from None
        raise
    names = list(cols)
    return [(_decode(dict(zip(names, row[1:-1]))), row[-1]) for row in rows]


@pytest.mark.parametrize("fold", [False, True], ids=["sql", "folded"])
def test_conformance_table_through_duckdb(duck, fold):
    failures = []
    for case in _sql_cases():
        node = S._node(case.expr)
        try:
            got = _duck_eval(duck, node, [case.record], case.scope, case.semantics, fold=fold)
        except EvaluationError:
            if case.expected is not _ERROR:
                failures.append(f"{case.id}: {case.expr} raised")
            continue
        if case.expected is _ERROR:
            failures.append(f"{case.id}: {case.expr} did not fail the query")
            continue
        value, selected = got[0]
        if not _same(value, case.expected) or selected is not (case.expected is True):
            failures.append(f"{case.id}: {case.expr} gave {value!r}/{selected}, expected {case.expected!r}")
    assert not failures, "\n".join(failures)
    assert len(_sql_cases()) > 300


def test_the_refused_cases_say_why():
    refused = [c for c in CASES if c.profiles or c.behaviors]
    assert refused
    with pytest.raises(S.SqlCompileError, match="profile"):
        S.to_sql('user["$email"] == "a"', "duckdb")
    with pytest.raises(S.SqlCompileError, match="behaviors"):
        S.to_sql('behaviors["x"] > 0', "duckdb", "engage")


def _python(node, records, scope, semantics):
    value_fn = compile_expression(node, scope, now=NOW, semantics=semantics)
    keep = compile_predicate(node, scope, now=NOW, semantics=semantics)
    return [(value_fn(r), keep(r)) for r in records]


def _expressible(node, scope="events"):
    for n in A.walk(node):
        if isinstance(n, A.Property) and n.scope == "user" and scope == "events" \
                and n.name not in ("$distinct_id", "distinct_id"):
            return False
        if isinstance(n, A.Property) and n.scope == "behaviors" and scope == "profiles":
            return False
    return True


def _comparable(value):
    # Numbers are DOUBLE in SQL: integers beyond 2**53 (and floats printed in exponent form
    # by string()) are documented deviations, kept out of the differential.
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return abs(value) < 2**53
    if isinstance(value, str):
        return "e+" not in value and "e-" not in value
    return True


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exprs, st.lists(properties, min_size=1, max_size=8),
       st.builds(Semantics, logic_operand=st.sampled_from(["raise", "undefined"]),
                 iso_strings_are_datetimes=st.booleans(),
                 ne_with_undefined=st.sampled_from([True, "undefined"]),
                 undefined_equals_undefined=st.booleans(), null_is_defined=st.booleans(),
                 string_ordering=st.sampled_from(["undefined", "lexicographic"]),
                 round_half=st.sampled_from(["half-away", "half-even"])),
       st.booleans())
def test_property_duckdb_agrees_with_the_evaluator(duck, node, props, sem, bind):
    if not _expressible(node):
        return
    records = [{"event": "e", "properties": p} for p in props]
    COLLECTED.append((node, records))
    try:
        expected = _python(node, records, "events", sem)
    except EvaluationError:
        with pytest.raises(EvaluationError):
            _duck_eval(duck, node, records, "events", sem, fold=False, bind=bind)
        return
    if not all(_comparable(v) for v, _ in expected):
        return
    got = _duck_eval(duck, node, records, "events", sem, fold=False, bind=bind)
    for (want, want_sel), (have, have_sel), record in zip(expected, got, records):
        assert _same(have, want) and have_sel is want_sel, (
            f"{node}\n{record}\npython {want!r}/{want_sel}, duckdb {have!r}/{have_sel}")


#: (expression, records) pairs the DuckDB property test drew: the Spark differential runs
#: them all again in two batched queries (a Spark query per hypothesis example would cost
#: minutes on this machine).
COLLECTED: list = []


# -- Spark -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("mpql-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        # Tiny inputs, many expressions: compiling Java for each costs more than it saves.
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _spark_batch(spark, jobs, scope, semantics):
    """``jobs``: [(node, records)] sharing one scope and Semantics. One query for all of
    them: every property is read once (bind=True) and each job's value is a CASE on the row's
    job number. Returns [(value, selected)] per job and record."""
    comp = S.compiler("spark", _layout(scope), semantics=semantics, now=NOW, fold=False, bind=True)
    rows, per_kind, sel = [], {k: [] for k in KINDS}, []
    for j, (node, records) in enumerate(jobs):
        cols = comp.value_columns(node)
        cond = comp.condition(node)
        is_job = exp.EQ(this=exp.column("job"), expression=exp.Literal.number(j))
        for k, e in cols.items():
            if k in ("lst", "obj"):
                e = fn("to_json", e)
            per_kind[k].append((is_job, e))
        sel.append((is_job.copy(), cond))
        rows += [(j, i, *_rows(r, scope)) for i, r in enumerate(records)]
    cols_sql = []
    for k in KINDS:
        whens = per_kind[k]
        e = exp.Case(ifs=[exp.If(this=c, true=v) for c, v in whens]) if whens else exp.Null()
        cols_sql.append(exp.alias_(exp.Cast(this=e, to=exp.DataType.build(SPARK_TYPES[k])), k))
    cols_sql.append(exp.alias_(exp.Case(ifs=[exp.If(this=c, true=v) for c, v in sel]), "_sel"))
    columns = ("job INT, id INT, event STRING, properties STRING" if scope == "events"
               else "job INT, id INT, `$distinct_id` STRING, `$properties` STRING")
    spark.createDataFrame(rows, columns).createOrReplaceTempView("t")
    query = exp.select(exp.column("job"), exp.column("id"), *cols_sql).from_(
        bound_source(comp, exp.Table(this=exp.to_identifier("t"))))
    out = {}
    for r in spark.sql(query.sql("spark")).collect():
        d = r.asDict()
        out[(d["job"], d["id"])] = (_decode(d), d["_sel"])
    return [[out[(j, i)] for i in range(len(records))] for j, (_, records) in enumerate(jobs)]


#: Jobs per Spark query in the property differential. One query for all of hypothesis's
#: examples grew with the (random) examples: some runs sent Spark's SQL parser a query that
#: did not fit the 1 GB driver heap (java.lang.OutOfMemoryError, and the session died with
#: it). A fixed number of jobs per query bounds its size whatever the budget (`make fuzz`).
SPARK_JOBS_PER_QUERY = 25


def _spark_batches(spark, jobs, scope, semantics):
    """``_spark_batch`` over ``jobs`` in slices of ``SPARK_JOBS_PER_QUERY``."""
    out = []
    for start in range(0, len(jobs), SPARK_JOBS_PER_QUERY):
        out += _spark_batch(spark, jobs[start:start + SPARK_JOBS_PER_QUERY], scope, semantics)
    return out


def test_conformance_table_through_spark(spark):
    groups: dict = {}
    for case in _sql_cases():
        if case.expected is _ERROR:
            continue  # one failing row fails a Spark query: checked apart, below
        groups.setdefault((case.scope, case.semantics), []).append(case)
    failures, checked = [], 0
    for (scope, sem), cases in groups.items():
        results = _spark_batch(spark, [(S._node(c.expr), [c.record]) for c in cases], scope, sem)
        for case, [(value, selected)] in zip(cases, results):
            checked += 1
            if not _same(value, case.expected) or selected is not (case.expected is True):
                failures.append(f"{case.id}: {case.expr} gave {value!r}/{selected}, "
                                f"expected {case.expected!r}")
    assert not failures, "\n".join(failures)
    assert checked > 290
    # A non-boolean `and` operand fails the query, as Mixpanel does (Semantics default).
    errors = [c for c in _sql_cases() if c.expected is _ERROR]
    assert errors
    with pytest.raises(Exception, match="needs boolean operands"):
        _spark_batch(spark, [(S._node(errors[0].expr), [errors[0].record])], errors[0].scope,
                     errors[0].semantics)


#: Spark runs the collected examples under these Semantics (each a single query).
SPARK_SEMANTICS = [
    Semantics(logic_operand="undefined"),
    Semantics(logic_operand="undefined", iso_strings_are_datetimes=False,
              ne_with_undefined="undefined", undefined_equals_undefined=True,
              null_is_defined=False, string_ordering="lexicographic", round_half="half-even",
              any_non_list="singleton", string_default="undefined-or-null"),
]


def test_property_spark_and_duckdb_agree_with_the_evaluator(spark, duck):
    """Every (expression, records) the hypothesis DuckDB differential drew (its budget is the
    profile's: `make fuzz` raises it), run by Spark and DuckDB and compared with the
    evaluator, under two sets of Semantics switches."""
    if not COLLECTED:  # run on its own: let the DuckDB property draw the examples first
        test_property_duckdb_agrees_with_the_evaluator(duck)
    assert COLLECTED
    for sem in SPARK_SEMANTICS:
        jobs, expected = [], []
        for node, records in COLLECTED:
            want = _python(node, records, "events", sem)
            if all(_comparable(v) for v, _ in want):
                jobs.append((node, records))
                expected.append(want)
        assert len(jobs) > len(COLLECTED) // 2
        got = _spark_batches(spark, jobs, "events", sem)
        for (node, records), want, have in zip(jobs, expected, got):
            duck_have = _duck_eval(duck, node, records, "events", sem, fold=False, bind=True)
            for record, (wv, ws), (hv, hs), (dv, ds) in zip(records, want, have, duck_have):
                assert _same(hv, wv) and hs is ws, f"{node}\n{record}\npython {wv!r}/{ws}, spark {hv!r}/{hs}"
                assert _same(dv, wv) and ds is ws, f"{node}\n{record}\npython {wv!r}/{ws}, duckdb {dv!r}/{ds}"


AWKWARD_KEYS = ["it's", 'say "hi"', "a.b", "$os", "naïve ü", "a/b", "~0", "back\\slash", "",
                "[0]", "$.x", "日本", "both ' and \"", "quote\\'s"]


def test_awkward_property_names_in_duckdb_and_spark(duck, spark):
    props = {k: f"v{i}" for i, k in enumerate(AWKWARD_KEYS)}
    record = {"event": "e", "properties": props}
    for i, key in enumerate(AWKWARD_KEYS):
        node = A.Compare("==", A.Property("properties", key), A.String(f"v{i}"))
        assert _duck_eval(duck, node, [record], "events", Semantics())[0] == (True, True), key
        assert _duck_eval(duck, node, [record], "events", Semantics(), bind=True)[0] == (True, True), key
        missing = A.Call("defined", (A.Property("properties", key + "?"),))
        assert _duck_eval(duck, missing, [record], "events", Semantics())[0] == (False, False), key
    jobs = [(A.Compare("==", A.Property("properties", k), A.String(f"v{i}")), [record])
            for i, k in enumerate(AWKWARD_KEYS)]
    for key, [(value, selected)] in zip(AWKWARD_KEYS, _spark_batch(spark, jobs, "events", Semantics())):
        assert value is True and selected is True, key


def test_spark_helper_filters_a_dataframe(spark):
    from mpql.sql import spark as mpql_spark

    df = spark.createDataFrame(
        [("a", json.dumps({"n": 5, "plan": "pro"})), ("b", json.dumps({"n": 1})),
         ("c", json.dumps({"plan": "pro"}))], "event STRING, properties STRING")
    kept = mpql_spark.filter(df, 'properties["plan"] == "pro" and not (properties["n"] < 3)')
    assert sorted(r["event"] for r in kept.collect()) == ["a", "c"]
    assert kept.columns == ["event", "properties"]


# -- a profile's own distinct id (engage layout) ---------------------------------------------

#: Records whose ``$distinct_id`` is of each JSON type (``...``: missing).
ID_VALUES = [5, 7.5, "5", "u1", "2024-01-02", True, None, ...]
ID_FILTERS = ['properties["distinct_id"] == 5', 'properties["$distinct_id"] == "5"',
              'user["distinct_id"] > 4', 'properties["$distinct_id"] in [5, "u1", true]',
              'defined(properties["distinct_id"])', 'properties["distinct_id"] == true',
              'string(properties["$distinct_id"]) == "null"',
              'properties["distinct_id"] < datetime("2024-02-01")']


def _id_record(ident):
    return {"$properties": {"plan": "free"}} if ident is ... else \
        {"$distinct_id": ident, "$properties": {"plan": "free"}}


def _duck_literal(v, column):
    if v is ...:
        return f"NULL::{column}"
    text = json.dumps(v) if column == "JSON" else str(v).lower() if isinstance(v, bool) else str(v)
    return "'" + text.replace("'", "''") + f"'::{column}"


def _expected_ids(where, idents):
    keep = compile_predicate(where, "profiles", now=NOW)
    return [i for i, ident in enumerate(idents) if keep(_id_record(ident))]


@pytest.mark.parametrize("column", ["JSON", "BIGINT", "VARCHAR", "BOOLEAN"])
@pytest.mark.parametrize("bind", [False, True], ids=["inline", "bound"])
def test_profile_distinct_id_column_of_any_type_through_duckdb(duck, column, bind):
    """An Engage table's id column has the type its reader gave it (DuckDB's read_json:
    BIGINT for numbers, JSON for a mix): every filter agrees with the evaluator on records
    holding those values (a SQL NULL is a missing id; only JSON tells null apart)."""
    fits = {"JSON": lambda v: True, "BIGINT": lambda v: v is ... or type(v) is int,
            "VARCHAR": lambda v: v is ... or isinstance(v, str),
            "BOOLEAN": lambda v: v is ... or isinstance(v, bool)}[column]
    idents = [v for v in ID_VALUES if fits(v)]
    rows = ", ".join(f"({i}, {_duck_literal(v, column)}, '{{\"plan\": \"free\"}}'::JSON)"
                     for i, v in enumerate(idents))
    for where in ID_FILTERS:
        comp = S.compiler("duckdb", "engage", now=NOW, bind=bind)
        cond = comp.condition(S._node(where))
        src = bound_source(comp, exp.to_table("t")) if bind else exp.to_table("t")
        sql = (f'WITH t AS (SELECT * FROM (VALUES {rows}) AS v(id, "$distinct_id", "$properties")) '
               f"SELECT id FROM {src.sql('duckdb')} WHERE {cond.sql('duckdb')} ORDER BY id")
        got = [r[0] for r in duck.execute(sql).fetchall()]
        assert got == _expected_ids(where, idents), (column, where)


def test_profile_distinct_id_column_through_spark(spark):
    """The Spark helper reads an Engage id column of any type as a VARIANT (spark.read.json
    makes a numeric id BIGINT): a number stays a number, as in the evaluator."""
    from mpql.sql import spark as mpql_spark

    for column, idents in (("BIGINT", [5, 7, ...]), ("STRING", ["5", "u1", "2024-01-02", ...]),
                           ("BOOLEAN", [True, False, ...]), ("DOUBLE", [5.0, 7.5, ...])):
        df = spark.createDataFrame(
            [(i, None if v is ... else v, json.dumps({"plan": "free"})) for i, v in enumerate(idents)],
            f"id INT, `$distinct_id` {column}, `$properties` STRING")
        for where in ID_FILTERS:
            got = sorted(r["id"] for r in mpql_spark.filter(df, where, "engage", now=NOW).collect())
            assert got == _expected_ids(where, idents), (column, where)

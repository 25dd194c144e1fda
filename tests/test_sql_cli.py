"""``mpql sql`` and ``mpql filter --engine duckdb`` as a user runs them (real subprocesses,
real files): the DuckDB engine writes exactly what the Python engine writes, over JSONL,
.gz, directories and Parquet, and fails as loudly on bad input."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlglot

import mpql
from mpql import Query
from mpql.evaluator import compile_predicate

FILTERS = [
    'properties["$os"] == "Windows"',
    'properties["price"] > 10 and not defined(properties["$referrer"])',
    '"San" in properties["$city"] or properties["$browser_version"] >= 124',
    'event["$time"] >= datetime("2026-12-03")',
    'number(properties["$screen_width"]) % 7 == 2',
]


def mpql_cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "mpql", *args], capture_output=True,
                          input=stdin)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("data") / "gen"
    done = mpql_cli("sandbox", "generate", "--users", "40", "--days", "4", "--seed", "5",
                    "--end-date", "2026-12-05", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("where", FILTERS)
def test_duckdb_engine_writes_what_the_python_engine_writes(dataset, where):
    files = sorted(str(p) for p in (dataset / "events").glob("*.jsonl"))
    py = mpql_cli("filter", "--engine", "python", "--now", "1796000000", "--where", where, *files)
    dk = mpql_cli("filter", "--engine", "duckdb", "--now", "1796000000", "--where", where, *files)
    assert py.returncode == dk.returncode == 0, (py.stderr, dk.stderr)
    assert dk.stdout == py.stdout
    assert py.stdout  # each filter selects something


def test_duckdb_engine_reads_gz_directories_and_parquet(dataset, tmp_path):
    where = FILTERS[1]
    files = sorted((dataset / "events").glob("*.jsonl"))
    expected = mpql_cli("filter", "--engine", "python", "--count", "--where", where, *map(str, files))
    n = int(expected.stdout)
    gz = tmp_path / "all.jsonl.gz"
    with gzip.open(gz, "wb") as out:
        for f in files:
            out.write(f.read_bytes())
    for args in ([str(gz)], [str(dataset)]):  # a dataset directory: its events/*.jsonl
        got = mpql_cli("filter", "--engine", "duckdb", "--count", "--where", where, *args)
        assert got.returncode == 0, got.stderr
        assert int(got.stdout) == n, args
    pq = tmp_path / "events.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT json->>'event' AS event, json->'properties' AS properties FROM "
                f"read_json_objects({[str(f) for f in files]}, format='newline_delimited')) "
                f"TO '{pq}' (FORMAT parquet)")
    got = mpql_cli("filter", "--engine", "auto", "--where", where, str(pq))
    assert got.returncode == 0, got.stderr
    lines = got.stdout.decode().splitlines()
    assert len(lines) == n
    keep = compile_predicate(where)
    assert all(keep(json.loads(line)) for line in lines)


def test_duckdb_engine_fails_loudly_on_bad_input(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event": "a", "properties": {"x": 1}}\n{not json\n')
    got = mpql_cli("filter", "--engine", "duckdb", "--where", 'properties["x"] == 1', str(bad))
    assert got.returncode == 2
    assert b"bad.jsonl" in got.stderr and b"Traceback" not in got.stderr
    shape = tmp_path / "shape.jsonl"
    shape.write_text('{"event": "a", "properties": {"x": 1}}\n{"event": "b", "properties": [1]}\n')
    got = mpql_cli("filter", "--engine", "duckdb", "--count", "--where", 'properties["x"] == 1', str(shape))
    assert got.returncode == 2 and got.stdout.strip() == b"1"
    # --count on a file: DuckDB's typed reader refuses the line, the Python engine reports it
    assert b"reading it with the Python engine" in got.stderr
    assert b"shape.jsonl:2: error:" in got.stderr
    # without --count (lines are written back) DuckDB reads the text and counts bad records
    got = mpql_cli("filter", "--engine", "duckdb", "--where", 'properties["x"] == 1', str(shape))
    assert got.returncode == 2 and got.stdout.count(b"\n") == 1
    assert b"1 record(s) are not event records" in got.stderr
    fails = mpql_cli("filter", "--engine", "duckdb", "--where", 'properties["x"] and true', str(shape))
    assert fails.returncode == 2 and b"needs boolean operands" in fails.stderr
    traced = mpql_cli("filter", "--engine", "duckdb", "--trace", "--where", "true", str(shape))
    assert traced.returncode == 2 and b"--trace needs the Python engine" in traced.stderr


def test_mpql_sql_prints_sql_that_parses_in_its_dialect():
    for dialect in ("duckdb", "spark", "databricks", "bigquery", "snowflake"):
        got = mpql_cli("sql", "-e", 'properties["$os"] == "iOS"', "--dialect", dialect,
                       "--layout", "pipelines", "--now", "0")
        assert got.returncode == 0, got.stderr
        sqlglot.parse_one(got.stdout.decode(), read=dialect)
    sel = mpql_cli("sql", "-e", 'properties["n"] > 1', "--select", "--count", "--unit", "week",
                   "--from", "2024-01-01", "--to", "2024-01-31", "--dialect", "bigquery")
    assert sel.returncode == 0 and b"GROUP BY" in sel.stdout


def test_mpql_sql_errors_are_clear():
    refused = mpql_cli("sql", "-e", 'properties["p"] or true', "--dialect", "snowflake")
    assert refused.returncode == 2 and b"logic_operand='undefined'" in refused.stderr
    syntax = mpql_cli("sql", "-e", 'properties["p" ==')
    assert syntax.returncode == 2 and b"Traceback" not in syntax.stderr
    usage = mpql_cli("sql", "-e", "true", "--count")
    assert usage.returncode == 2 and b"add --select" in usage.stderr


def test_query_to_sql_counts_like_the_evaluator(dataset):
    """Query.to_sql's segmentation count, run by DuckDB over the export, equals counting the
    evaluator's selections per day and segment."""
    files = sorted((dataset / "events").glob("*.jsonl"))
    records = [json.loads(line) for f in files for line in f.read_text().splitlines() if line]
    where = 'properties["price"] > 5'
    q = Query.events(where, from_date="2026-12-02", to_date="2026-12-04", events=["Viewed Item", "Purchase"],
                     today=date(2026, 12, 6))
    sql = q.to_sql("duckdb", count=True, on='properties["$os"]', unit="day", table="events", now=0)
    con = duckdb.connect()
    con.execute("CREATE TABLE events AS SELECT json->>'event' AS event, json->'properties' AS properties "
                f"FROM read_json_objects({[str(f) for f in files]}, format='newline_delimited')")
    got = {(p, s): c for p, s, c in con.execute(sql).fetchall()}
    keep = mpql.compile_predicate(where)
    from datetime import datetime, timezone

    want = Counter()
    for r in records:
        day = datetime.fromtimestamp(r["properties"]["time"], timezone.utc).date().isoformat()
        os_ = r["properties"].get("$os")
        if "2026-12-02" <= day <= "2026-12-04" and r["event"] in ("Viewed Item", "Purchase") \
                and keep(r) and isinstance(os_, str):
            want[(day, os_)] += 1
    assert got == dict(want) and want


def test_python_engine_does_not_load_sql_machinery(tmp_path):
    """`mpql filter` on a small file (auto → Python) pays nothing for the DuckDB engine."""
    data = tmp_path / "e.jsonl"
    data.write_text('{"event": "a", "properties": {"x": 1}}\n')
    code = ("import sys; from mpql.cli import main; "
            f"rc = main(['filter', '--count', '--where', 'properties[\\'x\\'] == 1'.replace(chr(39), chr(34)), {str(data)!r}]); "
            "print(rc, sorted(m for m in ('sqlglot', 'duckdb', 'mpql.sql') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["1", "0", "[]"], (out.stdout, out.stderr)


def test_duckdb_engine_matches_on_stdin_event_and_invert(dataset):
    path = sorted((dataset / "events").glob("*.jsonl"))[1]
    data = path.read_bytes()
    for extra in (["--event", "Viewed Item"], ["--invert"], ["--invert", "--event", "Purchase"]):
        args = ["filter", *extra, "--where", 'properties["price"] > 5', "-"]
        py = mpql_cli(*args[:1], "--engine", "python", *args[1:], stdin=data)
        dk = mpql_cli(*args[:1], "--engine", "duckdb", *args[1:], stdin=data)
        assert py.returncode == dk.returncode == 0, (py.stderr, dk.stderr)
        assert dk.stdout == py.stdout and py.stdout, extra


def test_auto_keeps_profile_joins_on_the_python_engine(dataset):
    """A dataset directory goes to DuckDB, except when the filter reads user[…] (the
    evaluator joins the dataset's profiles; the SQL does not)."""
    where = 'user["$city"] == "San Francisco" or properties["$os"] == "Mac OS X"'
    auto = mpql_cli("filter", "--count", "--where", where, str(dataset))
    py = mpql_cli("filter", "--engine", "python", "--count", "--where", where, str(dataset))
    assert auto.returncode == py.returncode == 0 and auto.stdout == py.stdout
    forced = mpql_cli("filter", "--engine", "duckdb", "--count", "--where", where, str(dataset))
    assert forced.returncode == 2 and b"--engine python can evaluate it" in forced.stderr

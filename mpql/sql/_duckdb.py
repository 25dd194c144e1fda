"""``mpql filter --engine duckdb``: the same filter, run by DuckDB over files.

Inputs: JSONL files (``.gz`` too), directories (every ``*.jsonl``, ``*.json``, ``*.ndjson``
and their ``.gz``, and ``*.parquet`` below them) and Parquet files with ``event`` and
``properties`` columns (``$distinct_id``/``$properties`` with ``--profiles``). JSONL lines
are written back byte for byte, as the Python engine does (DuckDB's ``read_json_objects``
keeps each line's text); Parquet rows are written as JSON lines.

Bad input is never dropped silently: a line that is not JSON stops the run with DuckDB's
message (file and line), and records whose ``properties`` is not an object are counted and
reported (``--engine python`` lists them line by line). Exit codes are the Python engine's.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlglot import exp

from ..errors import EvaluationError, InputError
from . import compiler as _compiler
from ._dialects import fn
from ._select import bound_source

__all__ = ["filter_files", "expand_paths", "run_filter"]

_JSONL = (".jsonl", ".json", ".ndjson", ".jsonl.gz", ".json.gz", ".ndjson.gz")


def expand_paths(paths) -> list[str]:
    files = []
    for p in paths:
        if p == "-":
            files.append(p)
            continue
        path = Path(p)
        if path.is_dir():
            found = sorted(str(f) for f in path.rglob("*") if f.is_file()
                           and (f.name.endswith(_JSONL) or f.name.endswith(".parquet")))
            if not found:
                raise InputError(f"{p}: the directory holds no .jsonl, .json, .ndjson (.gz) or "
                                 ".parquet files")
            files.extend(found)
        elif not path.exists():
            raise InputError(f"{p}: no such file or directory")
        else:
            files.append(str(path))
    return files


def _source(files, scope):
    """The rows as a derived table with ``_line`` (the text), ``_ok`` and the layout's columns."""
    props_key, id_key = ("properties", "event") if scope == "events" else ("$properties", "$distinct_id")
    parts = []
    jsonl = [f if f != "-" else "/dev/stdin" for f in files if not f.endswith(".parquet")]
    parquet = [f for f in files if f.endswith(".parquet")]
    raw = []
    if jsonl:
        raw.append(exp.select(exp.alias_(exp.column("json"), "_rec")).from_(
            fn("read_json_objects", exp.Array(expressions=[exp.Literal.string(f) for f in jsonl]),
                     exp.EQ(this=exp.var("format"), expression=exp.Literal.string("newline_delimited")))
        ))
    if parquet:
        obj = fn("json_object", exp.Literal.string(id_key), exp.column(id_key, quoted=True),
                       exp.Literal.string(props_key),
                       exp.Cast(this=exp.column(props_key, quoted=True), to=exp.DataType.build("JSON")))
        raw.append(exp.select(exp.alias_(obj, "_rec")).from_(
            fn("read_parquet", exp.Array(expressions=[exp.Literal.string(f) for f in parquet]),
                     exp.EQ(this=exp.var("union_by_name"), expression=exp.true()))
        ))
    union = raw[0]
    for other in raw[1:]:
        union = exp.union(union, other, distinct=False)
    rec = exp.column("_rec")
    props = fn("json_extract", rec.copy(), exp.Literal.string("/" + props_key.replace("~", "~0").replace("/", "~1")))
    ident = fn("json_extract_string", rec.copy(), exp.Literal.string("/" + id_key))
    ok = exp.EQ(this=fn("json_type", rec.copy(), exp.Literal.string("/" + props_key)),
                expression=exp.Literal.string("OBJECT"))
    # Properties are read from _rec directly (Compiler.within): no copy of the object.
    parts = [exp.alias_(rec.copy(), "_line"), exp.alias_(ok, "_ok", quoted=True),
             exp.alias_(rec.copy(), "_rec"), exp.alias_(ident, id_key, quoted=True)]
    del props
    return exp.Subquery(this=exp.select(*parts).from_(exp.Subquery(this=union, alias="_raw")), alias="_src")


def filter_files(where, paths, *, scope="events", semantics=None, now=None, events=(),
                 invert=False, count=False, out=None, threads=None) -> int:
    """Write the selected lines of ``paths`` to ``out`` (binary) or, with ``count``, only
    count them. Returns the number selected. Raises InputError / EvaluationError."""
    import duckdb

    files = expand_paths(paths or ["-"])
    layout = "export" if scope == "events" else "engage"
    comp = _compiler("duckdb", layout, semantics=semantics, now=now, bind=True)
    comp.props = exp.column("_rec")
    comp.within = ("properties" if scope == "events" else "$properties",)
    from ..evaluator import _node

    cond = comp.condition(_node(where))
    if events:
        cond = exp.and_(exp.In(this=exp.column("event", quoted=True),
                               expressions=[exp.Literal.string(e) for e in events]), cond)
    selected = exp.Not(this=exp.Paren(this=cond)) if invert else cond
    source = bound_source(comp, _source(files, scope))
    ok = exp.column("_ok", quoted=True)
    con = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        if count:
            query = exp.select(
                exp.alias_(fn("count_if", exp.and_(ok.copy(), exp.Paren(this=selected))), "n"),
                exp.alias_(fn("count_if", exp.Not(this=ok.copy())), "bad"),
            ).from_(source)
            n, bad = con.execute(query.sql("duckdb")).fetchone()
        else:
            query = exp.select(exp.column("_line"), ok.copy()).from_(source).where(
                exp.or_(exp.Not(this=ok.copy()), exp.Paren(this=selected)))
            cursor = con.execute(query.sql("duckdb"))
            out = out or sys.stdout.buffer
            n = bad = 0
            while True:
                rows = cursor.fetchmany(8192)
                if not rows:
                    break
                chunk = []
                for line, good in rows:
                    if good:
                        n += 1
                        chunk.append(line.encode("utf-8") + b"\n")
                    else:
                        bad += 1
                out.write(b"".join(chunk))
    except duckdb.Error as exc:
        text = str(exc)
        if "mpql:" in text:
            raise EvaluationError(text[text.index("mpql:") + 6:].strip()) from None
        raise InputError(f"DuckDB could not read the input: {text.splitlines()[0]}") from None
    finally:
        con.close()
    if bad:
        what = "event" if scope == "events" else "profile"
        key = "properties" if scope == "events" else "$properties"
        raise _BadRecords(n, f"{bad} record(s) are not {what} records (no \"{key}\" object); "
                             "run with --engine python to see them line by line")
    return n


class _BadRecords(InputError):
    """Some records had the wrong shape; ``selected`` of the others were written."""

    def __init__(self, selected: int, message: str) -> None:
        super().__init__(message)
        self.selected = selected



def run_filter(args, where, where_name, files, scope, semantics, now) -> int:
    """The DuckDB branch of ``mpql filter`` (same output, messages and exit codes):
    ``where`` is the expression's text (``--where @FILE`` read), ``files`` the inputs as
    mpql filter expanded them (dataset directories → their event files)."""
    from ..errors import ParseError

    try:
        n = filter_files(where, files, scope=scope, semantics=semantics, now=now,
                         events=tuple(args.event), invert=args.invert, count=args.count)
    except ParseError as exc:
        print(exc.render(filename=where_name), file=sys.stderr)
        return 2
    except _BadRecords as exc:
        if args.count:
            print(exc.selected, flush=True)
        print(f"mpql filter: error: {exc}", file=sys.stderr)
        return 2
    except EvaluationError as exc:
        print(f"mpql filter: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from . import SqlCompileError

        if isinstance(exc, SqlCompileError):
            print(f"mpql filter: error: {exc} (--engine python can evaluate it)", file=sys.stderr)
            return 2
        raise
    if args.count:
        print(n, flush=True)
    sys.stdout.flush()
    return 0

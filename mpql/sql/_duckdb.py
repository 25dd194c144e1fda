"""``mpql filter --engine duckdb``: the same filter, run by DuckDB over files.

Inputs: JSONL files (``.gz`` too), directories (every ``*.jsonl``, ``*.json``, ``*.ndjson``
and their ``.gz``, and ``*.parquet`` below them) and Parquet files with ``event`` and
``properties`` columns (``$distinct_id``/``$properties`` with ``--profiles``).

Each JSONL line is parsed once, by one of two readers:

* typed: ``read_json`` with only the properties the filter reads as JSON-typed struct fields
  — the fastest, used for ``--count`` on files when the filter cannot tell a JSON ``null``
  from a missing property (the reader makes both SQL NULL). It refuses a key given twice
  (Python keeps the last) and lines or properties that are not objects;
* text: ``read_json_objects`` keeps each line's bytes (written back byte for byte, as the
  Python engine does) and one ``json_extract`` of a list of paths reads every property.

When DuckDB cannot read a file (malformed JSON, or the typed reader's refusals) and nothing
was written yet, the caller reads it with the Python engine instead, which reports each bad
line (standard input cannot be read twice: a clear error, exit 2). Records whose
``properties`` is not an object are counted and reported. Exit codes are the Python
engine's. What DuckDB's parser accepts beyond JSON (NaN, trailing commas) is in docs/sql.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlglot import exp

from ..errors import EvaluationError, InputError
from . import compiler as _compiler
from ._dialects import fn
from ._values import case, not_null
from ._select import bound_source

__all__ = ["filter_files", "expand_paths", "run_filter", "Unreadable"]

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


def _pointer(*keys) -> str:
    return "".join("/" + k.replace("~", "~0").replace("/", "~1") for k in keys)


def _source(files, scope):
    """The rows as a derived table with ``_line`` (the text) and ``_rec`` (the record as JSON):
    JSONL lines through ``read_json_objects`` (which keeps each line's bytes), Parquet rows
    rebuilt as records."""
    props_key, id_key = _keys(scope)
    jsonl = [f if f != "-" else "/dev/stdin" for f in files if not f.endswith(".parquet")]
    parquet = [f for f in files if f.endswith(".parquet")]
    raw = []
    if jsonl:
        raw.append(exp.select(exp.alias_(exp.column("json"), "_rec")).from_(
            fn("read_json_objects", _list(jsonl), _format())))
    if parquet:
        obj = fn("json_object", exp.Literal.string(id_key), exp.column(id_key, quoted=True),
                 exp.Literal.string(props_key),
                 exp.Cast(this=exp.column(props_key, quoted=True), to=exp.DataType.build("JSON")))
        raw.append(exp.select(exp.alias_(obj, "_rec")).from_(
            fn("read_parquet", _list(parquet),
               exp.EQ(this=exp.var("union_by_name"), expression=exp.true()))))
    union = raw[0]
    for other in raw[1:]:
        union = exp.union(union, other, distinct=False)
    rec = exp.column("_rec")
    return exp.Subquery(this=exp.select(exp.alias_(rec.copy(), "_line"), exp.alias_(rec, "_rec"))
                        .from_(exp.Subquery(this=union, alias="_raw")), alias="_src")


def _keys(scope):
    return ("properties", "event") if scope == "events" else ("$properties", "$distinct_id")


def _list(items):
    return exp.Array(expressions=[exp.Literal.string(f) for f in items])


def _format():
    return exp.EQ(this=exp.var("format"), expression=exp.Literal.string("newline_delimited"))


def _ident(j, scope):
    """The event name (a JSON string, else NULL: the Python engine's ``--event`` matches
    strings only) or the profile's distinct id as its JSON value ``j`` (the evaluator keeps
    a numeric id a number)."""
    if scope != "events":
        return j
    text = fn("json_extract_string", j, exp.Literal.string("$"))
    return case((exp.EQ(this=fn("json_type", j.copy()), expression=exp.Literal.string("VARCHAR")),
                 text))


def _extract_once(comp, names, scope):
    """Text records (``_rec``): every property the expression reads, and the event name or
    distinct id, come from ONE ``json_extract`` of a list of paths (one parse of the line),
    instead of one parse per property. Returns the ``_ok`` column: the record's properties are
    an object (known without another parse when a requested key is present)."""
    props_key, id_key = _keys(scope)
    # Keys every Raw Export record has: when one is present, properties is an object, and
    # the json_type() check below (a second parse of the line) is skipped. Absent, it runs.
    probes = [k for k in _PROBES.get(scope, ()) if k not in names]
    paths = [_pointer(props_key, n) for n in names] + [_pointer(id_key)] + \
            [_pointer(props_key, k) for k in probes]
    got = exp.column("_mpql_l")
    comp.layers[0].insert(0, ("_mpql_l", fn("json_extract", exp.column("_rec"),
                                            exp.Array(expressions=[exp.Literal.string(p) for p in paths]))))
    # list_extract, 1-based, written as is (sqlglot shifts the index of a [] subscript).
    item = lambda k: fn("list_extract", got.copy(), exp.Literal.number(k + 1))
    by_j = {j: k for k, j in enumerate(_j_names(comp, names))}
    comp.layers[1] = [(j, item(by_j[j]) if j in by_j else e) for j, e in comp.layers[1]]
    comp.layers[1].append((id_key, _ident(item(len(names)), scope)))
    full = exp.EQ(this=fn("json_type", exp.column("_rec"), exp.Literal.string(_pointer(props_key))),
                  expression=exp.Literal.string("OBJECT"))
    full = exp.Coalesce(this=full, expressions=[exp.false()])  # no properties / not a record
    # A present key whose name is not an array index proves an object: no second parse.
    proof = [not_null(item(k)) for k, n in enumerate(names) if not _index_like(n)]
    proof += [not_null(item(len(names) + 1 + k)) for k in range(len(probes))]
    if not proof:
        return full
    return case((exp.or_(*proof), exp.true()), default=full)


_PROBES = {"events": ("time", "distinct_id")}


def _index_like(name: str) -> bool:
    return name == "-" or name.isdigit()


def _j_names(comp, names):
    return [f"_mpql_j{comp._bound[n][0]}" for n in names]


def _null_blind(comp, cond, names) -> bool:
    """Whether the condition gives the same answer when a property is JSON ``null`` as when
    it is absent: it reads neither the ``null`` slot nor the "undefined" test of any
    property. DuckDB's ``read_json`` turns a JSON null into SQL NULL, so only then may it
    read typed columns."""
    watched = {f"_mpql_j{comp._bound[n][0]}" for n in names} | \
              {f"_mpql_null{comp._bound[n][0]}" for n in names}
    exprs = [cond] + [e for _, e in comp.layers[3]]
    return not any(c.name in watched for e in exprs for c in e.find_all(exp.Column))


def _struct_source(files, names, scope):
    """Plain JSONL files through ``read_json``: each line is parsed once into typed columns
    holding only the requested properties (JSON values), never copied out as text. The
    reader fails (→ the Python engine) on what the Python engine reads differently: a key
    given twice, a line or properties that is not an object."""
    props_key, id_key = _keys(scope)
    fields = ", ".join('"' + n.replace('"', '""') + '" JSON' for n in names)
    columns = exp.Struct(expressions=[
        exp.PropertyEQ(this=exp.Literal.string(id_key), expression=exp.Literal.string("JSON")),
        exp.PropertyEQ(this=exp.Literal.string(props_key),
                       expression=exp.Literal.string(f"STRUCT({fields})")),
    ])
    read = fn("read_json", _list(files), _format(),
              exp.EQ(this=exp.var("columns"), expression=columns))
    p, ev = exp.column(props_key, quoted=True), exp.column(id_key, quoted=True)
    return exp.Subquery(this=exp.select(exp.alias_(p, "_p"), exp.alias_(ev, "_ev")).from_(read),
                        alias="_src")


def _use_struct(comp, names, files, cond, count) -> bool:
    # read_json also makes a JSON null distinct id SQL NULL (missing): a filter that reads
    # the profile's id column is left to the text reader.
    reads_id = any(n == "_mpql_id" for n, _ in comp.layers[2])
    return (count and bool(names) and not reads_id and all(n and "\0" not in n for n in names)
            and len({n.lower() for n in names}) == len(names)  # struct fields ignore case
            and _jsonl_files_only(files) and _null_blind(comp, cond, names))


def _jsonl_files_only(files) -> bool:
    """No standard input and no Parquet: files that ``read_json`` can take and that the
    Python engine can read again if DuckDB refuses them."""
    return all(f != "-" and not f.endswith(".parquet") for f in files)


def filter_files(where, paths, *, scope="events", semantics=None, now=None, events=(),
                 invert=False, count=False, out=None, threads=None) -> int:
    """Write the selected lines of ``paths`` to ``out`` (binary) or, with ``count``, only
    count them. Returns the number selected. Raises InputError / EvaluationError, and
    ``Unreadable`` when DuckDB could not read files the Python engine can read instead."""
    import duckdb

    files = expand_paths(paths or ["-"])
    layout = "export" if scope == "events" else "engage"
    props_key, id_key = _keys(scope)
    comp = _compiler("duckdb", layout, semantics=semantics, now=now, bind=True)
    comp.props = exp.column("_rec")
    comp.within = (props_key,)
    from ..evaluator import _node

    cond = comp.condition(_node(where))
    names = list(comp._bound)
    ident = exp.column(id_key, quoted=True)
    if events:
        cond = exp.and_(exp.In(this=ident.copy(), expressions=[exp.Literal.string(e) for e in events]), cond)
    selected = exp.Not(this=exp.Paren(this=cond)) if invert else cond
    struct = _use_struct(comp, names, files, cond, count)
    if struct:
        field = lambda n: exp.Dot(this=exp.column("_p"), expression=exp.to_identifier(n, quoted=True))
        by_j = dict(zip(_j_names(comp, names), names))
        comp.layers[1] = [(j, field(by_j[j]) if j in by_j else e) for j, e in comp.layers[1]]
        comp.layers[1].append((id_key, _ident(exp.column("_ev"), scope)))
        ok = not_null(exp.column("_p"))
        source = bound_source(comp, _struct_source(files, names, scope))
    else:
        ok = _extract_once(comp, names, scope)
        source = bound_source(comp, _source(files, scope))
    con = duckdb.connect(config={"threads": threads or _cpus()})
    written = False
    try:
        if count:
            query = exp.select(
                exp.alias_(fn("count_if", exp.and_(ok.copy(), exp.Paren(this=selected))), "n"),
                exp.alias_(fn("count_if", exp.Not(this=ok.copy())), "bad"),
            ).from_(source)
            n, bad = con.execute(query.sql("duckdb")).fetchone()
        else:
            query = exp.select(exp.column("_line"), exp.alias_(ok.copy(), "_ok")).from_(source).where(
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
                if chunk:
                    out.write(b"".join(chunk))
                    written = True
    except duckdb.Error as exc:
        text = str(exc)
        if "mpql:" in text:
            raise EvaluationError(text[text.index("mpql:") + 6:].strip()) from None
        # A file can be read again by the Python engine (which reports each bad line and
        # goes on), unless lines were already written; standard input cannot.
        if not written and _jsonl_files_only(files):
            raise Unreadable(text.splitlines()[0]) from None
        raise InputError(f"DuckDB could not read the input: {text.splitlines()[0]}") from None
    finally:
        con.close()
    if bad:
        what = "event" if scope == "events" else "profile"
        raise _BadRecords(n, f"{bad} record(s) are not {what} records (no \"{props_key}\" object); "
                             "run with --engine python to see them line by line")
    return n


def _cpus() -> int:
    """The CPUs this process may run on (taskset, cgroups' cpusets), not the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Unreadable(InputError):
    """DuckDB could not read a file (malformed JSON; the typed reader also refuses a duplicate
    key, a line or properties that is not an object) before anything was written: the caller
    reads it with the Python engine instead."""


class _BadRecords(InputError):
    """Some records had the wrong shape; ``selected`` of the others were written."""

    def __init__(self, selected: int, message: str) -> None:
        super().__init__(message)
        self.selected = selected



def run_filter(args, where, where_name, files, scope, semantics, now) -> int:
    """The DuckDB branch of ``mpql filter`` (same output, messages and exit codes):
    ``where`` is the expression's text (``--where @FILE`` read), ``files`` the inputs as
    mpql filter expanded them (dataset directories → their event files). Returns None when
    the input must be read by the Python engine instead (a note is printed)."""
    from ..errors import ParseError

    try:
        n = filter_files(where, files, scope=scope, semantics=semantics, now=now,
                         events=tuple(args.event), invert=args.invert, count=args.count)
    except Unreadable as exc:
        print(f"mpql filter: note: DuckDB's reader refused the input ({exc}); reading it with "
              "the Python engine instead", file=sys.stderr)
        return None
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

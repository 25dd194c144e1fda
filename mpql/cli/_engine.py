"""``mpql filter --engine auto|python|duckdb``: which engine runs a filter.

Kept apart from mpql/sql (which imports sqlglot) so that choosing the Python engine costs
``mpql filter`` nothing at start-up.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

__all__ = ["choose_engine", "AUTO_THRESHOLD"]

#: ``--engine auto`` picks DuckDB when the inputs add up to at least this many bytes (or any
#: is Parquet): below it the Python engine starts faster than DuckDB pays off.
AUTO_THRESHOLD = 32 * 1024 * 1024


def total_size(paths) -> int:
    size = 0
    for p in paths:
        if p == "-":
            continue
        path = Path(p)
        if path.suffix == ".parquet":
            return AUTO_THRESHOLD
        try:
            size += sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() \
                else path.stat().st_size
        except OSError:
            pass
    return size


#: mpql filter options the DuckDB engine does not implement (auto then uses Python).
_PYTHON_ONLY = (("trace", "--trace"), ("explain", "--explain"), ("profiles_from", "--profiles-from"),
                ("line_buffered", "--line-buffered"))


def choose_engine(args, where=None, scope="events") -> str:
    """``--engine auto``: DuckDB for directories, Parquet and inputs ≥ AUTO_THRESHOLD bytes,
    unless an option only the Python engine has is used, or the expression reads
    ``user[…]`` profiles (a join the SQL does not make); ``--engine duckdb`` refuses the
    options (the SQL compiler refuses the expression, saying why)."""
    blocked = [flag for attr, flag in _PYTHON_ONLY if getattr(args, attr, None)]
    if args.engine == "duckdb":
        if blocked:
            raise InputError(f"{blocked[0]} needs the Python engine: drop --engine duckdb")
        return "duckdb"
    if blocked or (where is not None and _joins(where, scope)):
        return "python"
    paths = args.paths or []
    if any(p != "-" and (Path(p).is_dir() or p.endswith(".parquet")) for p in paths):
        return "duckdb"
    return "duckdb" if total_size(paths) >= AUTO_THRESHOLD else "python"


def _joins(where: str, scope: str) -> bool:
    """Whether the filter reads profiles from events (``user["x"]``) or behaviours."""
    from ..language import ast as A
    from ..language import parse

    try:
        node = parse(where)
    except Exception:  # reported by the engine that runs it
        return False
    return any(isinstance(n, A.Property) and (
        (n.scope == "user" and scope == "events" and n.name not in ("$distinct_id", "distinct_id"))
        or (n.scope == "behaviors" and scope != "events")) for n in A.walk(node))

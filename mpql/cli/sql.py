"""``mpql sql``: print the SQL a Mixpanel expression compiles to (docs/sql.md).

    mpql sql -e 'properties["plan"] == "pro"' --dialect bigquery --layout pipelines
    mpql sql -e '…' --select --from 2024-01-01 --to 2024-01-31 --count --on 'properties["$os"]'

Without ``--select`` it prints the WHERE condition; with it, a whole SELECT over the
layout's table. Exit codes: 0 printed, 2 bad expression, usage error or an expression the
dialect cannot express (the message says why and what to do instead).
"""

from __future__ import annotations

import sys

from .common import make_parser

__all__ = ["build_parser", "run"]

EXIT_OK, EXIT_ERROR = 0, 2

DIALECT_NAMES = ("duckdb", "spark", "databricks", "bigquery", "snowflake")


def build_parser(prog):
    p = make_parser(prog, (
        "Print the SQL of a Mixpanel expression, with Mixpanel's semantics (docs/sql.md).\n\n"
        "example:\n"
        "  mpql sql -e 'properties[\"$os\"] == \"iOS\"' --dialect snowflake --layout pipelines\n\n"
        "exit codes: 0 ok, 2 bad expression, usage error, or not expressible in the dialect"))
    p.add_argument("-e", "--expr", required=True, metavar="EXPR", help="the expression")
    p.add_argument("--dialect", "-d", default="duckdb", choices=DIALECT_NAMES)
    p.add_argument("--layout", "-l", default="export", choices=("export", "pipelines", "engage"),
                   help="export: event + properties JSON; pipelines: Mixpanel Data Pipelines "
                        "tables; engage: $distinct_id + $properties")
    p.add_argument("--profiles", action="store_true",
                   help="with --layout pipelines: the people table (mp_people_data)")
    p.add_argument("--select", action="store_true", help="print a whole SELECT, not a condition")
    p.add_argument("--table", help="table name for --select (default: the layout's)")
    p.add_argument("--event", action="append", default=[], metavar="NAME",
                   help="--select: only these events (repeatable)")
    p.add_argument("--from", dest="from_date", metavar="YYYY-MM-DD", help="--select: first day")
    p.add_argument("--to", dest="to_date", metavar="YYYY-MM-DD", help="--select: last day")
    p.add_argument("--count", action="store_true", help="--select: count the rows")
    p.add_argument("--on", metavar="EXPR", help="--select: count per value of EXPR")
    p.add_argument("--unit", choices=("day", "week", "month"), help="--select: count per period")
    p.add_argument("--timezone", default="UTC", metavar="TZ",
                   help="project timezone for datetime(\"…\") literals (default UTC)")
    p.add_argument("--now", metavar="SECONDS", type=int,
                   help="value of NOW in Unix seconds (default: the current time)")
    p.add_argument("--lenient", action="store_true",
                   help="non-boolean and/or operands are undefined instead of failing the query")
    p.add_argument("--pretty", action="store_true", help="indent the SQL")
    return p


def run(args) -> int:
    from ..errors import InputError, ParseError
    from ..evaluator import Semantics
    from ..sql import SqlCompileError, select_sql, to_sql

    try:
        semantics = Semantics(timezone=args.timezone,
                              logic_operand="undefined" if args.lenient else "raise")
    except ValueError as exc:
        raise InputError(f"--timezone: {exc}") from None
    scope = "profiles" if args.profiles or args.layout == "engage" else "events"
    if args.profiles and args.layout != "pipelines":
        raise InputError("--profiles selects Data Pipelines' people table: use it with --layout pipelines")
    select_only = [flag for flag, value in (("--table", args.table), ("--event", args.event),
                   ("--from", args.from_date), ("--to", args.to_date), ("--count", args.count),
                   ("--on", args.on), ("--unit", args.unit)) if value]
    if select_only and not args.select:
        raise InputError(f"{select_only[0]} belongs to a whole statement: add --select")
    try:
        if args.select:
            text = select_sql(args.expr, args.dialect, args.layout, table=args.table, scope=scope,
                              events=args.event or None, from_date=args.from_date,
                              to_date=args.to_date, count=args.count, on=args.on, unit=args.unit,
                              semantics=semantics, now=args.now, pretty=args.pretty)
        else:
            text = to_sql(args.expr, args.dialect, args.layout, scope=scope, semantics=semantics,
                          now=args.now, pretty=args.pretty)
    except ParseError as exc:
        print(exc.render(filename="-e"), file=sys.stderr)
        return EXIT_ERROR
    except (SqlCompileError, ValueError) as exc:
        print(f"mpql sql: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(text)
    return EXIT_OK

"""What differs between SQL engines: JSON access and typing, regexes, dates, errors.

The compiler (_compile.py) states Mixpanel's semantics once, in terms of the few primitives
below; each ``Dialect`` writes them in its engine's functions. Everything else (CASE,
COALESCE, arithmetic, comparisons, string literals and their escaping) is sqlglot's job.

Reading a property is the hard part, because each engine types semi-structured data its own
way:

==========  ==============================  ================================  ====================
dialect     property value                  its JSON type                     a list's elements
==========  ==============================  ================================  ====================
duckdb      json_extract(col, '/key')       json_type(…)                      json_extract(…,'$[*]')
            (a JSON Pointer: no quoting     'BIGINT' 'UBIGINT' 'DOUBLE'
            problem for ``'``, ``"``, ``.``) 'VARCHAR' 'BOOLEAN' 'NULL' …
spark,      variant_get(v, '$["key"]')      schema_of_variant(…)              CAST(… AS
databricks  (v = the VARIANT column, or     'BIGINT' 'DECIMAL(p,s)' 'STRING'  ARRAY<VARIANT>)
            try_parse_json(text column))    'BOOLEAN' 'VOID' 'ARRAY<…>' …
bigquery    JSON_QUERY(col, '$."key"')      JSON_TYPE(…): 'number' 'string'   JSON_QUERY_ARRAY(…)
                                            'boolean' 'null' 'array' …
snowflake   GET(col, 'key') (no path: the   TYPEOF(…): 'INTEGER' 'DECIMAL'    FLATTEN / FILTER
            key is a plain string)          'DOUBLE' 'VARCHAR' 'NULL_VALUE' …
==========  ==============================  ================================  ====================

Key quoting: DuckDB gets a JSON Pointer (``~`` → ``~0``, ``/`` → ``~1``, nothing else is
special), Snowflake a plain key, Spark and BigQuery a bracketed/quoted path in which ``"``
and ``\\`` are escaped; the SQL string literal around it is escaped by sqlglot for the
dialect (``'`` is ``''`` in DuckDB/Snowflake, ``\\'`` in Spark/BigQuery). We never use
sqlglot's JSON-path nodes: their rendering of keys containing ``'`` is wrong for some
dialects, and tests/test_sql_compile.py checks awkward keys end to end.
"""

from __future__ import annotations

from sqlglot import exp

from ._values import V, case, is_null, lit_str, or_, try_cast

__all__ = ["Dialect", "DIALECTS", "get_dialect"]

_DOUBLE = "DOUBLE"


def fn(name: str, *args) -> exp.Expression:
    """A function call written as is (an engine-specific function sqlglot need not know)."""
    return exp.Anonymous(this=name, expressions=list(args))


def cast(e, to: str) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build(to))




class Dialect:
    """SQL primitives of one engine (subclasses below)."""

    name = ""
    sqlglot = ""
    #: Whether the engine has a function that fails the query (for Semantics.logic_operand
    #: and non_boolean_filter = "raise").
    can_raise = True
    json_type = "JSON"

    # -- reading JSON ------------------------------------------------------------------------

    def field(self, obj: exp.Expression, key: str) -> exp.Expression:
        """The JSON value of ``obj[key]``, SQL NULL when the key is absent."""
        raise NotImplementedError

    def typed_json(self, j: exp.Expression, *, in_list: bool = False) -> V:
        """Split a JSON value (SQL NULL = absent) into the V slots."""
        raise NotImplementedError

    def first_positions(self, lst, status, name, values):
        """1-based position of the first element whose ``status(V)`` is each of ``values``
        (0: none) — for any(…) whose condition may fail the query at some element."""
        raise NotImplementedError

    def json_text(self, j: exp.Expression) -> exp.Expression:
        """Canonical JSON text of a list or object (for ``==`` between two of them)."""
        raise NotImplementedError

    def any_element(self, lst: exp.Expression, predicate, name: str = "_mpql_x") -> exp.Expression:
        """TRUE when ``predicate(V of the element)`` holds for an element of a JSON list
        (``name``: the lambda's variable, unique per nesting level)."""
        raise NotImplementedError

    def parse_json_column(self, col: exp.Expression) -> exp.Expression:
        return col

    def to_json(self, col: exp.Expression) -> exp.Expression:
        """A column of any SQL type (a JSON one included, unchanged) as the JSON value
        ``typed_json`` reads: a number stays a number, text a string."""
        raise NotImplementedError

    # -- text, numbers, dates ---------------------------------------------------------------

    def regex_full(self, s, pattern: str) -> exp.Expression:
        """TRUE when the whole of ``s`` matches ``pattern`` (RE2/Java common syntax)."""
        return exp.RegexpLike(this=s, expression=lit_str("^(?:" + pattern + r")\z"))

    def regex_group(self, s, pattern: str, group: int) -> exp.Expression:
        """Group ``group`` of the first match of ``pattern`` in ``s`` ('' when it took no part)."""
        return exp.RegexpExtract(this=s, expression=lit_str(pattern), group=exp.Literal.number(group))

    def contains(self, haystack, needle) -> exp.Expression:
        return exp.GT(this=exp.StrPosition(this=haystack, substr=needle), expression=exp.Literal.number(0))

    def starts_with(self, s, prefix) -> exp.Expression:
        return exp.StartsWith(this=s, expression=prefix)

    def concat(self, a, b) -> exp.Expression:
        return exp.DPipe(this=a, expression=b, safe=True)

    def to_double(self, text) -> exp.Expression:
        return try_cast(text, _DOUBLE)

    def double_to_text(self, x) -> exp.Expression:
        return cast(x, "VARCHAR")

    def int_to_text(self, x) -> exp.Expression:
        return cast(cast(x, "BIGINT"), "VARCHAR")

    def date_from_text(self, text) -> exp.Expression:
        """A DATE from ``YYYY-MM-DD`` text, NULL when it is no calendar date."""
        return try_cast(text, "DATE")

    def days_since_epoch(self, date) -> exp.Expression:
        raise NotImplementedError

    def date_text_from_days(self, days) -> exp.Expression:
        """``YYYY-MM-DD`` of the day ``days`` after 1970-01-01."""
        raise NotImplementedError

    def timestamp_seconds(self, ts) -> exp.Expression:
        """Unix seconds of a TIMESTAMP column (Data Pipelines' ``time``)."""
        return exp.TimeToUnix(this=ts)

    def lpad2(self, x) -> exp.Expression:
        return exp.Pad(this=cast(cast(x, "BIGINT"), "VARCHAR"), expression=exp.Literal.number(2),
                       fill_pattern=lit_str("0"), is_left=True)

    def error(self, message: str) -> exp.Expression | None:
        """An expression that fails the query with ``message`` (None: the engine has none)."""
        return None

    def is_finite(self, x) -> exp.Expression:
        # Mixpanel has no infinity or NaN; NaN compares false (or greatest) everywhere.
        return exp.LTE(this=exp.Abs(this=x), expression=exp.Literal.number("1.7976931348623157e308"))


class DuckDB(Dialect):
    name = sqlglot = "duckdb"

    def field(self, obj, key, *, within=()):
        """``within``: keys leading to the object, so that ``json_extract`` parses the
        whole record once per property instead of extracting the object first."""
        pointer = "".join("/" + k.replace("~", "~0").replace("/", "~1") for k in (*within, key))
        return fn("json_extract", obj, lit_str(pointer))

    def typed_json(self, j, *, in_list=False):
        t = fn("json_type", j)
        return _split(
            j, t,
            num=(exp.In(this=t.copy(), expressions=[lit_str(x) for x in ("BIGINT", "UBIGINT", "DOUBLE", "HUGEINT")]),
                 lambda: cast(j.copy(), _DOUBLE)),
            str=(exp.EQ(this=t.copy(), expression=lit_str("VARCHAR")),
                 lambda: fn("json_extract_string", j.copy(), lit_str("$"))),
            bool=(exp.EQ(this=t.copy(), expression=lit_str("BOOLEAN")), lambda: cast(j.copy(), "BOOLEAN")),
            null=(exp.EQ(this=t.copy(), expression=lit_str("NULL")), lambda: exp.true()),
            lst=(exp.EQ(this=t.copy(), expression=lit_str("ARRAY")), lambda: j.copy()),
            obj=(exp.EQ(this=t.copy(), expression=lit_str("OBJECT")), lambda: j.copy()),
        )

    def json_text(self, j):
        return cast(j, "VARCHAR")

    def to_json(self, col):
        return fn("to_json", col)

    def any_element(self, lst, predicate, name="_mpql_x"):
        x = exp.to_identifier(name)
        # CAST to JSON[] rather than json_extract(…, '$[*]'), which sqlglot reads back as
        # `->` (a different function in DuckDB).
        elements = cast(lst, "JSON[]")
        body = predicate(self.typed_json(exp.column(x), in_list=True))
        lam = exp.Lambda(this=exp.Coalesce(this=body, expressions=[exp.false()]), expressions=[x])
        # list_bool_or of an empty list is NULL; an empty list has no such element.
        return exp.Coalesce(this=fn("list_bool_or", fn("list_transform", elements, lam)),
                            expressions=[exp.false()])

    def first_positions(self, lst, status, name, values):
        x = exp.to_identifier(name)
        statuses = fn("list_transform", cast(lst, "JSON[]"),
                      exp.Lambda(this=status(self.typed_json(exp.column(x), in_list=True)), expressions=[x]))
        return [exp.Coalesce(this=fn("list_position", statuses.copy(), exp.Literal.number(v)),
                             expressions=[exp.Literal.number(0)]) for v in values]

    def regex_full(self, s, pattern):
        return fn("regexp_full_match", s, lit_str(pattern))

    def days_since_epoch(self, date):
        return fn("date_diff", lit_str("day"), cast(lit_str("1970-01-01"), "DATE"), date)

    def date_text_from_days(self, days):
        return cast(exp.Add(this=cast(lit_str("1970-01-01"), "DATE"), expression=cast(days, "INTEGER")), "VARCHAR")

    def error(self, message):
        return fn("error", lit_str(message))


class Spark(Dialect):
    """Spark 4 / Databricks: properties are a VARIANT, or JSON text parsed with
    try_parse_json (a malformed text is then an empty record, never an error)."""

    name = sqlglot = "spark"
    json_type = "VARIANT"

    def parse_json_column(self, col):
        return fn("try_parse_json", col)

    def field(self, obj, key):
        # Spark's variant paths have no escape character: a key is quoted with whichever
        # quote it does not contain; one with both (or a backslash) is read through a map.
        if "\\" not in key and '"' not in key:
            return fn("variant_get", obj, lit_str('$["' + key + '"]'))
        if "\\" not in key and "'" not in key:
            return fn("variant_get", obj, lit_str("$['" + key + "']"))
        as_map = fn("try_variant_get", obj, lit_str("$"), lit_str("map<string, variant>"))
        return fn("try_element_at", as_map, lit_str(key))

    def typed_json(self, j, *, in_list=False):
        t = fn("schema_of_variant", j)
        return _split(
            j, t,
            num=(or_(exp.In(this=t.copy(), expressions=[lit_str(x) for x in ("BIGINT", "DOUBLE", "INT", "SMALLINT", "TINYINT", "FLOAT")]),
                     exp.Like(this=t.copy(), expression=lit_str("DECIMAL%"))),
                 lambda: fn("variant_get", j.copy(), lit_str("$"), lit_str("double"))),
            str=(exp.EQ(this=t.copy(), expression=lit_str("STRING")),
                 lambda: fn("variant_get", j.copy(), lit_str("$"), lit_str("string"))),
            bool=(exp.EQ(this=t.copy(), expression=lit_str("BOOLEAN")),
                  lambda: fn("variant_get", j.copy(), lit_str("$"), lit_str("boolean"))),
            null=(exp.EQ(this=t.copy(), expression=lit_str("VOID")), lambda: exp.true()),
            lst=(exp.Like(this=t.copy(), expression=lit_str("ARRAY%")), lambda: j.copy()),
            obj=(exp.Like(this=t.copy(), expression=lit_str("OBJECT%")), lambda: j.copy()),
        )

    def json_text(self, j):
        return fn("to_json", j)

    def to_json(self, col):
        # CAST(… AS VARIANT) keeps a number a number and leaves a VARIANT as it is.
        return cast(col, "VARIANT")

    def any_element(self, lst, predicate, name="_mpql_x"):
        x = exp.to_identifier(name)
        body = predicate(self.typed_json(exp.column(x), in_list=True))
        lam = exp.Lambda(this=exp.Coalesce(this=body, expressions=[exp.false()]), expressions=[x])
        return fn("exists", cast(lst, "ARRAY<VARIANT>"), lam)

    def first_positions(self, lst, status, name, values):
        x = exp.to_identifier(name)
        statuses = fn("transform", cast(lst, "ARRAY<VARIANT>"),
                      exp.Lambda(this=status(self.typed_json(exp.column(x), in_list=True)), expressions=[x]))
        return [fn("array_position", statuses.copy(), exp.Literal.number(v)) for v in values]

    def regex_full(self, s, pattern):
        return exp.RegexpLike(this=s, expression=lit_str("^(?:" + pattern + r")\z"))

    def contains(self, haystack, needle):
        return fn("contains", haystack, needle)

    def concat(self, a, b):
        return fn("concat", a, b)

    def days_since_epoch(self, date):
        return fn("unix_date", date)

    def date_text_from_days(self, days):
        return cast(fn("date_from_unix_date", cast(days, "INT")), "STRING")

    def lpad2(self, x):
        return fn("lpad", cast(cast(x, "BIGINT"), "STRING"), exp.Literal.number(2), lit_str("0"))

    def error(self, message):
        return fn("raise_error", lit_str(message))


class Databricks(Spark):
    name = sqlglot = "databricks"


class BigQuery(Dialect):
    name = sqlglot = "bigquery"

    def field(self, obj, key):
        # The JSON subscript operator takes the key as a plain string: no JSONPath quoting.
        return exp.Bracket(this=obj, expressions=[lit_str(key)])

    def typed_json(self, j, *, in_list=False):
        t = fn("JSON_TYPE", j)
        return _split(
            j, t,
            num=(exp.EQ(this=t.copy(), expression=lit_str("number")), lambda: fn("LAX_FLOAT64", j.copy())),
            str=(exp.EQ(this=t.copy(), expression=lit_str("string")), lambda: fn("STRING", j.copy())),
            bool=(exp.EQ(this=t.copy(), expression=lit_str("boolean")), lambda: fn("BOOL", j.copy())),
            null=(exp.EQ(this=t.copy(), expression=lit_str("null")), lambda: exp.true()),
            lst=(exp.EQ(this=t.copy(), expression=lit_str("array")), lambda: j.copy()),
            obj=(exp.EQ(this=t.copy(), expression=lit_str("object")), lambda: j.copy()),
        )

    def json_text(self, j):
        return fn("TO_JSON_STRING", j)

    def to_json(self, col):
        return fn("TO_JSON", col)

    def any_element(self, lst, predicate, name="_mpql_x"):
        body = predicate(self.typed_json(exp.column(name), in_list=True))
        sub = exp.select("1").from_(
            exp.Unnest(expressions=[fn("JSON_QUERY_ARRAY", lst)], alias=exp.TableAlias(this=exp.to_identifier(name)))
        ).where(body)
        return exp.Exists(this=sub)

    def regex_full(self, s, pattern):
        return exp.RegexpLike(this=s, expression=lit_str("^(?:" + pattern + r")$"))

    def days_since_epoch(self, date):
        return fn("UNIX_DATE", date)

    def date_text_from_days(self, days):
        return cast(fn("DATE_FROM_UNIX_DATE", cast(days, "INT64")), "STRING")

    def error(self, message):
        return fn("ERROR", lit_str(message))


class Snowflake(Dialect):
    name = sqlglot = "snowflake"
    can_raise = False
    json_type = "VARIANT"

    def field(self, obj, key):
        return fn("GET", obj, lit_str(key))

    def typed_json(self, j, *, in_list=False):
        t = fn("TYPEOF", j)
        return _split(
            j, t,
            num=(exp.In(this=t.copy(), expressions=[lit_str(x) for x in ("INTEGER", "DECIMAL", "DOUBLE")]),
                 lambda: fn("TO_DOUBLE", j.copy())),
            str=(exp.EQ(this=t.copy(), expression=lit_str("VARCHAR")), lambda: cast(j.copy(), "VARCHAR")),
            bool=(exp.EQ(this=t.copy(), expression=lit_str("BOOLEAN")), lambda: cast(j.copy(), "BOOLEAN")),
            null=(exp.EQ(this=t.copy(), expression=lit_str("NULL_VALUE")), lambda: exp.true()),
            lst=(exp.EQ(this=t.copy(), expression=lit_str("ARRAY")), lambda: j.copy()),
            obj=(exp.EQ(this=t.copy(), expression=lit_str("OBJECT")), lambda: j.copy()),
        )

    def json_text(self, j):
        return fn("TO_JSON", j)

    def to_json(self, col):
        return fn("TO_VARIANT", col)

    def any_element(self, lst, predicate, name="_mpql_x"):
        body = predicate(self.typed_json(exp.column("VALUE", table=name), in_list=True))
        flatten = fn("TABLE", fn("FLATTEN", exp.Kwarg(this=exp.var("INPUT"), expression=lst)))
        sub = exp.select("1").from_(
            exp.Table(this=flatten, alias=exp.TableAlias(this=exp.to_identifier(name)))
        ).where(body)
        return exp.Exists(this=sub)

    def regex_full(self, s, pattern):
        # REGEXP_LIKE matches the whole string in Snowflake, whose POSIX syntax has no
        # non-capturing groups.
        return exp.RegexpLike(this=s, expression=lit_str(pattern.replace("(?:", "(")))

    def regex_group(self, s, pattern, group):
        plain, index = _plain_groups(pattern, group)
        return exp.RegexpExtract(this=s, expression=lit_str(plain), position=exp.Literal.number(1),
                                 occurrence=exp.Literal.number(1), parameters=lit_str("e"),
                                 group=exp.Literal.number(index))

    def days_since_epoch(self, date):
        return fn("DATEDIFF", exp.var("day"), cast(lit_str("1970-01-01"), "DATE"), date)

    def date_text_from_days(self, days):
        return cast(fn("DATEADD", exp.var("day"), days, cast(lit_str("1970-01-01"), "DATE")), "VARCHAR")


def _plain_groups(pattern: str, group: int):
    """``pattern`` with ``(?:`` made capturing, and the new number of capturing ``group``."""
    seen = opened = 0
    for i, ch in enumerate(pattern):
        if ch == "(" and (i == 0 or pattern[i - 1] != "\\"):
            opened += 1
            if not pattern.startswith("(?:", i):
                seen += 1
                if seen == group:
                    return pattern.replace("(?:", "("), opened
    raise ValueError(f"no group {group} in {pattern!r}")


def _split(j, t, **kinds) -> V:
    """A V whose slot ``k`` is ``CASE WHEN test_k THEN value_k END`` and which is undefined
    exactly when ``j`` is SQL NULL (the key is absent)."""
    slots = {k: case((test, value())) for k, (test, value) in kinds.items()}
    return V(undef=is_null(j.copy()), **slots)


DIALECTS = {d.name: d for d in (DuckDB(), Spark(), Databricks(), BigQuery(), Snowflake())}


def get_dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown SQL dialect {name!r}: expected one of {', '.join(DIALECTS)}") from None


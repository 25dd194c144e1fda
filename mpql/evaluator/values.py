"""Mixpanel values in Python, and what every operator, cast and function does to them.

This module is the single statement of the semantics tables of docs/mixpanel-reference.md §1.6–1.8: the reference
interpreter (``interpreter.py``) calls these functions directly, and the compiler
(``compiler.py``) calls them on its generic paths and checks its specialised fast paths
against them (tests/test_evaluator_properties.py).

Representation of Mixpanel's types::

    undefined   Undefined  (the singleton below; falsy; never equal to anything)
    null        None       (JSON null)
    boolean     bool
    number      int | float  (never bool; never NaN or infinity)
    string      str
    datetime    datetime.datetime, timezone-aware, whole seconds (docs/mixpanel-reference.md §1.7: comparisons are
                at whole-second granularity, so the fraction is dropped on creation)
    list        list        (JSON array)
    object      dict        (JSON object; no operator does anything useful with it)

``Ops(semantics)`` binds the UNCONFIRMED choices of a ``Semantics`` once, so the functions it
exposes take only values.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

from .._datetext import DATE_PROPERTY, parse_datetime_literal
from ..errors import EvaluationError
from .semantics import DEFAULT, Semantics

__all__ = [
    "Undefined",
    "UndefinedType",
    "kind",
    "is_number",
    "Ops",
    "datetime_from_number",
    "parse_datetime_text",
    "iso_parse",
    "iso19_is_date",
    "VALID19",
    "clear_memos",
    "ISO_PROPERTY",
    "MAX_SECONDS",
    "describe",
    "a_kind",
    "COMPARE_METHODS",
    "ARITH_METHODS",
    "FUNCTION_METHODS",
]


class UndefinedType:
    """Mixpanel's ``undefined``: a missing property, a failed cast, a type mismatch, ``x / 0``.

    There is exactly one instance, ``Undefined``; test with ``value is Undefined``.
    """

    __slots__ = ()
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = object.__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Undefined"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self):
        return "Undefined"

    def __copy__(self):
        return self

    def __deepcopy__(self, _memo):
        return self


Undefined = UndefinedType()
U = Undefined

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)

#: ``datetime(n)``: 1 … MAX_SECONDS are Unix seconds, larger numbers milliseconds [S24].
MAX_SECONDS = 4294967295

#: Property strings Mixpanel types as dates at ingestion [S13], and what datetime("…")
#: accepts: one recogniser shared with the checker (mpql/_datetext.py).
ISO_PROPERTY = DATE_PROPERTY

_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*\Z", re.ASCII)
_INT_TEXT = re.compile(r"\s*[+-]?\d+\s*\Z", re.ASCII)


#: The ``Ops`` method behind each operator and function: one table for the interpreter and
#: the compiler (``datetime`` is not here: its argument's syntax matters, see to_datetime).
COMPARE_METHODS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
ARITH_METHODS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod"}
FUNCTION_METHODS = {
    "defined": "defined", "boolean": "to_boolean", "number": "to_number",
    "string": "to_string", "list": "to_list", "floor": "floor", "round": "round",
    "ceil": "ceil", "has_prefix": "has_prefix",
}


def is_number(value) -> bool:
    t = type(value)
    return t is int or t is float


def kind(value) -> str:
    """Mixpanel's name for the type of a value."""
    if value is Undefined:
        return "undefined"
    if value is None:
        return "null"
    t = type(value)
    if t is bool:
        return "boolean"
    if t is int or t is float:
        return "number"
    if t is str:
        return "string"
    if t is datetime:
        return "datetime"
    if t is list or t is tuple:
        return "list"
    if t is dict:
        return "object"
    # Values from callers that are not plain JSON types.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "unknown"


def a_kind(value) -> str:
    """``a list``, ``an object``, ``null`` — a value's type for an error message."""
    k = kind(value)
    if k == "unknown":
        return f"a Python {type(value).__name__}"
    return k if k in ("undefined", "null") else ("an " if k[0] in "aeiou" else "a ") + k


def describe(value) -> str:
    """``a string ("pro")`` — for error messages."""
    k = kind(value)
    if k in ("undefined", "null"):
        return k
    text = format_value(value)
    if len(text) > 40:
        text = text[:37] + "..."
    article = "an" if k[0] in "aeiou" else "a"
    return f"{article} {k} ({text})"


def format_value(value) -> str:
    """Mixpanel-ish display of a value (JSON for data, ISO for datetimes)."""
    import json

    if value is Undefined:
        return "undefined"
    if type(value) is datetime:
        return value.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%S")
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        try:
            return repr(value)
        except ValueError:  # an int beyond Python's 4300-digit str() limit
            return f"<a {type(value).__name__} too large to print>"


# ---------------------------------------------------------------------------------------------
# datetimes


def _whole(dt: datetime) -> datetime:
    return dt.replace(microsecond=0) if dt.microsecond else dt


def datetime_from_number(n):
    """``datetime(n)`` [S24]: ≤ 0 → undefined; ≤ 4294967295 → seconds; above → milliseconds."""
    if not is_number(n) or not n > 0:
        return Undefined
    seconds = n if n <= MAX_SECONDS else n / 1000
    try:
        return _EPOCH + timedelta(seconds=math.floor(seconds))
    except OverflowError:
        return Undefined


def parse_datetime_text(text: str, tz):
    """A ``datetime("…")`` string → aware datetime (naive text read in ``tz``), or Undefined
    when it is not a date (mpql/_datetext.py decides, for the checker's D001 too)."""
    dt = parse_datetime_literal(text, tz)
    return Undefined if dt is None else dt


_fromisoformat = datetime.fromisoformat
_ISO_CACHE: dict = {}
_ISO_CACHE_MAX = 1 << 16
_NOT_A_DATE = object()


def _iso_property(value: str):
    """A property string that Mixpanel would have typed as a date (UTC [S13]), else itself.

    Exports repeat the same timestamps a lot (``$last_seen`` of one user on all their
    events), so results are memoised in a bounded dict (cleared when full)."""
    found = _ISO_CACHE.get(value)
    if found is not None:
        # Not the cached string itself: callers test `typed(v) is v`, and an equal string
        # may be a different object.
        return value if found is _NOT_A_DATE else found
    return iso_parse(value)


def iso_parse(value: str):
    """``_iso_property`` after a memo miss: parse, remember, return the datetime or the string.

    This is the cost of every distinct timestamp, so the two common shapes take no regex and
    no Python-level digit checks: the separators are tested at their fixed places (one
    slice), and the C parser validates the digits and the calendar (no 2024-02-30). With
    ASCII text, the length and the separators fixed, it accepts exactly the ISO_PROPERTY
    shapes (tests/test_evaluator_properties.py compares it with the regex); the hour is
    checked because newer Pythons read ``T24:00:00`` as the next midnight. Appending the
    offset is several times faster than ``.replace(tzinfo=…)`` on a naive result."""
    result = _NOT_A_DATE
    n = len(value)
    if n == 19:
        if value[4:17:3] == "--T::" and value[11:13] < "24" and value.isascii():
            try:
                result = _fromisoformat(value + "+00:00")
            except ValueError:
                pass
    elif n == 10:
        if value[4:8:3] == "--" and value.isascii():
            try:
                result = _fromisoformat(value + "T00:00:00+00:00")
            except ValueError:
                pass
    elif ISO_PROPERTY.match(value):
        try:
            dt = _fromisoformat(value if value[-1] == "Z" else value + "+00:00")
        except ValueError:
            pass
        else:
            result = dt.replace(microsecond=0) if dt.microsecond else dt
    if len(_ISO_CACHE) >= _ISO_CACHE_MAX:
        _ISO_CACHE.clear()
    _ISO_CACHE[value] = result
    return value if result is _NOT_A_DATE else result


def iso19_is_date(value: str) -> bool:
    """Whether a string already known to be 19 characters with ``-``, ``-``, ``T``, ``:``,
    ``:`` at places 4, 7, 10, 13, 16 is a real ``YYYY-MM-DDTHH:MM:SS`` date.

    Such strings order as their instants do, so the compiler compares them as text against a
    constant written the same way and needs only this answer — which costs one C parse of
    the naive text and no memo entry (the memo cannot help data whose timestamps are all
    distinct). Same acceptance as iso_parse (tests/test_evaluator_properties.py).

    Valid strings are remembered in VALID19 (bounded like the typing memo), so a repeated
    timestamp costs one dict lookup: the compiled code asks ``VALID19.get(v) or
    iso19_is_date(v)``."""
    if value[11:13] < "24" and value.isascii():
        try:
            _fromisoformat(value)
        except ValueError:
            return False
        if len(VALID19) >= _ISO_CACHE_MAX:
            VALID19.clear()
        VALID19[value] = True
        return True
    return False


VALID19: dict = {}


def clear_memos() -> None:
    """Forget every memoised date string (benchmarks use it to start cold)."""
    _ISO_CACHE.clear()
    VALID19.clear()


def _finite(x):
    # Mixpanel has no NaN or infinity; an overflowing result is not a number we can return.
    if type(x) is float and (x != x or x in (math.inf, -math.inf)):
        return Undefined
    return x


def _is_bool_like(value) -> bool:
    return type(value) is bool or isinstance(value, bool)


# ---------------------------------------------------------------------------------------------
# operations, with the Semantics choices bound


class Ops:
    """The operators, casts and functions of the language for one ``Semantics``."""

    def __init__(self, semantics: Semantics = DEFAULT) -> None:
        self.semantics = sem = semantics
        self.tz = sem.tz
        self._iso = sem.iso_strings_are_datetimes
        self._undef_eq = sem.undefined_equals_undefined
        self._ne_undef = sem.ne_with_undefined
        self._str_order = sem.string_ordering == "lexicographic"
        self._half_even = sem.round_half == "half-even"
        self._null_defined = sem.null_is_defined
        self._raise_logic = sem.logic_operand == "raise"
        self._raise_filter = sem.non_boolean_filter == "raise"
        self._any_singleton = sem.any_non_list == "singleton"
        self._string_null_default = sem.string_default == "undefined-or-null"

    # -- reading data -------------------------------------------------------------------------

    def typed(self, value):
        """A raw JSON value as Mixpanel types it (ISO strings become datetimes [S13])."""
        if self._iso and type(value) is str and len(value) >= 10 and value[4:5] == "-":
            return _iso_property(value)
        return value

    # -- equality -----------------------------------------------------------------------------

    def eq(self, a, b) -> bool:
        """``==``: always a boolean; different types → false [S1]."""
        if a is Undefined or b is Undefined:
            return self._undef_eq and a is b
        return _same(a, b)

    def ne(self, a, b):
        """``!=``: the negation of ``==`` (different types → true [S1])."""
        if (a is Undefined or b is Undefined) and self._ne_undef != True:  # noqa: E712
            return Undefined
        return not self.eq(a, b)

    # -- ordering -----------------------------------------------------------------------------

    def _ordered(self, a, b) -> bool:
        ta, tb = type(a), type(b)
        if (ta is int or ta is float) and (tb is int or tb is float):
            return True
        if ta is datetime and tb is datetime:
            return True
        return self._str_order and ta is str and tb is str

    def lt(self, a, b):
        return a < b if self._ordered(a, b) else Undefined

    def le(self, a, b):
        return a <= b if self._ordered(a, b) else Undefined

    def gt(self, a, b):
        return a > b if self._ordered(a, b) else Undefined

    def ge(self, a, b):
        return a >= b if self._ordered(a, b) else Undefined

    # -- in -----------------------------------------------------------------------------------

    def in_(self, a, b):
        """``a in b``: substring when both are strings [S1]; membership when ``b`` is a list
        (a list literal [S1 example] or a list property [S25]); otherwise undefined."""
        tb = type(b)
        if tb is str:
            return a in b if type(a) is str else Undefined
        if tb is list or tb is tuple:
            if a is Undefined:
                return Undefined
            for item in b:
                if _same(a, item):
                    return True
            return False
        return Undefined

    # -- arithmetic ---------------------------------------------------------------------------

    def add(self, a, b):
        ta, tb = type(a), type(b)
        if (ta is int or ta is float) and (tb is int or tb is float):
            return _finite(a + b)
        if ta is str and tb is str:
            return a + b
        return Undefined

    def sub(self, a, b):
        if is_number(a) and is_number(b):
            return _finite(a - b)
        return Undefined

    def mul(self, a, b):
        if is_number(a) and is_number(b):
            return _finite(a * b)
        return Undefined

    def div(self, a, b):
        if is_number(a) and is_number(b) and b != 0:
            try:
                return _finite(a / b)
            except OverflowError:  # huge int / small int
                return Undefined
        return Undefined

    def mod(self, a, b):
        """``%`` takes the sign of the dividend (C ``fmod``), not Python's ``%`` [S1]."""
        if is_number(a) and is_number(b) and b != 0:
            if type(a) is int and type(b) is int:
                r = abs(a) % abs(b)
                return -r if a < 0 else r
            try:
                return _finite(math.fmod(a, b))
            except (OverflowError, ValueError):
                return Undefined
        return Undefined

    def neg(self, a):
        return -a if is_number(a) else Undefined

    # -- logic --------------------------------------------------------------------------------

    def not_(self, a):
        """``not``: boolean → negation; undefined → true; anything else → undefined [S1]."""
        if a is True:
            return False
        if a is False or a is Undefined:
            return True
        return Undefined

    def truth(self, value, operator: str = "and", node=None) -> bool:
        """An ``and``/``or`` operand: booleans as they are, undefined as false [S1]; anything
        else is an error in Mixpanel (``Semantics.logic_operand``)."""
        if value is True:
            return True
        if value is False or value is Undefined:
            return False
        if self._raise_logic:
            raise _logic_error(value, operator, node)
        return False

    def selects(self, value, node=None) -> bool:
        """Whether a filter's final value selects the record."""
        if value is True:
            return True
        if value is False or value is Undefined:
            return False
        if self._raise_filter:
            raise _logic_error(value, "filter", node)
        return False

    # -- functions ----------------------------------------------------------------------------

    def defined(self, a) -> bool:
        if a is Undefined:
            return False
        return self._null_defined or a is not None

    def floor(self, a):
        return math.floor(a) if type(a) is int or type(a) is float else Undefined

    def ceil(self, a):
        return math.ceil(a) if type(a) is int or type(a) is float else Undefined

    def round(self, a):
        if not is_number(a):
            return Undefined
        if type(a) is int:
            return a
        if self._half_even:
            return round(a)
        return int(math.copysign(math.floor(abs(a) + 0.5), a))

    def has_prefix(self, a, b):
        if type(a) is str and type(b) is str:
            return a.startswith(b)
        return Undefined

    # -- casts (docs/mixpanel-reference.md §1.7) --------------------------------------------------------------------

    def to_string(self, a):
        t = type(a)
        if t is str:
            return a
        if t is bool:
            return "true" if a else "false"
        if t is int:
            try:
                return str(a)
            except ValueError:  # beyond Python's 4300-digit limit; as a double, infinite
                return Undefined
        if t is float:
            # UNCONFIRMED formatting: whole numbers print without ".0" (Mixpanel numbers are
            # doubles, so 1 and 1.0 are one value and must print alike).
            if a.is_integer() and abs(a) < 1e16:
                return str(int(a))
            return repr(a)
        if a is None:
            return None
        if t is datetime:
            return a.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return Undefined  # undefined, lists, objects (UNCONFIRMED for the last two)

    def string_or(self, a, default):
        """``string(x, default)``: ``string(x)``, or ``default`` where that is undefined (and
        null, per ``Semantics.string_default``). Mixpanel's hot-shard docs write
        ``string(properties["k"], "undefined")``."""
        value = self.to_string(a)
        if value is Undefined or (value is None and self._string_null_default):
            return default
        return value

    def any_items(self, value):
        """The elements ``any(X, value, …)`` tries, typed like property values, or None when
        the answer is undefined (``value`` undefined, or not a list: ``Semantics.any_non_list``)."""
        t = type(value)
        if t is list or t is tuple:
            typed = self.typed
            return [typed(item) for item in value]
        if value is Undefined or not self._any_singleton:
            return None
        return [self.typed(value)]

    def any_(self, items, test, node=None):
        """``any``: True when ``test(element)`` is true for some element (left to right,
        stopping at the first); an element whose condition is undefined does not count, and a
        non-boolean condition follows ``Semantics.logic_operand`` like an ``and`` operand."""
        elements = self.any_items(items)
        if elements is None:
            return Undefined
        truth = self.truth
        for element in elements:
            if truth(test(element), "any", node):
                return True
        return False

    def to_number(self, a):
        t = type(a)
        if t is int or t is float:
            return a
        if t is str:
            if _INT_TEXT.match(a):
                try:
                    return int(a)
                except ValueError:
                    # More digits than Python converts (4300): as Mixpanel's double it
                    # would be infinite, which is no number.
                    return Undefined
            if _NUMBER_TEXT.match(a):
                return _finite(float(a))
            return Undefined
        if t is bool:
            return 1 if a else 0
        if t is datetime:  # UNCONFIRMED: Unix seconds
            return int((a - _EPOCH).total_seconds())
        return Undefined  # null, undefined, lists, objects

    def to_boolean(self, a):
        """S13: "false", 0, null, undefined, "" and not set → false; any other value → true."""
        if a is True or a is False:
            return a
        if a is Undefined or a is None:
            return False
        t = type(a)
        if t is str:
            return a != "" and a != "false"
        if t is int or t is float:
            return a != 0
        return True

    def to_datetime(self, a, literal: bool = False):
        """``datetime(x)``: a datetime unchanged; a number by magnitude [S24]; a string parsed
        as ISO (in the project timezone when it is a literal [S24], UTC when it is data
        [S13]); anything else undefined."""
        t = type(a)
        if t is datetime:
            return a
        if t is int or t is float:
            return datetime_from_number(a)
        if t is str:
            return parse_datetime_text(a, self.tz if literal else _UTC)
        return Undefined

    def to_list(self, a):
        """``list(x)`` (Engage, undocumented): a list unchanged, anything else undefined."""
        t = type(a)
        if t is list:
            return a
        if t is tuple:
            return list(a)
        return Undefined


def _same(a, b) -> bool:
    """Mixpanel equality of two defined values: same type and same value."""
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is list or ta is tuple:
            return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
        if ta is dict:
            return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
        return a == b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a == b
    if (ta is list or ta is tuple) and (tb is list or tb is tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return False


def _logic_error(value, operator: str, node) -> EvaluationError:
    where = ""
    if node is not None:
        from ..language.printer import format_expr

        where = f" `{format_expr(node)}`"
    if operator == "filter":
        message = (
            f"the filter{where} evaluated to {describe(value)}, not a boolean; "
            "compare it explicitly (e.g. `… == \"value\"`) or wrap it in boolean(…)"
        )
    elif operator == "any":
        message = (
            f"the condition of any(...){where} evaluated to {describe(value)} for an element, "
            "not a boolean (Mixpanel rejects the query, as for `and`/`or` operands); compare "
            "the variable explicitly (e.g. `X == \"value\"`)"
        )
    else:
        message = (
            f"`{operator}` needs boolean operands (Mixpanel rejects the query), but{where} is "
            f"{describe(value)}; compare it explicitly (e.g. `… == \"value\"`), test it with "
            "defined(…), or wrap it in boolean(…)"
        )
    return EvaluationError(message, node=node, value=value)

"""One date recogniser (mpql/_datetext.py) for the checker and the evaluator.

The property: for any string s, the checker reports D001 as an *error* on ``datetime(s)``
exactly when the evaluator's ``datetime(s)`` is undefined — the linter never calls a working
literal broken, and never lets a broken one through. Likewise, a property value is typed
``datetime`` by schema inference exactly when the evaluator types it as a date.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

import mpql
from mpql.checker import types as T
from mpql.checker.schema import value_type
from mpql.repl.catalog import value_type as catalog_type
from mpql.evaluator.values import Ops, iso_parse
from mpql.language.printer import quote

_digits = st.integers(0, 99).map(str)
_two = st.integers(0, 99).map(lambda n: f"{n:02d}")

# Near-dates reach every branch of the recogniser far more often than random text does.
near_dates = st.builds(
    lambda y, sep1, m, sep2, d, time, frac, offset, pad: pad + f"{y}{sep1}{m}{sep2}{d}"
    + time + frac + offset + pad,
    st.sampled_from(["2024", "1970", "0001", "9999", "24", "20245"]),
    st.sampled_from(["-", "/", "."]),
    st.one_of(_digits, _two, st.just("13")),
    st.sampled_from(["-", "/"]),
    st.one_of(_digits, _two, st.sampled_from(["29", "30", "31"])),
    st.one_of(st.just(""), st.builds(lambda sep, h, mi, s: f"{sep}{h}:{mi}{s}",
                                     st.sampled_from(["T", " ", "t", "  "]),
                                     st.one_of(_digits, _two, st.just("24")),
                                     _two, st.sampled_from(["", ":00", ":59", ":60", ":5"]))),
    st.sampled_from(["", ".5", ".123456789", ".1234567890", "."]),
    st.sampled_from(["", "Z", "+01:00", "-0530", "+99:00", "+2400", "z", "+1"]),
    st.sampled_from(["", " ", "\t", "\n"]),
)
any_text = st.one_of(near_dates, st.text(max_size=25))


def _d001_error(text: str) -> bool:
    found = mpql.check(f"datetime({quote(text)}) == datetime(\"2024-01-01\")")
    return any(d.code == "D001" and d.severity == "error" for d in found)


def _undefined(text: str) -> bool:
    value = mpql.evaluate(f"datetime({quote(text)})", {"event": "e", "properties": {}})
    return value is mpql.Undefined


@given(any_text)
@example("2014-09-9")             # one-digit day: Mixpanel accepted it in 2014
@example(" 2024-01-01 ")          # surrounding space: both trim it
@example("2024-01-01T10:00+99:00")  # an impossible offset: undefined, never a crash
@example("2024-02-30")
@example("2024-01-01T24:00:00")
def test_d001_error_iff_the_evaluator_gives_undefined(text):
    assert _d001_error(text) == _undefined(text), text


@given(st.one_of(near_dates, st.text(max_size=25)))
@example("2024-01-01 10:00")      # a space and no seconds: a string in data, not a date
@example("2024-01-01T10:00:00+01:00")
@example("2024-02-30")
def test_schema_inference_types_dates_as_the_evaluator_does(text):
    evaluator_says_date = iso_parse(text) is not text
    assert (value_type(text) == T.DATETIME) == evaluator_says_date, text
    assert (catalog_type(text) == "datetime") == evaluator_says_date, text


def test_to_datetime_never_raises_on_an_impossible_offset():
    assert Ops().to_datetime("2024-01-01T00:00+99:00", literal=True) is mpql.Undefined

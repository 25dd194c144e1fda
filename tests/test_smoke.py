"""First checks of the language core; the golden corpus and property tests go further."""

import pytest

import mpql
from mpql.language import ast as A


def test_parse_and_print_roundtrip():
    text = 'properties["a"] == 1 and not defined(user["x"]) or -5 < -(3) * NOW'
    node = mpql.parse(text)
    assert mpql.format(node) == text
    assert mpql.parse(mpql.format(node, style="wire")) == node


def test_span_not_part_of_equality():
    assert mpql.parse('  properties["a"]') == A.Property("properties", "a")
    assert mpql.parse('  properties["a"]').span == A.Span(2, 17)


@pytest.mark.parametrize("text,code", [
    ('properties["a"] === 1', "E101"),
    ('zone == "x"', "E108"),
    ('(properties["a"] == 1', "E105"),
    ('properties["a"] ==', "E106"),
    ("", "E107"),
])
def test_common_mistakes_have_codes(text, code):
    with pytest.raises(mpql.ParseError) as info:
        mpql.parse(text)
    assert info.value.code == code
    assert isinstance(info.value, mpql.MpqlError)

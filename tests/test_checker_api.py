"""`mpql.check` as a Python user calls it: builder terms, schema paths and selector strings
(each found in review: they raised TypeError/ValueError or read "S001" as S, 0, 0, 1)."""

from __future__ import annotations

import pytest

import mpql


def test_check_accepts_a_builder_term():
    codes = [d.code for d in mpql.check(mpql.prop("distinct_id") == 1, endpoint="export")]
    assert codes == ["S001", "T001"]


def test_select_and_ignore_take_one_comma_separated_string():
    text = 'properties["distinct_id"] == 1'
    assert [d.code for d in mpql.check(text, endpoint="export", select="S001")] == ["S001"]
    assert mpql.check(text, endpoint="export", ignore="S001, T") == []
    with pytest.raises(ValueError, match="unknown rule selector `ZZZ`"):
        mpql.check(text, select="ZZZ")


def test_schema_may_be_a_path(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text('{"event": {"plan": "string"}}', encoding="utf-8")
    for schema in (str(path), path):
        found = mpql.check('properties["plna"] == "x"', endpoint="export", schema=schema)
        assert [d.code for d in found] == ["S007"]
    with pytest.raises(mpql.errors.ConfigError, match="no such file"):
        mpql.check("true", schema=str(tmp_path / "missing.json"))


def test_other_inputs_are_a_type_error_naming_what_is_accepted():
    with pytest.raises(TypeError, match="expression string, an mpql Expr or a builder term"):
        mpql.check(b'properties["a"] == 1')

"""The golden corpus in tests/golden/ (format and regeneration: tests/golden/regen.py).

* identity.mpql — canonical expressions: pretty-printing the parse gives the text back, and
  the wire form parses to the same tree.
* normalize.test / wire.test — input → expected pretty / wire text.
* errors.test — input → the exact rendered diagnostic (and fix).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import mpql
from mpql.diagnostics import apply_edits

GOLDEN = Path(__file__).parent / "golden"
_spec = importlib.util.spec_from_file_location("mpql_golden", GOLDEN / "regen.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

IDENTITY = golden.read_identity()
NORMALIZE = golden.read_pairs(GOLDEN / "normalize.test")
WIRE = golden.read_pairs(GOLDEN / "wire.test")
ERRORS = golden.read_errors()


def _ids(cases):
    return [f"line{case[0]}" for case in cases]


def test_corpus_sizes():
    """The issue's bar: at least 150 canonical expressions and 40 error cases."""
    assert len(IDENTITY) >= 150
    assert len(ERRORS) >= 40
    assert len({text for _, text in IDENTITY}) == len(IDENTITY), "duplicate identity cases"


@pytest.mark.parametrize("number,text", IDENTITY, ids=_ids(IDENTITY))
def test_identity(number, text):
    node = mpql.parse(text)

    assert mpql.format(node) == text
    assert mpql.parse(mpql.format(node, style="wire")) == node
    assert mpql.format(mpql.format(node, style="wire")) == text


@pytest.mark.parametrize("number,text,expected", NORMALIZE, ids=_ids(NORMALIZE))
def test_normalize(number, text, expected):
    assert mpql.format(text) == expected
    assert mpql.format(expected) == expected  # the canonical form is a fixed point


@pytest.mark.parametrize("number,text,expected", WIRE, ids=_ids(WIRE))
def test_wire(number, text, expected):
    wire = mpql.format(text, style="wire")

    assert wire == expected
    assert mpql.format(wire, style="wire") == wire
    assert mpql.parse(wire) == mpql.parse(text)


@pytest.mark.parametrize("number,text,expected", ERRORS, ids=_ids(ERRORS))
def test_error(number, text, expected):
    assert golden.render_error(text) == expected

    with pytest.raises(mpql.ParseError) as info:
        mpql.parse(text)
    d = info.value.diagnostic
    assert 0 <= d.span.start <= d.span.end <= len(text)
    assert d.code in mpql.language.parser.SYNTAX_CODES
    assert d.help, "every syntax error explains how to fix it"
    if d.fix is not None and d.fix.applicability == "safe":
        # A safe fix must at least get past this error (it may reveal the next one).
        fixed = apply_edits(text, d.fix.edits)
        try:
            mpql.parse(fixed)
        except mpql.ParseError as exc:
            assert (exc.code, exc.diagnostic.span) != (d.code, d.span)


def test_language_doc_catalogue_is_current_and_complete():
    """docs/language.md shows one rendered example per syntax code, exactly as mpql prints it
    today (regenerate with python tests/golden/regen.py)."""
    from mpql.language.parser import SYNTAX_CODES

    examples = golden.catalogue_examples(golden.LANGUAGE_DOC.read_text(encoding="utf-8"))
    assert [code for code, _, _ in examples] == list(SYNTAX_CODES)
    for code, text, block in examples:
        with pytest.raises(mpql.ParseError) as info:
            mpql.parse(text)
        assert info.value.code == code, text
        assert info.value.diagnostic.render() == block

"""The generated-tables parser (mpql.language._fast) against lark's own parser.

``mpql.parse`` runs lark's LALR tables, generated into mpql/language/_tables.py, with a small
driver (no lark import); invalid text falls back to lark for the E1xx explanation. These tests
hold the two to the same results: identical trees, or identical diagnostics (code, message,
span, help, fix), on the golden corpus and on random text; and the checked-in tables must be
what the grammar generates today.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mpql.errors import ParseError
from mpql.language import ast as A
from mpql.language import _fast, tablegen
from mpql.language.parser import parse, parse_lark

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
_spec = importlib.util.spec_from_file_location("mpql_golden_fast", GOLDEN / "regen.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)



def _outcome(fn, text):
    """What a parser makes of ``text``: ("ok", tree, every node's span) — trees compare
    without spans, and the checker's findings point at them — or ("error", every diagnostic
    field)."""
    try:
        tree = fn(text)
        return ("ok", tree, [(type(n).__name__, n.span) for n in A.walk(tree)])
    except ParseError as exc:
        d = exc.diagnostic
        return ("error", d.code, d.message, d.span, d.help, d.fix)


def _corpus() -> list[str]:
    texts = [line for _, line in golden.read_identity()]
    for path in ("normalize.test", "wire.test"):
        texts += [src for _, src, _ in golden.read_pairs(GOLDEN / path)]
    texts += [src for _, src, _ in golden.read_errors()]
    return texts


CORPUS = _corpus()


def test_the_corpus_is_not_empty():
    assert len(CORPUS) > 300


@pytest.mark.parametrize("text", CORPUS, ids=range(len(CORPUS)))
def test_golden_corpus_same_as_lark(text):
    assert _outcome(parse, text) == _outcome(parse_lark, text)


def test_valid_text_never_reaches_lark(monkeypatch):
    """The happy path runs the generated tables: valid expressions parse without the lark
    fallback (made to fail here)."""
    from mpql.language import parser as P

    def no_lark(text):
        raise AssertionError(f"fell back to lark for {text!r}")

    monkeypatch.setattr(P, "parse_lark", no_lark)
    for _, text in golden.read_identity():
        parse(text)


def test_invalid_text_is_a_mismatch_for_the_fast_parser():
    run = _fast.make_parser(__import__("mpql.language.parser", fromlist=["_ToAst"])._ToAst())
    for text in ["", "1 ==", "properties[\"a\"] === 1", "(1", "1 2", "&&"]:
        with pytest.raises(_fast.Mismatch):
            run(text)


# Fragments that reach deep into the grammar far more often than random characters do.
TOKENS = [
    "properties", "user", "event", "[", "]", "(", ")", ",", '"a"', '"', "'", "'b'", '"\\u00e9"',
    '"\\q"', "==", "!=", "=", ">", ">=", "<", "<=", "<>", "=>", "===", "+", "-", "*", "/", "%",
    "and", "or", "not", "in", "AND", "Or", "true", "false", "NOW", "null", "defined", "any",
    "any(X, ", "X", "X=", "string(", ', "d")', "floor", "1", "-5", "1.5", "1e3", "1e999", ".",
    "#c\n", " ", "\n", "&&", "!", "%22", ";", "\x00", "é", "$x", "notable", "order",
]
token_soup = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)


@given(st.one_of(token_soup, st.text(max_size=60)))
def test_random_text_same_as_lark(text):
    assert _outcome(parse, text) == _outcome(parse_lark, text)


@given(st.lists(st.sampled_from(['properties["a"]', "1", '"s"', "true", "X", "[1, 2]",
                                 'defined(user["b"])']), min_size=1, max_size=8),
       st.lists(st.sampled_from([" and ", " or ", " == ", " = ", " + ", " in ", " * ",
                                 " - ", " < "]), min_size=7, max_size=7),
       st.booleans())
def test_operator_chains_same_as_lark(operands, ops, wrap):
    text = operands[0]
    for op, operand in zip(ops, operands[1:]):
        text += op + operand
    if wrap:
        text = f'any(X, properties["l"], {text})'
    assert _outcome(parse, text) == _outcome(parse_lark, text)


def test_checked_in_tables_match_the_grammar():
    with open(tablegen.tables_path(), encoding="utf-8") as f:
        assert f.read() == tablegen.generate(), (
            "mpql/language/_tables.py is stale: run python -m mpql.language.tablegen")


def test_generation_does_not_depend_on_string_hashing():
    """lark's state numbering follows Python's (randomised) string hashing; the generator
    renumbers canonically, so another hash seed writes the same file."""
    env = dict(os.environ, PYTHONHASHSEED="12345")
    result = subprocess.run([sys.executable, "-m", "mpql.language.tablegen", "--check"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_parse_does_not_import_lark():
    code = ("import sys, mpql; mpql.parse('properties[\"a\"] == 1 and any(X, [1], X > 0)'); "
            "print('lark' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_lint_expression_does_not_import_lark():
    code = ("import sys, runpy; sys.argv = ['mpql', 'lint', '-e', 'properties[\"a\"] == 1']\n"
            "try:\n    runpy.run_module('mpql', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('LARK', 'lark' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert "LARK False" in out.stdout, out.stdout + out.stderr


@pytest.mark.parametrize("n", [40, 99, 100, 101, 140])
@pytest.mark.parametrize("opener,closer", [("(", ")"), ("not ", ""), ("-", ""), ("[", "]"),
                                           ("floor(", ")")])
def test_nesting_limit_same_as_lark(n, opener, closer):
    """The depth check is skipped for texts of at most MAX_DEPTH tokens (every node owns a
    token): around the limit both parsers must still agree, E121 included."""
    text = opener * n + "1" + closer * n
    assert _outcome(parse, text) == _outcome(parse_lark, text)

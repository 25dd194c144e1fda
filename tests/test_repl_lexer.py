"""The Pygments lexers: token kinds for every construct, agreement with the language core,
and never a failure on arbitrary input (it highlights half-typed text)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.token import Comment, Error, Generic, Keyword, Name, Number, Operator, Punctuation, String

from mpql.language import ast as A
from mpql.language.parser import FUNCTIONS
from mpql.repl import lexer as L


def kinds(text, lexer=L.MpqlLexer):
    return [(tok, val) for tok, val in lexer().get_tokens(text) if val.strip()]


def test_lexer_tables_match_the_language_core():
    assert set(L.ACCESSORS) == set(A.SCOPES)
    assert set(L.FUNCTIONS) == set(FUNCTIONS)


def test_every_construct_gets_its_token_kind():
    got = kinds('not defined(user["a\\n"]) AND properties["n"] >= -1.5e3 or NOW in [true] # c')
    P = Punctuation
    assert got == [
        (Keyword, "not"), (Name.Function, "defined"), (P, "("), (Name.Builtin, "user"),
        (P, "["), (String.Double, '"'), (String.Double, "a"), (String.Escape, "\\n"),
        (String.Double, '"'), (P, "]"), (P, ")"), (Keyword, "AND"),
        (Name.Builtin, "properties"), (P, "["), (String.Double, '"'), (String.Double, "n"),
        (String.Double, '"'), (P, "]"), (Operator, ">="), (Operator, "-"), (Number, "1.5e3"),
        (Keyword, "or"), (Keyword.Constant, "NOW"), (Keyword, "in"), (P, "["),
        (Keyword.Constant, "true"), (P, "]"), (Comment.Single, "# c"),
    ]


def test_names_are_only_accessors_or_functions_in_position():
    # `string` is a function only when called; a word before `[` that is not an accessor is a
    # plain name (the parser reports it), and keywords inside words stay names.
    assert kinds("string(x)")[0] == (Name.Function, "string")
    assert kinds("string")[0] == (Name, "string")
    assert kinds('props["a"]')[0] == (Name, "props")
    assert kinds("notable")[0] == (Name, "notable")


def test_bad_escapes_and_stray_characters_are_errors_not_crashes():
    assert (Error, "\\q") in kinds('"a\\qb"')
    assert (Error, "@") in kinds("1 @ 2")
    # An unterminated string ends at the newline; the next line lexes normally.
    assert kinds('"abc\nand')[-1] == (Keyword, "and")


def test_repl_lexer_marks_commands():
    assert kinds(":load events.jsonl", L.MpqlReplLexer)[0] == (Generic.Prompt, ":load")
    assert kinds('properties["a"]', L.MpqlReplLexer)[0] == (Name.Builtin, "properties")


def test_registered_for_pygments_by_name():
    from pygments.lexers import get_lexer_by_name

    assert isinstance(get_lexer_by_name("mpql"), L.MpqlLexer)


@settings(deadline=None)
@given(st.text(max_size=60))
def test_property_lexing_any_text_round_trips(text):
    # Highlighting must never lose or invent characters (Pygments itself only normalises
    # line endings).
    lexer = L.MpqlReplLexer(stripnl=False, ensurenl=False)
    out = "".join(v for _, v in lexer.get_tokens(text))
    assert out == text.replace("\r\n", "\n").replace("\r", "\n")


def test_any_binds_a_variable_and_single_equals_is_an_operator():
    got = kinds('any(X, properties["k"], X="v")')
    assert got[:4] == [(Name.Function, "any"), (Punctuation, "("), (Name.Variable, "X"),
                       (Punctuation, ",")]
    assert (Operator, "=") in got and (Error, "=") not in got
    assert kinds('string(properties["k"], "u")')[0] == (Name.Function, "string")

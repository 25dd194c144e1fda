"""Pygments lexers for mpql: the expression language, and the REPL's input (expressions plus
``:commands``).

``MpqlLexer`` is registered as the Pygments lexer ``mpql`` (entry point ``pygments.lexers`` in
pyproject.toml), so Markdown and Sphinx docs can highlight fenced ``mpql`` blocks; the REPL uses
it through prompt_toolkit's ``PygmentsLexer``. It is a highlighter, not a validator: anything
the grammar would reject is still coloured as well as it can be (an unknown character is an
``Error`` token), because the user is usually in the middle of typing it.

This module imports Pygments only (no prompt_toolkit), and nothing else in mpql imports it
eagerly.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import (
    Comment, Error, Generic, Keyword, Name, Number, Operator, Punctuation, String, Text,
    Whitespace,
)

__all__ = ["MpqlLexer", "MpqlReplLexer"]

# Kept literal (not imported from the parser) so that highlighting docs does not load lark;
# tests/test_repl_lexer.py checks these against mpql.language.parser.FUNCTIONS and ast.SCOPES.
ACCESSORS = ("properties", "user", "event", "behaviors")
FUNCTIONS = ("defined", "boolean", "number", "string", "datetime", "list", "floor", "round",
             "ceil", "has_prefix", "any")


class MpqlLexer(RegexLexer):
    """Mixpanel segmentation expressions, as grammar/mpql.lark reads them."""

    name = "mpql"
    aliases = ["mpql", "mixpanel-expression"]
    filenames = ["*.mpql"]
    mimetypes = ["text/x-mpql"]

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            include("strings"),
            (r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", Number),
            (words(("and", "or", "not", "in"), prefix=r"(?i)", suffix=r"\b"), Keyword),
            (words(("true", "false"), prefix=r"(?i)", suffix=r"\b"), Keyword.Constant),
            (r"(?i)now\b", Keyword.Constant),
            (words(ACCESSORS, suffix=r"\b(?=\s*\[)"), Name.Builtin),
            # any(X, …): the variable it binds
            (r"(any)(\s*)(\()(\s*)([A-Za-z_$][A-Za-z0-9_$]*)(?=\s*,)",
             bygroups(Name.Function, Whitespace, Punctuation, Whitespace, Name.Variable)),
            (words(FUNCTIONS, suffix=r"\b(?=\s*\()"), Name.Function),
            (r"[A-Za-z_][A-Za-z0-9_$]*", Name),
            (r"==|!=|>=|<=|[<>+\-*/%=]", Operator),  # `=`: equality, as Mixpanel's docs write it
            (r"[()\[\],]", Punctuation),
            (r".", Error),
        ],
        "strings": [
            (r'"', String.Double, "dqs"),
            (r"'", String.Single, "sqs"),
        ],
        # Strings never span lines in the grammar; an unterminated one ends at the newline so
        # that the next line is highlighted normally.
        "dqs": [
            (r'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})', String.Escape),
            (r"\\.", Error),
            (r'[^"\\\n]+', String.Double),
            (r'"', String.Double, "#pop"),
            (r"\n", Text, "#pop"),
        ],
        "sqs": [
            (r"\\(?:['\\/bfnrt]|u[0-9a-fA-F]{4})", String.Escape),
            (r"\\.", Error),
            (r"[^'\\\n]+", String.Single),
            (r"'", String.Single, "#pop"),
            (r"\n", Text, "#pop"),
        ],
    }


class MpqlReplLexer(MpqlLexer):
    """What is typed at the ``mpql>`` prompt: an expression, or a ``:command`` line."""

    name = "mpql-repl"
    aliases = ["mpql-repl"]
    filenames = []
    mimetypes = []

    tokens = {
        **MpqlLexer.tokens,
        "root": [
            (r"^(\s*)(:[A-Za-z?]+)([^\n]*)", bygroups(Whitespace, Generic.Prompt, Text)),
            *MpqlLexer.tokens["root"],
        ],
    }

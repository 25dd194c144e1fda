"""Text → AST: the lark LALR parser for grammar/mpql.lark, and the friendly syntax errors.

The grammar is loaded once per process, lazily, and lark's table cache (in a private
directory, see ``cache_path``) keeps start-up short.
The tree converter runs *inside* the LALR parser (lark's "tree-less" mode): each rule's
callback receives its children and returns an AST node at once, so no intermediate parse tree
is built. Spans come from the tokens: every bracket and comma is a named terminal and stays in
the children, so a node's span runs from its first token to its last.

Anything that goes wrong becomes a ``ParseError`` carrying a ``Diagnostic`` with a stable code
(E1xx, catalogued in ``SYNTAX_CODES`` and docs/language.md), the span, and a ``help`` line and
fix where the mistake is a common one (``=`` for ``==``, ``&&``, an unquoted property name …).
"""

from __future__ import annotations

import os
import re
from _thread import _local as _thread_local
from _thread import allocate_lock
from typing import TYPE_CHECKING

from ..errors import ArgumentTypeError, ParseError
from . import ast as A
from .ast import Span
from .printer import quote
from .source import string_end

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from ..diagnostics import Diagnostic

# Start-up matters (every `mpql` command parses): diagnostics, difflib, pathlib and lark's
# exception classes are imported when first needed, not with this module.


def Fix(*args, **kwargs):  # noqa: N802 - stands in for mpql.diagnostics.Fix
    from ..diagnostics import Fix

    return Fix(*args, **kwargs)


def Edit(*args, **kwargs):  # noqa: N802 - stands in for mpql.diagnostics.Edit
    from ..diagnostics import Edit

    return Edit(*args, **kwargs)

__all__ = ["parse", "FUNCTIONS", "SYNTAX_CODES", "MAX_DEPTH", "grammar_path", "get_parser"]

#: Function name → (min args, max args).
FUNCTIONS: dict[str, tuple[int, int]] = {
    "defined": (1, 1),
    "boolean": (1, 1),
    "number": (1, 1),
    # string(x, default): Mixpanel's hot-shard docs (docs/language.md, "Mixpanel's own spellings")
    "string": (1, 2),
    "datetime": (1, 1),
    "list": (1, 1),
    "floor": (1, 1),
    "round": (1, 1),
    "ceil": (1, 1),
    "has_prefix": (2, 2),
    # any(VAR, LIST, CONDITION) builds an ``Any`` node, not a ``Call`` (see _ToAst.call)
    "any": (3, 3),
}

#: Lower-cased words that read as something other than a name wherever a value can stand
#: (keywords, and the null spellings E113 explains), so they cannot name an ``any`` variable.
RESERVED_WORDS = frozenset(("and", "or", "not", "in", "true", "false", "now",
                            "null", "none", "nil", "undefined"))

#: Names that look like functions but are not part of the public language.
UNSUPPORTED_FUNCTIONS = {
    "contains": "there is no `contains` function: write `\"text\" in properties[\"x\"]`",
    "len": "there is no length function in Mixpanel's expression language",
    "lower": "there is no case-conversion function in Mixpanel's expression language",
    "upper": "there is no case-conversion function in Mixpanel's expression language",
}

SYNTAX_CODES = {
    "E100": "syntax-error",
    "E101": "assignment-for-comparison",
    "E102": "c-style-operator",
    "E104": "unterminated-string",
    "E105": "unbalanced-bracket",
    "E106": "unexpected-end",
    "E107": "empty-expression",
    "E108": "bare-name",
    "E109": "unknown-accessor",
    "E110": "unknown-function",
    "E111": "wrong-argument-count",
    "E112": "not-an-operator",
    "E113": "null-literal",
    "E114": "url-encoded",
    "E115": "chained-comparison",
    "E116": "invalid-escape",
    "E117": "invalid-number",
    "E118": "unexpected-character",
    "E119": "not-in",
    "E120": "unsupported-syntax",
    "E121": "too-deeply-nested",
    "E122": "misspelled-operator",
    "E123": "unquoted-property-name",
    "E124": "call-without-parentheses",
    "E125": "misplaced-keyword",
    "E126": "variable-scope",
}

#: Deepest nesting the parser accepts (CEL requires at least 12; 100 is far beyond any real
#: filter). A chain of one operator (``a or b or c …``) counts as one level however long it
#: is, so long generated disjunctions are fine. Recursive consumers of the tree (printer,
#: checker, evaluator) can rely on this bound.
MAX_DEPTH = 100

_KEYWORDS = ("and", "or", "not", "in", "true", "false", "now")

#: How each terminal reads in "expected …" messages.
TERMINAL_DESCRIPTIONS = {
    "OR": "`or`",
    "AND": "`and`",
    "NOT": "`not`",
    "IN": "`in`",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "NOW": "`NOW`",
    "CMP_OP": "a comparison (`==`, `!=`, `<`, …)",
    "EQ": "`=`",
    "ADD_OP": "`+`",
    "MINUS": "`-`",
    "MUL_OP": "`*`, `/` or `%`",
    "STRING": "a string",
    "NUMBER": "a number",
    "NAME": "a property or function",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "COMMA": "`,`",
    "$END": "end of expression",
}

_VALUE_TERMINALS = {"STRING", "NUMBER", "NAME", "TRUE", "FALSE", "NOW", "LPAR", "LSQB"}

_lock = allocate_lock()
_parser = None
_run = None  # the bound LALR entry point: text -> tree, set up by get_parser()
_UnexpectedInput = _VisitError = None  # lark's exception classes, once lark is imported


def grammar_path() -> "Path":
    """The grammar file: inside the installed package, or grammar/ in a source checkout."""
    from pathlib import Path

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    packaged = os.path.join(here, "grammar", "mpql.lark")
    if os.path.isfile(packaged):
        return Path(packaged)
    return Path(os.path.dirname(here), "grammar", "mpql.lark")


def get_parser():
    """The process-wide lark parser, built on first use."""
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                _parser = _build_parser()
    return _parser


def _build_parser():
    global _run, _UnexpectedInput, _VisitError
    from lark import Lark
    from lark.exceptions import UnexpectedInput, VisitError

    with open(grammar_path(), encoding="utf-8") as f:
        text = f.read()
    options = dict(
        parser="lalr",
        lexer="contextual",
        transformer=_ToAst(),
        maybe_placeholders=True,
    )
    cache = cache_path(text, options)
    try:
        parser = Lark(text, cache=cache, **options)
    except (OSError, EOFError, ValueError):  # an unreadable or corrupt cache file
        parser = Lark(text, **options)
    _share_rule_keys(parser)
    _UnexpectedInput, _VisitError = UnexpectedInput, VisitError
    _run = _direct_entry(parser) or parser.parse
    return parser


def cache_dir() -> str:
    """Where lark's parse tables are cached: ``$MPQL_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/mpql``, else ``~/.cache/mpql`` (the sandbox caches its data there too)."""
    env = os.environ.get("MPQL_CACHE_DIR")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mpql")


def cache_path(grammar: str, options: dict):
    """The file lark caches the parser in, or ``False`` (no cache) when there is no private
    place for it.

    Not lark's ``cache=True``: that puts a predictable file in the shared temp directory and
    lark unpickles it, so another local user could plant one and run code as whoever runs
    mpql (lark-parser/lark#1628). The cache directory must be ours and not world-writable.
    The name carries a digest of everything the tables depend on, so a new grammar or lark
    version gets a new file instead of rebuilding on every run.
    """
    import hashlib
    import sys

    import lark

    directory = cache_dir()
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        st = os.stat(directory)
    except OSError:
        return False
    getuid = getattr(os, "getuid", None)
    if getuid is not None and (st.st_uid != getuid() or st.st_mode & 0o002):
        return False
    settings = sorted((k, v) for k, v in options.items() if k != "transformer")
    key = hashlib.sha256(f"{grammar}\0{lark.__version__}\0{settings}".encode()).hexdigest()
    python = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return os.path.join(directory, f"lark-{key[:24]}-{python}.cache")


def _direct_entry(parser):
    """``text -> tree`` straight into lark's LALR loop, skipping three layers of generic
    dispatch (start-symbol checks, on_error plumbing) that cost ~5% of a short parse.
    Falls back to ``Lark.parse`` when lark's internals differ."""
    try:
        frontend = parser.parser
        lalr = frontend.parser.parser
        make_lexer = frontend._make_lexer_thread
        start = frontend._verify_start(None)
    except (AttributeError, TypeError):  # pragma: no cover - other lark versions
        return None
    lalr_parse = lalr.parse

    def run(text):
        return lalr_parse(make_lexer(text), start)

    return run


def _share_rule_keys(parser) -> None:
    """Key the reduction callbacks by the very Rule objects the parse table holds.

    After loading from lark's cache the table and the callback dict hold equal but distinct
    Rule objects, so every reduction pays a Python-level ``Rule.__eq__`` in the dict lookup.
    With identical keys the lookup stops at the identity check (a few percent of parse time).
    Best effort: if lark's internals differ, nothing changes.
    """
    try:
        conf = parser.parser.parser.parser.parse_table
        callbacks = parser.parser.parser.parser.callbacks
    except AttributeError:  # pragma: no cover - other lark versions
        return
    for actions in conf.states.values():
        for _action, arg in actions.values():
            if not isinstance(arg, int) and arg in callbacks:
                callbacks[arg] = callbacks.pop(arg)


def parse(text: str) -> A.Expr:
    """Parse one expression. Raises ``ParseError`` (an ``MpqlError``) on any invalid input."""
    if type(text) is not str and not isinstance(text, str):
        raise ArgumentTypeError(f"mpql.parse() takes a str, got {type(text).__name__}")
    run = _fast_run or _fast_entry()
    try:
        return _parse_with(run, text)
    except _Mismatch:
        # Not in the language: lark's parser finds the same error and its exceptions carry
        # what the E1xx explanations need (expected terminals, interactive replay).
        return parse_lark(text)


def parse_lark(text: str) -> A.Expr:
    """``parse`` through lark's own parser (the error path, and the reference the fast
    parser is tested against)."""
    if type(text) is not str and not isinstance(text, str):
        raise ArgumentTypeError(f"mpql.parse() takes a str, got {type(text).__name__}")
    if _run is None:
        get_parser()
    return _parse_with(_lark_run, text)


def _lark_run(text):
    return _run(text), None  # the token count is not known (see _parse_with)


_fast_run = None
_Mismatch = None


def _fast_entry():
    """The generated-tables parser (mpql.language._fast), built on first use."""
    global _fast_run, _Mismatch
    from . import _fast

    _Mismatch = _fast.Mismatch
    _fast_run = _fast.make_parser(_ToAst())
    return _fast_run


def _parse_with(run, text: str) -> A.Expr:
    any_possible = _state.any_possible = "any" in text and re.search(_ANY_CALL, text) is not None
    try:
        node, tokens = run(text)
        node = _u(node)
        if any_possible:
            error = _scope_error(node)
            if error is not None:
                raise error
    except _ConvertError as exc:
        raise ParseError(_url_encoded(text) or _diag(text, *exc.args)) from None
    except RecursionError:  # pragma: no cover - the LALR parser is iterative; belt and braces
        raise ParseError(
            _diag(
                text, "E121", "expression is nested too deeply to parse",
                Span(0, len(text)), "split it into smaller expressions",
            )
        ) from None
    except Exception as exc:
        if _Mismatch is not None and isinstance(exc, _Mismatch):
            raise
        if _VisitError is not None and isinstance(exc, _VisitError) \
                and isinstance(exc.orig_exc, _ConvertError):
            raise ParseError(  # pragma: no cover - lark passes our exception through
                _url_encoded(text) or _diag(text, *exc.orig_exc.args)) from None
        if _UnexpectedInput is not None and isinstance(exc, _UnexpectedInput):
            raise ParseError(_explain(text, exc)) from None
        raise
    # Each nesting level needs at least one character and one token of its own (every node
    # owns a token), so short texts and texts of few tokens cannot be too deep.
    if len(text) > MAX_DEPTH and (tokens is None or tokens > MAX_DEPTH):
        deep = _too_deep(node)
        if deep is not None:
            raise ParseError(_diag(
                text, "E121", f"expression is nested more than {MAX_DEPTH} levels deep",
                deep.span or Span(0, len(text)),
                "flatten it: chains like `a or b or c` do not count as nesting; "
                "parentheses around a single value can simply be removed",
            ))
    return node


def _chain_kind(node):
    if isinstance(node, (A.And, A.Or)):
        return type(node)
    if isinstance(node, A.Arith):
        return "+" if node.op in "+-" else "*"
    return None


def _too_deep(root: A.Expr):
    """The first node nested deeper than MAX_DEPTH, or None. Iterative; a left operand that
    continues the same operator chain stays at its parent's level."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        kind = _chain_kind(node)
        for child in A.children(node):
            same = kind is not None and child is getattr(node, "left", None) \
                and _chain_kind(child) == kind
            stack.append((child, depth if same else depth + 1))
    return None


# ---------------------------------------------------------------------------------------------
# Tree conversion (runs inside the LALR parser)


class _ConvertError(Exception):
    """Raised by a callback; turned into a ParseError by parse(). Args: code, message, span,
    help, fix."""


class _Paren:
    """A parenthesised expression, unwrapped by whichever rule consumes it. Kept distinct so
    that `-(5)` stays a negation of a literal while `-5` is a negative literal."""

    __slots__ = ("expr", "span")

    def __init__(self, expr, span):
        self.expr = expr
        self.span = span


def _u(x):
    return x.expr if isinstance(x, _Paren) else x


_SPANNED = (A.Expr, _Paren)


def _sp(x) -> Span:
    if isinstance(x, _SPANNED):
        return x.span
    return Span(x.start_pos, x.end_pos)  # a token


def _cover(first, last) -> Span:
    # Hot path: read offsets directly instead of building a Span for each end.
    # A token (lark's, or mpql.language._fast's) has offsets; a node or _Paren has a span.
    start = first.span.start if isinstance(first, _SPANNED) else first.start_pos
    end = last.span.end if isinstance(last, _SPANNED) else last.end_pos
    return Span(start, end)


_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f",
            "n": "\n", "r": "\r", "t": "\t"}


def decode_string(token_text: str, start: int) -> str:
    """Decode a quoted string token (either quote) whose text starts at offset ``start``."""
    body = token_text[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        esc = body[i + 1]  # the lexer guarantees a character after a backslash
        if esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            i += 2
            continue
        if esc == "u":
            hex4 = body[i + 2 : i + 6]
            if len(hex4) == 4 and all(h in "0123456789abcdefABCDEF" for h in hex4):
                code = int(hex4, 16)
                i += 6
                # A surrogate pair written as two escapes is one character.
                if 0xD800 <= code < 0xDC00 and body[i : i + 2] == "\\u":
                    low = body[i + 2 : i + 6]
                    if len(low) == 4 and all(h in "0123456789abcdefABCDEF" for h in low):
                        low_code = int(low, 16)
                        if 0xDC00 <= low_code < 0xE000:
                            code = 0x10000 + ((code - 0xD800) << 10) + (low_code - 0xDC00)
                            i += 6
                out.append(chr(code))
                continue
            at = start + 1 + i
            raise _ConvertError(
                "E116", "`\\u` must be followed by four hex digits",
                Span(at, min(at + 6, start + len(token_text) - 1)),
                "write a character as `\\u00e9`, or the character itself",
            )
        at = start + 1 + i
        raise _ConvertError(
            "E116", f"unknown escape `\\{esc}` in string",
            Span(at, at + 2),
            "valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX; write `\\\\` for a backslash",
            Fix("escape the backslash", [Edit(Span(at, at + 1), "\\\\")]),
        )
    return "".join(out)


def _number(token) -> A.Number:
    text = token.value
    span = Span(token.start_pos, token.end_pos)
    if "." in text or "e" in text or "E" in text:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise _ConvertError("E117", f"number `{text}` is too large", span,
                                "Mixpanel numbers are double-precision floats")
        if value.is_integer() and "." not in text and abs(value) < 2**53:
            value = int(value)  # 1e3 is the integer 1000
    else:
        # Mixpanel numbers are doubles: an integer literal past the largest double is an
        # error (and Python refuses to convert more than 4300 digits anyway).
        if len(text.lstrip("0")) > 309:
            raise _ConvertError("E117", f"number `{text[:20]}…` is too large", span,
                                "Mixpanel numbers are double-precision floats (at most ~1.8e308)")
        value = int(text)
    return A.Number(value, span=span)


def _did_you_mean(word: str, choices) -> str | None:
    import difflib

    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


_ACCESSOR_ALIASES = {"property": "properties", "props": "properties", "prop": "properties",
                     "people": "user", "profile": "user", "users": "user", "events": "event",
                     "behavior": "behaviors", "behaviour": "behaviors",
                     "behaviours": "behaviors"}


def _reject_keyword(tok) -> None:
    """The contextual lexer reads a keyword as a NAME where the keyword cannot appear (``a and
    and b``, ``or x``); say so instead of calling it an unknown name."""
    word = tok.value.lower()
    if word in ("and", "or", "in"):
        joins = "two values" if word == "in" else "two conditions"
        example = {"and": "a and b", "or": "a or b", "in": '"x" in properties["tags"]'}[word]
        raise _ConvertError(
            "E125", f"`{tok.value}` needs a value on each side", _sp(tok),
            f"`{word}` joins {joins}, as in {example}; a value is missing before this one",
        )


class _ToAst:
    """lark callbacks, one per rule alias in grammar/mpql.lark."""

    def or_(self, c):
        left, right = _u(c[0]), _u(c[2])
        return A.Or(left, right, span=_cover(c[0], c[2]))

    def and_(self, c):
        left, right = _u(c[0]), _u(c[2])
        return A.And(left, right, span=_cover(c[0], c[2]))

    def not_(self, c):
        return A.Not(_u(c[1]), span=_cover(c[0], c[1]))

    def compare(self, c):
        op = c[1].value
        if op == "=":  # DEVIATION (grammar: EQ): `=` is `==`; the checker warns (U010)
            op = "=="
        return A.Compare(op, _u(c[0]), _u(c[2]), span=_cover(c[0], c[2]))

    def in_(self, c):
        return A.In(_u(c[0]), _u(c[2]), span=_cover(c[0], c[2]))

    def arith(self, c):
        return A.Arith(c[1].value, _u(c[0]), _u(c[2]), span=_cover(c[0], c[2]))

    def neg(self, c):
        operand = c[1]
        span = _cover(c[0], operand)
        # `-5` is a negative literal (so printing and re-parsing a negative Number is stable);
        # `-(5)` and `-x` are negations.
        if isinstance(operand, A.Number):
            return A.Number(-operand.value, span=span)
        return A.Neg(_u(operand), span=span)

    def string(self, c):
        tok = c[0]
        return A.String(decode_string(tok.value, tok.start_pos),
                        span=Span(tok.start_pos, tok.end_pos))

    def number(self, c):
        return _number(c[0])

    def true(self, c):
        return A.Boolean(True, span=_sp(c[0]))

    def false(self, c):
        return A.Boolean(False, span=_sp(c[0]))

    def now(self, c):
        return A.Now(span=_sp(c[0]))

    def list(self, c):
        items = c[1] or []
        return A.ListLiteral(items, span=_cover(c[0], c[2]))

    def arguments(self, c):
        return [_u(x) for x in c if isinstance(x, (A.Expr, _Paren))]

    def paren(self, c):
        return _Paren(_u(c[1]), _cover(c[0], c[2]))

    def property(self, c):
        name_tok, str_tok = c[0], c[2]
        span = _cover(c[0], c[3])
        scope = name_tok.value
        if scope not in A.SCOPES:
            _reject_keyword(name_tok)
            guess = _ACCESSOR_ALIASES.get(scope.lower()) or _did_you_mean(scope, A.SCOPES)
            raise _ConvertError(
                "E109", f"unknown accessor `{scope}[...]`",
                _sp(name_tok),
                (f"did you mean `{guess}[...]`? " if guess else "")
                + "accessors are properties[...], user[...], event[...] and behaviors[...]",
                Fix(f"use `{guess}`", [Edit(_sp(name_tok), guess)]) if guess else None,
            )
        name = decode_string(str_tok.value, str_tok.start_pos)
        return A.Property(scope, name, span=span)

    def call(self, c):
        name_tok = c[0]
        name = name_tok.value
        args = c[2] or []
        span = _cover(c[0], c[3])
        if name not in FUNCTIONS:
            _reject_keyword(name_tok)
        if name in A.SCOPES:
            raise _ConvertError(
                "E109", f"`{name}` is indexed with square brackets, not called",
                span, f'write {name}["property name"]',
            )
        if name not in FUNCTIONS:
            if name.lower() in UNSUPPORTED_FUNCTIONS:
                raise _ConvertError("E110", f"`{name}(...)` is not supported",
                                    _sp(name_tok), UNSUPPORTED_FUNCTIONS[name.lower()])
            guess = _did_you_mean(name, FUNCTIONS)
            raise _ConvertError(
                "E110", f"unknown function `{name}`", _sp(name_tok),
                (f"did you mean `{guess}`? " if guess else "")
                + "functions are " + ", ".join(f"{f}()" for f in FUNCTIONS),
                Fix(f"use `{guess}`", [Edit(_sp(name_tok), guess)]) if guess else None,
            )
        lo, hi = FUNCTIONS[name]
        if not lo <= len(args) <= hi:
            want = f"{lo}" if lo == hi else f"{lo} or {hi}"
            plural = "" if want == "1" else "s"
            raise _ConvertError(
                "E111",
                f"`{name}()` takes {want} argument{plural}, found {len(args)}",
                span,
                _CALL_HELP.get(name) or f"call it as {name}({', '.join(['x', 'y'][:lo])})",
            )
        if name == "any":
            return _any(args, span)
        return A.Call(name, args, span=span)

    def bare_name(self, c):
        tok = c[0]
        name, span = tok.value, _sp(tok)
        lowered = name.lower()
        _reject_keyword(tok)
        if lowered in ("null", "none", "nil", "undefined"):
            raise _ConvertError(
                "E113", f"`{name}` is not a value in Mixpanel expressions", span,
                "test for a missing property with `not defined(properties[\"x\"])`",
            )
        if name in A.SCOPES:
            raise _ConvertError("E108", f"`{name}` needs a property name", span,
                                f'write {name}["property name"]')
        if name in FUNCTIONS:
            raise _ConvertError("E108", f"`{name}` is a function and needs arguments", span,
                                f"write {name}(...)")
        if _state.any_possible:
            # Possibly the variable of an enclosing any(...): which names are bound is only
            # known once the whole tree is built (the parser reduces bottom-up), so parse()
            # checks scopes afterwards (_scope_error).
            return A.Var(name, span=span)
        raise _bare_name_error(name, span)


_CALL_HELP = {
    "datetime": "datetime() takes one ISO 8601 string or Unix timestamp, e.g. "
                'datetime("2024-01-31T00:00:00")',
    "string": 'call it as string(x), or string(x, "default") for a value when x is undefined',
    "any": 'call it as any(X, properties["list"], X == "value"): a variable name, a list, '
           "and a condition on the variable",
}


def _bare_name_error(name: str, span: Span) -> _ConvertError:
    prop = f'properties["{name}"]'
    return _ConvertError(
        "E108", f"bare name `{name}` is not a value", span,
        f"did you mean `{prop}`? Property names are quoted inside an accessor; "
        "string values are double-quoted",
        Fix(f"use `{prop}`", [Edit(span, prop)], applicability="unsafe"),
    )


def _any(args: list, span: Span) -> A.Any:
    """``any(VAR, LIST, CONDITION)`` → ``Any``; the first argument must be a plain name."""
    var, items, predicate = args
    if not isinstance(var, A.Var):
        raise _ConvertError(
            "E126", "the first argument of any() must be a variable name",
            var.span or span,
            'name the list element, as in any(X, properties["tags"], X == "vip"); the '
            "list is the second argument",
        )
    return A.Any(var.name, items, predicate, span=span)


class _State(_thread_local):
    #: Whether the text being parsed contains "any": only then may a bare name be a variable
    #: (elsewhere bare names are E108 at once, before any later syntax error).
    any_possible = False


_state = _State()
# Regexes are compiled on first use (re.search caches them): compiling costs start-up time
# that valid, any-free text never needs.
_ANY_CALL = r"(?<![\w$])any(?:\s|#[^\n]*)*\("  # comments may come between


def _scope_error(root: A.Expr) -> _ConvertError | None:
    """The first scoping mistake of ``any`` variables in ``root``, or None: a variable used
    where no enclosing ``any`` binds it, or an inner ``any`` rebinding an outer one's name."""
    bound_anywhere = {n.var: n for n in A.walk(root) if isinstance(n, A.Any)}
    stack = [(root, ())]
    while stack:
        node, scopes = stack.pop()
        if isinstance(node, A.Any):
            outer = next((s for s in scopes if s.var == node.var), None)
            if outer is not None:
                return _ConvertError(
                    "E126", f"`{node.var}` is already the variable of an enclosing any(...)",
                    node.span or Span(0, 0),
                    "give the inner any(...) its own variable name (shadowing is not allowed: "
                    "it would hide the outer element)",
                )
            stack.append((node.predicate, scopes + (node,)))
            stack.append((node.items, scopes))
            continue
        if isinstance(node, A.Var):
            if any(s.var == node.name for s in scopes):
                continue
            span = node.span or Span(0, 0)
            if scopes:
                names = [s.var for s in scopes]
                guess = _did_you_mean(node.name, names)
                listed = " and ".join(f"`{n}`" for n in names)
                return _ConvertError(
                    "E126", f"unknown variable `{node.name}`", span,
                    (f"did you mean `{guess}`? " if guess else "")
                    + f"the enclosing any(...) binds {listed}; a property is written "
                    + f"properties[{quote(node.name)}]",
                    Fix(f"use `{guess}`", [Edit(span, guess)], applicability="unsafe")
                    if guess else None,
                )
            if node.name in bound_anywhere:
                return _ConvertError(
                    "E126", f"`{node.name}` is used outside the any(...) that binds it", span,
                    f"`{node.name}` names a list element only inside the condition of "
                    f"any({node.name}, …, condition)",
                )
            return _bare_name_error(node.name, span)
        stack.extend((c, scopes) for c in reversed(A.children(node)))
    return None


# ---------------------------------------------------------------------------------------------
# Explaining lark's errors


def _diag(text, code, message, span, help=None, fix=None) -> "Diagnostic":
    from ..diagnostics import Diagnostic

    span = Span(min(span.start, len(text)), min(max(span.end, span.start), len(text)))
    return Diagnostic(code=code, name=SYNTAX_CODES.get(code, ""), message=message, span=span,
                      source=text, help=help, fix=fix)


# A form-encoded expression: `+` for spaces around an operator, or percent-escapes of the
# characters every expression has (quote, brackets, `=`). Only consulted once parsing failed.
_FORM_ENCODED = r"(?i)\+(?:==|!=|%3[dD]%3[dD]|and|or|in|not)\+"
_PERCENT = r"%(?:22|27|5[bBdD]|3[dDcCeE]|28|29|21|20|2[bB]|26|7[cC])"


def _url_encoded(text: str) -> Diagnostic | None:
    found = re.search(_FORM_ENCODED, text)
    if found is None and '"' not in text and "[" not in text:
        found = re.search(_PERCENT, text)
    if found is None:
        return None
    from urllib.parse import unquote_plus

    decoded = unquote_plus(text)
    fix = None
    help = ("decode it first (urllib.parse.unquote_plus); mpql encodes expressions itself "
            "when it sends them")
    if decoded != text:
        try:
            parse(decoded)
        except ParseError:
            pass
        else:
            help = f"decoded, it reads: {decoded}"
            fix = Fix("decode the expression", [Edit(Span(0, len(text)), decoded)])
    return _diag(text, "E114", "this expression looks URL-encoded",
                 Span(found.start(), found.end()), help, fix)


def _explain(text: str, exc) -> Diagnostic:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    encoded = _url_encoded(text)
    if encoded:
        return encoded

    if _blank(text):
        return _diag(text, "E107", "empty expression", Span(0, len(text)),
                     'write a filter such as properties["$os"] == "iOS"; '
                     "an empty `where` would select everything")

    if isinstance(exc, UnexpectedCharacters):
        return _explain_char(text, exc.pos_in_stream)

    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        try:
            # `accepts` replays the parser on each candidate: exact, unlike `expected`, which
            # holds every terminal of the LALR state (including ones a default reduction
            # would reject).
            expected = set(exc.accepts or exc.expected or ())
        except Exception:  # pragma: no cover - accepts() is best effort
            expected = set(exc.expected or ())
        if tok.type == "$END":
            return _explain_end(text, expected)
        return _explain_token(text, tok, expected)

    return _diag(text, "E100", "invalid expression", Span(0, len(text)))  # pragma: no cover


def _blank(text: str) -> bool:
    return not re.sub(r"#[^\n]*", "", text).strip()


# Operator spellings from other languages → the mpql operator (E122; `=` alone is E101).
_MISSPELLED = {"===": "==", "!==": "!=", "=>": ">=", "=<": "<=", "=!": "!=", "<>": "!=",
               "≠": "!=", "≤": "<=", "≥": ">="}


def _misspelled(text: str, pos: int) -> Diagnostic | None:
    """E101/E122 when offset ``pos`` is inside another language's operator (``===``, ``<>``,
    ``=>`` …). The lexer stops at the `=` of `===`/`!==` after taking `==`/`!=`: look back."""
    for start in (pos - 2, pos - 1, pos):
        for bad, good in _MISSPELLED.items():
            if start >= 0 and text.startswith(bad, start) and start <= pos < start + len(bad):
                span = Span(start, start + len(bad))
                code = "E101" if bad == "===" else "E122"
                return _diag(text, code, f"`{bad}` is not an operator", span, f"use `{good}`",
                             Fix(f"replace `{bad}` with `{good}`", [Edit(span, good)]))
    return None


def _explain_char(text: str, pos: int) -> Diagnostic:
    ch = text[pos]
    two = text[pos : pos + 2]
    misspelled = _misspelled(text, pos)
    if misspelled is not None:
        return misspelled
    if ch == "=":  # pragma: no cover - `=` is the EQ token now; kept for a lone `=` in odd spots
        return _diag(text, "E101", "`=` is not a comparison operator", Span(pos, pos + 1),
                     "use `==` to test equality",
                     Fix("replace `=` with `==`", [Edit(Span(pos, pos + 1), "==")]))
    if two in ("&&", "||"):
        word = "and" if two == "&&" else "or"
        return _diag(text, "E102", f"`{two}` is not an operator in Mixpanel expressions",
                     Span(pos, pos + 2), f"use `{word}`",
                     Fix(f"replace `{two}` with `{word}`", [Edit(Span(pos, pos + 2), word)]))
    if ch in "&|":
        word = "and" if ch == "&" else "or"
        return _diag(text, "E102", f"`{ch}` is not an operator in Mixpanel expressions",
                     Span(pos, pos + 1), f"use `{word}`",
                     Fix(f"replace `{ch}` with `{word}`", [Edit(Span(pos, pos + 1), word)]))
    if ch == "!":
        return _diag(text, "E102", "`!` is not an operator in Mixpanel expressions",
                     Span(pos, pos + 1), "use `not` (or `!=` to compare)",
                     Fix("replace `!` with `not `", [Edit(Span(pos, pos + 1), "not ")]))
    if ch in "\"'":
        end = text.find("\n", pos)
        end = len(text) if end == -1 else end
        rest = text[pos + 1 : end]
        # Closing at the end of the line is only a plausible fix when nothing after the quote
        # looks like more expression (`properties["a] == 1` needs the quote after `a`).
        at = pos + 1 + len(rest.rstrip())
        fix = None if any(c in rest for c in "])=<>!,") or text[end:].strip() else Fix(
            f"add the closing `{ch}`", [Edit(Span(at, at), ch)])
        return _diag(text, "E104", "unterminated string", Span(pos, end),
                     f"close it with `{ch}`; a string cannot span lines (write \\n for a newline)",
                     fix)
    if ch == ".":
        word = re.match(r"\.([^\W\d][\w$]*|\$[\w$]*)", text[pos:])
        before = re.search(r"([^\W\d][\w$]*)\s*$", text[:pos])
        if word and before:
            acc, name = before.group(1), word.group(1)
            start = before.start(1)
            target = acc if acc in A.SCOPES else _ACCESSOR_ALIASES.get(acc.lower(), "properties")
            repl = f"{target}[{quote(name)}]"
            end = pos + len(word.group(0))
            return _diag(text, "E120", "dotted property access is not supported",
                         Span(start, end), f"write `{repl}`",
                         Fix(f"use `{repl}`", [Edit(Span(start, end), repl)]))
    if ch in "{}":
        return _diag(text, "E118", f"unexpected character `{ch}`", Span(pos, pos + 1),
                     "objects are not values in Mixpanel expressions")
    if ch == ";":
        return _diag(text, "E118", "unexpected `;`", Span(pos, pos + 1),
                     "one expression per filter: join conditions with `and` / `or`; in a .mpql "
                     "file, separate expressions with a blank line")
    if ch == "`":
        return _diag(text, "E118", "unexpected character `` ` ``", Span(pos, pos + 1),
                     'strings are double-quoted: "text"')
    if not ch.isprintable():
        return _diag(text, "E118", f"unexpected control character U+{ord(ch):04X}",
                     Span(pos, pos + 1), "remove it (inside a string, write it as \\uXXXX)",
                     Fix("remove the character", [Edit(Span(pos, pos + 1), "")]))
    return _diag(text, "E118", f"unexpected character `{ch}`", Span(pos, pos + 1),
                 "remove it; expressions use properties[\"…\"], literals and operators")


_CLOSERS = {")": "(", "]": "["}


def _scan_brackets(text: str):
    """(unclosed openers as [(char, pos)], first unmatched closer as (char, pos) or None),
    ignoring strings and comments."""
    stack: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            i = string_end(text, i) + 1
            continue
        if c == "#":
            nl = text.find("\n", i)
            i = n if nl == -1 else nl
            continue
        if c in "([":
            stack.append((c, i))
        elif c in ")]":
            if stack and stack[-1][0] == _CLOSERS[c]:
                stack.pop()
            else:
                return stack, (c, i)
        i += 1
    return stack, None


def _code_end(text: str) -> int:
    """Offset just past the last token: trailing whitespace and comments do not count (a `#`
    inside a string is not a comment)."""
    end, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = string_end(text, i)
            closed = j < n and text[j] == c
            end = j + 1 if closed else len(text[:j].rstrip())
            i = j + 1
        elif c == "#":
            nl = text.find("\n", i)
            i = n if nl == -1 else nl
        else:
            if not c.isspace():
                end = i + 1
            i += 1
    return end


def _last_token_span(text: str) -> Span:
    end = _code_end(text)
    m = re.search(r"(==|!=|>=|<=|[<>+\-*/%,(\[]|\w+)$", text[:end])
    return Span(m.start() if m else max(0, end - 1), end)


def _explain_end(text: str, expected: set) -> Diagnostic:
    end = _code_end(text)
    last = _last_token_span(text)
    last_text = last.slice(text)
    wants_value = bool(expected & _VALUE_TERMINALS)
    if wants_value and last_text not in ("(", "["):
        last = Span(len(text[: last.start].rstrip()), last.end)  # drop the space before it
        return _diag(
            text, "E106", f"expression ends after `{last_text}`; expected a value",
            Span(end, end), "complete the expression or remove the trailing operator",
            Fix(f"remove the trailing `{last_text}`", [Edit(last, "")], applicability="unsafe")
            if last_text not in (",",) else
            Fix("remove the trailing `,`", [Edit(last, "")]),
        )
    unclosed, _ = _scan_brackets(text)
    if unclosed:
        ch, pos = unclosed[-1]
        closer = ")" if ch == "(" else "]"
        return _diag(text, "E105", f"`{ch}` is never closed", Span(pos, pos + 1),
                     f"add `{closer}` to close it",
                     Fix(f"add `{closer}`", [Edit(Span(end, end), closer)]))
    return _diag(text, "E106", "unexpected end of expression", Span(end, end),  # pragma: no cover
                 "expected " + _describe(expected))


def _previous_word(text: str, pos: int):
    """The name just before offset ``pos`` (skipping spaces) as (word, start), or None."""
    m = re.search(r"([^\W\d][\w$]*)\s*$", text[:pos])
    return (m.group(1), m.start(1)) if m else None


def _explain_token(text: str, tok, expected: set) -> Diagnostic:
    span = Span(tok.start_pos, tok.end_pos)
    value = tok.value
    lowered = value.lower()
    if tok.type in ("EQ", "CMP_OP"):
        misspelled = _misspelled(text, tok.start_pos)
        if misspelled is not None:
            return misspelled
    after_value = bool(expected & {"AND", "OR", "$END", "RPAR", "ADD_OP", "MUL_OP"})
    before = text[: tok.start_pos].rstrip()

    if tok.type in ("RPAR", "RSQB") and tok.type not in expected:
        _, stray = _scan_brackets(text)
        if stray:
            ch, pos = stray
            return _diag(text, "E105", f"unmatched `{ch}`", Span(pos, pos + 1),
                         f"remove it, or add the missing `{_CLOSERS[ch]}` before it")
        if tok.type == "RPAR" and before.endswith("("):
            return _diag(text, "E100", "empty parentheses", Span(span.start - 1, span.end)
                         if text[span.start - 1] == "(" else span,
                         "put an expression inside, or remove them")
    prev = _previous_word(text, tok.start_pos)
    if prev and prev[0].lower() in ("and", "or", "in") and "NAME" not in expected:
        # `or x`, `(and y`: the keyword was read as a name because no operator can stand
        # there; the value it needs on its left is missing.
        head = text[: prev[1]].rstrip()
        if not head or head[-1] in "([,=<>!+-*/%" or re.search(
                r"(?<![\w$])(?:and|or|not|in)$", head, re.IGNORECASE):
            word = prev[0]
            return _diag(text, "E125", f"`{word}` needs a value on each side",
                         Span(prev[1], prev[1] + len(word)),
                         f"`{word.lower()}` joins two "
                         + ("values" if word.lower() == "in" else "conditions")
                         + "; a value is missing before it")
    if expected == {"STRING"} and before.endswith("["):
        # properties[zone] / properties[1]: the name must be a quoted string.
        bad = re.match(r"[^\]\s]+", text[tok.start_pos:])
        raw = bad.group(0) if bad else value
        fixed = quote(raw.strip("'\"`"))
        bad_span = Span(tok.start_pos, tok.start_pos + len(raw))
        acc = _previous_word(text, len(before) - 1)
        return _diag(text, "E123", "a property name must be a double-quoted string", bad_span,
                     f"write {acc[0] if acc else ''}[{fixed}]",
                     Fix(f"quote the name: {fixed}", [Edit(bad_span, fixed)]))
    if tok.type == "CMP_OP" and before.endswith("<") and value == ">":
        bad_span = Span(tok.start_pos - 1, tok.end_pos)
        if text[bad_span.start] == "<":
            return _diag(text, "E122", "`<>` is not an operator", bad_span, "use `!=`",
                         Fix("replace `<>` with `!=`", [Edit(bad_span, "!=")]))
    if tok.type in ("CMP_OP", "EQ", "IN") and tok.type not in expected and after_value:
        return _diag(text, "E115", "comparisons do not chain", span,
                     "combine two comparisons with `and`: a < b and b < c")
    if tok.type == "NOT" and after_value:
        if text[tok.end_pos:].lstrip().lower().startswith("in"):
            return _diag(text, "E119", "`not in` is not supported", span,
                         'negate the whole test instead: not "a" in properties["x"]')
        return _diag(text, "E125", "`not` cannot follow a value", span,
                     "put `not` in front of what it negates: not defined(x), not a == b")
    if tok.type == "COMMA" and "RPAR" in expected and "COMMA" not in expected:
        return _diag(text, "E100", "unexpected `,` inside parentheses", span,
                     "parentheses hold one expression; write a list in square brackets: "
                     '[1, 2, "a"]')
    if after_value and tok.type in _VALUE_TERMINALS - {"LPAR", "LSQB"}:
        prev = _previous_word(text, tok.start_pos)
        if prev and prev[0] == "any":
            return _diag(text, "E124", "`any` is a function: its arguments go in parentheses",
                         Span(prev[1], prev[1] + 3), _CALL_HELP["any"])
        if prev and (prev[0] in FUNCTIONS or prev[0].lower() in FUNCTIONS):
            fn, fn_start = prev
            arg = re.match(r"(?:[^\W\d][\w$]*\s*\[\s*\"(?:[^\"\\\n]|\\.)*\"\s*\]"
                           r"|\"(?:[^\"\\\n]|\\.)*\"|[\w.$]+)", text[tok.start_pos:])
            arg_end = tok.start_pos + (len(arg.group(0)) if arg else len(value))
            call_span = Span(fn_start, arg_end)
            replacement = f"{fn}({text[tok.start_pos:arg_end]})"
            return _diag(text, "E124", f"`{fn}` is a function: its argument goes in parentheses",
                         call_span, f"write {replacement}",
                         Fix(f"write {replacement}", [Edit(call_span, replacement)]))
    if tok.type == "NAME" and after_value:
        if lowered in ("contains", "has", "includes", "like", "startswith", "endswith",
                       "matches", "has_prefix"):
            return _diag(text, "E112", f"`{value}` is not an operator", span,
                         'test substrings and list members with `in`: "text" in properties["x"]'
                         + ("; for a prefix, has_prefix(string, prefix)"
                            if lowered in ("startswith", "has_prefix") else ""))
        if lowered == "is":
            return _diag(text, "E112", "`is` is not an operator", span,
                         "use `==` to compare, or `not defined(...)` to test a missing value")
        return _diag(text, "E100", f"unexpected name `{value}`", span,
                     "expected " + _describe(expected))
    if tok.type == "LSQB" and after_value:
        return _diag(text, "E120", "indexing into a value is not supported", span,
                     "Mixpanel expressions cannot index nested objects or lists")
    if tok.type in ("STRING", "NUMBER", "TRUE", "FALSE", "NOW") and after_value:
        return _diag(text, "E100", f"missing operator before `{value}`", span,
                     "expected " + _describe(expected))
    return _diag(text, "E100", f"unexpected `{value}`", span, "expected " + _describe(expected))


_VALUE_START = {"STRING", "NUMBER", "NAME", "TRUE", "FALSE", "NOW", "LPAR", "LSQB", "MINUS", "NOT"}
_OPERATORS = {"ADD_OP", "MUL_OP", "CMP_OP", "EQ", "IN", "AND", "OR"}


def _describe(expected: set) -> str:
    """Expected terminals in words, grouped: "a value", "an operator", "`)`", …"""
    expected = {t for t in expected if not t.startswith("__")}
    parts = []
    if len(expected & _VALUE_START) >= 5:
        parts.append("a value")
        expected -= _VALUE_START
    if len(expected & (_OPERATORS | {"MINUS"})) >= 3:
        parts.append("an operator")
        expected -= _OPERATORS | {"MINUS"}
    parts += sorted(TERMINAL_DESCRIPTIONS.get(t, t) for t in expected if t != "$END")
    if "$END" in expected:
        parts.append("the end of the expression")
    if not parts:  # pragma: no cover
        return "something else"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]

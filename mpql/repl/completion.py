"""The REPL's completion brain and its "is this input finished?" decision, as pure functions.

``complete(text_before_cursor, catalog, endpoint)`` returns :class:`Suggestion` objects; the
prompt_toolkit ``Completer`` in ``mpql.repl.app`` is a thin adapter over it, so everything here
is testable with plain strings (litecli's ``suggest_type`` works the same way).

How it decides what may come next: a second lark parser is built from the same grammar file as
``mpql.parse`` but without the AST converter (which would raise on names it cannot resolve
yet). The text before the word being typed is fed to lark's interactive parser
(``parse_interactive`` + ``exhaust_lexer``), and ``accepts()`` gives the terminals that may
follow. The partly typed word itself is never fed: it is the thing being
completed. Terminals map to suggestions: ``NAME`` → accessors and functions, ``AND``/``OR``/…
→ keywords, ``STRING`` after ``properties[`` → property names from the catalog (with their
types), ``STRING`` after ``properties["x"] ==`` → values seen for ``x``.

``input_status(text)`` is the multi-line decision: ``"incomplete"`` when the parser ran out of
input while still expecting more (show a continuation prompt), ``"complete"`` when it parses
(or fails in a way more typing cannot fix: the error is shown at once), ``"empty"`` for blank
or comment-only input, ``"command"`` for a ``:command`` line.
"""

from __future__ import annotations

import re
import threading

import attrs

from ..language import ast as A
from ..language.parser import FUNCTIONS, _scan_brackets, grammar_path
from ..language.printer import quote
from ..language.source import string_end
from .catalog import Catalog, scope_for_accessor

__all__ = ["Suggestion", "complete", "input_status", "ENDPOINTS", "COMMAND_NAMES"]

#: Endpoints the REPL accepts for `:endpoint` (the checker's contexts).
ENDPOINTS = ("export", "engage", "segmentation", "funnels", "retention", "jql", "any")

#: Filled in by mpql.repl.commands (kept here so the pure completer needs no import cycle).
COMMAND_NAMES: dict[str, str] = {}


@attrs.frozen
class Suggestion:
    """Replace the ``-start`` characters before the cursor with ``text``."""

    text: str
    start: int  # <= 0, as prompt_toolkit's Completion.start_position
    kind: str  # keyword, operator, accessor, function, property, value, command, endpoint
    display: str | None = None
    meta: str = ""

    @property
    def label(self) -> str:
        return self.display or self.text


_lock = threading.Lock()
_parser = None


def _tree_parser():
    """lark LALR parser over grammar/mpql.lark without the AST converter; built once."""
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                from lark import Lark

                text = grammar_path().read_text(encoding="utf-8")
                opts = dict(parser="lalr", lexer="contextual")
                try:
                    _parser = Lark(text, cache=True, **opts)
                except (OSError, EOFError, ValueError):  # unwritable or corrupt cache
                    _parser = Lark(text, **opts)
    return _parser


def accepts(prefix: str) -> set[str] | None:
    """Terminals that may follow ``prefix``, or None when ``prefix`` is already invalid."""
    from lark.exceptions import LarkError

    try:
        ip = _tree_parser().parse_interactive(prefix)
        ip.exhaust_lexer()
        return set(ip.accepts())
    except LarkError:
        return None


# ---------------------------------------------------------------------------------------------
# Incomplete vs invalid


def input_status(text: str) -> str:
    """``"empty"``, ``"command"``, ``"incomplete"`` or ``"complete"`` (see module docstring).

    Invalid input counts as complete: submitting it shows the parser's diagnostic, which is
    better than a continuation prompt that can never end. Only running out of input while the
    parser still expects a token (a trailing operator, an open bracket) means "keep typing"."""
    from lark.exceptions import LarkError, UnexpectedEOF, UnexpectedToken

    from ..errors import ParseError
    from ..language import parse

    stripped = text.strip()
    if stripped.startswith(":"):
        return "command"
    if _only_comments(stripped):
        return "empty"
    try:
        parse(text)
        return "complete"
    except ParseError as exc:
        # Only an error about the end of the input can be fixed by typing more; `a <` is
        # already wrong (a bare name) however it goes on.
        if exc.code not in ("E105", "E106"):
            return "complete"
    try:
        _tree_parser().parse(text)
    except UnexpectedEOF:
        return "incomplete"
    except UnexpectedToken as exc:
        return "incomplete" if exc.token.type == "$END" else "complete"
    except LarkError:
        return "complete"
    return "complete"


# A string (possibly unterminated: strings end at a newline) or a comment.
_STRING_OR_COMMENT = re.compile(r"(\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?)|#[^\n]*")


def _only_comments(text: str) -> bool:
    """Nothing but whitespace and `#` comments (a `#` inside a string is not a comment)."""
    return not _STRING_OR_COMMENT.sub(lambda m: m.group(1) or "", text).strip()


def _scan(text: str):
    """Where ``text`` ends: inside an unterminated string (``("string", start, quote)``), inside
    a comment (``("comment", start, None)``), or in code (None). Strings end at a newline."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = string_end(text, i)
            if j >= n:
                return ("string", i, c)
            i = j + 1
            continue
        if c == "#":
            nl = text.find("\n", i)
            if nl == -1:
                return ("comment", i, None)
            i = nl
            continue
        i += 1
    return None


# ---------------------------------------------------------------------------------------------
# Completion

KEYWORDS = {
    "AND": ("and", "both sides true"),
    "OR": ("or", "either side true"),
    "NOT": ("not", "negation"),
    "IN": ("in", "substring or list membership"),
    "TRUE": ("true", "boolean"),
    "FALSE": ("false", "boolean"),
    "NOW": ("NOW", "current time (datetime)"),
}
OPERATORS = {
    "CMP_OP": [("==", "equal"), ("!=", "not equal"), (">", "greater"), (">=", "greater or equal"),
               ("<", "less"), ("<=", "less or equal")],
    "ADD_OP": [("+", "add / concatenate")],
    "MINUS": [("-", "subtract")],
    "MUL_OP": [("*", "multiply"), ("/", "divide"), ("%", "remainder")],
}
ACCESSOR_HELP = {
    "properties": "event property (profile property in engage)",
    "user": "profile property",
    "event": "event-level property, e.g. $time",
    "behaviors": "behavior count (engage with behaviors=)",
}
FUNCTION_HELP = {
    "defined": "defined(x) -> boolean",
    "boolean": "boolean(x) -> boolean",
    "number": "number(x) -> number",
    "string": "string(x[, default]) -> string",
    "any": "any(X, list, condition on X) -> boolean",
    "datetime": "datetime(s|n) -> datetime",
    "list": "list(x) -> list",
    "floor": "floor(n) -> number",
    "round": "round(n) -> number",
    "ceil": "ceil(n) -> number",
    "has_prefix": "has_prefix(s, prefix) -> boolean",
}

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
_STR = r"(?:\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')"
_PROP_BEFORE_VALUE = re.compile(
    r"\b(properties|user|event)\s*\[\s*(" + _STR + r")\s*\]\s*"
    r"(?:==|!=|(?i:in)\s*\[(?:\s*" + _STR + r"\s*,)*)\s*\Z"
)
_ACCESSOR_OPEN = re.compile(r"\b(properties|user|event|behaviors)\s*\[\s*\Z")


def complete(
    text: str, catalog: Catalog | None = None, endpoint: str = "export", *, limit: int = 200,
) -> list[Suggestion]:
    """Suggestions for the cursor at the end of ``text`` (the text before the cursor)."""
    if text.lstrip().startswith(":") and "\n" not in text:
        return _complete_command(text.lstrip())
    state = _scan(text)
    if state and state[0] == "comment":
        return []
    if state and state[0] == "string":
        _, start, quote_char = state
        return _complete_in_string(text[:start], text[start + 1 :], quote_char, catalog,
                                   endpoint)[:limit]
    m = _WORD.search(text)
    partial = ""
    if m:
        before = text[: m.start()]
        if before and (before[-1].isalnum() or before[-1] in "_$."):
            return []  # the tail of a number or of something the lexer will reject
        partial = m.group(0)
        text = before
    expected = accepts(text)
    if not expected:
        return []
    out: list[Suggestion] = []
    low = partial.lower()
    if not partial and "STRING" in expected:
        # Data first: property names after `properties[`, values after `properties["x"] ==`.
        if _ACCESSOR_OPEN.search(text):
            out.extend(_property_suggestions(text, "", None, catalog, endpoint))
        else:
            m = _PROP_BEFORE_VALUE.search(text)
            if m:
                out.extend(_value_suggestions(m, "", None, catalog, endpoint))
    if "NAME" in expected:
        for name in _open_any_variables(text):
            if name.startswith(partial):
                out.append(Suggestion(name, -len(partial), "variable", name,
                                      "element of the enclosing any(...)"))
        for name in A.SCOPES:
            if name.startswith(partial):
                out.append(Suggestion(f"{name}[", -len(partial), "accessor",
                                      f"{name}[…]", ACCESSOR_HELP.get(name, "")))
        for name in FUNCTIONS:
            if name.startswith(partial):
                out.append(Suggestion(f"{name}(", -len(partial), "function", f"{name}(…)",
                                      FUNCTION_HELP.get(name, "")))
    for terminal, (word, meta) in KEYWORDS.items():
        if terminal in expected and word.lower().startswith(low):
            # Follow the user's case: `AN` completes to `AND`.
            shown = word.upper() if partial.isupper() or terminal == "NOW" else word
            out.append(Suggestion(shown, -len(partial), "keyword", meta=meta))
    if not partial:
        for terminal, ops in OPERATORS.items():
            if terminal in expected:
                out.extend(Suggestion(op, 0, "operator", meta=meta) for op, meta in ops)
    return out[:limit]


_ANY_HEAD = re.compile(r"(?<![\w$])any\s*\(\s*([^\W\d][\w$]*)\s*,")


def _open_any_variables(text: str) -> list[str]:
    """Variables of the ``any(X, …`` calls still open at the end of ``text``, innermost first
    (they may be used in the condition being typed)."""
    unclosed, _ = _scan_brackets(text)  # strings and comments are skipped
    open_parens = {pos for ch, pos in unclosed if ch == "("}
    found = []
    for m in _ANY_HEAD.finditer(text):
        if text.index("(", m.start()) in open_parens and m.group(1) not in found:
            found.insert(0, m.group(1))
    return found


def _complete_in_string(prefix, partial, quote_char, catalog, endpoint) -> list[Suggestion]:
    expected = accepts(prefix)
    if not expected or "STRING" not in expected:
        return []
    if _ACCESSOR_OPEN.search(prefix):
        return _property_suggestions(prefix, partial, quote_char, catalog, endpoint)
    m = _PROP_BEFORE_VALUE.search(prefix)
    if m:
        return _value_suggestions(m, partial, quote_char, catalog, endpoint)
    return []


def _quoted_tail(value: str, quote_char: str) -> str:
    """``value`` quoted as the user began it, without the opening quote already typed."""
    if quote_char == '"':
        return quote(value)[1:]
    escaped = quote(value)[1:-1].replace('\\"', '"').replace("'", "\\'")
    return escaped + "'"


def _rank(names, partial: str):
    """Prefix matches first, then case-insensitive substring matches (`os` finds `$os`)."""
    low = partial.lower()
    first, second = [], []
    for item in names:
        name = item[0]
        if name.startswith(partial):
            first.append(item)
        elif low in name.lower():
            second.append(item)
    return first + second


def _insert(value: str, quote_char: str | None) -> str:
    """Text that completes the string literal ``value``: the whole literal when no quote was
    typed yet (``quote_char`` None), else the rest after the user's opening quote."""
    if quote_char is None:
        return quote(value)
    return _quoted_tail(value, quote_char)


def _property_suggestions(prefix, partial, quote_char, catalog, endpoint) -> list[Suggestion]:
    if catalog is None:
        return []
    accessor = _ACCESSOR_OPEN.search(prefix).group(1)
    scope = scope_for_accessor(accessor, endpoint)
    if scope is None:
        return []
    items = [(f.name, f) for f in catalog.sorted_fields(scope)]
    out = []
    for name, field in _rank(items, partial):
        count = f", {field.count} {scope}{'' if field.count == 1 else 's'}" if field.count else ""
        out.append(Suggestion(_insert(name, quote_char) + "]", -len(partial), "property", name,
                              f"{field.type}{count}"))
    return out


def _value_suggestions(match, partial, quote_char, catalog, endpoint) -> list[Suggestion]:
    if catalog is None:
        return []
    from ..language.parser import decode_string

    accessor, name_token = match.group(1), match.group(2)
    scope = scope_for_accessor(accessor, endpoint)
    if scope is None:
        return []
    try:
        name = decode_string(name_token, 0)
    except Exception:  # a bad escape: the parser reports it; nothing to suggest
        return []
    field = catalog.get(scope, name)
    if field is None:
        return []
    items = [(v, c) for v, c in field.top_values(50) if isinstance(v, str)]
    return [Suggestion(_insert(value, quote_char), -len(partial), "value", quote(value),
                       f"{count}×")
            for value, count in _rank(items, partial)]


def _complete_command(text: str) -> list[Suggestion]:
    head, sep, rest = text.partition(" ")
    if not sep:
        return [Suggestion(f":{name}", -len(text), "command", meta=help_)
                for name, help_ in COMMAND_NAMES.items() if f":{name}".startswith(text)]
    word = rest.strip()
    if " " in word:
        return []
    if head == ":endpoint":
        return [Suggestion(e, -len(word), "endpoint") for e in ENDPOINTS if e.startswith(word)]
    if head in (":help", ":h", ":?"):
        return [Suggestion(name, -len(word), "command", meta=help_)
                for name, help_ in COMMAND_NAMES.items() if name.startswith(word.lstrip(":"))]
    return []

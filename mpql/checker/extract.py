"""Finding expressions inside host files: ``.mpql``, Python sources and JSON documents.

Each expression found becomes a :class:`Unit`: its text, where each of its characters sits in
the host file (so diagnostics and fix edits land on the right line and column of the host),
the context it carries (directives, call site), and how a replacement must be escaped to be
written back into the host (a Python or JSON string literal).

* ``.mpql``: blank-line separated blocks (``split_mpql``); ``# mpql: key=value`` directives
  apply from their line to the end of the file.
* Python: only literals that reach a clearly-Mixpanel call are expressions (mpql's API,
  Mixpanel client libraries, ``requests``/``httpx`` calls to a Mixpanel URL, calls named in
  the config): see ``pysites.py``, which finds them. A ``where=`` given to pandas, Django or a
  SQL builder is not linted, and ``--fix`` never touches it. Literals built with f-strings,
  ``%``, ``.format()`` or ``+`` are reported as not checkable (X001). Escapes are mapped
  character by character; implicitly concatenated literals (``"a" "b"``) cannot be mapped
  exactly and are reported at the literal's start, with a note.
* JSON: string values under ``where``/``on``/``selector``/``born_where`` keys in a clearly
  Mixpanel object: one with an ``"endpoint"`` naming a Mixpanel endpoint, a string value that
  is a Mixpanel URL or an ``"mpql"`` key, or one inside the value of a key mentioning
  ``mixpanel``/``mpql`` — that object or an enclosing one. With ``json_all`` (the file matches ``[tool.mpql.extract] json`` globs, or its name
  mentions mixpanel or mpql) every such key counts. A sibling ``"endpoint"`` key (else that of
  the nearest enclosing object, else a Mixpanel URL's path) sets the endpoint. JSON has no
  comments, so suppress findings with per-file ignores.
"""

from __future__ import annotations

import ast
import re
from typing import Callable

import attrs

from .._lazyre import LazyRegex
from ..language.source import comment_start, split_mpql

__all__ = ["Unit", "HostError", "extract", "file_kind", "KEYS", "parse_directive", "noqa_map",
           "EVERYTHING"]

#: ``calls`` pattern that makes every call a Mixpanel call (used by the baseline, which needs
#: a superset of the units the linter saw, whatever the config).
EVERYTHING = ("*",)


def __getattr__(name: str):
    # ``extract.KEYS`` is public (the keys that hold an expression), but it lives in
    # pysites, which only Python and JSON files need: imported when first asked for.
    if name == "KEYS":
        from .pysites import KEYS

        return KEYS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_MIXPANEL_ENDPOINTS = {"export", "engage", "segmentation", "funnels", "retention", "jql"}
# Without one of these words no call in a Python file can be Mixpanel (built-in detection:
# mpql, mixpanel* modules, Mixpanel hosts and API paths), so the file is not even parsed.
_MAY_BE_MIXPANEL = LazyRegex(r"mixpanel|mpql|api/(?:2\.0|query)/", re.IGNORECASE)
# The same for JSON (a key naming an expression, and some Mixpanel marker); a file without
# them is not parsed, so a JSON-with-comments tsconfig is not an X002 error either.
_JSON_KEY = LazyRegex(r'"(?:where|on|selector|born_where)"')
_JSON_MARK = LazyRegex(r'mixpanel|mpql|"endpoint"|api/(?:2\.0|query)/', re.IGNORECASE)

_DIRECTIVE = LazyRegex(r"#\s*mpql:\s*(.*)$")
# `# mpql: noqa[: CODES]` (mpql's own) and `# noqa[: CODES]` (flake8/ruff style, shared with
# other tools). CODES are separated by commas and/or spaces; after a space (no comma), only a
# code-like (`S003`) or kebab-case (`cross-type-equality`) token continues the list, so
# `# noqa: S003 legacy filter` suppresses S003 and "legacy filter" is a free-text reason.
_NOQA = LazyRegex(r"#\s*(?P<mpql>mpql:\s*)?noqa(?![\w-])(?:\s*:\s*(?P<codes>[\w-]+"
                   r"(?:\s*,\s*[\w-]+|\s+(?:[A-Za-z]+\d+|\w+(?:-\w+)+)(?![\w-]))*))?",
                   re.IGNORECASE)


@attrs.frozen
class Unit:
    """One expression inside a host file."""

    text: str
    start: int  # host offset of the literal (or block) start
    end: int
    #: host offset of each character of ``text`` (len(text)+1 entries), or None when the
    #: mapping is approximate (everything is reported at ``start``).
    offsets: tuple | None
    settings: dict = attrs.field(factory=dict)  # endpoint/param/behaviors from the host
    escape: Callable[[str], str] | None = None  # how replacement text is written in the host
    note: str | None = None
    not_checkable: str | None = None  # why, for X001

    def host_span(self, start: int, end: int) -> tuple[int, int]:
        if self.offsets is None:
            return self.start, self.start
        last = len(self.offsets) - 1
        return self.offsets[min(start, last)], self.offsets[min(end, last)]


class HostError(Exception):
    """The host file cannot be parsed (args: message, offset)."""


def file_kind(name: str) -> str:
    lowered = name.lower()
    if lowered.endswith((".py", ".pyi")):
        return "python"
    if lowered.endswith(".json"):
        return "json"
    return "mpql"


def extract(kind: str, text: str, problems: list | None = None, *, calls: tuple = (),
            json_all: bool = False) -> list[Unit]:
    """Units of a host file. ``calls``: extra glob patterns of Python calls that take
    Mixpanel expressions (config ``extract.calls``); ``json_all``: every where/on/selector key
    of a JSON file is an expression (config ``extract.json``)."""
    if kind == "python":
        return _extract_python(text, tuple(calls))
    if kind == "json":
        return _extract_json(text, json_all or calls == EVERYTHING)
    return _extract_mpql(text, problems)


# ---------------------------------------------------------------------------------------------
# directives and noqa


def parse_directive(comment_body: str) -> dict:
    """``endpoint=export param=on`` → dict; raises ValueError on a malformed item."""
    out = {}
    for item in comment_body.split():
        if "=" not in item:
            raise ValueError(f"directive item `{item}` is not key=value")
        key, value = item.split("=", 1)
        key = key.strip().lower().replace("-", "_")
        if key not in ("endpoint", "param", "behaviors"):
            raise ValueError(f"unknown directive key `{key}` (expected endpoint, param or "
                             "behaviors)")
        out[key] = value.strip()
    return out


def _directives(text: str):
    """(offset, settings | error message) for each ``# mpql:`` directive comment."""
    pos = 0
    for line in text.splitlines(keepends=True):
        hash_at = comment_start(line)
        if hash_at is not None:
            m = _DIRECTIVE.match(line[hash_at:].rstrip("\r\n"))
            if m and not m.group(1).lower().startswith("noqa"):
                try:
                    yield pos + hash_at, parse_directive(m.group(1))
                except ValueError as exc:
                    yield pos + hash_at, str(exc)
        pos += len(line)


def noqa_map(text: str) -> dict:
    """line number (1-based) → set of selectors, or None for a blanket ``noqa``.

    ``# mpql: noqa: CODES`` keeps every selector, so that a misspelt one can be reported
    (X002). A plain ``# noqa: CODES`` is shared with flake8, ruff and other tools: only the
    selectors that name mpql rules are kept, the rest belong to those tools (``# noqa: E501``
    suppresses no mpql finding). A blanket ``# noqa`` suppresses everything, as in ruff."""
    from .rules import resolve_selectors

    out: dict = {}
    if "noqa" not in text.lower():
        return out
    for lineno, line in enumerate(text.splitlines(), 1):
        hash_at = comment_start(line)
        if hash_at is None:
            continue
        for m in _NOQA.finditer(line, hash_at):
            codes = m.group("codes")
            if not codes:
                out[lineno] = None
                continue
            selectors = {c for c in re.split(r"[\s,]+", codes) if c}
            if not m.group("mpql"):
                selectors = {c for c in selectors if _names_rule(c, resolve_selectors)}
            if lineno not in out:
                out[lineno] = selectors
            elif out[lineno] is not None:
                out[lineno] |= selectors
    return out


def _names_rule(selector: str, resolve_selectors) -> bool:
    """A full code or a rule name (not a bare prefix such as ``E``: in a shared ``# noqa``,
    a prefix is another tool's business)."""
    from .rules import get_rule

    try:
        return get_rule(selector) is not None and bool(resolve_selectors([selector]))
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# .mpql


def _extract_mpql(text: str, problems: list | None) -> list[Unit]:
    directives = list(_directives(text)) if "mpql:" in text else []
    units = []
    for chunk in split_mpql(text):
        settings: dict = {}
        for offset, found in directives:
            if offset < chunk.offset + len(chunk.text) and isinstance(found, dict):
                settings.update(found)
        n = len(chunk.text)
        units.append(Unit(chunk.text, chunk.offset, chunk.offset + n,
                          _Linear(chunk.offset, n + 1), settings, escape=_identity))
    if problems is not None:
        for offset, found in directives:
            if isinstance(found, str):
                problems.append((offset, found))
    return units


class _Linear:
    """offsets[i] == base + i without materialising the list (blocks can be long)."""

    __slots__ = ("base", "length")

    def __init__(self, base: int, length: int):
        self.base, self.length = base, length

    def __len__(self):
        return self.length

    def __getitem__(self, i):
        return self.base + i


def _identity(text: str) -> str:
    return text


# ---------------------------------------------------------------------------------------------
# Python


def _extract_python(text: str, calls: tuple = ()) -> list[Unit]:
    if not calls and not _MAY_BE_MIXPANEL.search(text):
        return []  # nothing here can reach a Mixpanel call: not even worth parsing
    from .pysites import KEYS, mixpanel_sites

    try:
        tree = ast.parse(text)
        sites = list(mixpanel_sites(tree, calls))
    except SyntaxError as exc:
        raise HostError(f"not valid Python: {exc.msg}",
                        _offset_of(text, exc.lineno or 1, (exc.offset or 1) - 1, chars=True))
    except RecursionError:
        raise HostError("nested too deeply to read", 0) from None
    lines = _LineStarts(text)
    directives = [(o, d) for o, d in _directives(text) if isinstance(d, dict)] \
        if "mpql:" in text else []
    units = []
    for value, key, site in sites:
        unit = _python_unit(text, lines, value, dict(site, param=KEYS[key]))
        if unit is not None:
            for offset, found in directives:
                if offset < unit.start:
                    unit.settings.update(found)
            units.append(unit)
    units.sort(key=lambda u: u.start)
    return units


class _LineStarts:
    def __init__(self, text: str):
        self.text = text
        self.starts = [0]
        for i, c in enumerate(text):
            if c == "\n":
                self.starts.append(i + 1)

    def offset(self, lineno: int, col_bytes: int) -> int:
        start = self.starts[lineno - 1]
        end = self.starts[lineno] if lineno < len(self.starts) else len(self.text)
        line = self.text[start:end]
        return start + len(line.encode("utf-8")[:col_bytes].decode("utf-8", "ignore"))


def _offset_of(text: str, lineno: int, col: int, chars: bool = False) -> int:
    starts = _LineStarts(text)
    lineno = max(1, min(lineno, len(starts.starts)))
    if chars:
        return min(len(text), starts.starts[lineno - 1] + max(0, col))
    return starts.offset(lineno, col)


def _is_stringy(node) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_stringy(node.left) or _is_stringy(node.right)
    return False


def _python_unit(text, lines, value, site) -> Unit | None:
    start = lines.offset(value.lineno, value.col_offset)
    end = lines.offset(value.end_lineno, value.end_col_offset)
    if isinstance(value, ast.JoinedStr):
        return Unit("", start, end, None, site, not_checkable="an f-string")
    if isinstance(value, ast.BinOp) and _is_stringy(value):
        how = "`%` formatting" if isinstance(value.op, ast.Mod) else "concatenation"
        return Unit("", start, end, None, site, not_checkable=how)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
            and value.func.attr == "format" and _is_stringy(value.func.value):
        return Unit("", start, end, None, site, not_checkable="`.format()`")
    if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
        return None  # a variable or a builder expression: checked where it is built
    segment = text[start:end]
    mapped = _map_python_literal(segment, value.value)
    if mapped is None:
        return Unit(value.value, start, end, None, site,
                    note="position approximate: the literal is implicitly concatenated or "
                         "its escapes could not be mapped")
    offsets, escape = mapped
    return Unit(value.value, start, end, tuple(start + o for o in offsets), site, escape)


_PY_PREFIX = LazyRegex(r"^([rRuU]{0,2})('''|\"\"\"|'|\")")


def _map_python_literal(segment: str, value: str):
    m = _PY_PREFIX.match(segment)
    if not m:
        return None
    prefix, quote = m.group(1).lower(), m.group(2)
    body_start = m.end()
    if not segment.endswith(quote) or len(segment) < body_start + len(quote):
        return None
    body = segment[body_start: len(segment) - len(quote)]
    raw = "r" in prefix
    offsets: list[int] = []
    out: list[str] = []
    if raw:
        out.append(body)
        offsets.extend(body_start + i for i in range(len(body)))
    else:
        i = 0
        while i < len(body):
            c = body[i]
            if c != "\\":
                out.append(c)
                offsets.append(body_start + i)
                i += 1
                continue
            j = _escape_end(body, i)
            piece = body[i:j]
            try:
                decoded = ast.literal_eval('"' + piece + '"') if piece != "\\\n" else ""
            except (SyntaxError, ValueError):
                return None
            for k, ch in enumerate(decoded):
                out.append(ch)
                offsets.append(body_start + i + (k if len(decoded) == len(piece) else 0))
            i = j
    if "".join(out) != value:
        return None  # implicit concatenation, or something this mapper does not model
    offsets.append(body_start + len(body))
    single = quote[0]
    triple = len(quote) == 3

    def escape(replacement: str):
        if raw:
            if "\\" in replacement or single in replacement or (
                    not triple and "\n" in replacement):
                return None
            return replacement
        r = replacement.replace("\\", "\\\\")
        if not triple:
            r = r.replace(single, "\\" + single).replace("\n", "\\n")
        elif single * 3 in r:
            return None
        return r

    return offsets, escape


def _escape_end(body: str, i: int) -> int:
    nxt = body[i + 1: i + 2]
    if nxt == "x":
        return i + 4
    if nxt == "u":
        return i + 6
    if nxt == "U":
        return i + 10
    if nxt == "N":
        close = body.find("}", i)
        return close + 1 if close != -1 else i + 2
    if nxt and nxt in "01234567":
        j = i + 1
        while j < len(body) and j < i + 4 and body[j] in "01234567":
            j += 1
        return j
    return i + 2


# ---------------------------------------------------------------------------------------------
# JSON


def _extract_json(text: str, everything: bool = False) -> list[Unit]:
    if not _JSON_KEY.search(text) or not (everything or _JSON_MARK.search(text)):
        return []  # no expression key, or nothing Mixpanel: tsconfig, workflows, fixtures…
    from .pysites import KEYS, is_mixpanel_url, url_endpoint

    import json  # lazily: only JSON hosts need it
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise HostError(f"not valid JSON: {exc.msg}", exc.pos)
    except RecursionError:
        raise HostError("nested too deeply to read", 0) from None
    units = []
    # object frames: [_OBJ, expecting_key, key, strings, endpoint, enclosing obj frame,
    #                 marked (clearly Mixpanel), endpoint from a Mixpanel URL]; arrays: [_ARR]
    stack: list = []
    pending: list = []  # (key, start, end, frame): markers may follow the key, so decide last
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = _json_string_end(text, i)
            frame = stack[-1] if stack else None
            if frame is not None and frame[0] == "obj" and frame[1]:
                frame[2] = json.loads(text[i:j])
                frame[1] = False
                if frame[2].lower() in ("mpql", "$mpql"):  # {"mpql": 1, …}: an explicit mark
                    frame[6] = True
            elif frame is not None and frame[0] == "obj":
                if frame[2] in KEYS:
                    frame[3].append((frame[2], i, j))
                else:
                    value = json.loads(text[i:j])
                    if frame[2] == "endpoint":
                        # "export", or a URL: "https://data.mixpanel.com/api/2.0/export"
                        frame[4] = (url_endpoint(value) or "any") if "/" in value else value
                        if value.lower() in _MIXPANEL_ENDPOINTS:
                            frame[6] = True
                    if is_mixpanel_url(value):
                        frame[6] = True
                        frame[7] = frame[7] or url_endpoint(value)
            elif frame is not None and is_mixpanel_url(json.loads(text[i:j])):
                owner = next((f for f in reversed(stack) if f[0] == "obj"), None)
                if owner is not None:  # a URL in a list: ["https://mixpanel.com/…"]
                    owner[6] = True
            i = j
            continue
        if c == "{":
            parent = next((f for f in reversed(stack) if f[0] == "obj"), None)
            # the value of a key naming Mixpanel ({"mixpanel": {…}}, "mixpanel_queries": […])
            named = parent is not None and isinstance(parent[2], str) and (
                "mixpanel" in parent[2].lower() or "mpql" in parent[2].lower())
            stack.append(["obj", True, None, [], None, parent, named, None])
        elif c == "[":
            stack.append(["arr"])
        elif c in "}]":
            frame = stack.pop()
            if frame[0] == "obj":
                pending.extend((key, s, e, frame) for key, s, e in frame[3])
        elif c == "," and stack and stack[-1][0] == "obj":
            stack[-1][1] = True
        i += 1
    for key, s, e, frame in pending:
        # The object's own "endpoint", else the nearest enclosing object's (a file of saved
        # queries often states it once at the top), else a Mixpanel URL's path.
        endpoint = None
        marked = everything
        while frame is not None:
            marked = marked or frame[6]
            if endpoint is None:
                endpoint = frame[4] if frame[4] is not None else frame[7]
            frame = frame[5]
        if marked:
            units.append(_json_unit(text, s, e, KEYS[key], endpoint))
    units.sort(key=lambda u: u.start)
    return units


def _json_string_end(text: str, i: int) -> int:
    j = i + 1
    while True:
        c = text[j]
        if c == "\\":
            j += 2
        elif c == '"':
            return j + 1
        else:
            j += 1


def _json_unit(text, start, end, param, endpoint) -> Unit:
    import json  # lazily: only JSON hosts need it
    token = text[start:end]
    value = json.loads(token)
    offsets: list[int] = []
    i = 1
    body_end = len(token) - 1
    while i < body_end:
        if token[i] != "\\":
            offsets.append(start + i)
            i += 1
            continue
        if token[i + 1] == "u":
            code = int(token[i + 2: i + 6], 16)
            if 0xD800 <= code < 0xDC00 and token[i + 6: i + 8] == "\\u":
                offsets.append(start + i)
                i += 12
                continue
            offsets.append(start + i)
            i += 6
            continue
        offsets.append(start + i)
        i += 2
    settings = {"param": param}
    if isinstance(endpoint, str):
        settings["endpoint"] = endpoint
    if len(offsets) != len(value):
        return Unit(value, start, end, None, settings,
                    note="position approximate: escapes could not be mapped")
    offsets.append(start + body_end)
    return Unit(value, start, end, tuple(offsets), settings,
                escape=lambda r: json.dumps(r, ensure_ascii=False)[1:-1])

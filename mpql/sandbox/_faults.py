"""Fault injection: a small spec language that says which requests fail, and how.

Grammar (docs/sandbox.md has the full reference and examples)::

    spec     := rule { ";" rule }                 newlines also separate rules
    rule     := selector { ":" action }+
    selector := target [ "[" name "=" value { "," name "=" value } "]" ] [ "#" which ]
    target   := "export" | "engage" | "any"
    which    := N | N "-" M | N "+" | "*"          1-based; counted per rule
    action   := STATUS                             e.g. 429, 500, 502, 503, 504, 400, 401, 403
              | "retry-after=" SECONDS | "no-retry-after" | "policy=" ("hour"|"second"|"concurrency"|"none")
              | "message=" TEXT                    (quote TEXT with "…" if it contains : or ;)
              | "delay=" SECONDS                   slow first byte
              | "reset-after=" BYTES               connection reset after BYTES of the body
              | "drop"                             connection reset before any response
              | "truncate=" BYTES                  body cut after BYTES (uncompressed), ended cleanly;
                                                   with gzip: no final block, no gzip trailer
              | "terminated-early" [ "=" LINES ]   after LINES records, a `terminated early` line
              | "split-line" [ "=" N ]             the Nth record (default 1) split across two lines
              | "stall=" SECONDS [ ":stall-after=" BYTES ]   pause mid-body (default: after 0 bytes)
              | "expired"                          400 `Unable to authenticate request`

Example: ``export#2:429:retry-after=1; engage#1:reset-after=300; export[from_date=2024-01-03]#1-2:503``.

Each rule counts the requests that match its target and parameter filter, from the moment the
rule was added; ``#2`` is the second such request. A request gets the actions of the first rule
(in spec order) whose count is in range; every matching rule's counter still advances.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Sequence

import attrs

from ..errors import InputError

__all__ = ["Fault", "FaultSet", "parse_faults"]

TARGETS = ("export", "engage", "any")
POLICIES = ("hour", "second", "concurrency", "none")
EXPORT_ONLY = ("terminated_early", "split_line")


@attrs.frozen
class Fault:
    """One rule of a fault spec. ``text`` is the rule as written (shown in request records)."""

    target: str = "any"
    params: tuple = ()  # ((name, value), …): the request must carry these parameter values
    first: int | None = None  # 1-based, inclusive; None = from the first
    last: int | None = None  # inclusive; None = no end
    status: int | None = None
    retry_after: float | None = None
    no_retry_after: bool = False
    policy: str | None = None
    message: str | None = None
    delay: float = 0.0
    reset_after: int | None = None
    drop: bool = False
    truncate: int | None = None
    terminated_early: int | None = None
    split_line: int | None = None
    stall: float = 0.0
    stall_after: int = 0
    expired: bool = False
    text: str = ""

    def matches(self, endpoint: str | None, params: dict) -> bool:
        if self.target != "any" and self.target != endpoint:
            return False
        return all(params.get(k) == v for k, v in self.params)

    def in_range(self, n: int) -> bool:
        return (self.first is None or n >= self.first) and (self.last is None or n <= self.last)


def _scan_selector(text: str):
    """(target, params text or None, which or None) — brackets and quotes inside the parameter
    filter are skipped, so values like ``event=["A","B"]`` work."""
    text = text.strip()
    m = re.match(r"[a-z]+", text)
    if not m:
        return None
    target, i = m.group(0), m.end()
    params = None
    if i < len(text) and text[i] == "[":
        depth, quoted, j = 0, False, i
        while j < len(text):
            ch = text[j]
            if ch == '"' and text[j - 1] != "\\":
                quoted = not quoted
            elif not quoted and ch == "[":
                depth += 1
            elif not quoted and ch == "]":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= len(text):
            return None
        params, i = text[i + 1:j], j + 1
    rest = text[i:].strip()
    which = None
    if rest:
        if not rest.startswith("#"):
            return None
        which = rest[1:].strip()
    return target, params, which


def _split_params(text: str) -> list[str]:
    """Split a parameter filter on commas outside quotes and brackets."""
    parts, buf, depth, quoted = [], [], 0, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "[":
            depth += 1
        elif not quoted and ch == "]":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double quotes."""
    parts, buf, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if quoted:
        raise InputError(f"fault spec: unterminated quote in {text!r}")
    parts.append("".join(buf))
    return parts


def parse_faults(spec: str | Iterable[Fault | str] | None) -> list[Fault]:
    """Parse a fault spec (or pass through a list of Fault / spec strings)."""
    if spec is None:
        return []
    if isinstance(spec, Fault):
        return [spec]
    if not isinstance(spec, str):
        out: list[Fault] = []
        for item in spec:
            if not isinstance(item, (str, Fault)):
                raise InputError(f"faults: expected spec strings or Fault objects, found "
                                 f"{type(item).__name__}")
            out.extend(parse_faults(item))
        return out
    rules = []
    for line in spec.splitlines():
        for raw in _split(line, ";"):
            if raw.strip():
                rules.append(_parse_rule(raw.strip()))
    return rules


def _num(value: str, what: str, rule: str, *, integer: bool = False, minimum: float = 0) -> float:
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise InputError(f"fault rule {rule!r}: {what} expects {kind}, found {value!r}") from None
    if not minimum <= number < math.inf:  # NaN fails too: time.sleep(nan) raises
        raise InputError(f"fault rule {rule!r}: {what} must be a finite number ≥ {minimum}, found {value!r}")
    return number


# Actions with a value: name → (Fault field, integer?, minimum, value when written bare or None
# if the "=value" is required).
_VALUED = {
    "retry-after": ("retry_after", False, 0, None),
    "delay": ("delay", False, 0, None),
    "reset-after": ("reset_after", True, 0, None),
    "truncate": ("truncate", True, 1, None),
    "truncate-gzip": ("truncate", True, 1, None),
    "terminated-early": ("terminated_early", True, 0, 10),
    "split-line": ("split_line", True, 1, 1),
    "stall": ("stall", False, 0, None),
    "stall-after": ("stall_after", True, 0, None),
}
# Bare flags: name → Fault field.
_FLAGS = {"no-retry-after": "no_retry_after", "drop": "drop", "expired": "expired"}


def _parse_rule(rule: str) -> Fault:
    pieces = _split(rule, ":")
    scanned = _scan_selector(pieces[0])
    if scanned is None:
        raise InputError(
            f"fault rule {rule!r}: expected a selector like `export#2` or `engage[page=1]`, "
            f"found {pieces[0].strip()!r}"
        )
    target, params_text, which = scanned
    if target not in TARGETS:
        raise InputError(
            f"fault rule {rule!r}: unknown target {target!r}; expected one of {', '.join(TARGETS)}"
        )
    params = []
    if params_text:
        for item in _split_params(params_text):
            name, eq, value = item.partition("=")
            if not eq or not name.strip():
                raise InputError(f"fault rule {rule!r}: expected name=value inside [...], found {item!r}")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            params.append((name.strip(), value))
    first = last = None
    if which is not None and which != "*":
        wm = re.fullmatch(r"(\d+)(?:(-)(\d+)|(\+))?", which)
        if not wm or int(wm.group(1)) < 1:
            raise InputError(
                f"fault rule {rule!r}: expected N, N-M, N+ or * after '#' (1-based), found {which!r}"
            )
        first = int(wm.group(1))
        if wm.group(2):
            last = int(wm.group(3))
            if last < first:
                raise InputError(f"fault rule {rule!r}: empty range #{which}")
        elif not wm.group(4):
            last = first
    fields: dict = {}
    if len(pieces) < 2 or not any(p.strip() for p in pieces[1:]):
        raise InputError(f"fault rule {rule!r}: no action; add one such as `:429` or `:reset-after=100`")
    for piece in pieces[1:]:
        piece = piece.strip()
        if not piece:
            continue
        name, eq, value = piece.partition("=")
        name, value = name.strip().lower(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name.isdigit() and not eq:
            status = int(name)
            if not 400 <= status <= 599:
                raise InputError(f"fault rule {rule!r}: status must be 400–599, found {status}")
            fields["status"] = status
        elif name in _FLAGS and not eq:
            fields[_FLAGS[name]] = True
        elif name == "policy":
            if value not in POLICIES:
                raise InputError(f"fault rule {rule!r}: policy must be one of {', '.join(POLICIES)}, found {value!r}")
            fields["policy"] = value
        elif name == "message":
            fields["message"] = value
        elif name in _VALUED:
            field, integer, minimum, bare = _VALUED[name]
            number = bare if not eq and bare is not None else _num(value, name, rule, integer=integer,
                                                                    minimum=minimum)
            fields[field] = int(number) if integer else number
        else:
            raise InputError(
                f"fault rule {rule!r}: unknown action {piece!r}; expected a status (429, 503, …), "
                "retry-after=S, no-retry-after, policy=P, message=TEXT, delay=S, reset-after=N, "
                "drop, truncate=N, terminated-early[=N], split-line[=N], stall=S, stall-after=N "
                "or expired"
            )
    if (fields.get("retry_after") is not None or fields.get("no_retry_after") or fields.get("policy")) \
            and fields.get("status") is None:
        fields["status"] = 429
    if fields.get("status") is not None and any(
        fields.get(k) is not None and fields.get(k) is not False
        for k in ("reset_after", "truncate", "terminated_early", "drop", "split_line", "stall")
    ):
        raise InputError(
            f"fault rule {rule!r}: an error status cannot be combined with a body fault "
            "(reset-after, truncate, terminated-early, split-line, stall, drop)"
        )
    if "stall_after" in fields and "stall" not in fields:
        raise InputError(f"fault rule {rule!r}: stall-after needs stall=SECONDS")
    for name in EXPORT_ONLY:
        if target == "engage" and fields.get(name) is not None:
            raise InputError(
                f"fault rule {rule!r}: {name.replace('_', '-')} only applies to export (JSONL)"
            )
    return Fault(target=target, params=tuple(params), first=first, last=last, text=rule, **fields)


class FaultSet:
    """The rules of a running sandbox, with their counters (thread-safe)."""

    def __init__(self, faults: Sequence[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._rules: list[list] = []  # [fault, count]
        self.add(faults)

    def add(self, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._rules.extend([f, 0] for f in faults)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[Fault]:
        with self._lock:
            return [f for f, _ in self._rules]

    def pick(self, endpoint: str | None, params: dict) -> Fault | None:
        chosen = None
        with self._lock:
            for rule in self._rules:
                fault = rule[0]
                if not fault.matches(endpoint, params):
                    continue
                rule[1] += 1
                if chosen is None and fault.in_range(rule[1]):
                    chosen = fault
        return chosen

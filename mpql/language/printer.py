"""AST → text, in two styles.

``pretty``: the canonical form people read and commit — minimal parentheses, one space around
binary operators, lowercase keywords, ``NOW`` in capitals, double-quoted strings with the
fewest escapes, numbers as plain decimals. Parsing a pretty print gives back an equal tree.

``wire``: what mpql sends to Mixpanel. Mixpanel documents no precedence, and its server lexes
``NOW -1`` as ``NOW`` followed by the literal ``-1`` (docs/mixpanel-reference.md §1.4, §1.9), so every operator
expression below the top is parenthesised and every binary operator has spaces around it.

The printer recurses once per nesting level, which the parser bounds (``MAX_DEPTH``); long
chains of one operator (``a or b or c …``, the shape generated filters have) are printed
iteratively, so their length does not matter.
"""

from __future__ import annotations

import math

from ..errors import ArgumentError, ArgumentTypeError
from . import ast as A

__all__ = ["format_expr", "quote", "format_number", "STYLES"]

STYLES = ("pretty", "wire")

# Binding strength, loosest first (docs/mixpanel-reference.md §1.9; grammar/mpql.lark).
_OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _ATOM = range(1, 9)
_ARITH_PREC = {"+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "%": _MUL}


def quote(value: str) -> str:
    """A double-quoted string literal that the parser decodes back to exactly ``value``."""
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) < 0xE000 or ch in "\u2028\u2029":
            # Control characters, and lone surrogates (which cannot be sent as UTF-8).
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_number(value) -> str:
    """Plain decimal notation: Mixpanel's docs show no exponents."""
    if isinstance(value, bool):
        raise ArgumentTypeError("booleans are not numbers here")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ArgumentError(f"{value!r} cannot be written in a Mixpanel expression")
    if value.is_integer() and abs(value) < 1e16:
        return f"{int(value)}.0" if value or math.copysign(1, value) > 0 else "-0.0"
    text = repr(value)  # the shortest text that reads back as the same float
    if "e" not in text:
        return text
    from decimal import Decimal  # only for exponents: kept out of start-up

    text = format(Decimal(repr(value)), "f")
    # A float must print as a float: `1e300` is not the integer 10**300.
    return text if "." in text else text + ".0"


def _prec(node: A.Expr) -> int:
    if isinstance(node, A.Or):
        return _OR
    if isinstance(node, A.And):
        return _AND
    if isinstance(node, A.Not):
        return _NOT
    if isinstance(node, (A.Compare, A.In)):
        return _CMP
    if isinstance(node, A.Arith):
        return _ARITH_PREC[node.op]
    if isinstance(node, A.Neg):
        return _NEG
    return _ATOM


def format_expr(node: A.Expr, style: str = "pretty") -> str:
    if style not in STYLES:
        raise ArgumentError(f"unknown style {style!r}: expected 'pretty' or 'wire'")
    return _Printer(style == "wire").top(node)


class _Printer:
    def __init__(self, wire: bool) -> None:
        self.wire = wire

    def top(self, node: A.Expr) -> str:
        return self.emit(node)

    def sub(self, node: A.Expr, min_prec: int) -> str:
        """``node`` as an operand that must bind at least as tightly as ``min_prec``."""
        text = self.emit(node)
        prec = _prec(node)
        if prec < min_prec or (self.wire and prec != _ATOM):
            return f"({text})"
        return text

    def emit(self, node: A.Expr) -> str:
        if isinstance(node, A.Property):
            return f"{node.scope}[{quote(node.name)}]"
        if isinstance(node, A.String):
            return quote(node.value)
        if isinstance(node, A.Number):
            return format_number(node.value)
        if isinstance(node, A.Boolean):
            return "true" if node.value else "false"
        if isinstance(node, A.Now):
            return "NOW"
        if isinstance(node, A.ListLiteral):
            return "[" + ", ".join(self.emit(i) for i in node.items) + "]"
        if isinstance(node, A.Call):
            return f"{node.name}(" + ", ".join(self.emit(a) for a in node.args) + ")"
        if isinstance(node, A.Any):
            return f"any({node.var}, {self.emit(node.items)}, {self.emit(node.predicate)})"
        if isinstance(node, A.Var):
            return node.name
        if isinstance(node, A.Not):
            return "not " + self.sub(node.operand, _NOT)
        if isinstance(node, A.Neg):
            operand = node.operand
            # `-(5)` keeps a negated literal distinct from the literal `-5`; `- -x` avoids `--`.
            if isinstance(operand, A.Number):
                return f"-({self.emit(operand)})"
            inner = self.sub(operand, _NEG)
            return "-" + inner if not inner.startswith("-") else "- " + inner
        if isinstance(node, (A.And, A.Or, A.Arith)):
            return self.chain(node)
        if isinstance(node, A.Compare):
            return f"{self.sub(node.left, _ADD)} {node.op} {self.sub(node.right, _ADD)}"
        if isinstance(node, A.In):
            return f"{self.sub(node.left, _ADD)} in {self.sub(node.right, _ADD)}"
        raise ArgumentTypeError(f"cannot print {type(node).__name__}: not an mpql Expr node")

    def chain(self, node: A.Expr) -> str:
        """A left-nested run of one precedence level (``a or b or c``, ``a + b - c``), walked
        iteratively so that a filter with thousands of terms does not exhaust the stack."""
        prec = _prec(node)
        tail: list[str] = []
        while _prec(node) == prec and isinstance(node, (A.And, A.Or, A.Arith)):
            word = node.op if isinstance(node, A.Arith) else (
                "and" if isinstance(node, A.And) else "or")
            tail.append(f" {word} {self.sub(node.right, prec + 1)}")
            node = node.left
        head = self.sub(node, prec)
        tail.reverse()
        if self.wire and prec in (_ADD, _MUL) and len(tail) > 1:
            # Associativity is undocumented too: `a - b - c` goes out as `((a - b) - c)`.
            # `and`/`or` chains stay flat: they are associative whatever the grouping.
            return "(" * (len(tail) - 1) + head + ")".join(tail)
        return head + "".join(tail)

"""The language core: grammar loading, AST, parser, printer.

``parse`` and ``format`` are re-exported as ``mpql.parse`` and ``mpql.format``.
"""

from __future__ import annotations

from . import ast
from .parser import parse
from .printer import format_expr

__all__ = ["ast", "parse", "format", "format_expr"]


def format(expr_or_text, style: str = "pretty") -> str:
    """Print an expression (an ``Expr``, or text that is parsed first) in ``style``:
    ``"pretty"`` (canonical, minimal parentheses) or ``"wire"`` (fully parenthesised; what is
    sent to Mixpanel)."""
    node = parse(expr_or_text) if isinstance(expr_or_text, str) else expr_or_text
    return format_expr(node, style)

"""The language core: grammar loading, AST, parser, printer.

``parse`` and ``format`` are re-exported as ``mpql.parse`` and ``mpql.format``. The parser and
printer are loaded on first use: ``mpql.diagnostics`` imports ``mpql.language.ast``, and the
parser imports ``mpql.diagnostics``, so importing them here eagerly would make the import order
matter.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import ast

__all__ = ["ast", "parse", "format", "format_expr"]

_LAZY = {"parse": ".parser", "format_expr": ".printer"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mpql.language' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def format(expr_or_text, style: str = "pretty") -> str:
    """Print an expression — text (parsed first), an ``Expr`` (what ``parse`` returns) or a
    builder term (``prop("x") == 1``) — in ``style``: ``"pretty"`` (canonical, minimal
    parentheses) or ``"wire"`` (fully parenthesised; what is sent to Mixpanel). Anything else
    raises ArgumentTypeError."""
    from ..errors import ArgumentTypeError
    from . import ast as A
    from .parser import parse
    from .printer import format_expr

    if isinstance(expr_or_text, str):
        node = parse(expr_or_text)
    elif isinstance(expr_or_text, A.Expr):
        node = expr_or_text
    elif isinstance(getattr(expr_or_text, "expr", None), A.Expr):  # a builder Term
        node = expr_or_text.expr
    else:
        raise ArgumentTypeError(
            "mpql.format() takes expression text, an mpql Expr (what mpql.parse returns) or "
            f"a builder term (mpql.prop(...) == …), got {type(expr_or_text).__name__}")
    return format_expr(node, style)


if TYPE_CHECKING:  # pragma: no cover
    from .parser import parse
    from .printer import format_expr

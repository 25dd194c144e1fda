"""The checker: static types, scopes and lint rules for mpql expressions.

Public API::

    check(expr_or_text, endpoint="any", param="where", schema=None) -> list[Diagnostic]
    Context, Schema, load_schema, infer_schema, infer_type, RULES, get_rule

``check`` never raises on bad expressions: syntax errors come back as E1xx diagnostics. The
linter (``mpql.checker.lint``) builds on it to read files, apply directives, suppressions,
config and fixes; ``mpql lint`` is a thin CLI over that.
"""

from __future__ import annotations

from .engine import Context, check, infer_type
from .rules import RULES, Rule, get_rule
from .schema import Schema, infer_schema, load_schema, parse_schema

__all__ = ["check", "Context", "infer_type", "Schema", "load_schema", "parse_schema",
           "infer_schema", "RULES", "Rule", "get_rule"]

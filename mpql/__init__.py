"""mpql — parse, check, build, plan, run and locally evaluate Mixpanel segmentation expressions.

The public API is exactly the names in ``__all__`` (plus the documented submodules
``mpql.sandbox``, ``mpql.aggregates`` and ``mpql.build``); everything else is internal and may
change. Names are loaded lazily on first use so that ``import mpql`` and the CLI start fast.

Architecture, one subpackage per layer (each module docstring says how it fits)::

    grammar/mpql.lark     the grammar (shipped inside the wheel as mpql/grammar/)
    mpql/language/        AST, parser, printer             → parse, format
    mpql/diagnostics.py   Diagnostic, Fix, Edit            (shared by parser and checker)
    mpql/errors.py        the exception hierarchy          → MpqlError, ParseError, …
    mpql/checker/         types, scopes, lint rules        → check
    mpql/builder/         Python DSL for expressions       → prop, user, and_, …
    mpql/planner/         queries → plans of HTTP steps    → Query, Plan, ServiceAccount, …
    mpql/evaluator/       Mixpanel semantics in Python     → evaluate, compile_predicate
    mpql/aggregates/      segmentation, retention, funnels computed locally (mpql.aggregates)
    mpql/sandbox/         Mixpanel-compatible local server → mpql.sandbox.Sandbox
    mpql/executor/        runs plans over HTTP             → Client
    mpql/repl/            interactive filter testing
    mpql/cli/             the `mpql` command
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name → module that defines it; nothing is imported until used.
_LAZY = {
    # language core
    "parse": "mpql.language",
    "format": "mpql.language",
    "ast": "mpql.language",
    "Diagnostic": "mpql.diagnostics",
    "Fix": "mpql.diagnostics",
    "Edit": "mpql.diagnostics",
    # errors
    "MpqlError": "mpql.errors",
    "ArgumentError": "mpql.errors",
    "ArgumentTypeError": "mpql.errors",
    "EvaluationError": "mpql.errors",
    "ParseError": "mpql.errors",
    "CheckError": "mpql.errors",
    "BuildError": "mpql.errors",
    "QueryError": "mpql.errors",
    "PlanError": "mpql.errors",
    "ConfigError": "mpql.errors",
    "InputError": "mpql.errors",
    "SandboxError": "mpql.errors",
    "ExecutionError": "mpql.errors",
    "TransportError": "mpql.errors",
    "ApiError": "mpql.errors",
    "RateLimitError": "mpql.errors",
    "AuthenticationError": "mpql.errors",
    # checker
    "check": "mpql.checker",
    # builder
    "prop": "mpql.builder",
    "user": "mpql.builder",
    "event": "mpql.builder",
    "behavior": "mpql.builder",
    "lit": "mpql.builder",
    "and_": "mpql.builder",
    "or_": "mpql.builder",
    "not_": "mpql.builder",
    "any_": "mpql.builder",
    "NOW": "mpql.builder",
    # planner
    "Query": "mpql.planner",
    "AggregateQuery": "mpql.planner",
    "Plan": "mpql.planner",
    "ServiceAccount": "mpql.planner",
    "ProjectSecret": "mpql.planner",
    # evaluator
    "evaluate": "mpql.evaluator",
    "compile_predicate": "mpql.evaluator",
    "Undefined": "mpql.evaluator",
    # executor
    "Client": "mpql.executor",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mpql' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .diagnostics import Diagnostic, Edit, Fix
    from .errors import (
        ApiError, ArgumentError, ArgumentTypeError, AuthenticationError, BuildError,
        EvaluationError, CheckError, ConfigError, ExecutionError,
        InputError, MpqlError, ParseError, PlanError, QueryError, RateLimitError,
        SandboxError, TransportError,
    )
    from .language import ast, format, parse

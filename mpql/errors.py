"""Every exception mpql raises, in one hierarchy, so ``except mpql.MpqlError`` catches them all.

::

    MpqlError                      base of everything below; never raised itself
    ├── ArgumentError (+ ValueError)   a public function or constructor was given an argument
    │   │                              it cannot use (an unknown endpoint, style, scope, …)
    │   └── ArgumentTypeError (+ TypeError)  … an argument of the wrong type (parse(None))
    ├── ParseError                 text is not a valid expression   (.diagnostic: where and why)
    ├── CheckError                 an expression failed a strict check (.diagnostics)
    ├── BuildError (+ TypeError)   the builder was given a value it cannot express
    ├── QueryError (+ ValueError)  a query's inputs are invalid (dates, limits, exclusive options)
    ├── PlanError                  a valid query that cannot be planned (e.g. profiles filtered
    │                              on event properties)
    ├── ConfigError                bad config, schema file, credentials or environment
    ├── InputError                 an input file or stream is unreadable or malformed
    ├── EvaluationError            a record on which Mixpanel would fail the query (.node,
    │                              .value; see docs/semantics.md)
    ├── SandboxError               the embedded sandbox could not start or serve
    └── ExecutionError             running a plan failed
        ├── TransportError         connection failed, stream broke or was truncated
        ├── ApiError               Mixpanel answered with an error status (.status, .message,
        │   │                      .request with secrets redacted, .advice)
        │   ├── BadRequestError        400
        │   ├── AuthenticationError    401
        │   ├── PaymentRequiredError   402
        │   ├── ForbiddenError         403
        │   ├── NotFoundError          404
        │   ├── RateLimitError         429 (retries exhausted)
        │   └── ServerError            5xx (retries exhausted)
        └── DeadlineExceeded       the overall deadline passed before the plan finished

The ``+ ValueError``/``+ TypeError`` classes are also the built-in exception Python code
would expect there, so ``except ValueError`` around ``Query.events(...)`` keeps working.
Messages name the thing, what was expected and what was found. None of them ever contains a
secret: anything that renders a request goes through the executor's redaction.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Iterator, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from .diagnostics import Diagnostic

__all__ = [
    "MpqlError",
    "ArgumentError",
    "ArgumentTypeError",
    "ParseError",
    "CheckError",
    "BuildError",
    "QueryError",
    "PlanError",
    "ConfigError",
    "InputError",
    "SandboxError",
    "ExecutionError",
    "TransportError",
    "ApiError",
    "BadRequestError",
    "AuthenticationError",
    "PaymentRequiredError",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "DeadlineExceeded",
    "EvaluationError",
]


class MpqlError(Exception):
    """Base class of every error mpql raises."""


class ArgumentError(MpqlError, ValueError):
    """A public function or constructor was given an argument it cannot use."""


class ArgumentTypeError(ArgumentError, TypeError):
    """A public function or constructor was given an argument of the wrong type."""


class ParseError(MpqlError):
    """The text is not a valid mpql expression.

    ``diagnostic`` holds the code, message, span, help and fix; ``str(error)`` is the one-line
    message and ``error.render()`` the ruff-style block with the source line and carets.
    """

    def __init__(self, diagnostic: "Diagnostic") -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic

    @property
    def code(self) -> str:
        return self.diagnostic.code

    @property
    def span(self):
        return self.diagnostic.span

    @property
    def line(self) -> int:
        return self.diagnostic.line

    @property
    def column(self) -> int:
        return self.diagnostic.column

    @property
    def help(self) -> str | None:
        return self.diagnostic.help

    def render(self, filename: str = "<expr>") -> str:
        return self.diagnostic.render(filename=filename)

    def __str__(self) -> str:
        d = self.diagnostic
        return f"{d.code} {d.message} (line {d.line}, column {d.column})"


class CheckError(MpqlError):
    """An expression failed a check that was asked to raise (``diagnostics`` lists why)."""

    def __init__(self, diagnostics: Sequence["Diagnostic"]) -> None:
        self.diagnostics = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(
            f"{first.code} {first.message}" if first else "expression failed its checks"
        )


class BuildError(MpqlError, TypeError):
    """The builder was given a value it cannot turn into an expression."""


class QueryError(MpqlError, ValueError):
    """A query's inputs are invalid."""


class PlanError(MpqlError):
    """A valid query that cannot be turned into Mixpanel requests."""


class ConfigError(MpqlError):
    """Configuration, schema, credentials or environment are unusable."""


class InputError(MpqlError):
    """An input file or stream is unreadable or malformed."""


class SandboxError(MpqlError):
    """The embedded sandbox could not start or serve."""


class ExecutionError(MpqlError):
    """Running a plan failed."""


class TransportError(ExecutionError):
    """The connection failed, or a response stream broke or was truncated."""


class ApiError(ExecutionError):
    """Mixpanel answered with an error status.

    ``request`` is a description of the request with every secret redacted; ``advice`` says
    what to do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request: Any = None,
        advice: str | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.request = request
        self.advice = advice
        text = f"Mixpanel answered {status}: {message}" if status else message
        if advice:
            text += f"\nhelp: {advice}"
        super().__init__(text)


class BadRequestError(ApiError):
    """400."""


class AuthenticationError(ApiError):
    """401."""


class PaymentRequiredError(ApiError):
    """402."""


class ForbiddenError(ApiError):
    """403."""


class NotFoundError(ApiError):
    """404."""


class RateLimitError(ApiError):
    """429, after the retry budget was used up."""


class ServerError(ApiError):
    """5xx, after the retry budget was used up."""


class DeadlineExceeded(ExecutionError):
    """The overall deadline passed before the plan finished."""


class EvaluationError(MpqlError):
    """Evaluating an expression on a record hit a case where Mixpanel fails the query instead
    of returning undefined (a non-boolean operand of ``and``/``or``, docs/mixpanel-reference.md §1.6).

    ``node`` is the offending sub-expression (with its ``span`` when parsed from text) and
    ``value`` the value it had. Whether this raises is ``Semantics.logic_operand``.
    """

    def __init__(self, message: str, *, node: Any = None, value: Any = None) -> None:
        super().__init__(message)
        self.node = node
        self.value = value


@contextlib.contextmanager
def read_errors(
    label: Any,
    error: type = None,  # type: ignore[assignment]
    *,
    expect: str = "a file",
    missing_hint: str = "",
    encoding_hint: str = "",
) -> Iterator[None]:
    """Turn the errors of reading a file (inside the block) into one ``error`` (InputError by
    default) whose message starts with ``label``: the one mapping of OS and decoding errors to
    messages, used by every reader of user files (sources, schemas, baselines, JSONL)."""
    error = error or InputError
    try:
        yield
    except FileNotFoundError:
        raise error(f"{label}: no such file{missing_hint}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{label}: not UTF-8 text (byte {exc.start}): {exc.reason}"
                    f"{encoding_hint}") from None
    except IsADirectoryError:
        raise error(f"{label}: is a directory; give {expect}") from None
    except OSError as exc:
        raise error(f"{label}: cannot read: {exc.strerror}") from None

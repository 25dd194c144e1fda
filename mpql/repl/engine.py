"""The REPL's engine: session state and the report for each expression.

Nothing here touches a terminal. :class:`Session` takes one submitted input at a time
(``submit(text)``) and writes what it has to say to an output object with one method,
``write(text, style)``. The interactive front end (``mpql.repl.app``, prompt_toolkit) and the
non-interactive one (``mpql.repl.script``, stdin → stdout) are thin loops around it, so both
behave the same, and tests drive the engine directly.

Each expression is parsed (a syntax error is rendered as ``mpql lint`` renders it), printed in
canonical form, checked (``mpql.check`` in the session's endpoint context), and evaluated
against the loaded records with ``mpql.compile_predicate``: match count, share, the first few
matches. An empty result comes with an explanation (``mpql.repl.explain``).

The ``:commands`` are in ``mpql.repl.commands`` (a mixin of :class:`Session`). The checker,
evaluator, planner, executor and sandbox are imported when first used, which keeps the REPL's
start-up fast.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import attrs

from ..errors import MpqlError, ParseError
from ..language import ast as A
from ..language import parse
from ..language.printer import format_expr
from .catalog import EVENT, PROFILE, Catalog
from .commands import COMMANDS, Commands
from .completion import ENDPOINTS, input_status
from .data import Dataset
from .textfmt import align, fmt_json, fmt_time, plural

__all__ = ["Session", "PlainOutput", "COMMANDS"]

INPUT_NAME = "<input>"


class PlainOutput:
    """Writes to a text stream, ignoring styles (non-interactive mode, tests)."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str = "", style: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


@attrs.define
class Current:
    """The expression the REPL is working on: the last one entered that parsed."""

    text: str
    expr: A.Expr
    matches: list | None = None  # indexes into the evaluated records, once evaluated
    scope: str = EVENT


class Session(Commands):
    """One REPL session. ``submit`` never raises for bad input: it reports and counts it."""

    def __init__(
        self,
        data: Dataset | None = None,
        *,
        out,
        endpoint: str = "export",
        schema_path: str | None = None,
        show: int = 3,
        timing: bool = False,
        now: datetime | None = None,
        base_url: str | None = None,
        debug: bool = False,
    ) -> None:
        if endpoint not in ENDPOINTS:
            raise MpqlError(f"unknown endpoint `{endpoint}`: expected one of {', '.join(ENDPOINTS)}")
        self.out = out
        self.data = data or Dataset()
        self.endpoint = endpoint
        self.show = show
        self.timing = timing
        self.now = now
        #: `:run` sends requests here instead of Mixpanel (credentials still from MP_*).
        self.base_url = base_url
        #: internal errors are reported with their traceback (mpql --debug, MPQL_DEBUG=1)
        self.debug = debug
        self.schema = None
        self.schema_path = schema_path
        self.current: Current | None = None
        #: the last expression entered (even if it did not parse) and its diagnostics, for :fix
        self.last_input: str | None = None
        self.last_diagnostics: list = []
        self.failures = 0  # inputs that ended in an error (the non-interactive exit code)
        self.syntax_errors = 0  # expressions that did not parse (exit 2, as in every command)
        self.internal_errors = 0  # bugs caught so the session goes on (exit 2 for a script)
        self.quit = False
        self.interrupted = False
        self._catalog = Catalog()
        self._catalog_job: tuple | None = None  # (thread, [catalog or exception])
        self._catalog_error: BaseException | None = None
        self._profile_index: dict | None = None
        self._data_version = 0
        self._sandbox_server = None
        self._sandbox_version = -1
        self._tmp = None
        if schema_path:
            self.schema = self._load_schema(schema_path)
        self._rebuild_catalog(background=True)

    # -- input ---------------------------------------------------------------------------

    def submit(self, text: str) -> bool:
        """Handle one input (an expression, possibly multi-line, or a ``:command`` line).
        Returns False if it failed (the failure is already reported)."""
        status = input_status(text)
        if status == "empty":
            return True
        _ = self.catalog
        if self._catalog_error is not None:
            exc, self._catalog_error = self._catalog_error, None
            self._internal_error(exc, "while indexing the loaded data, so completion and "
                                 "explanations know no properties")
            self.failures += 1
        try:
            if status == "command":
                ok = self._run_command(text.strip())
            else:
                ok = self._run_expression(text)
        except MpqlError as exc:
            self._error(str(exc))
            ok = False
        except KeyboardInterrupt:
            # Interactive: back to the prompt. A script stops (run_script re-raises).
            self._error("interrupted")
            self.interrupted = True
            ok = False
        except Exception as exc:  # noqa: BLE001 - a bug must not end the session
            # Not hidden: reported as what it is, with the input that caused it.
            self._internal_error(exc, f"while handling {text.strip()[:60]!r}")
            ok = False
        if not ok:
            self.failures += 1
        return ok

    def _error(self, message: str) -> None:
        self.out.write(f"error: {message}", "error")

    def _internal_error(self, exc: BaseException, context: str) -> None:
        """A bug: one line on stderr as in every mpql command (the traceback before it with
        ``debug``), never in the transcript on stdout, which stays the answers to the inputs."""
        from ..cli import report_internal_error  # the one wording of every command's bug report

        self.internal_errors += 1
        report_internal_error("mpql repl", exc, self.debug, context)

    # -- expressions ---------------------------------------------------------------------

    @property
    def scope(self) -> str:
        return PROFILE if self.endpoint == "engage" else EVENT

    @property
    def records(self) -> list:
        return self.data.profiles if self.scope == PROFILE else self.data.events

    def _render(self, diagnostic) -> None:
        """One diagnostic, exactly as `mpql lint` prints it (its "full" format)."""
        d = attrs.evolve(diagnostic, filename=INPUT_NAME)
        from ..checker.output import render

        text = render("full", [d])
        self.out.write(text, d.severity)

    def _parse(self, text: str, *, remember: bool = False) -> A.Expr | None:
        try:
            return parse(text)
        except ParseError as exc:
            self._render(exc.diagnostic)
            self.syntax_errors += 1
            if remember:
                self.last_input, self.last_diagnostics = text, [exc.diagnostic]
            return None

    def _run_expression(self, text: str) -> bool:
        self.last_input, self.last_diagnostics = text, []
        expr = self._parse(text, remember=True)
        if expr is None:
            return False
        self.current = Current(text, expr, scope=self.scope)
        self.out.write(format_expr(expr), "expr")
        if not is_filter(expr):
            # `properties["$os"]`, `number(x) * 2`: not a filter but a value, as in an `on`
            # breakdown. Check it as one and show what it evaluates to.
            diagnostics = self._check(text, param="on")
            evaluated = self._breakdown(expr)
        else:
            diagnostics = self._check(text)
            evaluated = self._evaluate(self.current, diagnostics)
        ok = not any(d.severity == "error" for d in diagnostics)
        return ok and evaluated

    def _breakdown(self, expr: A.Expr, top: int = 8) -> bool:
        from collections import Counter

        records = self.records
        noun = f"{self.scope}s"
        if not records:
            self.out.write(f"no {noun} loaded: nothing to evaluate against", "warning")
            return True
        from ..evaluator import format_value as fmt

        fn = self._compile(expr, values=True)
        counts: Counter = Counter()
        errors = 0
        for record in records:
            try:
                counts[fmt(fn(record))] += 1
            except MpqlError:
                errors += 1
        total = len(records)
        self.out.write(f"not a filter: its values over {total:,} {noun} "
                       f"({len(counts):,} distinct):", "result")
        rows = [[f"{n:,}", f"{100.0 * n / total:.1f}%", value if len(value) <= 60
                 else value[:59] + "…"] for value, n in counts.most_common(top)]
        for line in align(rows):
            self.out.write("  " + line, "match")
        if len(counts) > top:
            self.out.write(f"  … {len(counts) - top:,} more values", "dim")
        if errors:
            self.out.write(f"{errors:,} {noun} could not be evaluated", "error")
        return errors == 0

    def _check(self, text: str, param: str = "where") -> list:
        from ..checker import check

        if param == "where" and self.endpoint in ("export", "engage"):
            # As :run sends it: an events filter's profile conditions go to /engage.
            from ..planner import check_where

            kind = "profiles" if self.endpoint == "engage" else "events"
            diagnostics = check_where(text, kind, schema=self.schema)
        else:
            diagnostics = check(text, endpoint=self.endpoint, param=param, schema=self.schema)
        for d in diagnostics:
            self._render(d)
        self.last_diagnostics = list(diagnostics)
        return list(diagnostics)

    def _compile(self, expr: A.Expr, *, values: bool = False):
        name = "compile_expression" if values else "compile_predicate"
        from .. import evaluator

        scope = "profiles" if self.scope == PROFILE else "events"
        kwargs: dict = {"now": self.now} if self.now is not None else {}
        if self.scope == EVENT and self.data.profiles:
            # user["x"] on an event reads that user's profile. Raw export lines carry no
            # profile (the checker says so), but mpql's planner answers such a filter with an
            # /engage step first (see :plan), so :run returns exactly these events.
            kwargs["profiles"] = self._profiles_by_id()
        return getattr(evaluator, name)(expr, scope=scope, **kwargs)

    def _predicate(self, expr: A.Expr):
        return self._compile(expr)

    def _profiles_by_id(self) -> dict:
        if self._profile_index is None:
            self._profile_index = {p.get("$distinct_id"): p for p in self.data.profiles}
        return self._profile_index

    def _evaluate(self, current: Current, diagnostics) -> bool:
        records = self.records
        noun = f"{self.scope}s"
        if not records:
            self.out.write(f"no {noun} loaded: nothing to evaluate against "
                           "(use :load FILE, or :endpoint to switch)", "warning")
            return True
        predicate = self._predicate(current.expr)
        started = time.perf_counter()
        matches, errors, first_error = [], 0, None
        for i, record in enumerate(records):
            try:
                if predicate(record):
                    matches.append(i)
            except MpqlError as exc:
                errors += 1
                first_error = first_error or (i, exc)
        elapsed = time.perf_counter() - started
        current.matches = matches
        total = len(records)
        share = 100.0 * len(matches) / total
        took = ""
        if self.timing:
            took = (f" in {elapsed * 1000:.1f} ms" if elapsed >= 0.001
                    else f" in {elapsed * 1e6:.0f} µs")
        self.out.write(f"{len(matches):,} of {total:,} {noun} match ({share:.1f}%){took}",
                       "result")
        if errors:
            i, exc = first_error
            self.out.write(f"{errors:,} {noun} could not be evaluated; the first ({self.scope} "
                           f"#{i + 1}): {exc}", "error")
        rows = [self._summary(records[i], current.expr) for i in matches[: self.show]]
        for line in align(rows):
            self.out.write("  " + line, "match")
        if len(matches) > self.show:
            self.out.write(f"  … {len(matches) - self.show:,} more (:show N prints full records)",
                           "dim")
        from .explain import mixed_type_notes

        for note in mixed_type_notes(current.expr, self.catalog, self.scope, self.endpoint):
            self.out.write(f"note: {note}", "warning")
        if not matches and errors:
            self.out.write(f"why: Mixpanel fails the query on these {noun} (above) instead of "
                           "selecting them", "warning")
        elif not matches:
            self._explain_empty(current, diagnostics, predicate)
        return errors == 0

    def _explain_empty(self, current: Current, diagnostics, predicate) -> None:
        from .explain import explain_empty

        if self.data.profiles:
            # The REPL answers user[...] from the loaded profiles (as the planner's /engage
            # step would), so "raw export has no profiles" does not explain this result.
            diagnostics = [d for d in diagnostics if d.name != "profile-in-raw-export"]
        if diagnostics:
            codes = ", ".join(sorted({d.code for d in diagnostics}))
            self.out.write(f"why: the checker's findings above ({codes}) can explain an empty "
                           "result", "warning")

        for note in explain_empty(current.expr, self.catalog, self.scope, self.endpoint,
                                  self._count):
            self.out.write(note if note.startswith("  ") else f"why: {note}", "warning")

    def _count(self, sub: A.Expr) -> int:
        """Loaded records of the current scope that ``sub`` selects (records it fails on are
        not selected)."""
        try:
            pred = self._predicate(sub)
        except MpqlError:
            return 0
        n = 0
        for record in self.records:
            try:
                n += bool(pred(record))
            except MpqlError:
                pass
        return n

    def _summary(self, record: dict, expr: A.Expr) -> list[str]:
        """The columns of a match's line: who, when, and the properties the expression
        reads (∅ when the record lacks one)."""
        if self.scope == PROFILE:
            props = record.get("$properties") or {}
            head = [f"$distinct_id={json.dumps(record.get('$distinct_id'), ensure_ascii=False)}"]
        else:
            props = record.get("properties") or {}
            head = [str(record.get("event"))]
            if "distinct_id" in props:
                head.append(f"distinct_id={json.dumps(props['distinct_id'], ensure_ascii=False)}")
            if "time" in props:
                head.append(fmt_time(props["time"]))
        profile = None
        if self.scope == EVENT and self.data.profiles:
            found = self._profiles_by_id().get(props.get("distinct_id"))
            profile = (found or {}).get("$properties") or {}
        cells: dict[str, str] = {}
        for node in A.walk(expr):
            if not isinstance(node, A.Property) or node.name in ("distinct_id", "time"):
                continue
            source, label = props, node.name
            if node.scope == "user" and self.scope == EVENT:
                source, label = profile or {}, f"user.{node.name}"
            if label not in cells:
                cells[label] = (f"{label}={fmt_json(source[node.name])}"
                                if node.name in source else f"{label}=∅")
        return head + list(cells.values())

    # -- data and schema -----------------------------------------------------------------

    #: Above this many records the catalog is built in a background thread at start-up, so
    #: the prompt appears at once (about 16 µs per record; benchmarks/bench_repl.py).
    BACKGROUND_CATALOG = 20_000

    @property
    def catalog(self) -> Catalog:
        """What is known about the loaded data (waits for a background build to finish)."""
        job = self._catalog_job
        if job is not None:
            thread, box = job
            thread.join()
            self._catalog_job = None
            if isinstance(box[0], BaseException):
                # Reported by the next submit (this may run in the completion thread); the
                # session goes on with what the schema alone says.
                self._catalog_error = box[0]
                self._catalog = Catalog()
            else:
                self._catalog = box[0]
        return self._catalog

    def _rebuild_catalog(self, background: bool = False) -> None:
        _ = self.catalog  # never two builds at once
        self._profile_index = None
        self._data_version += 1
        data, schema = self.data, self.schema

        def build() -> Catalog:
            cat = Catalog.from_records(data.events, data.profiles)
            if schema is not None:
                for scope in (EVENT, PROFILE):
                    table = getattr(schema, scope, None)
                    if table:
                        cat.add_schema(table, scope)
            return cat

        if not background or len(data.events) + len(data.profiles) < self.BACKGROUND_CATALOG:
            self._catalog = build()
            return
        import threading

        box: list = [None]

        def run() -> None:
            try:
                box[0] = build()
            except BaseException as exc:  # re-raised where the catalog is first needed
                box[0] = exc

        thread = threading.Thread(target=run, name="mpql-repl-catalog", daemon=True)
        self._catalog_job = (thread, box)
        thread.start()

    def _load_schema(self, path: str):
        from ..checker.schema import load_schema

        return load_schema(path)

    def describe_data(self) -> str:
        where = ", ".join(self.data.sources) or "nothing"
        return (f"{plural(len(self.data.events), 'event')} and "
                f"{plural(len(self.data.profiles), 'profile')} from {where}")

_BOOLEAN_CALLS = ("defined", "boolean", "has_prefix")


def is_filter(expr: A.Expr) -> bool:
    """Whether ``expr`` is shaped like a filter (its top is a test), as opposed to a value."""
    if isinstance(expr, (A.Compare, A.In, A.And, A.Or, A.Not, A.Boolean, A.Any)):
        return True
    return isinstance(expr, A.Call) and expr.name in _BOOLEAN_CALLS



"""The REPL's engine: session state, expression evaluation reports, and the ``:command`` table.

Nothing here touches a terminal. :class:`Session` takes one submitted input at a time
(``submit(text)``) and writes what it has to say to an output object with one method,
``write(text, style)``. The interactive front end (``mpql.repl.app``, prompt_toolkit) and the
non-interactive one (``mpql.repl.script``, stdin → stdout) are thin loops around it, so both
behave the same, and tests drive the engine directly.

Each expression is parsed (a syntax error is rendered as ``mpql lint`` renders it), printed in
canonical form, checked (``mpql.check`` in the session's endpoint context), and evaluated
against the loaded records with ``mpql.compile_predicate``: match count, share, the first few
matches. An empty result comes with an explanation (``mpql.repl.explain``).

Layers that another part of mpql provides (checker, evaluator, planner, executor, sandbox) are
imported when first used; if one is missing the command says so instead of pretending.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timedelta, timezone
from importlib import import_module
from pathlib import Path

import attrs

from ..errors import MpqlError, ParseError
from ..language import ast as A
from ..language import parse
from ..language.printer import format_expr
from .catalog import EVENT, PROFILE, Catalog
from .completion import COMMAND_NAMES, ENDPOINTS, input_status
from .data import Dataset, load_file

__all__ = ["Session", "PlainOutput", "COMMANDS", "Unavailable"]

INPUT_NAME = "<input>"


class Unavailable(MpqlError):
    """A layer this command needs is not part of this build of mpql (yet)."""


def _layer(module: str, what: str, *names: str):
    """``module`` if it exists and defines ``names``; else Unavailable saying what is missing."""
    try:
        mod = import_module(module)
    except ImportError as exc:
        if exc.name and not module.startswith(exc.name):
            raise  # a real import error inside the layer: show it, do not hide it
        mod = None
    missing = [n for n in names if mod is None or not hasattr(mod, n)]
    if mod is None or missing:
        needs = ", ".join(f"{module}.{n}" for n in missing) if missing else module
        raise Unavailable(f"{what} is not available yet: it needs {needs}, which this build "
                          "of mpql does not have")
    return mod


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


@attrs.define
class Command:
    name: str
    args: str
    help: str
    handler: str
    aliases: tuple = ()


COMMANDS: dict[str, Command] = {}


def _command(name, args, help, aliases=()):
    def register(fn):
        COMMANDS[name] = Command(name, args, help, fn.__name__, tuple(aliases))
        COMMAND_NAMES[name] = help
        return fn
    return register


class Session:
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
    ) -> None:
        if endpoint not in ENDPOINTS:
            raise MpqlError(f"unknown endpoint `{endpoint}`: expected one of {', '.join(ENDPOINTS)}")
        self.out = out
        self.data = data or Dataset()
        self.endpoint = endpoint
        self.show = show
        self.timing = timing
        self.now = now
        self.schema = None
        self.schema_path = schema_path
        self.current: Current | None = None
        #: the last expression entered (even if it did not parse) and its diagnostics, for :fix
        self.last_input: str | None = None
        self.last_diagnostics: list = []
        self.failures = 0  # inputs that ended in an error (the non-interactive exit code)
        self.quit = False
        self.notices: set[str] = set()
        self.catalog = Catalog()
        self._profile_index: dict | None = None
        self._data_version = 0
        self._sandbox_server = None
        self._sandbox_version = -1
        self._tmp = None
        self._rebuild_catalog()
        if schema_path:
            self.schema = self._load_schema(schema_path)
            self._rebuild_catalog()

    # -- input ---------------------------------------------------------------------------

    def submit(self, text: str) -> bool:
        """Handle one input (an expression, possibly multi-line, or a ``:command`` line).
        Returns False if it failed (the failure is already reported)."""
        status = input_status(text)
        if status == "empty":
            return True
        try:
            if status == "command":
                ok = self._run_command(text.strip())
            else:
                ok = self._run_expression(text)
        except MpqlError as exc:
            self._error(str(exc))
            ok = False
        except KeyboardInterrupt:
            self._error("interrupted")
            ok = False
        except Exception as exc:  # noqa: BLE001 - a bug must not end the session
            # Not hidden: reported as what it is, with the input that caused it.
            self._error(f"internal error ({type(exc).__name__}: {exc}) while handling "
                        f"{text.strip()[:60]!r}; please report it")
            ok = False
        if not ok:
            self.failures += 1
        return ok

    def _error(self, message: str) -> None:
        self.out.write(f"error: {message}", "error")

    def _note_once(self, key: str, message: str) -> None:
        if key not in self.notices:
            self.notices.add(key)
            self.out.write(message, "dim")

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
        try:
            from ..checker.output import render

            text = render("full", [d])
        except ImportError:
            text = d.render()
        self.out.write(text, d.severity)

    def _parse(self, text: str, *, remember: bool = False) -> A.Expr | None:
        try:
            return parse(text)
        except ParseError as exc:
            self._render(exc.diagnostic)
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
        try:
            fn = self._compile(expr, values=True)
            fmt = _layer("mpql.evaluator", "evaluation", "format_value").format_value
        except Unavailable as exc:
            self._note_once("evaluator", f"note: {exc}")
            return True
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
        for line in _align(rows):
            self.out.write("  " + line, "match")
        if len(counts) > top:
            self.out.write(f"  … {len(counts) - top:,} more values", "dim")
        if errors:
            self.out.write(f"{errors:,} {noun} could not be evaluated", "error")
        return errors == 0

    def _check(self, text: str, param: str = "where") -> list:
        try:
            checker = _layer("mpql.checker", "checking", "check")
        except Unavailable as exc:
            self._note_once("checker", f"note: {exc}; expressions are parsed, not checked")
            return []
        diagnostics = checker.check(text, endpoint=self.endpoint, param=param,
                                    schema=self.schema)
        for d in diagnostics:
            self._render(d)
        self.last_diagnostics = list(diagnostics)
        return list(diagnostics)

    def _compile(self, expr: A.Expr, *, values: bool = False):
        name = "compile_expression" if values else "compile_predicate"
        evaluator = _layer("mpql.evaluator", "evaluation", name)
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
        try:
            predicate = self._predicate(current.expr)
        except Unavailable as exc:
            self._note_once("evaluator", f"note: {exc}")
            return True
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
        for line in _align(rows):
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

        def count(sub: A.Expr) -> int:
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

        for note in explain_empty(current.expr, self.catalog, self.scope, self.endpoint, count):
            self.out.write(note if note.startswith("  ") else f"why: {note}", "warning")

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
                head.append(_fmt_time(props["time"]))
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
                cells[label] = (f"{label}={_fmt_json(source[node.name])}"
                                if node.name in source else f"{label}=∅")
        return head + list(cells.values())

    # -- data and schema -----------------------------------------------------------------

    def _rebuild_catalog(self) -> None:
        self._profile_index = None
        self._data_version += 1
        cat = Catalog.from_records(self.data.events, self.data.profiles)
        if self.schema is not None:
            for scope in (EVENT, PROFILE):
                table = getattr(self.schema, scope, None)
                if table:
                    cat.add_schema(table, scope)
        self.catalog = cat

    def _load_schema(self, path: str):
        schema_mod = _layer("mpql.checker.schema", "loading a schema", "load_schema")
        return schema_mod.load_schema(path)

    def describe_data(self) -> str:
        ev, pr = len(self.data.events), len(self.data.profiles)
        where = ", ".join(self.data.sources) or "nothing"
        return f"{ev:,} events and {pr:,} profiles from {where}"

    # -- commands ------------------------------------------------------------------------

    def _run_command(self, line: str) -> bool:
        head, _, arg = line[1:].partition(" ")
        name = head.lower()
        for cmd in COMMANDS.values():
            if name == cmd.name or name in cmd.aliases:
                result = getattr(self, cmd.handler)(arg.strip())
                return result is not False
        import difflib

        guess = difflib.get_close_matches(name, list(COMMANDS), n=1)
        hint = f" (did you mean :{guess[0]}?)" if guess else ""
        self._error(f"unknown command `:{head}`{hint}; :help lists the commands")
        return False

    def _target(self, arg: str) -> A.Expr | None:
        """The expression a command works on: its argument, else the current expression."""
        if arg:
            return self._parse(arg)
        if self.current is None:
            self._error("no expression yet: type one first, or give it after the command")
            return None
        return self.current.expr

    @_command("help", "[COMMAND]", "list the commands, or explain one", aliases=("h", "?"))
    def cmd_help(self, arg):
        if arg:
            name = arg.lstrip(":")
            cmd = COMMANDS.get(name) or next(
                (c for c in COMMANDS.values() if name in c.aliases), None)
            if cmd is None:
                self._error(f"unknown command `:{name}`; :help lists the commands")
                return False
            self.out.write(f":{cmd.name} {cmd.args}".rstrip() + f"  —  {cmd.help}")
            return True
        self.out.write("Type an expression to check it and evaluate it against the loaded data;")
        self.out.write("it continues over several lines while it is incomplete. Commands:")
        width = max(len(f":{c.name} {c.args}") for c in COMMANDS.values())
        for cmd in COMMANDS.values():
            self.out.write(f"  {(':' + cmd.name + ' ' + cmd.args).ljust(width)}  {cmd.help}")
        return True

    @_command("endpoint", "[E]", "show or set the endpoint context (" + "|".join(ENDPOINTS) + ")")
    def cmd_endpoint(self, arg):
        if arg:
            if arg not in ENDPOINTS:
                self._error(f"unknown endpoint `{arg}`: expected one of {', '.join(ENDPOINTS)}")
                return False
            self.endpoint = arg
        noun = f"{self.scope}s"
        self.out.write(f"endpoint: {self.endpoint} (expressions are evaluated against "
                       f"{len(self.records):,} {noun})")
        return True

    @_command("load", "FILE", "load events and/or profiles from a JSONL file (adds to the data)")
    def cmd_load(self, arg):
        if not arg:
            self._error(":load needs a file: :load events.jsonl")
            return False
        loaded = load_file(Path(arg).expanduser())
        first = not self.data.events and not self.data.profiles
        if self.data.sample:
            # Loading your own file replaces the sample data rather than mixing with it.
            self.data = Dataset()
            first = True
        self.data.extend(loaded)
        for note in loaded.notes:
            self.out.write(f"note: {note}", "warning")
        self._rebuild_catalog()
        self.out.write(f"loaded {len(loaded.events):,} events and {len(loaded.profiles):,} "
                       f"profiles from {arg}" + ("" if first else
                                                 f" (now {self.describe_data()})"))
        return True

    @_command("schema", "[FILE]", "list known properties with types; with FILE, load a schema")
    def cmd_schema(self, arg):
        if arg:
            self.schema = self._load_schema(arg)
            self.schema_path = arg
            self._rebuild_catalog()
            self.out.write(f"schema loaded from {arg}")
            return True
        for scope, accessor in ((EVENT, 'properties["…"]'), (PROFILE, 'user["…"]')):
            fields = self.catalog.sorted_fields(scope)
            if not fields:
                continue
            n = self.catalog.records[scope]
            self.out.write(f"{scope} properties ({accessor}; {n:,} {scope}s loaded):")
            width = max(len(f.name) for f in fields)
            for f in fields:
                seen = f"{f.count:,}/{n:,}" if f.count else "schema only"
                top = ", ".join(_fmt_json(v) for v, _ in f.top_values(3))
                extra = f"  e.g. {top}" if top and not f.high_cardinality else ""
                line = f"  {f.name.ljust(width)}  {f.type:<16} {seen:>13}{extra}"
                self.out.write(line if len(line) <= 120 else line[:119] + "…")
        if not any(self.catalog.fields.values()):
            self.out.write("no properties known: load data (:load FILE) or a schema (:schema FILE)")
        return True

    @_command("ast", "[EXPR]", "print the syntax tree")
    def cmd_ast(self, arg):
        expr = self._target(arg)
        if expr is None:
            return False
        from ..cli.parse import to_tree

        for line in to_tree(expr):
            self.out.write(line)
        return True

    @_command("fmt", "[EXPR]", "print the canonical form")
    def cmd_fmt(self, arg):
        expr = self._target(arg)
        if expr is None:
            return False
        self.out.write(format_expr(expr), "expr")
        return True

    @_command("wire", "[EXPR]", "print the fully parenthesised form sent to Mixpanel")
    def cmd_wire(self, arg):
        expr = self._target(arg)
        if expr is None:
            return False
        self.out.write(format_expr(expr, "wire"), "expr")
        return True

    @_command("plan", "[FROM [TO]]", "show the Mixpanel requests the current filter compiles to")
    def cmd_plan(self, arg):
        plan = self._plan(arg)
        if plan is None:
            return False
        self.out.write(plan.explain())
        return True

    @_command("curl", "[FROM [TO]]", "the plan as curl commands (credentials as $MP_… variables)")
    def cmd_curl(self, arg):
        plan = self._plan(arg)
        if plan is None:
            return False
        self.out.write(plan.to_curl())
        return True

    @_command("run", "[N]", "run the current filter against the sandbox or Mixpanel, "
              "printing up to N records (default 10)")
    def cmd_run(self, arg):
        try:
            limit = int(arg) if arg else 10
            if limit < 1:
                raise ValueError
        except ValueError:
            self._error(f":run takes a positive number of records, found `{arg}`")
            return False
        query = self._query(None, limit)
        if query is None:
            return False
        return self._run_query(query, limit)

    @_command("show", "[N]", "print the first N matching records of the last result in full")
    def cmd_show(self, arg):
        try:
            n = int(arg) if arg else 10
        except ValueError:
            self._error(f":show takes a number, found `{arg}`")
            return False
        if self.current is None or not self.current.matches:
            self.out.write("no matches to show")
            return True
        records = self.data.profiles if self.current.scope == PROFILE else self.data.events
        for i in self.current.matches[:n]:
            self.out.write(json.dumps(records[i], ensure_ascii=False, sort_keys=True))
        return True

    @_command("fix", "", "apply the last expression's safe fixes and enter the result "
              "(:fix unsafe for all fixes)")
    def cmd_fix(self, arg):
        from ..diagnostics import apply_edits

        if arg not in ("", "unsafe"):
            self._error(f":fix takes nothing or `unsafe`, found `{arg}`")
            return False
        if self.last_input is None:
            self._error("nothing to fix: enter an expression first")
            return False
        fixes = [d.fix for d in self.last_diagnostics if d.fix is not None
                 and (d.fix.applicability == "safe" or arg == "unsafe")]
        if not fixes:
            unsafe = any(d.fix is not None for d in self.last_diagnostics)
            self.out.write("no safe fixes for the last expression"
                           + ("; :fix unsafe applies the unsafe ones" if unsafe else ""))
            return True
        text = self.last_input
        edits = [e for fix in fixes for e in fix.edits]
        fixed = apply_edits(text, edits)
        self.out.write(f"fixed ({'; '.join(f.message for f in fixes)}): {fixed}", "dim")
        return self._run_expression(fixed)

    @_command("quit", "", "leave the REPL (also Ctrl-D)", aliases=("q", "exit"))
    def cmd_quit(self, arg):
        self.quit = True
        return True

    # -- planning and running ------------------------------------------------------------

    def _dates(self, arg: str) -> tuple[str, str]:
        parts = arg.split()
        if len(parts) > 2:
            raise MpqlError("expected at most two dates: FROM [TO] as YYYY-MM-DD")
        if parts:
            return parts[0], parts[1] if len(parts) == 2 else parts[0]
        times = [_as_datetime(e.get("properties", {}).get("time")) for e in self.data.events]
        times = [t for t in times if t is not None]
        if times:
            return min(times).date().isoformat(), max(times).date().isoformat()
        today = (self.now or datetime.now(timezone.utc)).date()
        return (today - timedelta(days=7)).isoformat(), (today - timedelta(days=1)).isoformat()

    def _query(self, arg: str | None, limit: int | None = None):
        if self.current is None:
            self._error("no expression yet: type a filter first")
            return None
        planner = _layer("mpql.planner", "planning", "Query")
        if self.scope == PROFILE:
            return planner.Query.profiles(where=self.current.expr)
        start, end = self._dates(arg or "")
        return planner.Query.events(where=self.current.expr, from_date=start, to_date=end,
                                    **({"limit": limit} if limit else {}))

    def _plan(self, arg: str):
        query = self._query(arg)
        if query is None:
            return None
        return query.plan()

    def _run_query(self, query, limit: int) -> bool:
        executor = _layer("mpql.executor", ":run", "Client", "Credentials")
        creds = executor.Credentials.from_env()
        if creds is not None:
            region = os.environ.get("MP_REGION") or "us"
            client, target = executor.Client(creds, region), "Mixpanel"
            chunk = "day"
            self.out.write("note: this runs against Mixpanel and counts against the project's "
                           "rate limits (60 queries/hour)", "dim")
        else:
            sandbox = self._sandbox()
            creds = executor.Credentials.from_auth(sandbox.credentials)
            client = executor.Client(creds, base_url=sandbox.url)
            target = "the sandbox on 127.0.0.1 serving the loaded data"
            chunk = "none"  # one local request instead of one per day
        plan = query.plan(auth=_planner_auth(creds), chunk=chunk)
        rows = []
        for record in client.run(plan, limit=limit):
            rows.append(self._summary(record, self.current.expr))
        for line in _align(rows):
            self.out.write("  " + line, "match")
        more = " — stopped at the limit (:run N for more)" if len(rows) >= limit else ""
        local = ""
        if self.current.matches is not None and self.current.scope == self.scope \
                and target != "Mixpanel":
            local = f"; the local evaluation selects {len(self.current.matches):,}"
        self.out.write(f"{_plural(len(rows), 'record')} from {target}{more}{local}", "result")
        return True

    def _sandbox(self):
        """A private sandbox serving exactly the loaded data (started on first :run, restarted
        when the data changes, stopped by close())."""
        if self._sandbox_server is not None and self._sandbox_version == self._data_version:
            return self._sandbox_server
        self.close()
        sandbox_mod = _layer("mpql.sandbox", ":run without credentials", "Sandbox",
                             "write_dataset")
        from ..sandbox._limits import Limits

        if self.data.sample:
            data_dir = None  # the default dataset: what was loaded
        else:
            import tempfile

            if not self.data.events and not self.data.profiles:
                raise MpqlError("no data loaded for the sandbox to serve: :load FILE first, "
                                "or set MP_USERNAME/MP_SECRET/MP_PROJECT_ID to run on Mixpanel")
            self._tmp = tempfile.TemporaryDirectory(prefix="mpql-repl-")
            data_dir = Path(self._tmp.name) / "data"
            sandbox_mod.write_dataset(data_dir, self.data.events, self.data.profiles)
        # Rate limits are the sandbox's to simulate for tests; this one is the REPL's own.
        sandbox = sandbox_mod.Sandbox(data_dir, limits=Limits.unlimited())
        sandbox.start()
        self._sandbox_server, self._sandbox_version = sandbox, self._data_version
        return sandbox

    def close(self) -> None:
        """Stop what the session started (the :run sandbox)."""
        if self._sandbox_server is not None:
            self._sandbox_server.stop()
            self._sandbox_server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _planner_auth(creds):
    from ..planner import ProjectSecret, ServiceAccount

    if creds.kind == "service_account":
        return ServiceAccount(creds.username, creds.secret, creds.project_id,
                              workspace_id=creds.workspace_id)
    return ProjectSecret(creds.secret)


_BOOLEAN_CALLS = ("defined", "boolean", "has_prefix")


def is_filter(expr: A.Expr) -> bool:
    """Whether ``expr`` is shaped like a filter (its top is a test), as opposed to a value."""
    if isinstance(expr, (A.Compare, A.In, A.And, A.Or, A.Not, A.Boolean)):
        return True
    return isinstance(expr, A.Call) and expr.name in _BOOLEAN_CALLS


_NUMERIC = re.compile(r"[\d,.]+%?\Z")


def _align(rows: list[list[str]], width: int = 160) -> list[str]:
    """Rows of columns as lines, columns padded to a common width, lines cut at ``width``."""
    widths: dict[int, int] = {}
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths.get(i, 0), len(cell))
    numeric = {i for i in widths
               if all(i >= len(row) or _NUMERIC.match(row[i]) for row in rows)}
    lines = []
    for row in rows:
        line = "  ".join(cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
                         for i, cell in enumerate(row)).rstrip()
        lines.append(line if len(line) <= width else line[: width - 1] + "…")
    return lines


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _fmt_json(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def _as_datetime(value) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    seconds = value / 1000 if value > 4294967295 else value  # ms above 2^32, like datetime()
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _fmt_time(value) -> str:
    dt = _as_datetime(value)
    return dt.strftime("%Y-%m-%d %H:%M:%S") if dt else f"time={_fmt_json(value)}"

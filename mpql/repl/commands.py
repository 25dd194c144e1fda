"""The REPL's ``:commands``: the table (name, arguments, help) and their handlers.

Handlers are methods of :class:`Commands`, a mixin of ``engine.Session``: each takes the text
after the command name and returns False when it failed (it has reported why). Planning and
running (``:plan``, ``:curl``, ``:run``) live here too: they go through the planner and the
executor, and ``:run`` without credentials starts a private sandbox serving the loaded data.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs

from ..errors import MpqlError
from ..language import ast as A
from ..language.printer import format_expr
from .catalog import EVENT, PROFILE
from .completion import COMMAND_NAMES, ENDPOINTS
from .data import Dataset, load_file
from .textfmt import align, as_datetime, fmt_json, plural

__all__ = ["Command", "COMMANDS", "Commands"]


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


class Commands:
    """The ``:command`` handlers (a mixin of ``engine.Session``)."""

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
        self.out.write(f"endpoint: {self.endpoint} (expressions are evaluated against "
                       f"{plural(len(self.records), self.scope)})")
        return True

    @_command("load", "FILE", "load events and/or profiles from a JSONL file (adds to the data)")
    def cmd_load(self, arg):
        if not arg:
            self._error(":load needs a file: :load events.jsonl")
            return False
        loaded = load_file(Path(_unquote(arg)).expanduser())
        _ = self.catalog  # a background build must finish before its data changes
        first = not self.data.events and not self.data.profiles
        if self.data.sample:
            # Loading your own file replaces the sample data rather than mixing with it.
            self.data = Dataset()
            first = True
        self.data.extend(loaded)
        for note in loaded.notes:
            self.out.write(f"note: {note}", "warning")
        self._rebuild_catalog()
        if self.current is not None:
            self.current.matches = None  # they index records that have changed
        self.out.write(f"loaded {plural(len(loaded.events), 'event')} and "
                       f"{plural(len(loaded.profiles), 'profile')} from {arg}"
                       + ("" if first else f" (now {self.describe_data()})"))
        return True

    @_command("schema", "[FILE]", "list known properties with types; with FILE, load a schema")
    def cmd_schema(self, arg):
        if arg:
            arg = _unquote(arg)
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
                top = ", ".join(fmt_json(v) for v, _ in f.top_values(3))
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

    @_command("why", "", "how many records each condition of the current filter selects "
              "on its own")
    def cmd_why(self, arg):
        from .explain import mixed_type_notes

        if self.current is None:
            self._error("no expression yet: type a filter first")
            return False
        expr = self.current.expr
        parts, word = A.conjuncts(expr), "and"
        if len(parts) < 2:
            parts, word = A.disjuncts(expr), "or"
        total = len(self.records)
        noun = f"{self.scope}s"
        if len(parts) < 2:
            n = self._count(expr)
            self.out.write(f"a single condition: {n:,} of {total:,} {noun}")
        else:
            self.out.write(f"{len(parts)} conditions joined by `{word}`; how many of the "
                           f"{total:,} {noun} each one selects on its own:")
            rows = [[f"{self._count(p):,}", format_expr(p)] for p in parts]
            for line in align(rows):
                self.out.write("  " + line)
            self.out.write(f"together: {self._count(expr):,}")
        for note in mixed_type_notes(expr, self.catalog, self.scope, self.endpoint):
            self.out.write(f"note: {note}", "warning")
        return True

    @_command("save", "FILE", "append the current filter to a .mpql file (for mpql lint/fmt)")
    def cmd_save(self, arg):
        if not arg:
            self._error(":save needs a file: :save filters.mpql")
            return False
        if self.current is None:
            self._error("no expression yet: type a filter first")
            return False
        path = Path(_unquote(arg)).expanduser()
        try:
            old = path.read_text(encoding="utf-8") if path.exists() else ""
        except (OSError, UnicodeDecodeError) as exc:
            raise MpqlError(f"{path}: cannot read it to append: {exc}") from None
        parts = []
        if old.strip():
            parts.append("" if old.endswith("\n") else "\n")
        # A `# mpql:` directive sets the context `mpql lint` checks the rest of the file in;
        # write one when the file's last directive names another endpoint.
        found = _DIRECTIVE_ENDPOINT.findall(old)
        if (found[-1] if found else None) != self.endpoint:
            parts.append(("\n" if old.strip() else "") + f"# mpql: endpoint={self.endpoint}\n")
        parts.append(("\n" if old.strip() or parts else "") + format_expr(self.current.expr)
                     + "\n")
        try:
            with path.open("a", encoding="utf-8") as fh:
                fh.write("".join(parts))
        except OSError as exc:
            raise MpqlError(f"{path}: cannot write: {exc.strerror}") from None
        self.out.write(f"appended to {path}")
        return True

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
        times = [as_datetime(e.get("properties", {}).get("time")) for e in self.data.events]
        times = [t for t in times if t is not None]
        if times:
            return min(times).date().isoformat(), max(times).date().isoformat()
        today = (self.now or datetime.now(timezone.utc)).date()
        return (today - timedelta(days=7)).isoformat(), (today - timedelta(days=1)).isoformat()

    def _query(self, arg: str | None, limit: int | None = None):
        if self.current is None:
            self._error("no expression yet: type a filter first")
            return None
        from .. import planner

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
        from .. import executor

        creds = executor.Credentials.from_env()
        if creds is None and self.base_url:
            raise MpqlError(f"--base-url {self.base_url} needs credentials for that server in "
                            "MP_USERNAME, MP_SECRET and MP_PROJECT_ID")
        if creds is not None:
            from ..executor._auth import region_from_env

            region = region_from_env() or "us"
            client = executor.Client(creds, region, base_url=self.base_url)
            chunk = "day"
            if self.base_url:
                target = self.base_url
            else:
                target = "Mixpanel"
                self.out.write("note: this runs against Mixpanel and counts against the "
                               "project's rate limits (60 queries/hour)", "dim")
        else:
            sandbox = self._sandbox()
            creds = executor.Credentials.from_auth(sandbox.credentials)
            client = executor.Client(creds, base_url=sandbox.url)
            target = "the sandbox on 127.0.0.1 serving the loaded data"
            chunk = "none"  # one local request instead of one per day
        # The local count is comparable only when the server holds the loaded data.
        creds_are_local = target.startswith("the sandbox")
        plan = query.plan(auth=creds.planner_auth(), chunk=chunk)
        rows = []
        for record in client.run(plan, limit=limit):
            rows.append(self._summary(record, self.current.expr))
        for line in align(rows):
            self.out.write("  " + line, "match")
        more = " — stopped at the limit (:run N for more)" if len(rows) >= limit else ""
        local = ""
        if self.current.matches is not None and self.current.scope == self.scope \
                and creds_are_local:
            local = f"; the local evaluation selects {len(self.current.matches):,}"
        self.out.write(f"{plural(len(rows), 'record')} from {target}{more}{local}", "result")
        return True

    def _sandbox(self):
        """A private sandbox serving exactly the loaded data (started on first :run, restarted
        when the data changes, stopped by close())."""
        if self._sandbox_server is not None and self._sandbox_version == self._data_version:
            return self._sandbox_server
        self.close()
        from .. import sandbox as sandbox_mod
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


_DIRECTIVE_ENDPOINT = re.compile(r"^\s*#\s*mpql:.*?\bendpoint=([\w-]+)", re.M)


def _unquote(arg: str) -> str:
    """A file argument as typed, without the quotes around a name with spaces."""
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
        return arg[1:-1]
    return arg


"""The interactive front end: a prompt_toolkit ``PromptSession`` around the engine.

What prompt_toolkit adds over non-interactive mode: syntax highlighting (``MpqlReplLexer``),
completion as you type (an adapter over the pure ``completion.complete``; file names after
``:load`` and ``:schema``), multi-line input (Enter continues while ``input_status`` says the
expression is incomplete, and submits otherwise; Alt-Enter / Esc-Enter always submits),
persistent history with suggestions from it, and a bottom toolbar with the session's context.

This is the only module that imports prompt_toolkit, and only ``mpql repl`` imports it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import (
    Completer, Completion, PathCompleter, ThreadedCompleter,
)
from prompt_toolkit.document import Document
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import FormattedText, PygmentsTokens
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.styles import Style, merge_styles, style_from_pygments_cls

from .completion import complete, input_status
from .engine import Session
from .lexer import MpqlLexer, MpqlReplLexer
from .script import CONTINUATION, PROMPT

__all__ = ["MpqlCompleter", "TerminalOutput", "build_prompt_session", "interact",
           "default_history_path", "live_status"]

STYLE = Style.from_dict({
    "error": "#e06c75",
    "warning": "#d19a66",
    "result": "bold",
    "match": "",
    "dim": "#7f848e",
    "echo": "#7f848e",
    "bottom-toolbar": "noreverse bg:#2c313a #abb2bf",
    "bottom-toolbar.ok": "noreverse bg:#2c313a #98c379",
    "bottom-toolbar.error": "noreverse bg:#2c313a #e06c75",
    "bottom-toolbar.dim": "noreverse bg:#2c313a #7f848e",
})


def default_history_path() -> Path | None:
    """Where history is kept: ``$MPQL_HISTORY`` (empty disables it), else the platform's
    per-user state directory (``$XDG_STATE_HOME`` or ~/.local/state on Linux,
    ~/Library/Application Support on macOS, %LOCALAPPDATA% on Windows) + ``mpql/repl-history``."""
    env = os.environ.get("MPQL_HISTORY")
    if env is not None:
        return Path(env).expanduser() if env else None
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "mpql" / "repl-history"


class MpqlCompleter(Completer):
    """prompt_toolkit adapter over :func:`mpql.repl.completion.complete`."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event):
        before = document.text_before_cursor
        stripped = before.lstrip()
        for cmd in (":load ", ":schema ", ":save "):
            if stripped.startswith(cmd) and "\n" not in stripped:
                sub = Document(stripped[len(cmd):].lstrip())
                yield from self.paths.get_completions(sub, complete_event)
                return
        if self.session._catalog_job is not None and not complete_event.completion_requested:
            catalog = None  # still being built: keyword completion now, names on Tab
        else:
            try:
                catalog = self.session.catalog
            except Exception:  # noqa: BLE001 - the failed build is reported on the next input
                catalog = None
        for s in complete(before, catalog, self.session.endpoint):
            yield Completion(s.text, start_position=s.start, display=s.label,
                             display_meta=s.meta)


class TerminalOutput:
    """Styled output for a terminal; expressions are highlighted like the input."""

    def __init__(self, output=None) -> None:
        self.output = output
        self._lexer = MpqlLexer()

    def write(self, text: str = "", style: str = "") -> None:
        if style == "expr":
            tokens = list(self._lexer.get_tokens(text))
            if tokens and tokens[-1][1] == "\n":
                tokens = tokens[:-1]
            content = PygmentsTokens(tokens)
        else:
            content = FormattedText([(f"class:{style}" if style else "", text)])
        print_formatted_text(content, style=_style(), output=self.output)


_STYLE_CACHE: list = []


def _style():
    """Pygments' `default` style (readable on light and dark terminals) plus the REPL's own
    classes; ``$MPQL_REPL_STYLE`` names another Pygments style (e.g. `monokai`)."""
    if not _STYLE_CACHE:
        from pygments.styles import get_style_by_name
        from pygments.util import ClassNotFound

        name = os.environ.get("MPQL_REPL_STYLE") or "default"
        try:
            pygments_style = get_style_by_name(name)
        except ClassNotFound:
            print(f"mpql repl: unknown Pygments style `{name}` in MPQL_REPL_STYLE; using the "
                  "default", file=sys.stderr)
            pygments_style = get_style_by_name("default")
        _STYLE_CACHE.append(merge_styles([style_from_pygments_cls(pygments_style), STYLE]))
    return _STYLE_CACHE[0]


_LIVE_CACHE: dict = {}


def live_status(text: str) -> tuple[str, str]:
    """What the toolbar says about the input as it is typed: (message, style)."""
    cached = _LIVE_CACHE.get(text)
    if cached is not None:
        return cached
    from ..errors import ParseError
    from ..language import parse

    status = input_status(text)
    if status == "empty":
        result = ("type an expression or :help", "dim")
    elif status == "command":
        result = ("command", "dim")
    elif status == "incomplete":
        result = ("… incomplete: Enter continues on a new line", "dim")
    else:
        try:
            parse(text)
            result = ("✓ valid", "ok")
        except ParseError as exc:
            result = (f"✗ {exc.code} {exc.diagnostic.message} ({exc.line}:{exc.column})",
                      "error")
    _LIVE_CACHE.clear()  # one entry: the toolbar asks again for the same text on each render
    _LIVE_CACHE[text] = result
    return result


def _key_bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter")
    def _enter(event):
        buf = event.current_buffer
        state = buf.complete_state
        if state is not None and state.current_completion is not None:
            buf.apply_completion(state.current_completion)
            return
        text = buf.document.text
        # Continue while the expression is incomplete; an empty last line submits anyway so
        # that the error is shown (no continuation prompt that never ends).
        if input_status(text) == "incomplete" and text.split("\n")[-1].strip():
            buf.insert_text("\n")
        else:
            buf.validate_and_handle()

    @kb.add("escape", "enter")
    def _submit(event):
        event.current_buffer.validate_and_handle()

    return kb


def build_prompt_session(session: Session, *, history_path: Path | None, input=None,
                         output=None, threaded: bool = True) -> PromptSession:
    """``threaded=False`` computes completions synchronously (deterministic in tests)."""
    history = InMemoryHistory()
    if history_path is not None:
        try:
            history_path.parent.mkdir(parents=True, exist_ok=True)
            # prompt_toolkit reads and appends to the file later, inside the event loop, where
            # an error (a directory, a read-only file) is a traceback and "Press ENTER": try
            # both now and fall back to memory instead.
            with open(history_path, "ab"), open(history_path, "rb"):
                pass
            history = FileHistory(str(history_path))
        except OSError as exc:
            session.out.write(f"note: history not saved ({history_path}: {exc.strerror})", "dim")

    def toolbar():
        from prompt_toolkit.application.current import get_app

        s = session
        text = get_app().current_buffer.text
        state, style = live_status(text)
        return FormattedText([
            (f"class:bottom-toolbar.{style}", f" {state} "),
            ("class:bottom-toolbar",
             f" endpoint: {s.endpoint} · {len(s.data.events):,} events · "
             f"{len(s.data.profiles):,} profiles · Tab completes · Alt-Enter submits · "
             ":help · Ctrl-D quits "),
        ])

    return PromptSession(
        message=PROMPT,
        multiline=Condition(lambda: True),
        prompt_continuation=lambda width, line_number, wrap_count: CONTINUATION,
        lexer=PygmentsLexer(MpqlReplLexer),
        completer=(ThreadedCompleter(MpqlCompleter(session)) if threaded
                   else MpqlCompleter(session)),
        complete_while_typing=True,
        auto_suggest=AutoSuggestFromHistory(),
        history=history,
        key_bindings=_key_bindings(),
        bottom_toolbar=toolbar,
        style=_style(),
        include_default_pygments_style=False,
        enable_history_search=False,
        search_ignore_case=True,
        input=input,
        output=output,
    )


def interact(session: Session, prompt_session: PromptSession) -> int:
    """The loop: prompt, submit, repeat until :quit or Ctrl-D. Ctrl-C clears the input."""
    while not session.quit:
        try:
            text = prompt_session.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if text.strip():
            session.submit(text)
            session.out.write("")  # a blank line before the next prompt
    return 0

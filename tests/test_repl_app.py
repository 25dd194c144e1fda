"""The interactive REPL end to end through prompt_toolkit: keystrokes go in through a pipe
input, the terminal is a DummyOutput, and the session's answers are captured as text."""

from __future__ import annotations

import io
import threading
import time

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from mpql.repl.app import MpqlCompleter, build_prompt_session, default_history_path, interact
from mpql.repl.data import load_file
from mpql.repl.engine import PlainOutput, Session

from test_repl_cli import events  # noqa: F401 - the same two events, as a fixture


@pytest.fixture
def session(events):
    buf = io.StringIO()
    s = Session(load_file(events), out=PlainOutput(buf))
    s.buf = buf
    return s


def drive(session, steps, *, history_path=None):
    """Run the REPL loop on a pipe input. ``steps`` are (keys, expected buffer text or None):
    after sending keys, wait until the edit buffer holds the expected text — completion runs
    asynchronously inside prompt_toolkit, so typing on before it has landed would race it."""
    with create_pipe_input() as inp:
        ps = build_prompt_session(session, history_path=history_path, input=inp,
                                  output=DummyOutput(), threaded=False)
        errors = []

        def feed():
            try:
                for keys, expected in steps:
                    inp.send_text(keys)
                    if expected is None:
                        continue
                    deadline = time.monotonic() + 10
                    while ps.default_buffer.text != expected:
                        if time.monotonic() > deadline:
                            raise AssertionError(
                                f"buffer is {ps.default_buffer.text!r}, expected {expected!r}")
                        time.sleep(0.01)
            except BaseException as exc:  # surface in the test thread
                errors.append(exc)
                inp.send_text(":quit\r")

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        code = interact(session, ps)
        feeder.join(10)
    if errors:
        raise errors[0]
    return code, session.buf.getvalue()


def test_an_expression_is_answered_and_quit_ends_the_loop(session):
    code, out = drive(session, [('properties["plan"]=="pro"\r', None), (":quit\r", None)])
    assert code == 0
    assert out.splitlines()[0] == 'properties["plan"] == "pro"'  # canonical form first
    assert session.quit


def test_enter_continues_an_incomplete_expression_on_a_new_line(session):
    code, out = drive(session, [
        ('properties["$os"] == "Windows" or\r', 'properties["$os"] == "Windows" or\n'),
        ('properties["plan"] == "pro"\r', None),
        (":wire\r", None), (":quit\r", None),
    ])
    assert '(properties["$os"] == "Windows") or (properties["plan"] == "pro")' in out


def test_an_empty_continuation_line_submits_and_shows_the_error(session):
    code, out = drive(session, [("(1 +\r", "(1 +\n"), ("\r", None), (":quit\r", None)])
    assert "E106 expression ends after `+`; expected a value" in out
    assert session.failures == 1


def test_alt_enter_submits_at_once(session):
    code, out = drive(session, [("1 ==", "1 =="), ("\x1b\r", None), (":quit\r", None)])
    assert "E106" in out


def test_tab_completes_accessors_property_names_and_values(session):
    code, out = drive(session, [
        ("prop", "prop"), ("\t", "properties["),
        ('"pl', 'properties["pl'), ("\t", 'properties["plan"]'),
        (' == "fr', 'properties["plan"] == "fr'), ("\t", 'properties["plan"] == "free"'),
        # Enter on a selected completion only accepts it (as IPython does); typing on
        # closes the menu, and the next Enter submits.
        (" ", 'properties["plan"] == "free" '), ("\r", None), (":wire\r", None),
        (":quit\r", None),
    ])
    assert out.splitlines()[0] == 'properties["plan"] == "free"'



def test_errors_and_unknown_commands_never_end_the_session(session):
    code, out = drive(session, [
        ('properties["a"] === 1\r', None), (":frob\r", None), (":load /no/such/file\r", None),
        ("1 == 1\r", None), (":quit\r", None),
    ])
    assert "E101" in out and "unknown command `:frob`" in out and "no such file" in out
    assert "1 == 1" in out.splitlines()
    assert session.failures == 3


def test_ctrl_d_ends_the_session(session):
    code, out = drive(session, [("1 == 1\r", None), ("\x04", None)])
    assert code == 0 and not session.quit


def test_history_persists_across_sessions(session, tmp_path):
    history = tmp_path / "state" / "mpql" / "repl-history"
    drive(session, [('properties["plan"] == "pro"\r', None), (":quit\r", None)],
          history_path=history)
    assert history.exists() and 'properties["plan"] == "pro"' in history.read_text()
    # A new session recalls it with the Up arrow.
    session.quit = False
    drive(session, [("\x1b[A", ":quit"), ("\x1b[A", 'properties["plan"] == "pro"'),
                    ("\x15:quit\r", None)], history_path=history)


def test_an_unusable_history_file_falls_back_to_memory_with_a_note(session, tmp_path):
    # A directory given as --history used to reach prompt_toolkit, which printed a traceback
    # and "Press ENTER to continue..." in the middle of the session.
    code, out = drive(session, [('properties["plan"] == "pro"\r', None), (":quit\r", None)],
                      history_path=tmp_path)
    assert code == 0
    assert f"note: history not saved ({tmp_path}: Is a directory)" in out
    assert "1 of 2 events match" in out


def test_default_history_location_is_configurable(monkeypatch, tmp_path):
    monkeypatch.setenv("MPQL_HISTORY", str(tmp_path / "h"))
    assert default_history_path() == tmp_path / "h"
    monkeypatch.setenv("MPQL_HISTORY", "")
    assert default_history_path() is None
    monkeypatch.delenv("MPQL_HISTORY")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    import sys

    if sys.platform.startswith("linux"):
        assert default_history_path() == tmp_path / "xdg" / "mpql" / "repl-history"


def test_completer_adapter_offers_files_after_load(session, tmp_path):
    (tmp_path / "more.jsonl").write_text("")
    completer = MpqlCompleter(session)
    text = f":load {tmp_path}/mo"
    got = [c.text for c in completer.get_completions(Document(text), CompleteEvent())]
    assert got == ["re.jsonl"]
    got = [(c.text, c.display_meta_text) for c in completer.get_completions(
        Document('properties["'), CompleteEvent())]
    assert ('plan"]', "string, 2 events") in got


def test_toolbar_reports_the_input_as_it_is_typed():
    from mpql.repl.app import live_status

    assert live_status("") == ("type an expression or :help", "dim")
    assert live_status('properties["a"] == 1') == ("✓ valid", "ok")
    assert live_status('properties["a"] == 1 and')[0].startswith("… incomplete")
    msg, style = live_status('properties["a"] === 1')
    assert style == "error" and msg.startswith("✗ E101 ") and msg.endswith("(1:17)")

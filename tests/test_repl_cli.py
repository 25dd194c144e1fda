"""`mpql repl` as a real subprocess in non-interactive mode (stdin is a pipe): the transcript,
multi-line inputs, errors that never stop the run, and the documented exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

EVENTS = [
    {"event": "Signup", "properties": {"distinct_id": "u1", "time": 1700000000,
                                       "$os": "Mac OS X", "plan": "pro"}},
    {"event": "Login", "properties": {"distinct_id": "u2", "time": 1700003600,
                                      "$os": "Windows", "plan": "free"}},
]


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    return path


def _env(tmp_path):
    return {"PATH": "/usr/bin:/bin", "MPQL_HISTORY": "", "MPQL_CACHE_DIR": str(tmp_path / "c"),
            "HOME": str(tmp_path), "MPQL_SANDBOX_TODAY": os.environ["MPQL_SANDBOX_TODAY"]}


def repl(args, stdin, tmp_path):
    return subprocess.run([sys.executable, "-m", "mpql", "repl", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, env=_env(tmp_path))


def test_script_prints_a_transcript_and_exits_0(events, tmp_path):
    script = '# check the OS filter\nproperties["$os"]=="Windows"\n:wire\n'
    r = repl(["--data", str(events)], script, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0] == "# check the OS filter"
    assert lines[1] == 'mpql> properties["$os"]=="Windows"'
    assert lines[2] == 'properties["$os"] == "Windows"'
    assert "1 of 2 events match (50.0%)" in lines
    assert "mpql> :wire" in lines


def test_multi_line_expression_continues_until_complete(events, tmp_path):
    script = 'properties["plan"] == "pro" or\n  properties["$os"] == "Windows"\n'
    r = repl(["--data", str(events)], script, tmp_path)
    assert r.returncode == 0
    assert r.stdout.splitlines()[:3] == [
        'mpql> properties["plan"] == "pro" or',
        ' ...>   properties["$os"] == "Windows"',
        'properties["plan"] == "pro" or properties["$os"] == "Windows"',
    ]
    assert "2 of 2 events match (100.0%)" in r.stdout


def test_errors_never_end_the_run_and_make_the_exit_code_1(events, tmp_path):
    script = 'properties["a"] === 1\n:nope\n(1 +\n\nproperties["plan"] == "pro"\n'
    r = repl(["--data", str(events)], script, tmp_path)
    assert r.returncode == 1
    assert "E101" in r.stdout and "unknown command `:nope`" in r.stdout
    assert "E106" in r.stdout  # the blank line submitted the incomplete expression
    assert "1 of 2 events match (50.0%)" in r.stdout  # the run went on after the errors
    assert "Traceback" not in r.stdout + r.stderr


def test_quit_stops_reading(events, tmp_path):
    r = repl(["--data", str(events)], ":quit\nproperties[\n", tmp_path)
    assert r.returncode == 0 and "properties[" not in r.stdout.replace("mpql> :quit", "")


def test_no_echo_prints_answers_only(events, tmp_path):
    r = repl(["--data", str(events), "--no-echo"], "1 == 1\n", tmp_path)
    assert r.stdout.splitlines()[0] == "1 == 1"
    assert "mpql>" not in r.stdout


def test_start_up_errors_exit_2_with_one_line(tmp_path):
    r = repl(["--data", str(tmp_path / "missing.jsonl")], "", tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == f"mpql repl: error: {tmp_path / 'missing.jsonl'}: no such file"
    r = repl(["--endpoint", "nowhere"], "", tmp_path)
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_profiles_only_default_to_the_engage_endpoint(tmp_path):
    path = tmp_path / "profiles.jsonl"
    path.write_text(json.dumps({"$distinct_id": "u1", "$properties": {"plan": "pro"}}) + "\n")
    r = repl(["--profiles", str(path)], ':endpoint\nproperties["plan"] == "pro"\n', tmp_path)
    assert r.returncode == 0, r.stdout
    assert "endpoint: engage (expressions are evaluated against 1 profile)" in r.stdout
    assert "1 of 1 profiles match (100.0%)" in r.stdout


@pytest.mark.parametrize("argv", [["fmt", "-e", "1==1"], ["repl", "--data", "EVENTS"]])
def test_only_interactive_sessions_import_prompt_toolkit_and_pygments(argv, events):
    argv = [str(events) if a == "EVENTS" else a for a in argv]
    code = (f"import sys, mpql.cli; mpql.cli.main({argv!r}); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'prompt_toolkit', 'pygments'}))")
    r = subprocess.run([sys.executable, "-c", code], input="1 == 1\n", capture_output=True,
                       text=True, timeout=60)
    assert r.stdout.splitlines()[-1] == "[]", r.stdout + r.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_interactive_session_on_a_pseudo_terminal(events, tmp_path):
    """The terminal path of `mpql repl` for real: prompt_toolkit on a pty, the toolbar's live
    status, an expression answered in colour, history written, :quit ends it with 0."""
    import os
    import pty
    import re
    import select
    import time

    master, slave = pty.openpty()
    history = tmp_path / "history"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm-256color",
           "MPQL_HISTORY": str(history), "MPQL_CACHE_DIR": str(tmp_path / "c"),
           "MPQL_SANDBOX_TODAY": os.environ["MPQL_SANDBOX_TODAY"]}
    proc = subprocess.Popen([sys.executable, "-m", "mpql", "repl", "--data", str(events)],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = b""

    def read_until(pattern: bytes, timeout=20.0):
        nonlocal seen
        deadline = time.monotonic() + timeout
        while pattern not in re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", seen):
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} in {seen[-2000:]!r}")
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                seen += chunk
                # Answer cursor-position requests as a terminal would (prompt_toolkit draws
                # the bottom toolbar only once it knows where the cursor is).
                for _ in range(chunk.count(b"\x1b[6n")):
                    os.write(master, b"\x1b[5;1R")

    try:
        read_until(b"mpql>")
        read_until(b"type an expression or :help")  # the live status in the toolbar
        os.write(master, b'properties["$os"] ===')
        read_until("✗ E101".encode())
        os.write(master, b'\x7f "Windows"\r')  # backspace: `==`
        read_until(b"1 of 2 events match (50.0%)")
        os.write(master, b":quit\r")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"\x1b[" in seen  # styled output: a terminal, not the scripted path
    assert 'properties["$os"] == "Windows"' in history.read_text()


def _repl_shell(redirections, stdin, tmp_path, *args):
    import shlex

    cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "mpql", "repl", *args])
    return subprocess.run(["sh", "-c", f"exec {cmd} {redirections}"], input=stdin,
                          capture_output=True, timeout=60, env=_env(tmp_path))


def test_closed_stdin_exits_2_with_one_line(events, tmp_path):
    r = _repl_shell("<&-", None, tmp_path, "--data", str(events))
    assert r.returncode == 2
    assert b"standard input is closed" in r.stderr and b"Traceback" not in r.stderr


def test_closed_stdout_is_not_a_traceback(events, tmp_path):
    r = _repl_shell(">&-", b"true\n", tmp_path, "--data", str(events))
    assert r.returncode == 0 and b"Traceback" not in r.stderr


def test_a_non_utf8_script_line_stops_with_its_line_number(events, tmp_path):
    # The lines before it are answered; the bad line is an input error (exit 2), not an
    # expression made of lone surrogates.
    r = _repl_shell("", b':fmt 1+1\r\n\xff\xfe properties\n:fmt 2\n', tmp_path,
                    "--data", str(events))
    assert r.returncode == 2
    assert b"1 + 1\n" in r.stdout and b"2\n" not in r.stdout.split(b"1 + 1")[1]
    assert b"<stdin>:2: not UTF-8 text" in r.stderr and b"Traceback" not in r.stderr


"""The exit-code contract of every `mpql` command, run as real subprocesses (docs/cli.md, *Exit
codes*):

* a syntax error in an expression exits 2 in every command that reads expressions;
* standard output that cannot be written (/dev/full, a closed descriptor) is one line on
  stderr and exit 2 — never lost output with exit 0, never "Exception ignored …";
* a reader that stops reading (``| head -c1``) ends the command quietly, exit 0;
* an internal error (a bug) is one line on stderr and exit 2, no traceback unless
  ``MPQL_DEBUG=1`` or ``mpql --debug``.

The internal error is injected honestly from outside: a ``python -c`` driver replaces the
command module's ``run`` with a function that raises, then calls the real ``mpql.cli.main``.
Every command in ``mpql.cli.COMMANDS`` must have a case here, so a new command cannot skip
the contract.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mpql.cli import COMMANDS

SYNTAX_ERROR = "1 +"
GOOD = 'properties["plan"] == "pro"'

#: Commands that read no expression (nothing to have a syntax error in).
NO_EXPRESSION = {"rule", "schema", "sandbox", "demo"}


def _events(tmp_path):
    path = tmp_path / "events.jsonl"
    rows = [{"event": "Signup", "properties": {"time": 1700000000, "distinct_id": "u1",
                                                 "plan": "pro"}},
            {"event": "Signup", "properties": {"time": 1700000100, "distinct_id": "u2",
                                                 "plan": "free"}}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MP_") and k != "MPQL_DEBUG"}
    env.update(extra)
    return env


def syntax_case(name, events):
    """argv and stdin with a syntax error for command ``name``."""
    plan = ["plan", "--events", "--from", "2024-01-01", "--to", "2024-01-02",
            "--today", "2024-06-01"]
    return {
        "parse": (["parse", "-e", SYNTAX_ERROR], None),
        "fmt": (["fmt", "-e", SYNTAX_ERROR], None),
        "lint": (["lint", "--isolated", "-e", SYNTAX_ERROR], None),
        "plan": (plan + ["--where", SYNTAX_ERROR], None),
        "run": (["run", "--events", "--from", "2024-01-01", "--to", "2024-01-02", "--where",
                 SYNTAX_ERROR], None),
        "filter": (["filter", "--where", SYNTAX_ERROR, events], None),
        "repl": (["repl", "--data", events], SYNTAX_ERROR + "\n"),
        "sql": (["sql", "-e", SYNTAX_ERROR], None),  # when this build has `mpql sql`
    }[name]


def _sample_days() -> list[str]:
    """The embedded sandbox's last day (its sample data ends yesterday)."""
    from mpql.sandbox import default_dataset

    day = default_dataset().last_date.isoformat()
    return ["--from", day, "--to", day]


def output_case(name, events):
    """argv and stdin of a successful invocation of ``name`` that writes to stdout."""
    return {
        "parse": (["parse", "-e", GOOD], None),
        "fmt": (["fmt", "-e", GOOD], None),
        "lint": (["lint", "--isolated", "--endpoint", "export", "-e",
                  'properties["distinct_id"] == "x"'], None),
        "rule": (["rule", "S001"], None),
        "schema": (["schema", "infer", events], None),
        "plan": (["plan", "--events", "--from", "2024-01-01", "--to", "2024-01-02",
                  "--today", "2024-06-01", "--where", GOOD], None),
        "filter": (["filter", "--where", GOOD, events], None),
        "sandbox": (["sandbox", "info"], None),
        "run": (["run", "--events", *_sample_days(), "--limit", "2", "-q"], None),
        "demo": (["demo"], None),
        "repl": (["repl", "--data", events], GOOD + "\n"),
        "sql": (["sql", "-e", GOOD], None),
    }[name]


def mpql(argv, stdin=None, stdout=subprocess.PIPE, **env):
    return subprocess.run([sys.executable, "-m", "mpql", *argv], input=stdin, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=180, env=_env(**env))


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": error: " in line]


def test_every_command_has_a_case():
    events = "events.jsonl"
    for name in COMMANDS:
        output_case(name, events)  # KeyError names a command without a case
        if name not in NO_EXPRESSION:
            syntax_case(name, events)


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - NO_EXPRESSION))
def test_a_syntax_error_exits_2_in_every_command(name, tmp_path):
    argv, stdin = syntax_case(name, _events(tmp_path))
    r = mpql(argv, stdin)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "E106" in r.stdout + r.stderr  # the located diagnostic is shown
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_full_disk_on_stdout_is_one_error_line_and_exit_2(name, tmp_path):
    argv, stdin = output_case(name, _events(tmp_path))
    with open("/dev/full", "w") as full:
        r = mpql(argv, stdin, stdout=full)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr
    (line,) = error_lines(r.stderr)
    assert line.startswith(f"mpql {name}: error: ") and "No space left on device" in line


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_an_internal_error_is_one_line_and_exit_2(name, tmp_path):
    argv, stdin = output_case(name, _events(tmp_path))
    r = _with_injected_bug(argv, stdin)
    assert r.returncode == 2
    assert r.stderr == (f"mpql {name}: internal error: RuntimeError: injected failure (a bug in "
                        f"mpql — please report it; MPQL_DEBUG=1 shows the traceback)\n")


@pytest.mark.parametrize("how", ["env", "flag"])
def test_debug_shows_the_traceback_of_an_internal_error(how, tmp_path):
    argv, _ = output_case("parse", _events(tmp_path))
    if how == "flag":
        r = _with_injected_bug(["--debug", *argv])
    else:
        r = _with_injected_bug(argv, MPQL_DEBUG="1")
    assert r.returncode == 2
    assert r.stderr.startswith("Traceback (most recent call last):")
    assert r.stderr.endswith("mpql parse: internal error: RuntimeError: injected failure (a bug "
                             "in mpql — please report it)\n")


DRIVER = """
import importlib, sys
from mpql.cli import COMMANDS, main
name = next(a for a in sys.argv[1:] if a != "--debug")
module = importlib.import_module(COMMANDS[name][0])
def run(args):
    raise RuntimeError("injected failure")
module.run = run
sys.exit(main(sys.argv[1:]))
"""


def _with_injected_bug(argv, stdin=None, **env):
    return subprocess.run([sys.executable, "-c", DRIVER, *argv], input=stdin,
                          capture_output=True, text=True, timeout=60, env=_env(**env))


DEEP_DRIVER = """
import importlib, sys
from mpql.cli import main
module, _, path = sys.argv[1].partition(":")
owner = importlib.import_module(module)
*owners, attr = path.split(".")
for name in owners:
    owner = getattr(owner, name)
def boom(*args, **kwargs):
    raise RuntimeError("injected failure")
setattr(owner, attr, boom)
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("target, argv, stdin", [
    # deep inside a command, not just its entry point
    ("mpql.checker.lint:lint_text", ["lint", "--isolated", "-e", GOOD], None),
    ("mpql.cli.parse:to_tree", ["parse", "-e", GOOD], None),
    ("mpql.planner.query:_plan_events", ["plan", "--events", "--from", "2024-01-01", "--to",
                                         "2024-01-02", "--today", "2024-06-01"], None),
])
def test_an_internal_error_deep_in_a_command_is_one_line_and_exit_2(target, argv, stdin):
    r = subprocess.run([sys.executable, "-c", DEEP_DRIVER, target, *argv], input=stdin,
                       capture_output=True, text=True, timeout=60, env=_env())
    assert r.returncode == 2
    assert r.stderr == (f"mpql {argv[0]}: internal error: RuntimeError: injected failure (a bug "
                        f"in mpql — please report it; MPQL_DEBUG=1 shows the traceback)\n")


def _repl_with_injected_bug(events, *flags, **env):
    return subprocess.run([sys.executable, "-c", DEEP_DRIVER, "mpql.repl.engine:Session._breakdown",
                           *flags, "repl", "--data", events],
                          input='properties["plan"]\n' + GOOD + "\n", capture_output=True,
                          text=True, timeout=60, env=_env(**env))


def test_an_internal_error_in_a_repl_script_is_reported_and_exits_2(tmp_path):
    # The session goes on after a bug (the next input is answered), and the script exits 2.
    # The bug is reported on stderr like in every command, not in the transcript on stdout.
    r = _repl_with_injected_bug(_events(tmp_path))
    assert r.returncode == 2, r.stdout
    assert "internal error" not in r.stdout and "injected failure" not in r.stdout
    assert "mpql> properties[\"plan\"]" in r.stdout  # the transcript is intact
    assert "1 of 2 events match" in r.stdout and "Traceback" not in r.stdout + r.stderr
    assert r.stderr.splitlines() == [
        "mpql repl: internal error: RuntimeError: injected failure while handling "
        "'properties[\"plan\"]' (a bug in mpql — please report it; MPQL_DEBUG=1 shows the "
        "traceback)",
        "mpql repl: 1 input of the script hit an internal error (reported above): exit status 2",
    ]


@pytest.mark.parametrize("how", ["env", "flag"])
def test_debug_shows_the_traceback_of_an_internal_error_in_a_repl_script(how, tmp_path):
    if how == "flag":
        r = _repl_with_injected_bug(_events(tmp_path), "--debug")
    else:
        r = _repl_with_injected_bug(_events(tmp_path), MPQL_DEBUG="1")
    assert r.returncode == 2, r.stdout
    assert r.stderr.startswith("Traceback (most recent call last):")
    assert "Traceback" not in r.stdout and "internal error" not in r.stdout
    assert r.stderr.splitlines()[-2:] == [
        "mpql repl: internal error: RuntimeError: injected failure while handling "
        "'properties[\"plan\"]' (a bug in mpql — please report it)",
        "mpql repl: 1 input of the script hit an internal error (reported above): exit status 2",
    ]


def test_a_closed_stdout_is_an_error_for_a_command_that_writes(tmp_path):
    r = subprocess.run(["sh", "-c", f'exec "$0" -m mpql parse -e \'{GOOD}\' >&-',
                        sys.executable], capture_output=True, text=True, timeout=60,
                       env=_env())
    assert (r.returncode, r.stderr) == (2, "mpql parse: error: cannot write to standard "
                                           "output: standard output is closed\n")


def test_a_closed_stdout_is_fine_for_a_command_that_writes_nothing(tmp_path):
    f = tmp_path / "ok.mpql"
    f.write_text(GOOD + "\n", encoding="utf-8")
    r = subprocess.run(["sh", "-c", 'exec "$0" -m mpql fmt --check "$1" >&-',
                        sys.executable, str(f)], capture_output=True, text=True, timeout=60,
                       env=_env())
    assert (r.returncode, r.stderr) == (0, "")


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    # Far more output than a pipe buffer holds: the write fails mid-output with EPIPE.
    f = tmp_path / "many.mpql"
    f.write_text("\n\n".join(f'properties["p{i}"] == {i}' for i in range(3000)) + "\n",
                 encoding="utf-8")
    r = subprocess.run(["bash", "-c", '"$0" -m mpql parse "$1" | head -c1 >/dev/null; '
                        'echo "status=${PIPESTATUS[0]}"', sys.executable, str(f)],
                       capture_output=True, text=True, timeout=60, env=_env())
    assert r.stderr == ""
    assert r.stdout.strip() == "status=0"

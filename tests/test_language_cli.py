"""`mpql parse` and `mpql fmt`, run as real subprocesses on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers import sigint_default

ROOT = Path(__file__).resolve().parent.parent


def mpql(*args, stdin: str | None = None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mpql", *args], input=stdin, capture_output=True, text=True,
        cwd=cwd or ROOT, timeout=60, encoding="utf-8",
    )


def assert_no_traceback(result):
    assert "Traceback" not in result.stderr + result.stdout


# --------------------------------------------------------------------------------- parse


class TestParse:
    def test_outline(self):
        r = mpql("parse", "-e", 'properties["a"] == 1 and not defined(user["x"])')
        assert r.returncode == 0, r.stderr
        assert r.stdout == (
            "And\n"
            "  Compare op='=='\n"
            "    Property scope='properties' name='a'\n"
            "    Number value=1\n"
            "  Not\n"
            "    Call name='defined'\n"
            "      Property scope='user' name='x'\n"
        )

    def test_json_single_expression(self):
        r = mpql("parse", "--json", "-e", '"x" in [1, -2.5]')
        assert r.returncode == 0
        assert json.loads(r.stdout) == {
            "type": "In",
            "left": {"type": "String", "value": "x", "span": [0, 3]},
            "right": {"type": "ListLiteral", "span": [7, 16], "items": [
                {"type": "Number", "value": 1, "span": [8, 9]},
                {"type": "Number", "value": -2.5, "span": [11, 15]},
            ]},
            "span": [0, 16],
        }

    def test_json_file_lists_every_expression_with_file_offsets(self, tmp_path):
        f = tmp_path / "two.mpql"
        f.write_text('# header\n\nproperties["a"]\n\n  user["b"] == 2\n', encoding="utf-8")
        r = mpql("parse", "--json", str(f))
        assert r.returncode == 0
        data = json.loads(r.stdout)
        assert [(d["line"], d["column"]) for d in data] == [(3, 1), (5, 3)]
        text = f.read_text(encoding="utf-8")
        start, end = data[1]["tree"]["span"]
        assert text[start:end] == 'user["b"] == 2'

    def test_stdin(self):
        r = mpql("parse", "-", stdin="NOW - 1\n")
        assert r.returncode == 0
        assert r.stdout.splitlines()[0] == "Arith op='-'"

    def test_syntax_error_exits_2_with_a_located_diagnostic(self, tmp_path):
        f = tmp_path / "bad.mpql"
        f.write_text('properties["ok"]\n\n# c\nproperties["a"] === 1\n', encoding="utf-8")
        r = mpql("parse", str(f))
        assert r.returncode == 2  # a syntax error: the same exit code in every command
        assert f"--> {f}:4:17" in r.stderr
        assert "E101" in r.stderr and "help: use `==`" in r.stderr
        assert "Property scope='properties' name='ok'" in r.stdout  # the good one still prints
        assert_no_traceback(r)

    def test_missing_file_exits_2(self, tmp_path):
        r = mpql("parse", str(tmp_path / "nope.mpql"))
        assert r.returncode == 2
        assert r.stderr.strip() == f"mpql parse: error: {tmp_path / 'nope.mpql'}: no such file"

    def test_binary_file_exits_2(self, tmp_path):
        f = tmp_path / "bin.mpql"
        f.write_bytes(b"\xff\xfe\x00garbage")
        r = mpql("parse", str(f))
        assert r.returncode == 2
        assert "not UTF-8" in r.stderr
        assert_no_traceback(r)

    @pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
    def test_unreadable_file_exits_2(self, tmp_path):
        f = tmp_path / "secret.mpql"
        f.write_text("1", encoding="utf-8")
        f.chmod(0)
        r = mpql("parse", str(f))
        assert r.returncode == 2 and "cannot read" in r.stderr

    def test_usage_error_exits_2(self):
        r = mpql("parse", "--no-such-option")
        assert r.returncode == 2
        assert "usage: mpql parse" in r.stderr

    def test_long_chain_prints_without_recursion_error(self):
        expr = " or ".join(f'properties["p"] == {i}' for i in range(3000))
        r = mpql("parse", "--json", "-e", expr)
        assert r.returncode == 0, r.stderr[-500:]
        # (json.loads itself would need a raised recursion limit for this depth)
        assert r.stdout.startswith('{"type": "Or", "left": {"type": "Or"')
        assert r.stdout.count('"type": "Compare"') == 3000

    def test_very_long_chain_prints_as_json_too(self, tmp_path):
        # 25 000 terms used to stop with "the tree is too deep to print as JSON" (the json
        # encoder recurses once per level); the writer is iterative now.
        f = tmp_path / "long.mpql"
        f.write_text(" or ".join(f'properties["p"] == {i}' for i in range(25_000)) + "\n")
        r = mpql("parse", "--json", str(f))
        assert r.returncode == 0, r.stderr[-500:]
        assert r.stdout.startswith('[{"file": ')
        assert r.stdout.count('"type": "Or"') == 24_999
        assert r.stdout.endswith("}}]\n")

    @pytest.mark.parametrize("expr, out", [
        ("-1>2", "-1 > 2\n"), ("--1", "1\n"), ("-(5)<1", "-(5) < 1\n")])
    def test_an_expression_starting_with_minus_is_not_taken_for_an_option(self, expr, out):
        # argparse read `-e -1>2` as two options: "argument -e/--expr: expected one argument"
        r = mpql("fmt", "-e", expr)
        assert (r.returncode, r.stdout, r.stderr) == (0, out, "")
        assert mpql("parse", "-e", "--check").returncode == 2  # an option is still an option


# --------------------------------------------------------------------------------- fmt

MESSY = """\
# Filters for the weekly report.

# Chicago users
(properties["$city"]=="Chicago")   # from the UI


NOW -604800 < datetime(properties["$last_seen"])
# a note below

(defined (properties["x"])
   # why: legacy
   AND TRUE)
"""

CLEAN = """\
# Filters for the weekly report.

# Chicago users
properties["$city"] == "Chicago"  # from the UI

NOW - 604800 < datetime(properties["$last_seen"])
# a note below

# why: legacy
defined(properties["x"]) and true
"""


class TestFmt:
    def test_rewrites_files_keeping_comments(self, tmp_path):
        f = tmp_path / "report.mpql"
        f.write_text(MESSY, encoding="utf-8")
        r = mpql("fmt", str(f))
        assert r.returncode == 0, r.stderr
        assert f.read_text(encoding="utf-8") == CLEAN
        assert f"reformatted {f}" in r.stderr
        # Formatting is idempotent: a second run changes nothing and says nothing.
        again = mpql("fmt", str(f))
        assert (again.returncode, again.stderr, f.read_text(encoding="utf-8")) == (0, "", CLEAN)

    def test_check_exits_1_and_writes_nothing(self, tmp_path):
        f = tmp_path / "report.mpql"
        f.write_text(MESSY, encoding="utf-8")
        r = mpql("fmt", "--check", str(f))
        assert r.returncode == 1
        assert f"would reformat {f}" in r.stderr
        assert f.read_text(encoding="utf-8") == MESSY
        f.write_text(CLEAN, encoding="utf-8")
        assert mpql("fmt", "--check", str(f)).returncode == 0

    def test_diff(self, tmp_path):
        f = tmp_path / "one.mpql"
        f.write_text('properties["a"]==1\n', encoding="utf-8")
        r = mpql("fmt", "--diff", str(f))
        assert r.returncode == 1
        assert '-properties["a"]==1\n+properties["a"] == 1\n' in r.stdout
        assert f.read_text(encoding="utf-8") == 'properties["a"]==1\n'

    def test_directory_and_examples_are_canonical(self):
        r = mpql("fmt", "--check", "examples/")
        assert r.returncode == 0, r.stderr

    def test_expression_and_stdin_print_to_stdout(self):
        r = mpql("fmt", "-e", "properties['a']==1 AND NOT TRUE", "-e", "NOW -1")
        assert (r.returncode, r.stdout) == (0, 'properties["a"] == 1 and not true\nNOW - 1\n')
        r = mpql("fmt", stdin="# keep me\nproperties['a']==1\n")
        assert (r.returncode, r.stdout) == (0, '# keep me\nproperties["a"] == 1\n')

    def test_wire_style(self):
        r = mpql("fmt", "--style", "wire", "-e", 'not properties["a"] == 1 and 1 - 2 - 3 > 0')
        assert r.stdout == '(not (properties["a"] == 1)) and (((1 - 2) - 3) > 0)\n'

    def test_check_on_expression(self):
        assert mpql("fmt", "--check", "-e", 'properties["a"] == 1').returncode == 0
        r = mpql("fmt", "--check", "-e", 'properties["a"]==1')
        assert r.returncode == 1 and r.stdout == ""

    def test_syntax_error_exits_2_points_into_the_file_and_leaves_it(self, tmp_path):
        bad = tmp_path / "bad.mpql"
        text = 'properties["a"]==1\n\n# c\nproperties["b"] ===\n  2\n'
        bad.write_text(text, encoding="utf-8")
        good = tmp_path / "good.mpql"
        good.write_text("1+1\n", encoding="utf-8")
        r = mpql("fmt", str(bad), str(good))
        assert r.returncode == 2
        assert f"--> {bad}:4:17" in r.stderr
        assert bad.read_text(encoding="utf-8") == text
        assert good.read_text(encoding="utf-8") == "1 + 1\n"  # other files still formatted
        assert_no_traceback(r)

    def test_missing_file_exits_2(self, tmp_path):
        r = mpql("fmt", str(tmp_path / "missing.mpql"))
        assert r.returncode == 2 and "no such file" in r.stderr
        assert_no_traceback(r)

    def test_bad_style_is_a_usage_error(self):
        r = mpql("fmt", "--style", "ugly", "-e", "1")
        assert r.returncode == 2 and "invalid choice" in r.stderr

    def test_crlf_file_keeps_crlf(self, tmp_path):
        f = tmp_path / "win.mpql"
        f.write_bytes(b'properties["a"]==1\r\n\r\n# c\r\nuser["b"] >2\r\n')
        r = mpql("fmt", str(f))
        assert r.returncode == 0, r.stderr
        assert f.read_bytes() == b'properties["a"] == 1\r\n\r\n# c\r\nuser["b"] > 2\r\n'
        assert mpql("fmt", "--check", str(f)).returncode == 0

    def test_diff_marks_a_missing_final_newline(self, tmp_path):
        f = tmp_path / "nonl.mpql"
        f.write_text('properties["a"] == 1', encoding="utf-8")
        r = mpql("fmt", "--diff", "--check", str(f))
        assert r.returncode == 1
        assert r.stdout.endswith('-properties["a"] == 1\n\\ No newline at end of file\n'
                                 '+properties["a"] == 1\n')
        assert f.read_text(encoding="utf-8") == 'properties["a"] == 1'

    def test_empty_file_stays_empty(self, tmp_path):
        f = tmp_path / "empty.mpql"
        f.write_text("", encoding="utf-8")
        assert mpql("fmt", "--check", str(f)).returncode == 0


def test_format_text_unit():
    from mpql.cli.fmt import format_text

    assert format_text(MESSY) == CLEAN
    assert format_text(CLEAN) == CLEAN
    assert format_text('"#not a comment" == properties["a"]  # real\n') == \
        '"#not a comment" == properties["a"]  # real\n'
    assert format_text("a\r\n".replace("a", "1 +2")) == "1 + 2\n"


# ----------------------------------------------------------------- hostile standard streams


def mpql_shell(redirections: str, *args, stdin: bytes | None = None):
    """Run mpql through sh so that a standard stream can be closed (`<&-`, `>&-`)."""
    import shlex

    cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "mpql", *args])
    return subprocess.run(["sh", "-c", f"exec {cmd} {redirections}"], input=stdin,
                          capture_output=True, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("command", ["parse", "fmt"])
def test_closed_stdin_is_a_clear_error(command):
    r = mpql_shell("<&-", command)
    assert r.returncode == 2
    assert b"standard input is closed" in r.stderr and b"Traceback" not in r.stderr


@pytest.mark.parametrize("command", ["parse", "fmt"])
def test_non_utf8_stdin_is_an_input_error_not_a_control_character(command):
    # Under a C.UTF-8 locale Python reads stray bytes as lone surrogates; they used to be
    # reported as E118 "unexpected control character U+DCFF".
    r = mpql_shell("", command, "-", stdin=b"\xff\xfe properties")
    assert r.returncode == 2
    assert b"<stdin>: not UTF-8 text (byte 0)" in r.stderr
    assert b"E118" not in r.stderr


def test_crlf_and_bom_on_stdin_are_normalised():
    r = mpql_shell("", "fmt", stdin=b"\xef\xbb\xbf1 +\r\n 2\r\n")
    assert (r.returncode, r.stdout) == (0, b"1 + 2\n")


def test_closed_stdout_is_an_error_not_lost_output():
    # The formatted text has nowhere to go: one line and exit 2, not a silent success.
    r = mpql_shell(">&-", "fmt", "-e", "1+1")
    assert r.returncode == 2 and b"Traceback" not in r.stderr
    assert r.stderr == b"mpql fmt: error: cannot write to standard output: standard output " \
                       b"is closed\n"



def test_no_command_prints_usage_on_stderr_and_exits_2():
    r = mpql()
    assert (r.returncode, r.stdout) == (2, "")
    assert "usage: mpql <command>" in r.stderr


@pytest.mark.parametrize("args", [["--help"], ["parse", "--help"], ["fmt", "-e", "1 + 1"]])
def test_a_reader_that_closed_the_pipe_is_not_a_traceback(args):
    # The reader closes its end before mpql writes (mpql takes longer to start than `exec
    # 0<&-`), so the write fails with EPIPE every time. `mpql --help | head` used to print a
    # BrokenPipeError traceback: the handler only covered the command's run().
    import shlex

    cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "mpql", *args])
    r = subprocess.run(["bash", "-c", f'{cmd} | (exec 0<&-; true); echo "rc=${{PIPESTATUS[0]}}"'],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.stdout == "rc=0\n"
    assert r.stderr == ""


def test_ctrl_c_exits_130_without_a_traceback():
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "mpql", "parse", "-"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=sigint_default)
    time.sleep(2)  # at start-up or already waiting for standard input: either way 130
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["parse", "fmt"])
def test_a_directory_without_mpql_files_is_reported(command, tmp_path):
    (tmp_path / "notes.txt").write_text("properties['a'] == 1\n")
    r = mpql(command, str(tmp_path))
    assert r.returncode == 0
    assert f"warning: no .mpql files found in {tmp_path}" in r.stderr

"""`mpql filter` on a stream: a match reaches standard output while the input is still open.

Real subprocesses without PYTHONUNBUFFERED (a user's environment: block-buffered output), fed by
a pipe or a named FIFO whose writer keeps it open; ``read_line`` fails after a deadline instead
of hanging when a match is held back in a buffer.
"""

from __future__ import annotations

import os
import subprocess
import sys

from _helpers import buffered_env, open_fifo_writer, read_line

PRO = b'{"event":"e","properties":{"plan":"pro"}}\n'
FREE = b'{"event":"e","properties":{"plan":"free"}}\n'
WHERE = 'properties["plan"] == "pro"'


def _filter(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "mpql", "filter", "-w", WHERE, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=buffered_env(),
                            **kw)


def test_a_match_from_a_pipe_on_stdin_is_written_before_the_input_ends():
    proc = _filter("-", stdin=subprocess.PIPE)
    try:
        proc.stdin.write(FREE + PRO)
        proc.stdin.flush()
        assert read_line(proc.stdout) == PRO  # the pipe is still open
        proc.stdin.write(PRO)
        proc.stdin.flush()
        assert read_line(proc.stdout) == PRO
        rest, err = proc.communicate(timeout=60)  # closes standard input: the end
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert rest == b"" and err == b""


def test_line_buffered_writes_each_match_from_a_fifo_at_once(tmp_path):
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    proc = _filter("--line-buffered", str(fifo))
    try:
        with open_fifo_writer(fifo, proc) as writer:
            writer.write(FREE + PRO)
            writer.flush()
            assert read_line(proc.stdout) == PRO  # the writer still holds the FIFO open
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert rest == b""


def test_only_streams_flush_each_match(tmp_path):
    from mpql.cli.filter import flush_each_match

    # A regular file keeps full buffering (speed); stdin that is a pipe, or --line-buffered,
    # flush each match.
    regular = tmp_path / "e.jsonl"
    regular.write_bytes(PRO)
    with open(regular, "rb") as handle:
        assert flush_each_match(["-"], line_buffered=False, stdin=handle) is False
        assert flush_each_match([str(regular)], line_buffered=False, stdin=handle) is False
        assert flush_each_match([str(regular)], line_buffered=True, stdin=handle) is True
    read_end, write_end = os.pipe()
    try:
        with open(read_end, "rb", closefd=False) as pipe:
            assert flush_each_match(["-"], line_buffered=False, stdin=pipe) is True
            assert flush_each_match([str(regular)], line_buffered=False, stdin=pipe) is False
    finally:
        os.close(read_end)
        os.close(write_end)


def test_line_buffered_needs_the_python_engine():
    done = subprocess.run([sys.executable, "-m", "mpql", "filter", "-w", WHERE, "--engine",
                           "duckdb", "--line-buffered", "-"], input=PRO, capture_output=True,
                          timeout=60)
    assert done.returncode == 2
    assert b"--line-buffered needs the Python engine" in done.stderr

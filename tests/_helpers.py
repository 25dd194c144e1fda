"""Helpers shared by the test modules (imported as ``_helpers``: pytest puts tests/ on the path).

Running mpql as a real subprocess, the environment it gets, and reading a subprocess's output
with a deadline so that a regression fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time


def run_mpql(*args, env=None, timeout=120, stdin=None, text=True):
    """``python -m mpql ARGS`` to completion, output captured (str, or bytes with text=False)."""
    return subprocess.run([sys.executable, "-m", "mpql", *args], capture_output=True,
                          timeout=timeout, env=env, text=text, input=stdin)


def clean_env(**extra):
    """This environment without any MP_* variable (no credentials leak in), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MP_")}
    env.update(extra)
    return env


def credentials_env(sb, secret=None, **extra):
    """``clean_env`` with the MP_* credentials of the running sandbox ``sb`` (``secret``: a
    wrong one, to test refusals; default the sandbox's own)."""
    c = sb.credentials
    return clean_env(**{**dict(MP_USERNAME=c.username, MP_SECRET=secret or c.secret,
                               MP_PROJECT_ID=str(c.project_id)), **extra})


def buffered_env(**extra):
    """This environment without PYTHONUNBUFFERED: a child's standard output is then block
    buffered, as for a user, so a test sees whether mpql flushes by itself."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(extra)
    return env


def read_line(stream, timeout=30.0) -> bytes:
    """One line (with its ``\\n``) from a subprocess's pipe, or what came before end of file;
    an AssertionError if no complete line arrives within ``timeout`` seconds.

    Reads the descriptor a byte at a time, so nothing beyond the line is taken from the pipe
    (a later ``communicate()`` still sees the rest)."""
    fd = stream.fileno()
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"no complete line within {timeout} s (got {data!r})")
        chunk = os.read(fd, 1)
        if not chunk:
            break
        data += chunk
    return data


def open_fifo_writer(path, proc, timeout=30.0):
    """The write end of the FIFO ``path``, once ``proc`` has opened it for reading; an
    AssertionError if ``proc`` ends first or does not open it within ``timeout`` seconds
    (a plain ``open`` would block for ever)."""
    import errno

    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
        else:
            os.set_blocking(fd, True)
            return os.fdopen(fd, "wb")
        if proc.poll() is not None:
            raise AssertionError(f"the process ended (status {proc.returncode}) without "
                                 f"opening {path}: {proc.stderr.read()!r}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} not opened for reading within {timeout} s")
        time.sleep(0.02)


def json_kind(value) -> str | None:
    """The JSON type name of a scalar ("boolean", "number", "string"); None for anything else
    (null, lists, objects: each structure walker decides what those become)."""
    if isinstance(value, bool):  # before numbers: a bool is an int in Python
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def sigint_default() -> None:
    """``preexec_fn`` for a child a test will interrupt: Ctrl-C's default disposition.

    A shell without job control starts background commands with SIGINT ignored (`make test &`,
    `nohup`, some CI runners); children inherit that, and Python then installs no
    KeyboardInterrupt handler, rightly: a background job must not die of the terminal's
    Ctrl-C. A test that sends SIGINT must therefore give its child the default disposition,
    or it tests nothing (the signal is dropped) and fails only when the suite runs in the
    background."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

"""Ctrl-C during `mpql run -o FILE`: exit 130 and one line on stderr that says where the run
stopped and the exact flag that continues it — a real subprocess, a real SIGINT, the sandbox
over loopback. The resumed run then completes the output exactly."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from _helpers import sigint_default

from mpql.sandbox import Sandbox
from mpql.sandbox._limits import Limits as ServerLimits

RAISED = ["--export-per-second", "10000", "--export-per-hour", "1000000",
          "--query-per-hour", "1000000", "--quiet"]


@pytest.fixture(scope="module")
def server():
    with Sandbox(limits=ServerLimits.unlimited()) as sb:
        yield sb


def _env(sb):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MP_")}
    c = sb.credentials
    env.update(MP_USERNAME=c.username, MP_SECRET=c.secret, MP_PROJECT_ID=str(c.project_id))
    return env


def _days(sb, n):
    last = sb.dataset.last_date
    return [(last - dt.timedelta(days=n - 1 - i)).isoformat() for i in range(n)]


def _interrupt(proc, server, ready) -> str:
    """SIGINT ``proc`` once ``ready()`` returns; its stderr. Never leaves it running."""
    try:
        ready()
        proc.send_signal(signal.SIGINT)
        return proc.communicate(timeout=30)[-1]
    finally:
        if proc.poll() is None:
            proc.kill()
        server.clear_faults()


def _lines(path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_ctrl_c_prints_the_resume_hint_and_exits_130(server, tmp_path):
    days = _days(server, 6)
    server.clear_faults()
    for day in days[2:]:  # days 3..6 stall before their first byte; days 1-2 complete
        server.add_faults(f"export[from_date={day}]:delay=60")
    done_lines = len(server.events(days[0], days[1]))
    out = tmp_path / "o.jsonl"
    argv = [sys.executable, "-m", "mpql", "run", "--events", "--from", days[0], "--to", days[-1],
            "--chunk", "day",  # one request per day: the faults target days 3-6
            "-o", str(out), "--base-url", server.url, *RAISED]
    proc = subprocess.Popen(argv, env=_env(server), stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_default)

    def days_1_2_committed() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _lines(out) < done_lines:
            time.sleep(0.05)
        assert _lines(out) == done_lines, "days 1-2 never arrived"

    err = _interrupt(proc, server, days_1_2_committed)
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err  # one line, no traceback
    m = re.fullmatch(r"mpql run: interrupted; rerun the same command with --resume to continue "
                     r"from chunk (\d+) of (\d+) \((\d+) records kept in (.+)\)", lines[0])
    assert m, lines[0]
    assert (m[1], m[2], m[4]) == ("3", "6", str(out))
    kept = out.read_bytes()
    assert int(m[3]) == kept.count(b"\n") == len(server.events(days[0], days[1]))

    # The hint works: the same command with --resume continues from chunk 3 and completes.
    again = subprocess.run([*argv, "--resume"], env=_env(server), capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert out.read_bytes().startswith(kept)
    got = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert sorted(map(json.dumps, got)) == sorted(map(json.dumps, server.events(days[0], days[-1])))
    resumed = [r.params["from_date"] for r in server.requests if r.status == 200][-4:]
    assert sorted(resumed) == days[2:]  # only the missing days were fetched again


def test_ctrl_c_while_writing_to_stdout_has_no_resume_hint(server, tmp_path):
    days = _days(server, 3)
    server.clear_faults()
    server.add_faults(f"export[from_date={days[1]}]:delay=60")
    proc = subprocess.Popen([sys.executable, "-m", "mpql", "run", "--events", "--from", days[0],
                             "--to", days[-1], "--chunk", "day", "--base-url", server.url,
                             *RAISED],
                            env=_env(server), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=sigint_default)
    err = _interrupt(proc, server, proc.stdout.readline)  # SIGINT once day 1 is out
    assert proc.returncode == 130 and "--resume" not in err and "Traceback" not in err, err

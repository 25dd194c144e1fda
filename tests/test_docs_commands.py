"""The shell examples in README.md (and docs/cli.md) run as written.

Every `mpql ...` line of a ```sh block is extracted (line continuations joined, `&&` chains
split, `# comments` dropped by shlex) and run as a real subprocess, `python -m mpql ...`, in a
temporary directory holding the files the examples name — generated from the sandbox's sample
data. MP_* credentials are unset, so commands that talk to Mixpanel use the embedded sandbox.
Each command must exit 0 (the prepared inputs are clean, so commands whose documented code 1
means findings must find none) and never print a Python traceback. `mpql sandbox serve` is stopped with SIGINT once its URL line is
out (exit 0); `mpql repl` without a redirect gets a small script on stdin.

The one rewrite: `mpql run`'s `--from/--to` are replaced by the sandbox sample's last days
(the sample ends yesterday — in tests, the day before the pinned MPQL_SANDBOX_TODAY — so no
fixed date in the README stays inside it); the README says
so next to the example. Nothing else is special-cased.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _helpers import sigint_default

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "docs" / "cli.md"]

def _sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", text, flags=re.M | re.S)


def _commands() -> list[tuple[str, list[str], str | None]]:
    """(source label, argv after `mpql`, stdin file or None) for each documented command."""
    found = []
    for doc in DOCS:
        if not doc.exists():
            continue
        for block in _sh_blocks(doc.read_text(encoding="utf-8")):
            joined = re.sub(r"\\\n\s*", " ", block)
            for line in joined.splitlines():
                words = shlex.split(line, comments=True)
                if not words or words[0] != "mpql":
                    continue  # `make demo` and the like are not mpql commands
                # `a && b`: both are examples.
                parts, current = [], []
                for w in words:
                    if w == "&&":
                        parts.append(current)
                        current = []
                    else:
                        current.append(w)
                parts.append(current)
                for part in parts:
                    assert part[0] == "mpql", f"{doc.name}: unexpected command in {line!r}"
                    argv, stdin = part[1:], None
                    if "<" in argv:
                        i = argv.index("<")
                        stdin, argv = argv[i + 1], argv[:i]
                    found.append((f"{doc.name}: {shlex.join(part)}", argv, stdin))
    return found


COMMANDS = _commands()


def test_the_docs_have_commands():
    # The extraction itself can rot (a renamed fence, a moved block): fail loudly if so.
    names = {argv[0] for _, argv, _ in COMMANDS}
    assert {"parse", "lint", "plan", "run", "filter", "repl", "sandbox", "demo"} <= names


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MP_")}
    env["MPQL_HISTORY"] = ""
    return env


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A directory with every input file the examples name, from the sandbox generator."""
    work = tmp_path_factory.mktemp("docs")
    data = tmp_path_factory.mktemp("sample")
    subprocess.run(
        [sys.executable, "-m", "mpql", "sandbox", "generate", "--users", "20", "--days", "3",
         "--seed", "1", "--out", str(data)],
        check=True, env=_env(), capture_output=True)
    events = "".join(p.read_text(encoding="utf-8")
                     for p in sorted((data / "events").glob("*.jsonl")))
    assert events.count("\n") > 50
    (work / "events.jsonl").write_text(events, encoding="utf-8")
    (work / "export.jsonl").write_text(events, encoding="utf-8")
    shutil.copy(data / "profiles.jsonl", work / "profiles.jsonl")
    shutil.copytree(data, work / "dataset")  # a dataset directory, for `mpql filter dataset/`
    (work / "recent-ios.mpql").write_text('# iOS events\nproperties["$os"] == "iOS"\n',
                                          encoding="utf-8")
    shutil.copytree(ROOT / "examples", work / "examples")
    (work / "queries").mkdir()
    (work / "queries" / "ios.mpql").write_text(
        'properties["$os"] == "iOS"\n\nproperties["$browser"] == "Chrome"\n', encoding="utf-8")
    (work / "q.mpql").write_text('properties["$browser"] == "Chrome"\n', encoding="utf-8")
    (work / "checks.txt").write_text(
        '# a scripted session\n'
        'properties["$browser"] == "Chrome"\n'
        ':fmt\n'
        ':why\n', encoding="utf-8")
    return work


def _recent_dates(argv: list[str]) -> list[str]:
    """`mpql run` on the sandbox: point --from/--to at the sample's last two days."""
    from mpql.sandbox import sandbox_today

    today = sandbox_today()  # the pinned today (tests/conftest.py), which the subprocess shares
    new = {"--from": str(today - dt.timedelta(days=2)), "--to": str(today - dt.timedelta(days=1))}
    out = list(argv)
    for i, w in enumerate(out[:-1]):
        if w in new:
            out[i + 1] = new[w]
    return out


def _serve(argv: list[str], cwd: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "mpql", *argv], cwd=cwd, env=_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=sigint_default)
    seen = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if re.match(r"url:\s+http://127\.0\.0\.1:\d+", line):
                break
        assert any(l.startswith("url:") for l in seen), "".join(seen)
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "".join(seen) + rest
    assert "Traceback" not in output, output
    assert proc.returncode == 0, output


@pytest.mark.parametrize("label,argv,stdin", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_documented_command_runs(workdir, label, argv, stdin):
    if argv[:2] == ["sandbox", "serve"]:
        _serve(argv, workdir)
        return
    if argv[0] == "run":
        argv = _recent_dates(argv)
    if stdin is not None:
        stdin_text = (workdir / stdin).read_text(encoding="utf-8")
    elif argv[0] == "repl":
        stdin_text = 'properties["$os"] == "iOS"\n:fmt\n'
    else:
        stdin_text = ""
    proc = subprocess.run([sys.executable, "-m", "mpql", *argv], cwd=workdir, env=_env(),
                          input=stdin_text, capture_output=True, text=True, timeout=60)
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, f"{label}\n{output}"
    # The inputs prepared above are clean, so even the commands whose documented exit code 1
    # means findings (lint, fmt --check, a scripted repl) must exit 0: a 1 here is a real
    # regression (a rule misfiring on sample data, a failing repl command), not a finding.
    assert proc.returncode == 0, f"{label}: exit {proc.returncode}\n{output}"
    if argv[0] == "run" and "--resume" in argv:
        # "rerun continues": a second run over a finished state succeeds and keeps the output.
        out = workdir / argv[argv.index("-o") + 1]
        before = out.read_bytes()
        assert before, f"{label}: no records from the sandbox sample\n{output}"
        again = subprocess.run([sys.executable, "-m", "mpql", *argv], cwd=workdir, env=_env(),
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=60)
        assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
        assert out.read_bytes() == before, again.stderr


def _console_examples() -> list[tuple[str, list[str], str]]:
    """`$ mpql ...` lines of ```console blocks with the output shown under them."""
    found = []
    for doc in DOCS:
        if not doc.exists():
            continue
        blocks = re.findall(r"^```console\n(.*?)^```", doc.read_text(encoding="utf-8"),
                            flags=re.M | re.S)
        for block in blocks:
            # A block may hold several prompts; each one's output runs to the next prompt.
            for chunk in re.split(r"^(?=\$ )", block, flags=re.M):
                if not chunk.startswith("$ mpql "):
                    continue
                command, _, shown = chunk.partition("\n")
                words = shlex.split(command[2:])
                found.append((f"{doc.name}: {command[2:]}", words[1:], shown))
    return found


CONSOLE = _console_examples()


@pytest.mark.parametrize("label,argv,shown", CONSOLE, ids=[c[0] for c in CONSOLE])
def test_documented_console_output_is_current(tmp_path, label, argv, shown):
    # The shown output is a claim too: it must be what the command prints today.
    proc = subprocess.run([sys.executable, "-m", "mpql", *argv], cwd=tmp_path, env=_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{label}: exit {proc.returncode}\n{proc.stderr}"
    assert proc.stdout == shown, f"{label}: docs show\n{shown}\nthe command prints\n{proc.stdout}"

"""docs/repl.md's recorded session is real: rerun its inputs with `mpql repl` on the same
generated dataset and compare the whole transcript. MPQL_UPDATE_DOCS=1 rewrites it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "repl.md"
START, END = "<!-- transcript:start -->", "<!-- transcript:end -->"

# The script: comments and inputs, in order (the transcript echoes exactly these).
SESSION = '''\
# Which events came from Windows machines?
properties["$os"]=="Windows"

# A value with the wrong case: nothing matches, and the REPL says why.
properties["$os"] == "windows" and properties["mp_country_code"] == "US"

# A misspelled property name.
defined(properties["$brwoser"])

# An expression continues over several lines while it is incomplete.
properties["$browser"] == "Chrome" and
    number(properties["price"]) > 50

# Not a filter but a value: its distribution, as an `on` breakdown would see it.
properties["mp_country_code"]

# Syntax errors are rendered as `mpql lint` renders them; :fix applies the fix.
properties["$os"] === "Linux"
:fix

# Events of users whose profile says they pay for the pro plan, on Windows.
user["plan"] == "pro" and properties["$os"] == "Windows"
:wire
:plan
:run 3

# Profiles: switch the endpoint; properties[...] now reads profile properties.
:endpoint engage
properties["plan"] == "pro" and properties["seats"] >= 10
number(properties["seats"]) >= 10 and properties["plan"] == "pro"
:curl
'''


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MP_")}
    env.update(MPQL_HISTORY="", MPQL_CACHE_DIR=str(tmp_path / "cache"))
    return env


def test_recorded_session_in_the_docs_is_current(tmp_path):
    env = _env(tmp_path)
    data = tmp_path / "demo"
    subprocess.run([sys.executable, "-m", "mpql", "sandbox", "generate", "--users", "40",
                    "--days", "14", "--seed", "7", "--end-date", "2026-10-31", "--out",
                    str(data)], check=True, capture_output=True, env=env, timeout=120)
    r = subprocess.run([sys.executable, "-m", "mpql", "repl", "--data", str(data)],
                       input=SESSION, capture_output=True, text=True, env=env, timeout=120)
    assert r.stderr == ""
    assert r.returncode == 1  # the syntax error and S003 in the session (the doc says so)
    transcript = r.stdout.replace(str(data), "demo")
    # The examples must keep illustrating what the comments say, whatever the generator does:
    assert "why: properties[\"$os\"] is never \"windows\"" in transcript
    assert "3 records from the sandbox" in transcript  # the profile example selects events
    assert "note: properties[\"seats\"] is a string in" in transcript
    block = f"{START}\n```text\n{transcript}```\n{END}"
    doc = DOC.read_text(encoding="utf-8")
    current = re.search(re.escape(START) + r".*?" + re.escape(END), doc, re.S)
    assert current, f"{DOC} lost its transcript markers"
    if os.environ.get("MPQL_UPDATE_DOCS") == "1":
        DOC.write_text(doc[: current.start()] + block + doc[current.end():], encoding="utf-8")
        return
    assert current.group(0) == block, (
        "docs/repl.md's recorded session is stale: rerun with MPQL_UPDATE_DOCS=1 "
        "(python -m pytest tests/test_repl_docs.py) and review the diff")

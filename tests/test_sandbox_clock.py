"""The sandbox's pinned "today" ($MPQL_SANDBOX_TODAY): tests and bug reports fix the date.

tests/conftest.py pins it for the whole suite; these tests check what it controls — the default
dataset's last day, the server's clock and `to_date` check, `generate`'s default end date, for
the library and for subprocess runs of the CLI — and that a bad value is a clear error.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
import requests

from mpql.errors import ConfigError
from mpql.sandbox import Sandbox, default_dataset, generate, sandbox_today
from mpql.sandbox._data import TODAY_ENV, pinned_now


def test_the_suite_runs_at_a_pinned_date():
    pinned = dt.date.fromisoformat(os.environ[TODAY_ENV])
    assert sandbox_today() == pinned
    assert default_dataset().last_date == pinned - dt.timedelta(days=1)
    assert pinned_now() == dt.datetime(pinned.year, pinned.month, pinned.day, 12,
                                       tzinfo=dt.timezone.utc).timestamp()


@pytest.mark.parametrize("day", ["2021-02-28", "2030-07-04"])
def test_pinned_today_drives_the_default_dataset_and_clock(monkeypatch, tmp_path, day):
    monkeypatch.setenv(TODAY_ENV, day)
    monkeypatch.setenv("MPQL_CACHE_DIR", str(tmp_path))
    today = dt.date.fromisoformat(day)
    ds = default_dataset()
    assert ds.last_date == today - dt.timedelta(days=1)
    assert ds.path.parent == tmp_path  # the cache named by MPQL_CACHE_DIR, nothing else
    assert generate(tmp_path / "g", users=2, days=2).last_date == today - dt.timedelta(days=1)
    with Sandbox(ds) as sb:
        assert sb.today() == today
        c = sb.credentials
        r = requests.get(f"{sb.url}/api/2.0/export", auth=(c.username, c.secret), timeout=10,
                         params={"project_id": c.project_id, "from_date": day, "to_date": day})
        assert r.status_code == 200  # today itself is allowed (and has no events)
        after = (today + dt.timedelta(days=1)).isoformat()
        r = requests.get(f"{sb.url}/api/2.0/export", auth=(c.username, c.secret), timeout=10,
                         params={"project_id": c.project_id, "from_date": after, "to_date": after})
        assert r.status_code == 400 and r.text == "to_date cannot be later than today"
    # an explicit clock still wins over the pinned one
    with Sandbox(ds, now=0) as sb:
        assert sb.today() == dt.date(1970, 1, 1)


@pytest.mark.parametrize("bad", ["yesterday", "2024-02-30", "20240101"])
def test_bad_pinned_today_is_a_clear_error(monkeypatch, bad):
    monkeypatch.setenv(TODAY_ENV, bad)
    with pytest.raises(ConfigError, match=TODAY_ENV) as info:
        sandbox_today()
    assert repr(bad) in str(info.value)


def test_cli_generate_follows_the_pinned_today(tmp_path):
    env = {**os.environ, TODAY_ENV: "2022-08-09"}
    r = subprocess.run([sys.executable, "-m", "mpql", "sandbox", "generate", "--users", "3",
                        "--days", "2", "--out", str(tmp_path / "d")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert manifest["last_date"] == "2022-08-08" and manifest["first_date"] == "2022-08-07"
    env[TODAY_ENV] = "next tuesday"
    r = subprocess.run([sys.executable, "-m", "mpql", "sandbox", "generate", "--users", "3",
                        "--days", "2", "--out", str(tmp_path / "e")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and TODAY_ENV in r.stderr and "Traceback" not in r.stderr

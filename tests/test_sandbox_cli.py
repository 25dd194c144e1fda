"""`mpql sandbox generate | serve | info` as real subprocesses, and the generator's guarantees."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time

import requests
from _helpers import sigint_default

from mpql.sandbox import Dataset, generate


def _mpql(*args, **kw):
    return subprocess.run([sys.executable, "-m", "mpql", *args], capture_output=True, text=True,
                          timeout=60, **kw)


def test_generate_is_deterministic(tmp_path):
    args = ["sandbox", "generate", "--users", "30", "--days", "4", "--events-per-user-day", "2",
            "--seed", "7", "--end-date", "2026-03-31"]
    a = _mpql(*args, "--out", str(tmp_path / "a"))
    b = _mpql(*args, "--out", str(tmp_path / "b"))
    assert a.returncode == b.returncode == 0, a.stderr
    assert "wrote" in a.stdout and "30 profiles" in a.stdout
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    other = _mpql(*args[:-4], "--seed", "8", "--end-date", "2026-03-31", "--out", str(tmp_path / "c"))
    assert other.returncode == 0
    assert (tmp_path / "c" / "profiles.jsonl").read_bytes() != (tmp_path / "a" / "profiles.jsonl").read_bytes()


def test_generate_refuses_to_clobber_and_bad_args(tmp_path):
    out = tmp_path / "d"
    assert _mpql("sandbox", "generate", "--users", "3", "--days", "1", "--out", str(out)).returncode == 0
    again = _mpql("sandbox", "generate", "--users", "3", "--days", "1", "--out", str(out))
    assert again.returncode == 2 and "not empty" in again.stderr and "--force" in again.stderr
    assert _mpql("sandbox", "generate", "--users", "3", "--days", "1", "--out", str(out), "--force").returncode == 0
    bad = _mpql("sandbox", "generate", "--users", "0", "--out", str(tmp_path / "e"))
    assert bad.returncode == 2 and "positive integer" in bad.stderr
    date = _mpql("sandbox", "generate", "--end-date", "31/03/2026", "--out", str(tmp_path / "f"))
    assert date.returncode == 2 and "YYYY-MM-DD" in date.stderr
    assert "Traceback" not in bad.stderr + date.stderr + again.stderr


def test_generated_data_shape(tmp_path):
    ds = generate(tmp_path / "g", users=60, days=5, events_per_user_day=3, seed=1, end_date="2026-05-10")
    assert (ds.first_date, ds.last_date) == (dt.date(2026, 5, 6), dt.date(2026, 5, 10))
    events = ds.events(ds.first_date, ds.last_date)
    assert len(events) == ds.manifest["events"]
    names = {e["event"] for e in events}
    assert {"Page Viewed", "Purchase", "Signed Up", "$identify"} <= names
    profiles = ds.all_profiles
    ids = {p["$distinct_id"] for p in profiles}
    for e in events:
        p = e["properties"]
        assert {"time", "distinct_id", "$insert_id", "$os", "mp_country_code", "$device_id"} <= p.keys()
        start = dt.datetime(2026, 5, 6, tzinfo=dt.timezone.utc).timestamp()
        assert start <= p["time"] < start + 5 * 86400
    # anonymous visitors without a profile, and pre-identify events without $user_id
    assert any(e["properties"]["distinct_id"].startswith("$device:") for e in events)
    assert any("$user_id" not in e["properties"] and e["properties"]["distinct_id"] in ids for e in events)
    # typing traps exist: numbers as strings, customer ids as numeric strings
    purchases = [e for e in events if e["event"] == "Purchase"]
    assert {type(e["properties"]["amount"]) for e in purchases} == {str, float}
    cids = [p["$properties"]["customer_id"] for p in profiles if "customer_id" in p["$properties"]]
    assert cids and all(isinstance(c, str) and c.isdigit() for c in cids)
    assert len(cids) == len(set(cids))
    assert {type(p["$properties"]["seats"]) for p in profiles} == {str, int}
    for p in profiles:
        dt.datetime.strptime(p["$properties"]["$last_seen"], "%Y-%m-%dT%H:%M:%S")
        assert "@" in p["$properties"]["$email"]
    # $last_seen is the last event of identified users who were active
    last = {}
    for e in events:
        if e["properties"]["distinct_id"] in ids:
            last[e["properties"]["distinct_id"]] = max(last.get(e["properties"]["distinct_id"], 0), e["properties"]["time"])
    by_id = {p["$distinct_id"]: p for p in profiles}
    for did, t in last.items():
        seen = dt.datetime.strptime(by_id[did]["$properties"]["$last_seen"], "%Y-%m-%dT%H:%M:%S")
        assert seen.replace(tzinfo=dt.timezone.utc).timestamp() == t
    # a few SDK-retry duplicates (same $insert_id), as Mixpanel's export does not dedupe
    insert_ids = [e["properties"]["$insert_id"] for e in events]
    assert len(set(insert_ids)) < len(insert_ids)


def test_info_and_serve_subprocess(tmp_path):
    generate(tmp_path / "h", users=10, days=2, seed=3, end_date="2026-01-02")
    info = _mpql("sandbox", "info", "--data", str(tmp_path / "h"))
    assert info.returncode == 0 and "2026-01-01..2026-01-02" in info.stdout
    log = tmp_path / "requests.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "mpql", "sandbox", "serve", "--data", str(tmp_path / "h"),
                             "--faults", "engage#1:503", "--log", str(log)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_default)
    try:
        header = [proc.stdout.readline() for _ in range(6)]
        fields = dict(line.split(":", 1) for line in header[1:] if ":" in line)
        url = fields["url"].strip()
        auth = (fields["username"].strip(), fields["secret"].strip())
        pid = fields["project_id"].strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.post(f"{url}/api/query/engage", params={"project_id": pid}, auth=auth).status_code == 503
        r = requests.post(f"{url}/api/query/engage", params={"project_id": pid}, auth=auth)
        assert r.status_code == 200 and r.json()["total"] == 10
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "→ 503" in err and "→ 200" in err  # the request log
    assert "stopped" in err and "Traceback" not in err
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["status"], r["fault"]) for r in logged] == [(503, "engage#1:503"), (200, None)]
    assert logged[1]["auth"] == "service_account" and logged[1]["query"] == {"project_id": pid}
    assert all("Authorization" not in r["headers"] for r in logged)
    assert auth[1] not in log.read_text()  # the secret never reaches the log


def test_serve_errors_exit_2(tmp_path):
    bad = _mpql("sandbox", "serve", "--faults", "export#0:429")
    assert bad.returncode == 2 and "1-based" in bad.stderr
    missing = _mpql("sandbox", "serve", "--data", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "not a sandbox dataset" in missing.stderr
    assert "Traceback" not in bad.stderr + missing.stderr


def test_serve_port_in_use_exits_2(sandbox):
    r = _mpql("sandbox", "serve", "--port", str(sandbox.port))
    assert r.returncode == 2 and "could not listen" in r.stderr


def test_default_dataset_is_cached_and_fast(tmp_path, monkeypatch):
    from mpql.sandbox import default_dataset

    monkeypatch.setenv("MPQL_CACHE_DIR", str(tmp_path))
    t0 = time.monotonic()
    ds = default_dataset(dt.date(2026, 2, 1))
    first = time.monotonic() - t0
    assert isinstance(ds, Dataset) and ds.last_date == dt.date(2026, 2, 1)
    assert ds.path.parent == tmp_path
    again = default_dataset(dt.date(2026, 2, 1))
    assert again.path == ds.path
    assert json.loads((ds.path / "manifest.json").read_text())["generator"]["users"] == 150
    assert first < 30  # generous: this is a smoke check that generation is not pathological

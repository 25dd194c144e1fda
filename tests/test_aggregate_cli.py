"""`mpql run` / `mpql plan` aggregate kinds and the REPL's `:segment`, as real subprocesses
against the sandbox over loopback (the embedded one without credentials, a running one with)."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import subprocess
import sys

import pytest
from _helpers import clean_env
from _helpers import credentials_env as env_for
from _helpers import run_mpql as mpql

from mpql.sandbox import Limits, Sandbox, write_dataset

SECRET = "agg-cli-known-secret-1b9e"
RAISED = ["--export-per-second", "10000", "--export-per-hour", "1000000",
          "--query-per-hour", "1000000"]


@pytest.fixture(scope="module")
def server():
    with Sandbox(secret=SECRET, limits=Limits.unlimited()) as sb:
        yield sb


def week(sb):
    last = sb.dataset.last_date
    import datetime as dt

    return str(last - dt.timedelta(days=6)), str(last)


def test_segmentation_on_the_embedded_sandbox_prints_mixpanels_json(tmp_path):
    with Sandbox() as ref:  # the same default dataset the subprocess serves
        a, b = str(ref.dataset.first_date), str(ref.dataset.last_date)
        r = mpql("run", "--segmentation", "Purchase", "--on", 'properties["$os"]', "--type",
                 "unique", "--from", a, "--to", b, env=clean_env())
        assert r.returncode == 0, r.stderr
        assert "embedded sandbox" in r.stderr and "answered by Mixpanel's endpoint" in r.stderr
        expected = ref.query("segmentation", event="Purchase", from_date=a, to_date=b,
                             on='properties["$os"]', type="unique", unit="day", limit=60)
    assert json.loads(r.stdout) == expected


def test_csv_and_table_carry_the_same_numbers(server, tmp_path):
    a, b = week(server)
    base = ["run", *RAISED, "--base-url", server.url, "--segmentation", "Page Viewed",
            "--on", 'properties["mp_lib"]', "--from", a, "--to", b, "-q"]
    answer = json.loads(mpql(*base, env=env_for(server)).stdout)
    values = answer["data"]["values"]
    rows = list(csv.reader(io.StringIO(mpql(*base, "--format", "csv", env=env_for(server)).stdout)))
    assert rows[0] == ["date", *values]
    assert [r[0] for r in rows[1:]] == answer["data"]["series"]
    for row in rows[1:]:
        assert [int(x) for x in row[1:]] == [values[s][row[0]] for s in values]
    out = tmp_path / "t.txt"
    r = mpql(*base, "--format", "table", "-o", str(out), env=env_for(server))
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[0].split() == ["date", *values] and set(lines[1]) == {"-"}
    assert [line.split() for line in lines[2:]] == rows[1:]


def test_a_terminal_gets_a_table(server):
    a, b = week(server)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "mpql", "run", *RAISED, "--base-url",
                             server.url, "--segmentation", "Search", "--from", a, "--to", b,
                             "-q"], stdout=slave, stderr=subprocess.PIPE, env=env_for(server))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    assert proc.returncode == 0
    assert text.splitlines()[0].split() == ["date", "Search"] and "{" not in text


def test_saved_funnel_and_the_same_steps_computed_from_exports_agree(server):
    a, b = week(server)
    common = ["run", *RAISED, "--base-url", server.url, "--from", a, "--to", b, "--unit",
              "week", "-q", "--today", str(server.today())]  # the server's (pinned) today
    saved = mpql(*common, "--funnel", "7001", env=env_for(server))
    adhoc = mpql(*common, "--steps", "Viewed Item", "Added to Cart", "Purchase", "--length", "14",
                 env=env_for(server))
    assert saved.returncode == 0 and adhoc.returncode == 0, saved.stderr + adhoc.stderr
    assert json.loads(saved.stdout) == server.query("funnels", funnel_id=7001, from_date=a,
                                                    to_date=b, unit="week")
    # the export plan stops at the sandbox's today: conversions after it cannot exist
    assert json.loads(adhoc.stdout) == json.loads(saved.stdout)


@pytest.mark.parametrize("args,endpoint,params", [
    (["--retention", "--born-event", "Viewed Item", "--event", "Purchase", "--unit", "day",
      "--interval-count", "3"], "retention",
     {"born_event": "Viewed Item", "event": "Purchase", "unit": "day", "interval_count": 3,
      "retention_type": "birth", "interval": 1}),
    (["--frequency", "--event", "Page Viewed", "--unit", "week", "--addiction-unit", "day"],
     "retention/addiction", {"event": "Page Viewed", "unit": "week", "addiction_unit": "day"}),
    (["--segmentation", "Purchase", "--measure", "sum", "--on", 'number(properties["amount"])'],
     "segmentation/sum", {"event": "Purchase", "on": 'number(properties["amount"])',
                          "unit": "day"}),
])
def test_retention_frequency_and_measures(server, args, endpoint, params):
    a, b = week(server)
    r = mpql("run", *RAISED, "--base-url", server.url, "--from", a, "--to", b, "-q", *args,
             env=env_for(server))
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    expected = server.query(endpoint, from_date=a, to_date=b, **params)
    got.pop("computed_at", None), expected.pop("computed_at", None)
    assert got == expected


@pytest.mark.parametrize("args,words", [
    (["--segmentation", "Purchase", "--born-event", "X"], "--born-event does not apply to --segmentation"),
    (["--events", "--on", "x", "--from", "2026-01-01", "--to", "2026-01-02"],
     "--on applies to aggregate queries (--segmentation, --retention, --frequency, --funnel, "
     "--steps), not --events"),
    (["--profiles", "--format", "csv"], "--format applies to aggregate queries, not --profiles"),
    (["--segmentation", "Purchase", "--measure", "sum"], "--measure sum needs --on"),
    (["--segmentation", "Purchase", "--resume", "-o", "x.json"], "--resume does not apply"),
    (["--segmentation", "Purchase", "--dedupe"], "--dedupe does not apply to --segmentation"),
    (["--profiles", "--on", "x"], "--on applies to aggregate queries"),
    (["--funnel", "7001", "--type", "unique"], "--type does not apply to --funnel"),
    (["--retention", "--born-event", "A", "--event", "B", "--event", "C"], "takes one --event"),
    (["--segmentation", "Purchase", "--unit", "fortnight"], "unit must be one of"),
])
def test_flags_that_do_not_fit_exit_2_with_one_clear_line(args, words, tmp_path):
    dates = [] if {"--events", "--profiles"} & set(args) else \
        ["--from", "2026-01-01", "--to", "2026-01-02"]
    r = mpql("run", *args, *dates, env=clean_env())
    assert r.returncode == 2, r.stdout
    assert words in r.stderr and "Traceback" not in r.stderr


def test_a_bad_on_is_shown_with_carets_and_nothing_starts():
    r = mpql("run", "--segmentation", "Purchase", "--on", 'properties["x"] ==', "--from",
             "2026-01-01", "--to", "2026-01-02", env=clean_env())
    assert r.returncode == 2
    assert "--on:1:" in r.stderr and "^" in r.stderr and "embedded sandbox" not in r.stderr


def test_mixpanel_errors_exit_2_without_the_secret(server):
    a, b = week(server)
    r = mpql("run", *RAISED, "--base-url", server.url, "--funnel", "4242", "--from", a,
             "--to", b, env=env_for(server))
    assert r.returncode == 2 and "funnel_id 4242 is not a saved funnel" in r.stderr
    r = mpql("run", *RAISED, "--base-url", server.url, "--funnel", "7001", "--from", a,
             "--to", b, env=env_for(server, "not-the-secret-x"))
    assert r.returncode == 2 and "401" in r.stderr and "not-the-secret-x" not in r.stderr


def test_plan_shows_server_and_export_aggregate_plans():
    r = mpql("plan", "--segmentation", "Purchase", "--on", 'properties["$os"]', "--from",
             "2024-01-01", "--to", "2024-01-31", "--project-id", "7", "--format", "json",
             "--today", "2024-06-01", env=clean_env())
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["aggregate"] == "segmentation" and plan.get("local_aggregate") is None
    assert plan["steps"][0]["url"] == "https://mixpanel.com/api/query/segmentation"
    r = mpql("plan", "--steps", "Signed Up", "Purchase", "--length", "7", "--from",
             "2024-01-01", "--to", "2024-01-31", "--project-id", "7", "--today", "2024-06-01",
             env=clean_env())
    assert r.returncode == 0, r.stderr
    assert "/api/2.0/export" in r.stdout and "local" in r.stdout.lower()
    r = mpql("plan", "--segmentation", "Purchase", "--from", "2024-01-01", "--to",
             "2024-01-31", "--addiction-unit", "day", env=clean_env())
    assert r.returncode == 2 and "--addiction-unit does not apply to --segmentation" in r.stderr
    r = mpql("plan", "--funnel", "7", "--from", "2024-01-01", env=clean_env())
    assert r.returncode == 2 and "--funnel needs --from and --to" in r.stderr
    r = mpql("plan", "--segmentation", "Purchase", "--from", "2024-01-01", "--to",
             "2024-01-31", "--engage-accessor", "user", env=clean_env())
    assert r.returncode == 2 and "--engage-accessor does not apply to --segmentation" in r.stderr


def test_repl_segment_prints_the_breakdown_of_the_loaded_events(tmp_path):
    t0 = 1767268800  # 2026-01-01T12:00:00Z
    events = [{"event": e, "properties": {"time": t0 + i * 60, "distinct_id": f"u{i % 3}",
                                          "$insert_id": f"x{i}", "os": os_}}
              for i, (e, os_) in enumerate([("A", "iOS"), ("B", "iOS"), ("A", "Android"),
                                            ("A", "iOS"), ("C", "Web")])]
    data = tmp_path / "events.jsonl"
    data.write_text("".join(json.dumps(e) + "\n" for e in events))
    script = 'properties["os"] != "Web"\n:segment properties["os"]\n'
    r = mpql("repl", "--data", str(data), "--no-history", stdin=script, env=clean_env())
    assert r.returncode == 0, r.stderr + r.stdout
    table = [line.split() for line in r.stdout.splitlines() if line.startswith("  2026-")
             or line.strip().startswith(("date", "total"))]
    assert table == [["date", "iOS", "Android"], ["2026-01-01", "3", "1"], ["total", "3", "1"]]
    assert "4 events (events matching" in r.stdout and "2 segments" in r.stdout


def test_sandbox_info_lists_the_saved_funnels():
    r = mpql("sandbox", "info", env=clean_env())
    assert r.returncode == 0, r.stderr
    assert "funnels:  7001 'Browse to purchase', 7002 'Search to cart'" in r.stdout


def test_repl_segment_reports_a_failing_on_once_and_fails_the_script(tmp_path):
    data = tmp_path / "events.jsonl"
    data.write_text(json.dumps({"event": "A", "properties": {
        "time": 1767268800, "distinct_id": "u1", "os": "iOS"}}) + "\n")
    r = mpql("repl", "--data", str(data), "--no-history",
             stdin=':segment properties["os"] and 1\n', env=clean_env())
    assert r.returncode == 1
    out = r.stdout + r.stderr
    assert len(re.findall(r"^T011 ", out, flags=re.M)) == 1  # the on reported once
    assert "`and` needs boolean operands" in out


def test_the_sandbox_aggregates_example_runs():
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "examples" / "aggregates_sandbox.py"
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       timeout=120, env=clean_env())
    assert r.returncode == 0, r.stderr
    assert "saved funnels: 7001 'Browse to purchase'" in r.stdout
    assert "gave the same answer as 1 /funnels call" in r.stdout

"""`mpql plan` and `mpql run` share one definition of their query and planning flags
(mpql/cli/_queryflags.py, docs/cli.md *Shared flags*): the same option strings, the same
parsing, the same checks and messages, the same MP_REGION handling — so a `plan` shows exactly
what the same `run` sends."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mpql.cli import _queryflags, plan, run

#: Flags only one of the two commands has, and why (a new flag must be added here or shared).
PLAN_ONLY = {"--auth",      # run authenticates with the credentials it has
             "--ids",       # fills curl commands
             "--strict"}
RUN_ONLY = {"-o", "--output", "--resume", "--dedupe", "-q", "--quiet", "--base-url",
            "--export-per-hour", "--export-per-second", "--query-per-hour", "--workers"}
#: In both, defined by each command because the meaning differs (documented in docs/cli.md).
BOTH_OWN = {"--limit", "--no-check",
            "--format"}  # plan: text/json/curl of the plan; run: table/json/csv of an aggregate


def _options(parser) -> set:
    return {opt for action in parser._actions for opt in action.option_strings} - {"-h",
                                                                                     "--help"}


def test_plan_and_run_accept_the_same_query_flags():
    shared = _queryflags.query_flags()
    plan_flags = _options(plan.build_parser("mpql plan"))
    run_flags = _options(run.build_parser("mpql run"))
    for flag in ("--project-id", "--workspace-id", "--max-url-length", "--chunk", "--region",
                 "--today", "--distinct-id-property", "--engage-accessor", "--from", "--to"):
        assert flag in shared
    assert plan_flags - shared == PLAN_ONLY | BOTH_OWN
    assert run_flags - shared == RUN_ONLY | BOTH_OWN
    assert shared <= plan_flags and shared <= run_flags


_VALUES = st.fixed_dictionaries({}, optional={
    "--region": st.sampled_from(["us", "eu", "in"]),
    "--chunk": st.sampled_from(["auto", "day", "week", "month", "none", "5d"]),
    "--project-id": st.sampled_from(["1", "42"]),
    "--workspace-id": st.sampled_from(["7"]),
    "--max-url-length": st.sampled_from(["300", "8000"]),
    "--distinct-id-property": st.sampled_from(["$distinct_id", "distinct_id"]),
    "--engage-accessor": st.sampled_from(["as-written", "user", "properties"]),
    "--event": st.sampled_from(["Purchase"]),
    "--today": st.sampled_from(["2024-06-01", "2024-01-10"]),
    "--where": st.sampled_from(['properties["a"] == 1', 'user["plan"] == "pro"', None]),
})


def _outcome(parser, argv):
    from mpql.errors import MpqlError

    args = parser.parse_args(argv)
    try:
        _queryflags.check_kind_flags(args)
        query = _queryflags.build_query(args)
        return query.plan(auth="service_account", check=False,
                          **_queryflags.plan_options(args)).to_json()
    except MpqlError as exc:
        return type(exc).__name__, str(exc)


@given(_VALUES, st.sampled_from(["events", "profiles"]))
def test_the_same_flags_give_the_same_plan_in_both(values, kind):
    argv = [f"--{kind}"]
    if kind == "events":
        argv += ["--from", "2024-01-01", "--to", "2024-01-31"]
    for flag, value in values.items():
        if value is not None:
            argv += [flag, value]
    got_plan = _outcome(plan.build_parser("mpql plan"), argv)
    got_run = _outcome(run.build_parser("mpql run"), argv)
    assert got_plan == got_run


def mpql(*args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MP_")}
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "mpql", *args], capture_output=True,
                          text=True, timeout=60, env=environ)


EVENTS = ["--events", "--from", "2024-01-01", "--to", "2024-01-02", "--today", "2024-06-01"]


@pytest.mark.parametrize("region, host", [("eu", "data-eu.mixpanel.com"),
                                          ("IN", "data-in.mixpanel.com")])
def test_plan_honours_mp_region(region, host):
    r = mpql("plan", *EVENTS, "--format", "json", MP_REGION=region)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["steps"][0]["url"] == f"https://{host}/api/2.0/export"
    # --region wins over the environment
    r = mpql("plan", *EVENTS, "--format", "json", "--region", "us", MP_REGION=region)
    assert json.loads(r.stdout)["steps"][0]["url"].startswith("https://data.mixpanel.com/")


def test_a_bad_mp_region_is_rejected_alike_by_plan_and_run():
    message = "error: MP_REGION: expected one of us, eu, in; found 'mars'\n"
    p = mpql("plan", *EVENTS, MP_REGION="mars")
    r = mpql("run", *EVENTS, MP_REGION="mars")
    assert (p.returncode, p.stdout, p.stderr) == (2, "", "mpql plan: " + message)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", "mpql run: " + message)


@pytest.mark.parametrize("args", [["--events"], ["--events", "--from", "2024-01-01"],
                                  ["--events", "--to", "2024-01-01"]])
def test_dates_are_required_alike(args):
    # run used to fill in the sandbox's days; a run must say what it fetches, as a plan does
    p, r = mpql("plan", *args), mpql("run", *args)
    assert p.returncode == r.returncode == 2
    assert p.stderr.removeprefix("mpql plan: ") == r.stderr.removeprefix("mpql run: ")
    assert "--events needs --from and --to" in r.stderr
    assert "no Mixpanel credentials" not in r.stderr  # refused before a sandbox started


def test_run_takes_the_planning_flags():
    # --chunk none and --max-url-length were plan-only; --project-id without credentials
    # would silently be the sandbox's own project, so it is refused.
    r = mpql("run", *EVENTS, "--chunk", "none", "--max-url-length", "100")
    assert r.returncode == 2 and "max_url_length must be an integer ≥ 256" in r.stderr
    assert "no Mixpanel credentials" not in r.stderr  # planned before a sandbox started
    r = mpql("run", *EVENTS, "--project-id", "5")
    assert r.returncode == 2 and "--project-id/--workspace-id name a Mixpanel project" in r.stderr

"""`mpql plan` / `mpql run` flags for engage's cohort/behaviors/group parameters and export's
time_in_ms, as real subprocesses: the plan (json) carries the parameter, and a run on the
embedded sandbox (no MP_* variables) returns exactly the sandbox's ground truth."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mpql.sandbox import Sandbox
from mpql.sandbox._data import COMPANY_GROUP_ID

BEHAVIORS = [{"name": "bought", "window": "7d", "event_selectors": [{"event": "Purchase"}]}]


def mpql(*args, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MP_")}
    return subprocess.run([sys.executable, "-m", "mpql", *args], capture_output=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def ref():
    with Sandbox() as sb:  # the same default dataset `mpql run` starts
        yield sb


def plan_params(*args):
    r = mpql("plan", *args, "--format", "json")
    assert r.returncode == 0, r.stderr.decode()
    return [s["params"] for s in json.loads(r.stdout)["steps"]]


def run_records(*args):
    r = mpql("run", "-q", *args)
    assert r.returncode == 0, r.stderr.decode()
    return [json.loads(line) for line in r.stdout.splitlines()]


def key(p):
    return json.dumps(p, sort_keys=True)


def as_of(ref):
    return int(dt.datetime.combine(ref.dataset.last_date, dt.time(),
                                   tzinfo=dt.timezone.utc).timestamp())


def test_cohort_id_default_and_include_all_users(ref):
    (params,) = plan_params("--profiles", "--cohort-id", "1003")
    assert params["filter_by_cohort"] == {"id": 1003} and params["include_all_users"] is False
    (params,) = plan_params("--profiles", "--cohort-id", "1003", "--include-all-users")
    assert params["include_all_users"] is True
    for extra, include in (([], False), (["--include-all-users"], True),
                           (["--no-include-all-users"], False)):
        got = run_records("--profiles", "--cohort-id", "1003", *extra)
        truth = ref.profiles(cohort_id=1003, include_all_users=include)
        assert sorted(map(key, got)) == sorted(map(key, truth)) and got
    # ids without a profile only come with include_all_users
    assert len(ref.profiles(cohort_id=1003, include_all_users=True)) > len(
        ref.profiles(cohort_id=1003, include_all_users=False))


def test_cohort_with_where(ref):
    where = 'properties["plan"] == "pro"'
    got = run_records("--profiles", "--cohort-id", "1001", "--where", where)
    truth = ref.profiles(where, cohort_id=1001, include_all_users=False)
    assert sorted(map(key, got)) == sorted(map(key, truth)) and got


def test_behaviors_and_as_of_timestamp(ref, tmp_path):
    ts = as_of(ref)
    where = 'behaviors["bought"] >= 1'
    (params,) = plan_params("--profiles", "--where", where, "--behaviors", json.dumps(BEHAVIORS),
                           "--as-of-timestamp", str(ts))
    assert params["behaviors"] == BEHAVIORS and params["as_of_timestamp"] == ts
    f = tmp_path / "b.json"
    f.write_text(json.dumps(BEHAVIORS[0]))  # one object is accepted too, from a file
    got = run_records("--profiles", "--where", where, "--behaviors", f"@{f}",
                      "--as-of-timestamp", str(ts))
    truth = ref.profiles(where, behaviors=BEHAVIORS, as_of_timestamp=ts)
    assert sorted(map(key, got)) == sorted(map(key, truth)) and got
    assert len(truth) < len(ref.profiles())  # the behavior filter really filters


def test_group_key(ref):
    (params,) = plan_params("--profiles", "--group-key", COMPANY_GROUP_ID)
    assert params["data_group_id"] == COMPANY_GROUP_ID
    got = run_records("--profiles", "--group-key", COMPANY_GROUP_ID)
    truth = ref.profiles(data_group_id=COMPANY_GROUP_ID)
    assert sorted(map(key, got)) == sorted(map(key, truth)) and got


def test_distinct_ids(ref):
    ids = [p["$distinct_id"] for p in ref.profiles()[:3]]
    (params,) = plan_params("--profiles", *[a for i in ids for a in ("--distinct-id", i)])
    assert params["distinct_ids"] == ids
    got = run_records("--profiles", *[a for i in ids for a in ("--distinct-id", i)])
    assert sorted(map(key, got)) == sorted(map(key, ref.profiles(distinct_ids=ids)))
    assert len(got) == 3


def test_time_in_ms(ref):
    day = ref.dataset.last_date.isoformat()
    params = plan_params("--events", "--from", day, "--to", day, "--time-in-ms")
    assert params and all(p.get("time_in_ms") is True for p in params)
    got = run_records("--events", "--from", day, "--to", day, "--time-in-ms")
    truth = ref.events(day, day, time_in_ms=True)
    assert sorted(map(key, got)) == sorted(map(key, truth)) and got
    assert all(e["properties"]["time"] > 10**12 for e in got)  # milliseconds


@pytest.mark.parametrize("command", ["plan", "run"])
@pytest.mark.parametrize("args, names", [
    (["--events", "--from", "2024-01-01", "--to", "2024-01-02", "--cohort-id", "1001"],
     ["--cohort-id"]),
    (["--events", "--from", "2024-01-01", "--to", "2024-01-02", "--group-key", "x",
      "--behaviors", "[]"], ["--group-key", "--behaviors"]),
    (["--events", "--from", "2024-01-01", "--to", "2024-01-02", "--no-include-all-users"],
     ["--include-all-users"]),
    (["--profiles", "--time-in-ms"], ["--time-in-ms"]),
])
def test_flag_for_the_other_kind_is_a_usage_error(command, args, names):
    r = mpql(command, *args)
    err = r.stderr.decode()
    assert r.returncode == 2 and "Traceback" not in err
    assert all(n in err for n in names), err


@pytest.mark.parametrize("command", ["plan", "run"])
@pytest.mark.parametrize("args, needle", [
    (["--cohort-id", "1001", "--behaviors", json.dumps(BEHAVIORS)], "cannot be combined"),
    (["--include-all-users"], "only applies with cohort_id"),
    (["--as-of-timestamp", "5"], "only applies with behaviors"),
    (["--behaviors", "{not json"], "invalid JSON"),
    (["--behaviors", "[1]"], "non-empty list"),
    (["--behaviors", "[]"], "non-empty list"),
    (["--cohort-id", "0"], "cohort_id"),
    (["--behaviors", "@/nonexistent/b.json"], "cannot read"),
    (["--where", 'behaviors["other"] > 0', "--behaviors", json.dumps(BEHAVIORS)], "other"),
])
def test_invalid_combinations_are_clear_errors(command, args, needle):
    r = mpql(command, "--profiles", *args)
    err = r.stderr.decode()
    assert r.returncode == 2 and "Traceback" not in err
    assert needle in err, err
    assert "sandbox" not in err  # rejected before the sandbox (or anything) starts


# -- the two commands share one definition: any combination parses and validates alike -------

_FLAGS = st.fixed_dictionaries({}, optional={
    "--time-in-ms": st.just(None),
    "--distinct-id": st.lists(st.sampled_from(["a", "b", "u-1"]), min_size=1, max_size=2),
    "--cohort-id": st.integers(-1, 3).map(str),
    "--include-all-users": st.just(None),
    "--no-include-all-users": st.just(None),
    "--group-key": st.sampled_from(["g", "-5"]),
    "--behaviors": st.sampled_from([json.dumps(BEHAVIORS), "[]", "{", '{"name": "x"}']),
    "--as-of-timestamp": st.integers(-1, 10).map(str),
})


def _argv(flags):
    argv = []
    for flag, value in flags.items():
        if value is None:
            argv.append(flag)
        elif isinstance(value, list):
            argv += [a for v in value for a in (flag, v)]
        else:
            argv += [flag, value]
    return argv


def _outcome(parse, kind, argv):
    from mpql.cli import _queryflags
    from mpql.errors import MpqlError
    from mpql.planner import Query

    args = parse(argv)
    wrong = _queryflags.misplaced(args, kind)
    try:
        options = (_queryflags.event_options(args) if kind == "events"
                   else _queryflags.profile_options(args))
        query = (Query.events(from_date="2024-01-01", to_date="2024-01-01",
                              today=dt.date(2024, 2, 1), **options) if kind == "events"
                 else Query.profiles(**options))
        return wrong, options, query.plan().to_json()
    except MpqlError as exc:
        return wrong, type(exc).__name__, str(exc)


@settings(deadline=None)
@given(_FLAGS, st.sampled_from(["events", "profiles"]))
def test_run_and_plan_agree_on_every_combination(flags, kind):
    from mpql.cli import plan, run

    argv = [f"--{kind}", *_argv(flags)]
    got_plan = _outcome(plan.build_parser("mpql plan").parse_args, kind, argv)
    got_run = _outcome(run.build_parser("mpql run").parse_args, kind, argv)
    assert got_plan == got_run
    given_flags = {f.replace("--no-", "--") for f in flags}
    other = ({"--time-in-ms"} if kind == "profiles"
             else given_flags - {"--time-in-ms"})
    assert set(got_plan[0]) == given_flags & other  # every misplaced flag is named, no other

"""`mpql plan` as a real subprocess, and the examples as real scripts."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def mpql(*args, env=None):
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith("MP_")}
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "mpql", "plan", *args], capture_output=True,
                          text=True, cwd=ROOT, env=environ, timeout=60)


HUBSPOT = ["--events", "--from", "2024-01-01", "--to", "2024-01-31",
           "--where", 'user["customer_id"] == "hubspot-user-12345"']


def test_text_plan():
    r = mpql(*HUBSPOT, "--project-id", "123")
    assert r.returncode == 0, r.stderr
    assert "step 1  POST https://mixpanel.com/api/query/engage" in r.stdout
    assert "step 2  GET https://data.mixpanel.com/api/2.0/export" in r.stdout
    assert "31 requests (day chunks)" in r.stdout


def test_json_plan_round_trips_the_model():
    r = mpql(*HUBSPOT, "--format", "json", "--region", "eu", "--chunk", "none",
             env={"MP_PROJECT_ID": "77"})
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["format"] == "mpql-plan" and data["region"] == "eu"
    assert data["project_id"] == "77"
    export = data["steps"][1]
    assert export["url"] == "https://data-eu.mixpanel.com/api/2.0/export"
    assert export["inputs"][0]["step"] == 0 and export["inputs"][0]["splittable"] is True


def test_curl_plan_is_valid_shell_without_secrets(tmp_path):
    r = mpql(*HUBSPOT, "--format", "curl", "--chunk", "none",
             env={"MP_SECRET": "hunter2-do-not-print", "MP_USERNAME": "someone"})
    assert r.returncode == 0, r.stderr
    assert "hunter2" not in r.stdout and "someone" not in r.stdout
    assert '"$MP_USERNAME:$MP_SECRET"' in r.stdout
    script = tmp_path / "plan.sh"
    script.write_text(r.stdout)
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0  # parses as shell


def test_profiles_plan():
    r = mpql("--profiles", "--where", 'user["plan"] == "pro"', "--output-property", "$email",
             "--format", "json", "--project-id", "5")
    assert r.returncode == 0, r.stderr
    (step,) = json.loads(r.stdout)["steps"]
    assert step["params"]["output_properties"] == ["$email"]
    assert step["method"] == "POST" and step["encoding"] == "form"


@pytest.mark.parametrize("args,needle", [
    (["--events", "--where", 'properties["a"] == 1'], "needs --from and --to"),
    (["--events", "--from", "2024-01-02", "--to", "2024-01-01"], "after to_date"),
    (["--events", "--from", "2024-01-01", "--to", "2999-01-01"], "in the future"),
    (["--events", "--from", "2024-01-01", "--to", "2024-01-01", "--where", 'properties["a"] === 1'],
     "E101"),
    (["--profiles", "--where", 'event["x"] == 1'], "cannot filter on event properties"),
    (["--profiles", "--from", "2024-01-01"], "--from does not apply to --profiles"),
    (["--events", "--from", "2024-01-01", "--to", "2024-01-01", "--limit", "100001"],
     "between 1 and 100000"),
    (["--events", "--from", "2024-01-01", "--to", "2024-01-01", "--project-id", "abc"],
     "project_id"),
])
def test_errors_exit_2_with_a_message(args, needle):
    r = mpql(*args)
    assert r.returncode == 2
    assert needle in r.stderr
    assert "Traceback" not in r.stderr


def test_usage_errors():
    assert mpql().returncode == 2
    assert mpql("--help").returncode == 0


def test_planner_import_does_not_load_requests():
    code = ("import sys, mpql.planner, mpql.cli.plan, mpql.builder; "
            "assert 'requests' not in sys.modules, 'requests imported'")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


@pytest.mark.parametrize("script", ["compose_untrusted.py", "plan_hubspot.py"])
def test_examples_run(script):
    r = subprocess.run([sys.executable, str(ROOT / "examples" / script)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout


def test_curl_with_ids_from_step_1():
    r = mpql(*HUBSPOT, "--format", "curl", "--chunk", "none", "--project-id", "1",
             "--ids", "1=abc,d e")
    assert r.returncode == 0, r.stderr
    assert 'properties["$distinct_id"]%20in%20["abc"%2C%20"d%20e"]' in r.stdout
    r = mpql(*HUBSPOT, "--format", "curl", "--ids", "3=x")
    assert r.returncode == 2 and "STEP from 1 to 2" in r.stderr


def test_curl_is_shell_safe_with_hostile_values(tmp_path):
    """Run the generated script with `curl` replaced by a function that prints its arguments:
    every value must arrive intact, and no metacharacter may run anything."""
    from urllib.parse import unquote

    from mpql import Query, user

    hostile = ["it's", "$(touch pwned)", "`touch pwned`", 'a"b\\c', "semi;colon&amp|pipe",
               "new\nline", "ü +%20"]
    plan = Query.events((user("customer_id") == "x'$(touch pwned)") &
                        (user("n").is_in(hostile)),
                        from_date="2024-01-01", to_date="2024-01-01").plan(chunk="none",
                                                                           check=False)
    script = plan.to_curl(ids={0: hostile})
    shim = 'curl() { for a in "$@"; do printf "%s\\n" "$a"; done; printf "%s\\n" "--END--"; }\n'
    path = tmp_path / "plan.sh"
    path.write_text(shim + script.split("\n", 1)[1])
    r = subprocess.run(["sh", str(path)], capture_output=True, text=True, cwd=tmp_path,
                       env={"MP_USERNAME": "u", "MP_SECRET": "s", "MP_PROJECT_ID": "42",
                            "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "pwned").exists()
    args = r.stdout.split("--END--\n")
    engage, export = (a.splitlines() for a in args[:2])
    assert engage[engage.index("--user") + 1] == "u:s"
    body = engage[engage.index("--data") + 1]
    sent = dict(p.split("=", 1) for p in body.split("&"))
    assert unquote(sent["where"]) == plan.steps[0].params["where"]
    url = export[export.index("--url") + 1]
    assert "project_id=42" in url
    where = unquote(url.split("where=", 1)[1].split("&", 1)[0])
    assert mpql_parse(where) == mpql_parse(
        plan.expand(1, {0: hostile}).requests[0].params["where"])


def mpql_parse(text):
    import mpql

    return mpql.parse(text)


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary")
def test_curl_runs_with_real_curl(sandbox, tmp_path):
    """The generated script, pointed at the sandbox, runs under real curl. Without --globoff
    curl reads `properties["$distinct_id"]` in the export URL as a glob and exits 3."""
    from mpql import Query, user

    ds = sandbox.dataset
    profile = sandbox.profiles()[0]
    day = ds.last_date.isoformat() if hasattr(ds.last_date, "isoformat") else ds.last_date
    plan = Query.events(user("$distinct_id") == profile["$distinct_id"], from_date=day,
                        to_date=day).plan(
        project_id=sandbox.credentials.project_id, chunk="none", check=False)
    script = plan.to_curl(ids={0: [profile["$distinct_id"]]})
    assert "--globoff" in script
    script = script.replace("https://data.mixpanel.com", sandbox.url).replace(
        "https://mixpanel.com", sandbox.url)
    (tmp_path / "plan.sh").write_text(script, encoding="utf-8")
    env = {**os.environ, "MP_USERNAME": sandbox.credentials.username,
           "MP_SECRET": sandbox.credentials.secret}
    r = subprocess.run(["sh", str(tmp_path / "plan.sh")], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    exported = [json.loads(line) for line in r.stdout.splitlines() if line.startswith('{"event')]
    expected = sandbox.events(day, day, where='properties["$distinct_id"] == '
                              + json.dumps(profile["$distinct_id"]))
    assert len(exported) == len(expected)
    assert {e["properties"]["distinct_id"] for e in exported} <= {profile["$distinct_id"]}


def test_curl_with_a_project_secret_asks_only_for_mp_secret():
    # The header used to list MP_USERNAME too, which a project secret does not use.
    r = mpql("--events", "--where", 'properties["a"] == 1', "--from", "2024-01-01", "--to",
             "2024-01-01", "--auth", "project-secret", "--format", "curl")
    assert r.returncode == 0, r.stderr
    assert "# Credentials come from the environment: MP_SECRET (the project secret)" in r.stdout
    assert "MP_USERNAME" not in r.stdout and '--user "$MP_SECRET:"' in r.stdout

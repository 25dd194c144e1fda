"""Golden plans: the API guide's two curl commands, and one fixture per plan shape and region.

Regenerate the fixtures after an intended change with ``MPQL_REGEN_PLANS=1 pytest
tests/test_planner_golden.py`` and review the diff.
"""

import datetime as dt
import json
import os
import shlex
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from mpql import Query, user
from mpql.planner import REGIONS

HERE = Path(__file__).parent / "plans"
TODAY = dt.date(2025, 6, 1)
PROJECT = "1234567"


def guide_commands():
    text = (HERE / "api_guide_curl.txt").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    commands = [c for c in body.replace("\\\n", " ").splitlines() if c.strip()]
    return [_parse_curl(c) for c in commands], [
        block for block in body.split("\ncurl") if block
    ]


def _parse_curl(command: str) -> dict:
    words = shlex.split(command)
    assert words[0] == "curl"
    out = {"headers": []}
    it = iter(words[1:])
    for flag in it:
        if flag == "--globoff":  # ours only: see test_curl_runs_with_real_curl
            out["globoff"] = True
            continue
        value = next(it)
        if flag == "--header":
            out["headers"].append(value)
        else:
            out[flag.lstrip("-")] = value
    return out


def _raw_form(data: str) -> list:
    """The guide's --data is sent as-is (unencoded); split it the way a form parser does."""
    return [tuple(part.split("=", 1)) for part in data.split("&")]


def our_commands(plan, ids=None):
    script = plan.to_curl(ids=ids)
    lines = [line for line in script.splitlines() if not line.startswith("#")]
    body = "\n".join(lines)
    return [_parse_curl(c) for c in body.replace("\\\n", " ").splitlines() if c.strip()]


def test_guide_workflow_is_reproduced():
    (guide_engage, guide_export), _ = guide_commands()
    plan = Query.events(
        user("customer_id") == "hubspot-user-12345", from_date="2024-01-01",
        to_date="2024-01-31", today=TODAY,
    ).plan(auth="service_account", project_id=PROJECT, chunk="none")
    engage, export = plan.steps
    assert (engage.endpoint, engage.method, engage.encoding) == ("engage", "POST", "form")
    assert (export.endpoint, export.method, export.encoding) == ("export", "GET", "query")

    ours = our_commands(plan, ids={0: ["MIXPANEL_DISTINCT_ID_FROM_PREVIOUS_STEP"]})
    assert len(ours) == 2
    e, x = ours

    # Step 2 of the guide: method, URL, headers exactly; the body equal as a decoded form
    # (ours is percent-encoded, the guide's raw body would break on `&`, `+` or `%`).
    assert e["request"] == guide_engage["request"] == "POST"
    assert e["url"] == guide_engage["url"].replace("YOUR_PROJECT_ID", PROJECT)
    assert e["headers"] == guide_engage["headers"]
    assert parse_qsl(e["data"], keep_blank_values=True) == _raw_form(guide_engage["data"])
    assert e["user"] == "$MP_USERNAME:$MP_SECRET"  # placeholders, never a secret

    # Step 4: byte-identical URL except for project_id, which the guide forgot although its
    # own Part 1.3 says a service account must send it.
    assert x["request"] == guide_export["request"] == "GET"
    assert x["url"] == guide_export["url"].replace("export?", f"export?project_id={PROJECT}&")
    assert x["headers"] == guide_export["headers"]
    assert "+" not in urlsplit(x["url"]).query


def test_guide_engage_as_a_profiles_query():
    (guide_engage, _), _ = guide_commands()
    plan = Query.profiles('user["customer_id"] == "hubspot-user-12345"',
                          output_properties=["$distinct_id"]).plan(project_id=PROJECT)
    (e,) = our_commands(plan)
    assert e["url"] == guide_engage["url"].replace("YOUR_PROJECT_ID", PROJECT)
    assert parse_qsl(e["data"]) == _raw_form(guide_engage["data"])
    assert e["headers"] == guide_engage["headers"]


# --- fixtures per shape and region -------------------------------------------------------------

SHAPES = {
    "events-plain": lambda: Query.events(
        'properties["plan"] == "Premium" and properties["$os"] == "iOS"',
        from_date="2024-01-01", to_date="2024-01-03", events=["Purchase", "Sign up"],
        limit=5000, today=TODAY),
    "events-all": lambda: Query.events(from_date="2024-02-01", to_date="2024-02-01",
                                       today=TODAY),
    "events-hubspot": lambda: Query.events(
        'user["customer_id"] == "hubspot-user-12345"', from_date="2024-01-01",
        to_date="2024-01-31", today=TODAY),
    "events-mixed-or": lambda: Query.events(
        '(user["plan"] == "pro" or properties["amount"] > 100) and not user["churned"] == true',
        from_date="2024-03-01", to_date="2024-03-02", today=TODAY),
    "events-profile-unset": lambda: Query.events(
        'not defined(user["customer_id"]) and properties["$browser"] == "Chrome"',
        from_date="2024-03-01", to_date="2024-03-01", today=TODAY),
    "profiles": lambda: Query.profiles(
        'user["$last_seen"] > datetime("2024-01-01T00:00:00")',
        output_properties=["$email", "plan"]),
    "profiles-by-id": lambda: Query.profiles(
        'properties["$distinct_id"] in ["u1", "u2"] and properties["plan"] == "pro"'),
    "profiles-cohort": lambda: Query.profiles(cohort_id=54321, output_properties=["$email"]),
}


def _render(name, region):
    # check=False: the fixtures pin the planner's output, not the checker's rules. The default
    # chunking ("auto") is pinned: it is what `mpql plan` / `mpql run` use unless told.
    plan = SHAPES[name]().plan(region=region, auth="service_account", project_id=PROJECT,
                               check=False)
    data = {"plan": plan.to_dict(), "explain": plan.explain().splitlines(),
            "curl": plan.to_curl().splitlines()}
    return json.loads(json.dumps(data))  # tuples → lists, as stored


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_golden_plan(name, region):
    path = HERE / f"{name}.{region}.json"
    got = _render(name, region)
    if os.environ.get("MPQL_REGEN_PLANS"):
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    want = json.loads(path.read_text(encoding="utf-8"))
    assert got == want


def test_hosts_by_region():
    hosts = {}
    for region in REGIONS:
        plan = SHAPES["events-hubspot"]().plan(region=region, project_id=PROJECT)
        hosts[region] = tuple(urlsplit(s.url).netloc for s in plan.steps)
    assert hosts == {
        "us": ("mixpanel.com", "data.mixpanel.com"),
        "eu": ("eu.mixpanel.com", "data-eu.mixpanel.com"),
        "in": ("in.mixpanel.com", "data-in.mixpanel.com"),
    }

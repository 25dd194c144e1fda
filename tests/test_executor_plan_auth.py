"""Which credentials a run uses: the Client's own > the plan's (``Query.plan(auth=…)``) > the
environment (MP_*), against the sandbox over real HTTP (it answers 401 to wrong credentials)."""

from __future__ import annotations

import json

import pytest

from mpql.errors import AuthenticationError
from mpql.executor import Client
from mpql.planner import Plan, Query, ServiceAccount

WRONG = ("someone-else", "not-the-secret")


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("MP_USERNAME", "MP_SECRET", "MP_PROJECT_ID", "MP_REGION", "MP_WORKSPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _plan(sb, auth):
    day = sb.dataset.last_date.isoformat()
    return Query.events(from_date=day, to_date=day).plan(auth=auth)


def _right(sb) -> ServiceAccount:
    return sb.credentials.service_account()


def test_a_plan_runs_with_the_auth_it_was_built_with(sandbox, clean_env):
    plan = _plan(sandbox, _right(sandbox))
    got = list(Client(base_url=sandbox.url).run(plan))
    assert got and len(got) == len(sandbox.events(plan.steps[0].params["from_date"],
                                                  plan.steps[0].params["to_date"]))
    assert {r.status for r in sandbox.requests} == {200}


def test_the_plans_auth_wins_over_the_environment(sandbox, clean_env):
    clean_env.setenv("MP_USERNAME", WRONG[0])
    clean_env.setenv("MP_SECRET", WRONG[1])
    clean_env.setenv("MP_PROJECT_ID", str(sandbox.credentials.project_id))
    assert list(Client(base_url=sandbox.url).run(_plan(sandbox, _right(sandbox))))


def test_explicit_client_credentials_win_over_the_plans(sandbox, clean_env):
    wrong = ServiceAccount(*WRONG, sandbox.credentials.project_id)
    plan = _plan(sandbox, _right(sandbox))
    with pytest.raises(AuthenticationError):
        list(Client(wrong, base_url=sandbox.url).run(plan))
    # and the other way round: right client credentials run a plan built with wrong ones
    assert list(Client(_right(sandbox), base_url=sandbox.url).run(_plan(sandbox, wrong)))


def test_the_environment_is_the_last_resort(sandbox, clean_env):
    c = sandbox.credentials
    clean_env.setenv("MP_USERNAME", c.username)
    clean_env.setenv("MP_SECRET", c.secret)
    clean_env.setenv("MP_PROJECT_ID", str(c.project_id))
    assert list(Client(base_url=sandbox.url).run(_plan(sandbox, "service_account")))


def test_the_plans_auth_is_never_shown_or_saved(sandbox, clean_env):
    auth = _right(sandbox)
    plan = _plan(sandbox, auth)
    assert plan.auth is auth
    secret = sandbox.credentials.secret
    for text in (repr(plan), plan.to_json(), plan.explain(), plan.to_curl()):
        assert secret not in text
    loaded = Plan.from_json(plan.to_json())
    assert loaded == plan and loaded.auth is None and "auth" not in json.loads(plan.to_json())
    # --resume's fingerprint is the plan's request content, not the credentials' form: a
    # run of the loaded plan (credentials from the environment) continues the same run
    from mpql.executor._client import _fingerprint

    assert _fingerprint(plan, dedupe=False) == _fingerprint(loaded, dedupe=False)

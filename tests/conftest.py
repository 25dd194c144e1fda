"""Shared test setup: hypothesis profiles (bounded by default, large for `make fuzz`)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# -- the sandbox (mpql/sandbox): a Mixpanel-compatible server on 127.0.0.1 -----------------------

import pytest


@pytest.fixture(scope="session")
def sandbox_dataset():
    """The default sample dataset (150 profiles, 30 days ending yesterday), generated once."""
    from mpql.sandbox import default_dataset

    return default_dataset()


@pytest.fixture
def sandbox(sandbox_dataset):
    """A fresh sandbox on a free loopback port: default dataset, no faults, and NO rate limits
    (so unrelated tests never see a 429). Tests of pacing or 429 handling turn Mixpanel's limits
    on with ``sandbox.reset_limits(Limits(), time_scale=0.001)`` (an hour lasts 3.6 s).

    ``sandbox.url``, ``sandbox.credentials`` (username, secret, project_id, project_secret),
    ``sandbox.requests`` (what the client sent), ``sandbox.add_faults("export#1:503")``,
    ``sandbox.events(from, to, where=…)`` / ``sandbox.profiles(where=…)`` (ground truth).
    """
    from mpql.sandbox import Limits, Sandbox

    with Sandbox(sandbox_dataset, limits=Limits.unlimited()) as sb:
        yield sb

"""Shared test setup: hypothesis profiles (bounded by default, large for `make fuzz`), and a
pinned clock and cache for the sandbox."""

import atexit
import os
import shutil
import tempfile

# -- nothing in the suite depends on today's date or on ~/.cache ---------------------------------
# The sandbox's "today" is pinned (its default dataset ends the day before, its clock runs at noon
# UTC of that day); subprocess runs of the CLI inherit it. Set MPQL_SANDBOX_TODAY yourself to run
# the suite at another date (the suite must pass the same). The default dataset is generated into
# a cache private to this session, never read from or written to the user's cache. The pinned day
# is after every fixed end_date the tests generate (so their sandboxes accept those days) and
# before the real date the suite runs at.
PINNED_TODAY = os.environ.setdefault("MPQL_SANDBOX_TODAY", "2026-11-15")
_CACHE = tempfile.mkdtemp(prefix="mpql-test-cache-")
os.environ["MPQL_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

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
    """The default sample dataset (150 profiles, 30 days ending the day before the pinned
    today), generated once per session."""
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

"""Rate limits: the accounting rules on a fake clock, and 429s over HTTP with a scaled hour."""

from __future__ import annotations

import threading
import time

import requests

from mpql.sandbox import Limits, Sandbox
from mpql.sandbox._limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _drain(limiter, cls, n, **kw):
    out = []
    for _ in range(n):
        rej = limiter.acquire(cls, **kw)
        if rej is None:
            limiter.release(cls)
        out.append(rej)
    return out


def test_hourly_window_slides():
    clock = Clock()
    lim = RateLimiter(Limits(), clock=clock)
    assert all(r is None for r in _drain(lim, "query", 60))
    rej = lim.acquire("query")
    assert rej.limit == "hour" and "60 query requests per hour" in rej.message
    headers = dict(rej.headers)
    assert headers["RateLimit-Policy"] == '"project";q=60;w=3600, "project-concurrency";q=5;qu="concurrent-requests"'
    assert headers["RateLimit"].startswith('"project";r=0;t=3600')
    assert headers["Retry-After"] == "3600"
    clock.t += 3599.5
    assert lim.acquire("query").limit == "hour"  # rejected requests never count…
    clock.t += 0.5
    assert lim.acquire("query") is None  # …so the first slot frees exactly an hour later


def test_engage_pages_with_session_do_not_count():
    lim = RateLimiter(Limits(query_per_hour=1), clock=Clock())
    assert lim.acquire("query") is None
    lim.release("query")
    assert all(r is None for r in _drain(lim, "query", 10, counts=False))
    assert lim.acquire("query").limit == "hour"


def test_export_per_second_and_hour():
    clock = Clock()
    lim = RateLimiter(Limits(), clock=clock)
    assert _drain(lim, "export", 3) == [None] * 3
    rej = lim.acquire("export")
    assert rej.limit == "second" and dict(rej.headers)["Retry-After"] == "1"
    assert '"export-second";r=0' in dict(rej.headers)["RateLimit"]
    for _ in range(19):
        clock.t += 1
        assert _drain(lim, "export", 3) == [None] * 3
    clock.t += 1
    assert lim.acquire("export").limit == "hour"  # 60 in the hour


def test_concurrency():
    lim = RateLimiter(Limits(), clock=Clock())
    for _ in range(5):
        assert lim.acquire("query") is None
    rej = lim.acquire("query")
    assert rej.limit == "concurrency" and '"project-concurrency";r=0' in dict(rej.headers)["RateLimit"]
    lim.release("query")
    assert lim.acquire("query") is None


def test_time_scale_shrinks_windows_and_headers():
    clock = Clock()
    lim = RateLimiter(Limits(query_per_hour=2), time_scale=0.01, clock=clock)
    assert _drain(lim, "query", 2) == [None, None]
    rej = dict(lim.acquire("query").headers)
    assert '"project";q=2;w=36' in rej["RateLimit-Policy"] and rej["Retry-After"] == "36"
    clock.t += 36
    assert lim.acquire("query") is None


def test_retry_after_can_be_left_out():
    lim = RateLimiter(Limits(query_per_hour=0, retry_after=False), clock=Clock())
    assert "Retry-After" not in dict(lim.acquire("query").headers)


def test_unlimited():
    lim = RateLimiter(Limits.unlimited(), clock=Clock())
    assert _drain(lim, "export", 500) == [None] * 500


# -- over HTTP -------------------------------------------------------------------------------------


def _engage(sb, **data):
    return requests.post(f"{sb.url}/api/query/engage", params={"project_id": sb.credentials.project_id},
                         data={"output_properties": "[]", **data},
                         auth=(sb.credentials.username, sb.credentials.secret), timeout=10)


def _export(sb, **params):
    day = sb.dataset.last_date.isoformat()
    return requests.get(f"{sb.url}/api/2.0/export",
                        params={"project_id": sb.credentials.project_id, "from_date": day,
                                "to_date": day, "limit": "1", **params},
                        auth=(sb.credentials.username, sb.credentials.secret), timeout=10)


def test_query_hour_over_http_with_scaled_hour(sandbox):
    # 60/hour with an hour of 36 s: the 61st request in the hour is refused.
    sandbox.reset_limits(Limits(), time_scale=0.01)
    codes = [_engage(sandbox).status_code for _ in range(61)]
    assert codes == [200] * 60 + [429]
    r = _engage(sandbox)
    assert r.status_code == 429
    assert "60 query requests per hour" in r.json()["error"]
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 36
    assert '"project";r=0' in r.headers["RateLimit"]
    # 401s are not counted and are answered before the limiter
    bad = requests.post(f"{sandbox.url}/api/query/engage", params={"project_id": 1}, auth=("x", "y"))
    assert bad.status_code == 401


def test_budget_recovers_after_the_scaled_hour(sandbox):
    sandbox.reset_limits(Limits(query_per_hour=2), time_scale=0.0003)  # an hour of 1.08 s
    assert [_engage(sandbox).status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(1.2)
    assert _engage(sandbox).status_code == 200


def test_session_pages_are_free_over_http(sandbox_dataset):
    with Sandbox(sandbox_dataset, limits=Limits(query_per_hour=1), page_size=50) as sb:
        first = _engage(sb).json()
        for page in (1, 2):
            r = _engage(sb, page=page, session_id=first["session_id"])
            assert r.status_code == 200 and r.json()["page"] == page
        assert _engage(sb).status_code == 429


def test_export_three_per_second_over_http(sandbox):
    sandbox.reset_limits(Limits())
    codes = [_export(sandbox).status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    r = _export(sandbox)
    assert '"export-second";r=0' in r.headers["RateLimit"] and r.headers["Retry-After"] == "1"


def test_five_concurrent_queries(sandbox):
    sandbox.reset_limits(Limits())
    sandbox.add_faults("engage#1-5:delay=1.0")  # five slow queries hold their slots
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(_engage(sandbox).status_code)) for _ in range(5)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and sandbox._limiter._classes["query"].in_flight < 5:
        time.sleep(0.01)
    sixth = _engage(sandbox)
    for t in threads:
        t.join()
    assert sorted(results) == [200] * 5
    assert sixth.status_code == 429 and '"project-concurrency";r=0' in sixth.headers["RateLimit"]
    assert "concurrent" in sixth.json()["error"]
    assert _engage(sandbox).status_code == 200  # slots are free again


def test_429_without_retry_after_when_configured(sandbox):
    sandbox.reset_limits(Limits(query_per_hour=1, retry_after=False))
    assert _engage(sandbox).status_code == 200
    r = _engage(sandbox)
    assert r.status_code == 429 and "Retry-After" not in r.headers and "RateLimit" in r.headers


def test_requests_count_at_arrival_even_if_admitted_out_of_order():
    clock = Clock()
    lim = RateLimiter(Limits(export_per_second=2), clock=clock)
    clock.t = 1000.9
    assert lim.acquire("export", at=1000.8) is None  # arrived first, admitted second
    lim.release("export")
    assert lim.acquire("export", at=1000.1) is None  # arrived earlier still
    lim.release("export")
    assert lim.acquire("export").limit == "second"  # two in (999.9, 1000.9]
    clock.t = 1001.15
    assert lim.acquire("export") is None  # 1000.1 has left the window, 1000.8 has not
    lim.release("export")
    assert lim.acquire("export").limit == "second"
    assert lim.acquire("export", at=5000.0).limit == "second"  # never from the future


def test_a_late_arrival_still_sees_requests_that_a_newer_one_pushed_out():
    clock = Clock()
    lim = RateLimiter(Limits(export_per_second=2), clock=clock)
    clock.t = 1000.0
    assert lim.acquire("export") is None  # S at 1000.0
    clock.t = 1001.5
    assert lim.acquire("export") is None  # A at 1001.5: S is out of A's window
    # B arrived at 1000.6 but reaches the limiter only now: S and A are both within a second
    # of it, so it is the third in a second.
    assert lim.acquire("export", at=1000.6).limit == "second"

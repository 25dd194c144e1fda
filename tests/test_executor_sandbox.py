"""The executor against the sandbox over real HTTP on 127.0.0.1.

The fault matrix: every fault the sandbox can inject, on export and on engage, must leave the
output equal to the dataset's ground truth (nothing lost, nothing duplicated), while the
non-retryable statuses fail fast with Mixpanel's message. Plans are built from the plan model
directly (the planner/executor contract), so these tests do not depend on planner details.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import random
import time

import attrs
import pytest

from mpql.errors import (
    AuthenticationError, BadRequestError, DeadlineExceeded, ForbiddenError, RateLimitError,
    ServerError,
)
from mpql.executor import Client, Credentials, Limits, RetryPolicy
from mpql.planner import Plan, Query, ServiceAccount, Step
from mpql.sandbox import Sandbox
from mpql.sandbox._limits import Limits as ServerLimits

EXPORT_URL = "https://data.mixpanel.com/api/2.0/export"
ENGAGE_URL = "https://mixpanel.com/api/query/engage"
FAST = Limits(export_per_second=10_000, export_per_hour=10**7, query_per_hour=10**7)


def fast_retry(**kw) -> RetryPolicy:
    return RetryPolicy(base=0.01, cap=0.05, retry_after_max=kw.pop("retry_after_max", 0.05),
                       rng=random.Random(0), **kw)


@pytest.fixture(scope="module")
def sb():
    with Sandbox(limits=ServerLimits.unlimited(), page_size=25) as sandbox:
        yield sandbox


@pytest.fixture
def box(sb):
    sb.clear_faults()
    sb.clear_requests()
    yield sb
    sb.clear_faults()


def client_for(sb, **kw) -> Client:
    kw.setdefault("retry", fast_retry())
    kw.setdefault("limits", FAST)
    return Client(Credentials.from_auth(sb.credentials), base_url=sb.url, **kw)


def window(sb, days=4):
    last = sb.dataset.last_date
    first = last - dt.timedelta(days=days - 1)
    return first.isoformat(), last.isoformat()


def export_plan(sb, where=None, days=4, chunking="day") -> Plan:
    a, b = window(sb, days)
    params = {"from_date": a, "to_date": b}
    if where:
        params["where"] = where
    step = Step("export", "GET", EXPORT_URL, params, chunking=chunking, rate_class="export")
    return Plan([step], project_id=str(sb.credentials.project_id))


def engage_plan(sb, where=None) -> Plan:
    params = {"where": where} if where else {}
    step = Step("engage", "POST", ENGAGE_URL, params, encoding="form", pagination="page",
                rate_class="query")
    return Plan([step], project_id=str(sb.credentials.project_id))


def multiset(records):
    return collections.Counter(json.dumps(r, sort_keys=True) for r in records)


def truth_events(sb, days=4, where=None):
    a, b = window(sb, days)
    return sb.events(a, b, where=where)


# -- the happy paths ------------------------------------------------------------------------

def test_export_equals_ground_truth_and_is_chunked_by_day(box):
    records = list(client_for(box).run(export_plan(box)))
    truth = truth_events(box)
    assert len(records) == len(truth) > 100
    assert multiset(records) == multiset(truth)
    sent = [r for r in box.requests if r.endpoint == "export"]
    assert len(sent) == 4 and {r.params["from_date"] for r in sent} == \
        {r.params["to_date"] for r in sent}
    assert all(r.gzip for r in sent)  # we ask for gzip, and decode it ourselves


def test_export_with_where_is_sent_percent_encoded(box):
    where = 'properties["$os"] == "iOS" or properties["mp_country_code"] in ["US", "DE"]'
    records = list(client_for(box).run(export_plan(box, where)))
    assert multiset(records) == multiset(truth_events(box, where=where))
    raw = next(r for r in box.requests if r.endpoint == "export").query_string
    assert "+" not in raw and "%20" in raw and "%3D%3D" in raw


def test_engage_pages_concurrently_and_completely(box):
    records = list(client_for(box).run(engage_plan(box)))
    truth = box.profiles()
    assert len(truth) > 3 * 25  # several pages of 25
    assert multiset(records) == multiset(truth)
    pages = sorted(int(r.params.get("page", 0)) for r in box.requests if r.endpoint == "engage")
    assert pages == list(range(len(pages)))  # every page once, none twice
    later = [r for r in box.requests if r.endpoint == "engage" and r.params.get("page")]
    assert later and all(r.params.get("session_id") for r in later)
    assert all(r.query.get("project_id") for r in box.requests)  # in the URL, not the body


def test_write_then_dedupe_removes_only_exact_duplicates(box, tmp_path):
    plan = export_plan(box, days=2)
    out = tmp_path / "out.jsonl"
    result = client_for(box).write(plan, str(out), dedupe=True)
    lines = out.read_bytes().splitlines()
    assert result.records == len(lines)
    keys = {(json.loads(l)["event"], json.loads(l)["properties"].get("$insert_id")) for l in lines}
    assert len(keys) == len(lines)
    truth = truth_events(box, days=2)
    ident = {(e["event"], e["properties"].get("distinct_id"), e["properties"].get("time"),
              e["properties"].get("$insert_id")) for e in truth}
    assert len(lines) == len(ident)


@pytest.mark.parametrize("max_url", [8000, 900, 300])
@pytest.mark.parametrize("where", [
    'user["plan"] == "pro"',
    'user["plan"] == "pro" and properties["$os"] == "Mac OS X"',
    'not (user["plan"] == "pro") or properties["$browser"] == "Chrome"',
    '(user["plan"] == "pro" and properties["$os"] == "Mac OS X") or '
    '(user["plan"] == "free" and properties["$browser"] == "Firefox")',  # two engage steps
])
def test_mixed_scope_plans_equal_ground_truth(box, where, max_url):
    """The HubSpot shape: engage finds ids, export keeps those users' events — whatever id
    strategy the URL budget forces (inline, batched, client-filter). Ground truth: the
    original where evaluated locally on every event with its user's profile."""
    from mpql.evaluator import compile_predicate

    a, b = window(box, 2)
    plan = Query.events(where, from_date=a, to_date=b).plan(
        auth=ServiceAccount("u", "s", box.credentials.project_id), max_url_length=max_url)
    assert [s.endpoint for s in plan.steps][-1] == "export" and len(plan.steps) >= 2
    profiles = {p["$distinct_id"]: p for p in box.profiles()}
    test = compile_predicate(where, scope="events", profiles=profiles)
    truth = [e for e in box.events(a, b) if test(e)]
    got = list(client_for(box).run(plan))
    assert got and multiset(got) == multiset(truth)


# -- the fault matrix -----------------------------------------------------------------------

RETRYABLE = [
    "429:retry-after=1", "429:no-retry-after", "500", "502", "503", "504",
    "reset-after=700", "drop", "truncate=900", "terminated-early=3", "delay=0.3",
]


#: what the retry notice must say for each fault (the failure was recognised for what it is)
REASONS = {"429": "HTTP 429", "500": "HTTP 500", "502": "HTTP 502", "503": "HTTP 503",
           "504": "HTTP 504", "reset": "broke off", "drop": "connection failed",
           "truncate": ("gzip body ended before its trailer", "last line is not complete JSON",
                        "without a final newline"),
           "terminated": "terminated early"}


@pytest.mark.parametrize("fault", RETRYABLE)
def test_export_survives_fault(box, fault, caplog):
    # The first two requests for the second day fail: always the same day (and, the dataset
    # being pinned, the same bytes), whatever order the parallel workers send the days in.
    day = (dt.date.fromisoformat(window(box)[0]) + dt.timedelta(days=1)).isoformat()
    box.add_faults(f"export[from_date={day}]#1-2:{fault}")
    client = client_for(box)
    with caplog.at_level(logging.WARNING, logger="mpql.executor"):
        records = list(client.run(export_plan(box)))
    assert multiset(records) == multiset(truth_events(box))
    faulted = [r for r in box.requests if r.fault]
    reason = next((v for k, v in REASONS.items() if fault.startswith(k)), None)
    assert len(faulted) == (1 if reason is None else 2)
    if reason is None:  # a slow first byte within the timeout is not a failure (nor retried)
        assert client.last_stats.retries == 0
    else:
        assert client.last_stats.retries == 2
        notices = [r.getMessage() for r in caplog.records]
        reasons = reason if isinstance(reason, tuple) else (reason,)
        assert len(notices) == 2, notices
        assert all(any(r in n for r in reasons) for n in notices), notices


@pytest.mark.parametrize("fault", RETRYABLE)
def test_engage_survives_fault(box, fault):
    if fault.startswith("terminated-early"):
        fault = "truncate=300"  # the sentinel is an export-only anomaly
    box.add_faults(f"engage[page=1]#1-2:{fault}")  # page 1, whatever the order of the pages
    records = list(client_for(box).run(engage_plan(box)))
    assert multiset(records) == multiset(box.profiles())
    faulted = [r for r in box.requests if r.fault]
    assert {r.params.get("page") for r in faulted} == {"1"}  # the fault did hit page 1
    assert len(faulted) == (1 if fault.startswith("delay") else 2)


def test_retry_after_is_honoured(box):
    box.add_faults("export#1:429:retry-after=1")
    client = client_for(box, retry=fast_retry(retry_after_max=30))
    list(client.run(export_plan(box, days=1)))
    first, second = sorted((r for r in box.requests if r.endpoint == "export"),
                           key=lambda r: r.started)
    assert first.status == 429 and second.status == 200
    assert second.started - first.started >= 0.95


def test_slow_first_byte_beyond_the_read_timeout_is_retried(box):
    box.add_faults("export#1:delay=1.5")
    client = client_for(box, timeout=(5.0, 0.5))
    records = list(client.run(export_plan(box, days=1)))
    assert multiset(records) == multiset(truth_events(box, days=1))
    assert client.last_stats.retries == 1


@pytest.mark.parametrize("target,plan", [("export", export_plan), ("engage", engage_plan)])
@pytest.mark.parametrize("status,cls,words", [
    (400, BadRequestError, "parameters"),
    (401, AuthenticationError, "project_id"),
    (403, ForbiddenError, "role"),
])
def test_non_retryable_statuses_fail_fast(box, target, plan, status, cls, words):
    box.add_faults(f"{target}#1:{status}:message=\"custom message {status}\"")
    started = time.monotonic()
    with pytest.raises(cls) as info:
        list(client_for(box, retry=RetryPolicy(base=5.0)).run(plan(box)))
    assert time.monotonic() - started < 4.0  # a retry would have slept up to 5 s
    err = info.value
    assert err.status == status and f"custom message {status}" in str(err)
    assert words in err.advice and err.request.startswith(("GET", "POST"))
    assert len([r for r in box.requests if r.endpoint == target]) <= 4  # no retries of it


def test_expired_credentials_are_a_clear_400(box):
    box.add_faults("export#1:expired")
    with pytest.raises(BadRequestError) as info:
        list(client_for(box).run(export_plan(box, days=1)))
    assert "Unable to authenticate" in str(info.value)
    assert "expired" in info.value.advice


def test_retries_are_bounded(box):
    box.add_faults("export:503")
    with pytest.raises(ServerError) as info:
        list(client_for(box, retry=fast_retry(max_attempts=3)).run(export_plan(box, days=1)))
    assert len([r for r in box.requests if r.endpoint == "export"]) == 3
    assert info.value.status == 503


def test_rate_limit_exhaustion_is_typed(box):
    box.add_faults("export:429:no-retry-after")
    with pytest.raises(RateLimitError):
        list(client_for(box, retry=fast_retry(max_attempts=2)).run(export_plan(box, days=1)))


def test_overall_deadline(box):
    box.add_faults("export:503")
    policy = RetryPolicy(base=0.3, cap=0.3, deadline=0.5, max_attempts=100,
                         rng=random.Random(1))
    with pytest.raises(DeadlineExceeded, match="deadline"):
        list(client_for(box, retry=policy).run(export_plan(box, days=1)))


def test_a_failed_chunk_never_leaks_partial_records(box, tmp_path):
    """Chunk 2 breaks mid-body every time: the output holds chunk 1 only, whole."""
    box.add_faults("export[from_date=%s]:reset-after=2000" % window(box, 2)[1])
    out = tmp_path / "o.jsonl"
    with pytest.raises(Exception):
        client_for(box, retry=fast_retry(max_attempts=2), limits=Limits(
            workers=1, export_per_second=10**4, export_per_hour=10**7)).write(
            export_plan(box, days=2), str(out))
    first_day = box.events(window(box, 2)[0], window(box, 2)[0])
    assert multiset(json.loads(l) for l in out.read_bytes().splitlines()) == multiset(first_day)


# -- secrets --------------------------------------------------------------------------------

def test_secret_never_appears_in_reprs_errors_or_logs(tmp_path, caplog):
    secret = "KNOWN-s3cret-value-0123"
    with Sandbox(secret=secret, limits=ServerLimits.unlimited(), page_size=40) as sb:
        creds = Credentials("service_account", secret, sb.credentials.username,
                            str(sb.credentials.project_id))
        client = Client(creds, base_url=sb.url, retry=fast_retry(), limits=FAST)
        texts = [repr(client), str(client), repr(creds), str(creds)]
        sb.add_faults("export#1:503; export#2:reset-after=100; engage#1:429")
        with caplog.at_level(logging.DEBUG, logger="mpql"):
            list(client.run(export_plan(sb, days=2)))
            list(client.run(engage_plan(sb)))
        texts += [r.getMessage() for r in caplog.records]
        assert any("retry" in t for t in texts)
        wrong = Client(Credentials("service_account", secret, sb.credentials.username, "999"),
                       base_url=sb.url, retry=fast_retry(), limits=FAST)
        plan = attrs.evolve(export_plan(sb, days=1), project_id=None)
        with pytest.raises(AuthenticationError) as info:
            list(wrong.run(plan))
        err = info.value
        texts += [str(err), repr(err), str(err.request), str(err.advice), repr(err.args)]
    auth = creds.authorization()
    for text in texts:
        assert secret not in text and auth.split()[1] not in text


# -- shortcuts, limits, progress ------------------------------------------------------------

def test_client_shortcuts_plan_and_run(box):
    client = client_for(box)
    a, b = window(box, 2)
    where = 'properties["$browser"] == "Chrome"'
    assert multiset(client.events(where, a, b)) == multiset(box.events(a, b, where=where))
    assert multiset(client.profiles('user["plan"] == "pro"')) == \
        multiset(box.profiles('user["plan"] == "pro"'))


def test_limit_stops_early_and_a_plan_limit_is_a_total_cap(box, tmp_path):
    a, b = window(box, 4)
    plan = Query.events(None, from_date=a, to_date=b, limit=50).plan(
        project_id=box.credentials.project_id)
    got = list(client_for(box).run(plan))
    assert len(got) == 50  # params["limit"] is per request; the total is capped too
    out = tmp_path / "l.jsonl"
    result = client_for(box).write(export_plan(box), str(out), limit=123)
    assert result.records == 123 == len(out.read_bytes().splitlines())


def test_progress_line_counts_without_a_terminal():
    import io

    from mpql.executor._progress import Progress
    from mpql.executor._transport import Stats

    stream = io.StringIO()
    progress = Progress(stream, enabled=True, interval=0)
    stats = Stats(records=1234, bytes=5 * 1024 * 1024, units_done=3, units_total=12, retries=2)
    progress(stats)
    progress.close(stats)
    text = stream.getvalue()
    assert "3/12 chunks" in text and "1,234 records" in text and "2 retries" in text
    assert "ETA" in text and text.endswith("\n")
    assert Progress(io.StringIO()).enabled is False  # not a terminal: silent


def test_a_failure_stops_workers_waiting_in_the_pacer_or_backoff(box):
    """One chunk fails for good while the other workers wait for an hourly token (60/h with
    a real hour) or back off: the run must end at once, not after the hour."""
    import threading

    a, b = window(box, 4)
    box.add_faults(f"export[from_date={a}]:400; export:503")
    client = client_for(box, limits=Limits(export_per_hour=2, export_per_second=1000),
                        retry=RetryPolicy(base=30, cap=30, rng=random.Random(3)))
    outcome = {}

    def go():
        try:
            list(client.run(export_plan(box)))
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc

    worker = threading.Thread(target=go, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout=15)
    assert not worker.is_alive(), "the run hung after a failure"
    assert isinstance(outcome.get("error"), BadRequestError)
    assert time.monotonic() - started < 15


def test_natural_429s_from_a_shared_quota_are_waited_out(tmp_path):
    """Another client used the project's budget (here: our pacer is told the quota is huge,
    the server allows 5 per scaled hour of ~1 s): the server's 429s carry Retry-After, the
    executor honours it, and the output is still exactly the ground truth."""
    with Sandbox(limits=ServerLimits(export_per_hour=5, export_per_second=None),
                 time_scale=0.0003) as sb:
        client = client_for(sb, retry=fast_retry(retry_after_max=30))
        records = list(client.run(export_plan(sb, days=8)))
        assert multiset(records) == multiset(truth_events(sb, days=8))
        assert client.last_stats.statuses.get(429, 0) >= 1
        assert client.last_stats.statuses[200] == 8


def test_stopping_early_leaves_no_worker_behind(box):
    import threading

    before = {t.ident for t in threading.enumerate()}
    box.add_faults("export:delay=0.2")  # the other chunks are still downloading
    gen = client_for(box).run(export_plan(box, days=4))
    first = [next(gen) for _ in range(5)]
    gen.close()
    assert len(first) == 5
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate()
                 if t.ident not in before and t.name.startswith("mpql-")]
        if not extra:
            break
        time.sleep(0.05)
    assert not extra, extra


# -- parameters the executor passes through (qa) ------------------------------------------------

def test_time_in_ms_export_equals_ground_truth(box):
    a, b = window(box, 2)
    got = list(client_for(box).events(None, a, b, time_in_ms=True))
    truth = box.events(a, b, time_in_ms=True)
    assert got == truth and got
    assert any(r["properties"]["time"] != box.events(a, b)[i]["properties"]["time"]
               for i, r in enumerate(got))  # really milliseconds, not the seconds form


def test_cohort_group_and_behaviors_profiles_equal_ground_truth(box):
    client = client_for(box)
    cohort = box.dataset.manifest["cohorts"][0]["id"]
    got = list(client.profiles(None, cohort_id=cohort))
    assert got == box.profiles(None, cohort_id=cohort, include_all_users=False) and got
    group = box.dataset.manifest["groups"][0]["data_group_id"]
    got = list(client.profiles(None, group_key=group))
    assert got == box.profiles(None, data_group_id=group) and got
    behaviors = [{"name": "viewed", "window": "30d",
                  "event_selectors": [{"event": "Page Viewed"}]}]
    as_of = int(box.now())
    where = 'behaviors["viewed"] > 2'
    got = list(client.profiles(where, behaviors=behaviors, as_of_timestamp=as_of))
    truth = box.profiles(where, behaviors=behaviors, as_of_timestamp=as_of)
    assert got == truth and 0 < len(truth) < len(box.profiles())

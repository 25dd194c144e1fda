"""The sandbox over real HTTP: endpoints, parameters, pagination, gzip, auth and errors."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import zlib

import pytest
import requests

from mpql.sandbox import Sandbox, write_dataset


def _auth(sb):
    return (sb.credentials.username, sb.credentials.secret)


def _pid(sb):
    return {"project_id": sb.credentials.project_id}


def _export(sb, **params):
    ds = sb.dataset
    params.setdefault("from_date", ds.first_date.isoformat())
    params.setdefault("to_date", ds.last_date.isoformat())
    return requests.get(f"{sb.url}/api/2.0/export", params={**_pid(sb), **params}, auth=_auth(sb))


def _lines(response):
    return [json.loads(line) for line in response.text.splitlines()]


# -- export ------------------------------------------------------------------------------------


def test_export_whole_range_equals_dataset(sandbox):
    r = _export(sandbox)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.headers["Transfer-Encoding"] == "chunked"
    got = _lines(r)
    assert got == sandbox.events()
    assert len(got) == sandbox.dataset.manifest["events"]
    rec = sandbox.requests[-1]  # requests asks for gzip
    assert rec.records == len(got) and rec.gzip and rec.bytes_sent < len(r.content)
    plain = requests.get(r.url, auth=_auth(sandbox), headers={"Accept-Encoding": "identity"})
    assert plain.content == r.content
    rec = sandbox.requests[-1]  # served straight from the files (sendfile): counts still add up
    assert rec.records == len(got) and rec.bytes_sent == len(r.content) and not rec.gzip
    # default precision is seconds; every line has the fields Mixpanel's export has
    assert all(10**9 < e["properties"]["time"] < 10**10 for e in got)
    assert all({"distinct_id", "$insert_id", "time"} <= e["properties"].keys() for e in got)


def test_export_time_in_ms_event_and_limit(sandbox):
    ds = sandbox.dataset
    day = ds.last_date.isoformat()
    secs = _lines(_export(sandbox, from_date=day, to_date=day))
    ms = _lines(_export(sandbox, from_date=day, to_date=day, time_in_ms="true"))
    assert len(ms) == len(secs) > 0
    for a, b in zip(secs, ms):
        assert b["properties"]["time"] // 1000 == a["properties"]["time"]
        assert {**b["properties"], "time": 0} == {**a["properties"], "time": 0}
    purchases = _lines(_export(sandbox, event='["Purchase", "Signed Up"]'))
    assert purchases and {e["event"] for e in purchases} <= {"Purchase", "Signed Up"}
    assert purchases == sandbox.events(event=["Purchase", "Signed Up"])
    limited = _lines(_export(sandbox, limit="7"))
    assert limited == sandbox.events()[:7]
    # the filtered path splices each line's own milliseconds (sidecar alignment)
    all_ms = _lines(_export(sandbox, time_in_ms="true"))
    purchases_ms = _lines(_export(sandbox, time_in_ms="true", event='["Purchase"]', limit="40"))
    assert purchases_ms == [e for e in all_ms if e["event"] == "Purchase"][:40]
    assert len({e["properties"]["time"] % 1000 for e in all_ms}) > 100  # real ms, not "000"


def test_export_day_range_selects_utc_days(sandbox):
    ds = sandbox.dataset
    day = ds.first_date + dt.timedelta(days=3)
    got = _lines(_export(sandbox, from_date=day.isoformat(), to_date=day.isoformat()))
    assert got
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()
    assert all(start <= e["properties"]["time"] < start + 86400 for e in got)


def test_export_outside_data_is_empty_200(sandbox):
    r = _export(sandbox, from_date="2001-01-01", to_date="2001-01-31")
    assert r.status_code == 200 and r.content == b""


def test_gzip_only_when_asked_and_large(sandbox):
    plain = requests.get(
        f"{sandbox.url}/api/2.0/export",
        params={**_pid(sandbox), "from_date": sandbox.dataset.last_date.isoformat(),
                "to_date": sandbox.dataset.last_date.isoformat()},
        auth=_auth(sandbox), headers={"Accept-Encoding": "identity"},
    )
    assert "Content-Encoding" not in plain.headers
    r = requests.get(
        f"{sandbox.url}/api/2.0/export",
        params={**_pid(sandbox), "from_date": sandbox.dataset.last_date.isoformat(),
                "to_date": sandbox.dataset.last_date.isoformat()},
        auth=_auth(sandbox), headers={"Accept-Encoding": "gzip"}, stream=True,
    )
    assert r.headers["Content-Encoding"] == "gzip"
    raw = r.raw.read(decode_content=False)
    assert gzip.decompress(raw) == plain.content
    assert sandbox.requests[-1].gzip and sandbox.requests[-1].bytes_sent == len(raw)
    # a tiny body (≤ 1400 bytes) is never compressed
    small = _export(sandbox, limit="1")
    assert "Content-Encoding" not in small.headers and len(small.content) <= 1400


def test_engage_gzip(sandbox):
    r = requests.post(f"{sandbox.url}/api/query/engage", params=_pid(sandbox), auth=_auth(sandbox),
                      headers={"Accept-Encoding": "gzip"}, stream=True)
    assert r.headers["Content-Encoding"] == "gzip"
    body = json.loads(zlib.decompress(r.raw.read(decode_content=False), 31))
    assert len(body["results"]) == len(sandbox.profiles())


# -- engage ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/query/engage", "/api/2.0/engage"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_engage_paths_and_methods(sandbox, path, method):
    data = {"output_properties": '["$email", "plan"]'}
    if method == "GET":
        r = requests.get(f"{sandbox.url}{path}", params={**_pid(sandbox), **data}, auth=_auth(sandbox))
    else:
        r = requests.post(f"{sandbox.url}{path}", params=_pid(sandbox), data=data, auth=_auth(sandbox))
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["page", "page_size", "session_id", "status", "total", "results"]
    assert body["status"] == "ok" and body["page"] == 0 and body["page_size"] == 1000
    assert body["results"] == sandbox.profiles(output_properties=["$email", "plan"])
    assert all(set(p["$properties"]) <= {"$email", "plan"} for p in body["results"])


def test_engage_json_body_and_distinct_ids(sandbox):
    wanted = [p["$distinct_id"] for p in sandbox.dataset.all_profiles[3:6]]
    r = requests.post(f"{sandbox.url}/api/query/engage", params=_pid(sandbox), auth=_auth(sandbox),
                      json={"distinct_ids": wanted})
    assert [p["$distinct_id"] for p in r.json()["results"]] == wanted
    one = requests.post(f"{sandbox.url}/api/query/engage", params=_pid(sandbox), auth=_auth(sandbox),
                        data={"distinct_id": wanted[1]})
    assert [p["$distinct_id"] for p in one.json()["results"]] == [wanted[1]]


def test_engage_pagination_session_and_total(sandbox_dataset):
    with Sandbox(sandbox_dataset, page_size=40) as sb:
        url = f"{sb.url}/api/query/engage"
        first = requests.post(url, params=_pid(sb), auth=_auth(sb)).json()
        total = len(sb.profiles())
        assert first["total"] == total and len(first["results"]) == 40
        pages, page = [first], 0
        while len(pages[-1]["results"]) == 40:
            page += 1
            pages.append(requests.post(url, params={**_pid(sb), "page": page, "session_id": first["session_id"]},
                                       auth=_auth(sb)).json())
        got = [p for body in pages for p in body["results"]]
        assert got == sb.profiles()
        assert all(body["session_id"] == first["session_id"] and body["total"] == total for body in pages)
        assert [body["page"] for body in pages] == list(range(len(pages)))
        # page > 0 needs the session; an unknown session is refused
        r = requests.post(url, params={**_pid(sb), "page": 1}, auth=_auth(sb))
        assert r.status_code == 400 and "session_id" in r.json()["error"]
        r = requests.post(url, params={**_pid(sb), "page": 1, "session_id": "nope"}, auth=_auth(sb))
        assert r.status_code == 400 and "session_id" in r.json()["error"]
        beyond = requests.post(url, params={**_pid(sb), "page": 99, "session_id": first["session_id"]},
                               auth=_auth(sb)).json()
        assert beyond["results"] == [] and beyond["total"] == total


def test_engage_session_expires_with_time_scale(sandbox_dataset):
    import time

    with Sandbox(sandbox_dataset, page_size=10, session_ttl=3600, time_scale=0.0001) as sb:
        url = f"{sb.url}/api/query/engage"
        sid = requests.post(url, params=_pid(sb), auth=_auth(sb)).json()["session_id"]
        time.sleep(0.5)  # 3600 s × 0.0001 = 0.36 s
        r = requests.post(url, params={**_pid(sb), "page": 1, "session_id": sid}, auth=_auth(sb))
        assert r.status_code == 400 and "expired" in r.json()["error"]


# -- auth --------------------------------------------------------------------------------------


def test_service_account_and_project_secret(sandbox):
    c = sandbox.credentials
    ok = requests.get(f"{sandbox.url}/api/2.0/engage", params=_pid(sandbox), auth=(c.username, c.secret))
    assert ok.status_code == 200
    ps = requests.get(f"{sandbox.url}/api/2.0/engage", auth=(c.project_secret, ""))
    assert ps.status_code == 200
    records = sandbox.requests
    assert [r.auth for r in records] == ["service_account", "project_secret"]
    assert records[0].username == c.username and records[1].username is None
    for rec in records:
        assert "Authorization" not in rec.headers and "authorization" not in rec.headers
        assert c.secret not in repr(rec) and c.project_secret not in repr(rec)
    assert c.secret not in repr(c) and c.project_secret not in repr(c)


def test_plain_text_basic_credentials_are_accepted(sandbox):
    c = sandbox.credentials
    r = requests.get(f"{sandbox.url}/api/2.0/engage", params=_pid(sandbox),
                     headers={"Authorization": f"Basic {c.username}:{c.secret}"})
    assert r.status_code == 200


@pytest.mark.parametrize("case", ["none", "wrong-secret", "bearer", "other-project", "no-project"])
def test_auth_errors(sandbox, case):
    c = sandbox.credentials
    kwargs = {"params": _pid(sandbox), "auth": (c.username, c.secret)}
    if case == "none":
        kwargs.pop("auth")
    elif case == "wrong-secret":
        kwargs["auth"] = (c.username, "wrong")
    elif case == "bearer":
        kwargs.pop("auth")
        kwargs["headers"] = {"Authorization": "Bearer abc"}
    elif case == "other-project":
        kwargs["params"] = {"project_id": 1}
    elif case == "no-project":
        kwargs["params"] = {}
    r = requests.post(f"{sandbox.url}/api/query/engage", **kwargs)
    expected = 400 if case == "no-project" else 401
    assert r.status_code == expected
    body = r.json()
    assert set(body) == {"request", "error"} and body["request"].startswith("/api/query/engage")
    if case == "no-project":
        assert "project_id" in body["error"]


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("params,needle", [
    ({"from_date": None}, "from_date is required"),
    ({"to_date": "2026-13-01"}, "to_date must be a date"),
    ({"from_date": "2026-01-05", "to_date": "2026-01-01"}, "after to_date"),
    ({"limit": "100001"}, "at most 100000"),
    ({"limit": "0"}, "positive"),
    ({"limit": "ten"}, "integer"),
    ({"event": "Purchase"}, "JSON-encoded list"),
    ({"time_in_ms": "maybe"}, "time_in_ms"),
    ({"project_id": "abc"}, "project_id must be an integer"),
])
def test_export_bad_parameters_are_400(sandbox, params, needle):
    ds = sandbox.dataset
    query = {**_pid(sandbox), "from_date": ds.first_date.isoformat(), "to_date": ds.last_date.isoformat()}
    for k, v in params.items():
        if v is None:
            query.pop(k)
        else:
            query[k] = v
    r = requests.get(f"{sandbox.url}/api/2.0/export", params=query, auth=_auth(sandbox))
    assert r.status_code == 400
    assert needle in r.json()["error"]
    assert r.json()["request"].startswith("/api/2.0/export?")


def test_future_to_date_is_plain_text_400(sandbox):
    tomorrow = (sandbox.today() + dt.timedelta(days=1)).isoformat()
    r = _export(sandbox, to_date=tomorrow)
    assert r.status_code == 400
    assert r.text == "to_date cannot be later than today"
    assert r.headers["Content-Type"].startswith("text/plain")
    assert _export(sandbox, to_date=sandbox.today().isoformat()).status_code == 200


def test_unknown_endpoint_and_wrong_method(sandbox):
    r = requests.get(f"{sandbox.url}/api/2.0/segmentation", params=_pid(sandbox), auth=_auth(sandbox))
    assert r.status_code == 404 and r.json()["error"] == "Invalid API endpoint"
    r = requests.post(f"{sandbox.url}/api/2.0/export", params=_pid(sandbox), auth=_auth(sandbox))
    assert r.status_code == 405 and r.headers["Allow"] == "GET"
    r = requests.delete(f"{sandbox.url}/api/query/engage", params=_pid(sandbox), auth=_auth(sandbox))
    assert r.status_code == 405


def test_engage_unsupported_and_bad_params(sandbox):
    url = f"{sandbox.url}/api/query/engage"
    for data, needle in [
        ({"data_group_id": "123"}, "data_group_id 123 not found"),
        ({"data_group_id": "-1405123841946871899", "filter_by_cohort": '{"id": 1001}'}, "cannot be combined"),
        ({"filter_by_cohort": '{"id": 1}'}, "cohort 1 not found"),
        ({"filter_by_cohort": '{"raw_cohort": {}}'}, "not supported"),
        ({"filter_by_cohort": "1001"}, 'like {"id": 12345}'),
        ({"filter_by_cohort": '{"id": 1001}', "include_all_users": "maybe"}, "true or false"),
        ({"behaviors": "[]"}, "non-empty JSON list"),
        ({"behaviors": '[{"name": "b", "window": "30 days", "event_selectors": [{"event": "A"}]}]'}, "window"),
        ({"behaviors": '[{"name": "b", "window": "3d", "event_selectors": []}]'}, "event_selectors"),
        ({"behaviors": '[{"name": "b", "window": "3d", "event_selectors": [{"event": "A"}]}]',
          "filter_by_cohort": '{"id": 1001}'}, "mutually exclusive"),
        ({"behaviors": '[{"name": "b", "window": "3d", "event_selectors": [{"event": "A"}]}]',
          "as_of_timestamp": "soon"}, "as_of_timestamp"),
        ({"output_properties": "$email"}, "JSON-encoded list"),
        ({"page": "-1"}, "non-negative"),
        ({"distinct_id": "a", "distinct_ids": '["b"]'}, "mutually exclusive"),
    ]:
        r = requests.post(url, params=_pid(sandbox), data=data, auth=_auth(sandbox))
        assert r.status_code == 400, data
        assert needle in r.json()["error"]


# -- recording ---------------------------------------------------------------------------------


def test_requests_record_exactly_what_was_sent(sandbox):
    r = requests.post(f"{sandbox.url}/api/query/engage?project_id={sandbox.credentials.project_id}",
                      data={"note": "a+b c", "page_size": "5"},
                      auth=_auth(sandbox), headers={"X-Trace": "t1"})
    rec = sandbox.requests[-1]
    assert rec.method == "POST" and rec.path == "/api/query/engage" and rec.endpoint == "engage"
    assert rec.query == {"project_id": str(sandbox.credentials.project_id)}
    assert rec.form == {"note": "a+b c", "page_size": "5"}
    assert "%2B" in rec.body  # the `+` was percent-encoded by the client (docs/mixpanel-reference.md §6 (item 1))
    assert rec.headers["X-Trace"] == "t1"
    assert rec.status == r.status_code and rec.bytes_sent == int(r.headers["Content-Length"])
    sandbox.clear_requests()
    assert sandbox.requests == []


def test_write_dataset_round_trip(tmp_path):
    events = [
        {"event": "A", "properties": {"time": 1_700_000_000, "distinct_id": "x", "n": 1}},
        {"event": "B", "properties": {"time": 1_700_000_000_250, "distinct_id": "y"}},
        {"event": "A", "properties": {"time": 1_700_090_000.5, "distinct_id": "x"}},
    ]
    profiles = [{"$distinct_id": "x", "$properties": {"plan": "pro"}}]
    ds = write_dataset(tmp_path / "d", events, profiles)
    with Sandbox(ds) as sb:
        r = requests.get(f"{sb.url}/api/2.0/export", auth=_auth(sb),
                         params={**_pid(sb), "from_date": "2023-11-14", "to_date": "2023-11-15",
                                 "time_in_ms": "true"})
        got = _lines(r)
    assert [e["properties"]["time"] for e in got] == [1_700_000_000_000, 1_700_000_000_250, 1_700_090_000_500]
    assert [e["event"] for e in got] == ["A", "B", "A"]
    assert ds.profiles() == profiles


def test_port_in_use_is_a_clear_error(sandbox):
    from mpql.errors import SandboxError

    with pytest.raises(SandboxError, match="could not listen"):
        Sandbox(sandbox.dataset, port=sandbox.port).start()


def test_keep_alive_connection_is_reused(sandbox):
    with requests.Session() as s:
        for _ in range(3):
            assert s.get(f"{sandbox.url}/api/2.0/engage", params=_pid(sandbox), auth=_auth(sandbox)).ok
    assert len(sandbox.requests) == 3


def test_head_gets_headers_only_and_connection_survives(sandbox):
    with requests.Session() as s:
        r = s.head(f"{sandbox.url}/api/2.0/export", params=_pid(sandbox), auth=_auth(sandbox))
        assert r.status_code == 405 and r.content == b""
        assert s.get(f"{sandbox.url}/api/2.0/engage", params=_pid(sandbox), auth=_auth(sandbox)).ok


def test_chunked_request_body(sandbox):
    def body():
        yield b"output_properties=%5B%22plan"
        yield b"%22%5D&page=0"

    r = requests.post(f"{sandbox.url}/api/query/engage", params=_pid(sandbox), data=body(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, auth=_auth(sandbox))
    assert r.status_code == 200
    assert sandbox.requests[-1].form == {"output_properties": '["plan"]', "page": "0"}
    assert all(set(p["$properties"]) <= {"plan"} for p in r.json()["results"])


def test_raw_plus_in_query_string_is_a_space(sandbox):
    """Mixpanel decodes a raw `+` as a space (docs/mixpanel-reference.md §6 (item 1)); so does the sandbox."""
    ds = sandbox.dataset
    base = (f"{sandbox.url}/api/2.0/export?project_id={sandbox.credentials.project_id}"
            f"&from_date={ds.last_date}&to_date={ds.last_date}")
    raw = requests.get(base + '&where=properties["results"]+1>1', auth=_auth(sandbox))
    assert raw.status_code == 400 and "Invalid 'where'" in raw.json()["error"]
    assert sandbox.requests[-1].params["where"] == 'properties["results"] 1>1'
    encoded = requests.get(base + '&where=properties["results"]%2B1>1', auth=_auth(sandbox))
    assert encoded.status_code == 200


def test_overlong_url_is_414_like_nginx(sandbox):
    ids = [f"u-{i:010x}" for i in range(400)]
    where = " or ".join(f'properties["$distinct_id"] == "{i}"' for i in ids)
    r = _export(sandbox, where=where)
    assert len(r.request.url) > 8192
    assert r.status_code == 414 and "414 Request-URI Too Large" in r.text
    # the same filter in a POST body is fine on engage (which is why engage is POSTed)
    r = requests.post(f"{sandbox.url}/api/query/engage", params=_pid(sandbox), data={"where": where},
                      auth=_auth(sandbox))
    assert r.status_code == 200


def test_today_follows_the_project_timezone(sandbox_dataset):
    from mpql.errors import SandboxError

    # 2026-03-10 03:00 UTC is still 2026-03-09 in Los Angeles and already the 10th in Tokyo.
    now = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.timezone.utc).timestamp()
    for zone, ok_day, bad_day in [("America/Los_Angeles", "2026-03-09", "2026-03-10"),
                                  ("Asia/Tokyo", "2026-03-10", "2026-03-11"),
                                  ("UTC", "2026-03-10", "2026-03-11")]:
        with Sandbox(sandbox_dataset, now=now, timezone=zone) as sb:
            assert sb.today().isoformat() == ok_day
            assert _export(sb, from_date=ok_day, to_date=ok_day).status_code == 200
            bad = _export(sb, from_date=ok_day, to_date=bad_day)
            assert bad.status_code == 400 and bad.text == "to_date cannot be later than today"
    with pytest.raises(SandboxError, match="IANA"):
        Sandbox(sandbox_dataset, timezone="Mars/Olympus")

"""Fault injection: the spec language, and each fault kind as a client sees it over HTTP."""

from __future__ import annotations

import json
import time
import zlib

import pytest
import requests
import urllib3

from mpql.errors import InputError
from mpql.sandbox import Fault, parse_faults


def _get_export(sb, *, gzip=False, stream=False, timeout=10, **params):
    ds = sb.dataset
    params = {"project_id": sb.credentials.project_id, "from_date": ds.first_date.isoformat(),
              "to_date": ds.last_date.isoformat(), **params}
    headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
    return requests.get(f"{sb.url}/api/2.0/export", params=params, headers=headers, stream=stream,
                        auth=(sb.credentials.username, sb.credentials.secret), timeout=timeout)


def _post_engage(sb, **data):
    return requests.post(f"{sb.url}/api/query/engage", params={"project_id": sb.credentials.project_id},
                         data=data, auth=(sb.credentials.username, sb.credentials.secret), timeout=10)


# -- the spec language ---------------------------------------------------------------------------


def test_parse_examples():
    rules = parse_faults("export#2:429:retry-after=1; engage#1:reset-after=300\nany#3+:drop")
    assert rules[0] == Fault(target="export", first=2, last=2, status=429, retry_after=1.0,
                             text="export#2:429:retry-after=1")
    assert rules[1].target == "engage" and rules[1].reset_after == 300 and rules[1].first == 1
    assert rules[2].first == 3 and rules[2].last is None and rules[2].drop
    r = parse_faults('export[from_date=2026-01-03, event=["A"]]#1-2:503:message="x: y; z"')[0]
    assert r.params == (("from_date", "2026-01-03"), ("event", '["A"]'))
    assert (r.first, r.last, r.status, r.message) == (1, 2, 503, "x: y; z")
    assert parse_faults("export:terminated-early")[0].terminated_early == 10
    assert parse_faults("export#*:delay=0.5")[0].first is None
    assert parse_faults("engage:retry-after=2")[0].status == 429  # retry-after implies 429
    assert parse_faults("") == [] and parse_faults(None) == []


@pytest.mark.parametrize("spec,needle", [
    ("export", "no action"),
    ("exports#1:429", "unknown target"),
    ("export#0:429", "1-based"),
    ("export#x:429", "expected N"),
    ("export#3-2:429", "empty range"),
    ("export:302", "400–599"),
    ("export:teapot", "unknown action"),
    ("export:reset-after=abc", "integer"),
    ("export:delay=-1", "≥ 0"),
    ("export:503:reset-after=10", "cannot be combined"),
    ("engage:terminated-early", "only applies to export"),
    ("export[from_date]:429", "name=value"),
    ('export:message="open', "unterminated quote"),
    ("export:policy=daily", "policy must be"),
])
def test_parse_errors_name_the_rule_and_the_fix(spec, needle):
    with pytest.raises(InputError) as info:
        parse_faults(spec)
    assert needle in str(info.value)


# -- statuses ------------------------------------------------------------------------------------


def test_429_on_the_nth_request_with_retry_after(sandbox):
    sandbox.add_faults("export#2:429:retry-after=1")
    first, second, third = (_get_export(sandbox, limit="1") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (200, 429, 200)
    assert second.headers["Retry-After"] == "1"
    assert '"export";r=0' in second.headers["RateLimit"]
    assert '"export";q=60;w=3600' in second.headers["RateLimit-Policy"]
    assert second.json()["error"] == "Rate limit exceeded"
    assert [r.fault for r in sandbox.requests] == [None, "export#2:429:retry-after=1", None]


def test_429_without_retry_after_and_policies(sandbox):
    sandbox.add_faults("engage#1:429; engage#2:429:policy=concurrency; engage#3:429:policy=none")
    plain, conc, bare = (_post_engage(sandbox) for _ in range(3))
    assert "Retry-After" not in plain.headers and '"project";r=0' in plain.headers["RateLimit"]
    assert '"project-concurrency";r=0' in conc.headers["RateLimit"]
    assert 'qu="concurrent-requests"' in conc.headers["RateLimit-Policy"]
    assert bare.status_code == 429 and "RateLimit" not in bare.headers


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors(sandbox, status):
    sandbox.add_faults(f"export#1:{status}")
    r = _get_export(sandbox)
    assert r.status_code == status
    if status == 500:
        assert r.json()["error"] == "Internal server error"
    else:  # a load balancer's page, not JSON — clients must not assume a JSON error body
        assert r.headers["Content-Type"] == "text/html" and "nginx" in r.text
    assert _get_export(sandbox, limit="1").status_code == 200


def test_injected_client_errors_and_expired(sandbox):
    sandbox.add_faults('engage#1:403; engage#2:expired; engage#3:400:message="Timeout Error."')
    forbidden, expired, timeout = (_post_engage(sandbox) for _ in range(3))
    assert forbidden.status_code == 403 and "permission" in forbidden.json()["error"]
    assert expired.status_code == 400 and expired.json()["error"] == "Unable to authenticate request"
    assert timeout.status_code == 400 and timeout.json()["error"] == "Timeout Error."


def test_faults_run_before_auth_and_on_any_path(sandbox):
    sandbox.add_faults("any#1:503")
    r = requests.get(f"{sandbox.url}/nowhere")  # no credentials at all
    assert r.status_code == 503
    assert requests.get(f"{sandbox.url}/nowhere").status_code == 404


# -- broken bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gzip", [False, True])
def test_reset_part_way_through_export(sandbox, gzip):
    sandbox.add_faults("export#1:reset-after=5000")
    with pytest.raises(requests.exceptions.RequestException):
        _get_export(sandbox, gzip=gzip).content  # noqa: B018
    rec = sandbox.requests[-1]
    assert rec.status == 200 and rec.bytes_sent == 5000 and rec.gzip == gzip
    assert rec.fault == "export#1:reset-after=5000"
    assert _get_export(sandbox, limit="2").status_code == 200  # the next request is fine


def test_reset_after_more_than_the_body_still_fails(sandbox):
    sandbox.add_faults("export#1:reset-after=100000000; engage#1:reset-after=100000000")
    with pytest.raises(requests.exceptions.RequestException):
        _get_export(sandbox, limit="3").content  # noqa: B018
    with pytest.raises(requests.exceptions.RequestException):
        _post_engage(sandbox).content  # noqa: B018


def test_reset_part_way_through_engage(sandbox):
    sandbox.add_faults("engage#1:reset-after=300")
    with pytest.raises(requests.exceptions.RequestException):
        _post_engage(sandbox)
    assert sandbox.requests[-1].bytes_sent == 300
    assert _post_engage(sandbox).status_code == 200


def test_drop_before_any_response(sandbox):
    sandbox.add_faults("engage#1:drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        _post_engage(sandbox)
    assert sandbox.requests[-1].status is None and sandbox.requests[-1].bytes_sent == 0


def test_truncated_plain_body_ends_mid_line(sandbox):
    sandbox.add_faults("export#1:truncate=3000")
    r = _get_export(sandbox)
    assert r.status_code == 200 and len(r.content) == 3000
    *complete, partial = r.content.split(b"\n")
    assert all(json.loads(line) for line in complete)
    assert partial and not r.content.endswith(b"\n")
    with pytest.raises(ValueError):
        json.loads(partial)


def test_truncated_gzip_stream_has_no_trailer(sandbox):
    sandbox.add_faults("export#1:truncate-gzip=20000")
    r = _get_export(sandbox, gzip=True, stream=True)
    assert r.headers["Content-Encoding"] == "gzip"
    raw = r.raw.read(decode_content=False)
    d = zlib.decompressobj(31)
    data = d.decompress(raw)
    assert not d.eof  # the gzip member never ended: no final block, no CRC/size trailer
    assert len(data) == 20000 and not data.endswith(b"\n")
    full = _get_export(sandbox).content
    assert full.startswith(data)


def test_truncate_longer_than_body_cuts_the_last_line(sandbox):
    sandbox.add_faults("export#1:truncate=100000000")
    r = _get_export(sandbox, limit="3")
    lines = r.content.split(b"\n")
    assert len(lines) == 3 and lines[2] and not r.content.endswith(b"\n")


def test_terminated_early_line(sandbox):
    sandbox.add_faults("export#1:terminated-early=5")
    for gzip in (False, True):
        r = _get_export(sandbox, gzip=gzip)
        lines = r.text.splitlines()
        assert lines[-1] == "terminated early" and len(lines) == 6
        assert [json.loads(l) for l in lines[:5]] == sandbox.events()[:5]
        sandbox.add_faults("export#1:terminated-early=5")
    assert sandbox.requests[0].records == 5


def test_slow_first_byte(sandbox):
    sandbox.add_faults("engage#1:delay=1.0; engage#2:delay=0.3")
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(f"{sandbox.url}/api/query/engage", params={"project_id": sandbox.credentials.project_id},
                      auth=(sandbox.credentials.username, sandbox.credentials.secret), timeout=0.2)
    t0 = time.monotonic()
    assert _post_engage(sandbox).status_code == 200
    assert time.monotonic() - t0 >= 0.3


# -- selection -------------------------------------------------------------------------------------


def test_ranges_every_and_param_filters(sandbox):
    ds = sandbox.dataset
    day = ds.last_date.isoformat()
    sandbox.add_faults(f"export[from_date={day}]#2-3:503; engage#2+:502")
    codes = [_get_export(sandbox, from_date=day, to_date=day, limit="1").status_code for _ in range(4)]
    assert codes == [200, 503, 503, 200]
    assert _get_export(sandbox, limit="1").status_code == 200  # another from_date: not counted
    assert [_post_engage(sandbox).status_code for _ in range(3)] == [200, 502, 502]
    sandbox.clear_faults()
    assert _post_engage(sandbox).status_code == 200 and sandbox.faults == []


def test_first_matching_rule_wins_and_counts_start_when_added(sandbox):
    _post_engage(sandbox)
    sandbox.add_faults("engage#1:500; engage#1-2:503")
    assert [_post_engage(sandbox).status_code for _ in range(3)] == [500, 503, 200]


def test_fault_spec_from_constructor(sandbox_dataset):
    from mpql.sandbox import Limits, Sandbox

    with Sandbox(sandbox_dataset, faults="engage#1:504", limits=Limits.unlimited()) as sb:
        assert _post_engage(sb).status_code == 504
        assert _post_engage(sb).status_code == 200


def test_any_target_terminated_early_leaves_engage_json_intact(sandbox):
    sandbox.add_faults("any#1-2:terminated-early=3")
    assert _post_engage(sandbox).json()["status"] == "ok"
    assert _get_export(sandbox).text.splitlines()[-1] == "terminated early"


def test_split_line(sandbox):
    sandbox.add_faults("export#1:split-line=3")
    r = _get_export(sandbox, limit="5")
    lines = r.content.split(b"\n")[:-1]
    assert len(lines) == 6
    truth = [json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode() for e in sandbox.events(limit=5)]
    assert lines[:2] == truth[:2] and lines[4:] == truth[3:]
    assert lines[2] + lines[3] == truth[2]  # the halves re-join to the record (Airbyte's repair)
    with pytest.raises(ValueError):
        json.loads(lines[2])


def test_stall_mid_body(sandbox):
    sandbox.add_faults("export#1:stall=1.0:stall-after=2000; export#2:stall=0.3:stall-after=2000")
    r = _get_export(sandbox, stream=True, timeout=(5, 0.3))
    first = r.raw.read(2000)  # the first 2000 bytes arrive at once…
    assert len(first) == 2000
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):  # …then the read times out
        r.raw.read(10)
    r.close()
    t0 = time.monotonic()
    full = _get_export(sandbox).content
    assert time.monotonic() - t0 >= 0.3 and full == _get_export(sandbox).content


def test_body_fault_rules_are_validated():
    with pytest.raises(InputError, match="stall-after needs stall"):
        parse_faults("export:stall-after=10")
    with pytest.raises(InputError, match="only applies to export"):
        parse_faults("engage:split-line")
    with pytest.raises(InputError, match="cannot be combined"):
        parse_faults("export:503:stall=1")

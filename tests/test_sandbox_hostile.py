"""Regression tests from a hostile-client review of the sandbox (over real HTTP on loopback):
each test is a request that once got a 500, a dropped connection, a traceback or a silently
wrong answer, and now gets the error Mixpanel (or its nginx front end) would send."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import sys
import time

import pytest
import requests

from mpql.errors import InputError, SandboxError
from mpql.sandbox import Dataset, Limits, Sandbox, generate, parse_faults

BEHAVIORS = json.dumps([{"name": "b", "window": "30d", "event_selectors": [{"event": "Purchase"}]}])


def _auth(sb):
    return (sb.credentials.username, sb.credentials.secret)


def _engage(sb, method="GET", **kwargs):
    return requests.request(method, f"{sb.url}/api/2.0/engage",
                            params={"project_id": sb.credentials.project_id, **kwargs.pop("params", {})},
                            auth=_auth(sb), **kwargs)


def _raw(sb, request: bytes) -> bytes:
    """Send raw bytes, read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", sb.port), timeout=10) as s:
        s.sendall(request)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def _basic(sb) -> str:
    c = sb.credentials
    return "Basic " + base64.b64encode(f"{c.username}:{c.secret}".encode()).decode()


def test_non_ascii_digits_in_project_id_are_a_400_not_a_500(sandbox):
    # "²".isdigit() is True but int("²") fails: this was an internal 500.
    r = _engage(sandbox, params={"project_id": "²"})
    assert r.status_code == 400 and "project_id must be an integer" in r.json()["error"]
    r = _engage(sandbox, params={"workspace_id": "٣"})
    assert r.status_code == 400 and "workspace_id" in r.json()["error"]


@pytest.mark.parametrize("bad", ["2026-W47-1", "20261101", "2026-11-1 ", "２０２６-11-01"])
def test_export_dates_must_be_exactly_yyyy_mm_dd(sandbox, bad):
    day = sandbox.dataset.last_date.isoformat()
    r = requests.get(f"{sandbox.url}/api/2.0/export", auth=_auth(sandbox), params={
        "project_id": sandbox.credentials.project_id, "from_date": bad, "to_date": day})
    assert r.status_code == 400
    assert r.json()["error"] == f"from_date must be a date as yyyy-mm-dd, found {bad!r}"


@pytest.mark.parametrize("as_of", ["99999999999999999", "-5"])
def test_out_of_range_as_of_timestamp_is_a_400_not_a_500(sandbox, as_of):
    r = _engage(sandbox, params={"behaviors": BEHAVIORS, "as_of_timestamp": as_of,
                                 "where": 'behaviors["b"] > 0'})
    assert r.status_code == 400 and "as_of_timestamp must be Unix seconds" in r.json()["error"]


def test_raw_utf8_in_the_url_is_read_as_utf8(sandbox):
    """curl sends a literal "München" in the URL as raw UTF-8 bytes; http.server decoded them as
    Latin-1, so the `where` silently matched nothing."""
    where = 'properties["$city"] == "München"'
    expected = [p["$distinct_id"] for p in sandbox.profiles(where)]
    assert expected, "the default dataset has profiles in München"
    target = (f"/api/2.0/engage?project_id={sandbox.credentials.project_id}&where="
              + where.replace(" ", "%20")).encode("utf-8")
    out = _raw(sandbox, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nAuthorization: "
               + _basic(sandbox).encode() + b"\r\nConnection: close\r\n\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert [p["$distinct_id"] for p in json.loads(body)["results"]] == expected
    assert sandbox.requests[-1].params["where"] == where


@pytest.mark.parametrize("body", [b'{"where": ', b"[1, 2]", b'"where"'])
def test_a_json_body_that_is_not_an_object_is_a_400_not_ignored(sandbox, body):
    # It used to be ignored, answering an unfiltered query: every profile.
    r = _engage(sandbox, "POST", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert "Content-Type application/json but not a JSON object" in r.json()["error"]


@pytest.mark.parametrize(("framing", "status"), [
    (b"Content-Length: -5\r\n\r\nabc", 400),
    (b"Content-Length: abc\r\n\r\nabc", 400),
    (b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
    (b"Content-Length: 99999999999\r\n\r\nabc", 413),  # was a MemoryError traceback on stderr
])
def test_broken_body_framing_gets_nginx_status_and_is_recorded(sandbox, framing, status, capfd):
    out = _raw(sandbox, b"POST /api/2.0/engage?project_id=1 HTTP/1.1\r\nHost: x\r\n" + framing)
    assert out.startswith(b"HTTP/1.1 %d" % status)
    assert b"Connection: close" in out and b"<center>nginx</center>" in out
    assert sandbox.requests[-1].status == status
    assert "Traceback" not in capfd.readouterr().err


def test_a_body_over_max_body_bytes_is_413_and_a_smaller_one_is_served(sandbox_dataset):
    with Sandbox(sandbox_dataset, limits=Limits.unlimited(), max_body_bytes=1000) as sb:
        ok = _engage(sb, "POST", data={"where": "true", "x": "y" * 500})
        big = _engage(sb, "POST", data={"where": "true", "x": "y" * 2000})
    assert ok.status_code == 200 and big.status_code == 413


def test_engage_page_size_is_ignored_by_default_and_honoured_on_request(sandbox_dataset):
    ids = [p["$distinct_id"] for p in Sandbox(sandbox_dataset).profiles()]
    with Sandbox(sandbox_dataset, limits=Limits.unlimited()) as sb:
        r = _engage(sb, params={"page_size": "7"}).json()
        assert r["page_size"] == 1000 and len(r["results"]) == len(ids)
    with Sandbox(sandbox_dataset, limits=Limits.unlimited(), honour_page_size=True) as sb:
        got, page, session = [], 0, None
        while True:
            params = {"page_size": "40", "page": page, **({"session_id": session} if session else {})}
            r = _engage(sb, params=params).json()
            assert r["page_size"] == 40 and r["total"] == len(ids)
            got += [p["$distinct_id"] for p in r["results"]]
            session, page = r["session_id"], page + 1
            if len(r["results"]) < 40:
                break
        assert got == ids and page == len(ids) // 40 + 1
        for bad in ("0", "1001", "x", "²"):
            r = _engage(sb, params={"page_size": bad})
            assert r.status_code == 400 and "page_size must be an integer from 1 to 1000" in r.json()["error"]


@pytest.fixture
def small_dataset(tmp_path):
    return generate(tmp_path / "d", users=5, days=2, seed=1, end_date="2026-11-01")


@pytest.mark.parametrize(("users", "bad_line", "where", "status"), [
    # nothing matches before the bad line: found before the status line, a 500 naming the file
    (5, b"{not json\n", 'properties["nope"] == 1', 500),
    # more than 1400 bytes match first: the status line is out, the stream says it is cut
    (20, b"[1]\n", "true", 200),
])
def test_a_corrupt_event_line_is_a_clear_500_or_terminated_early(tmp_path, users, bad_line, where, status):
    ds = generate(tmp_path / "d", users=users, days=2, seed=1, end_date="2026-11-01")
    path = ds.path / "events" / "2026-11-01.jsonl"
    path.write_bytes(path.read_bytes() + bad_line)
    with Sandbox(ds.path, limits=Limits.unlimited(), now=1_800_000_000) as sb:
        params = {"project_id": sb.credentials.project_id, "from_date": "2026-10-31",
                  "to_date": "2026-11-01", "where": where}
        r = requests.get(f"{sb.url}/api/2.0/export", params=params, auth=_auth(sb))
        assert r.status_code == status
        assert "corrupt dataset" in sb.requests[-1].error and "2026-11-01.jsonl" in sb.requests[-1].error
        if status == 200:
            assert r.text.endswith("\nterminated early\n")
        else:
            assert r.json()["error"] == sb.requests[-1].error


def test_a_profile_line_that_is_not_a_profile_is_refused_at_start(small_dataset):
    with (small_dataset.path / "profiles.jsonl").open("a") as fh:
        fh.write("[1]\n")
    with pytest.raises(SandboxError, match=r"profiles.jsonl:6: expected a profile"):
        Sandbox(small_dataset.path).start()


def test_a_missing_profiles_file_or_a_non_object_manifest_is_refused(small_dataset):
    (small_dataset.path / "profiles.jsonl").unlink()
    with pytest.raises(SandboxError, match="missing"):
        Sandbox(small_dataset.path).start()
    (small_dataset.path / "manifest.json").write_text("[1]")
    with pytest.raises(SandboxError, match="expected a JSON object"):
        Dataset(small_dataset.path)


def test_export_record_counts_only_what_was_sent(sandbox):
    """An unfiltered export (sendfile, one chunk per day file) to a client that hangs up: the
    record's line count must match its byte count (it used to count a day's lines before the
    day was sent)."""
    ds = sandbox.dataset
    files = ds.day_files(ds.first_date, ds.last_date)
    body = b"".join(f.read_bytes() for f in files)
    target = (f"/api/2.0/export?project_id={sandbox.credentials.project_id}"
              f"&from_date={ds.first_date}&to_date={ds.last_date}").encode()
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nAuthorization: "
                  + _basic(sandbox).encode() + b"\r\n\r\n")
        s.recv(100)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    deadline = time.monotonic() + 10
    while not sandbox.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    rec = sandbox.requests[-1]
    assert rec.bytes_sent < len(body), "the client hung up before the end"
    assert rec.records == body[: rec.bytes_sent].count(b"\n")


# -- the CLI ---------------------------------------------------------------------------------------


def _mpql(*args, timeout=30):
    return subprocess.run([sys.executable, "-m", "mpql", "sandbox", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_serve_bad_port_is_a_usage_error(port):
    r = _mpql("serve", "--port", port)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "expected a port from 0 (any free one) to 65535" in r.stderr


def test_generate_into_an_unwritable_place_is_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = _mpql("generate", "--users", "2", "--days", "1", "--out", str(blocker / "sub"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "cannot write the dataset" in r.stderr
    r = _mpql("generate", "--days", "999999999", "--end-date", "2026-11-01", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "before year 1" in r.stderr


@pytest.mark.parametrize("k", ["nan", "inf"])
def test_generate_refuses_nan_and_infinite_event_rates(tmp_path, k):
    # nan was accepted (NaN < 0 is false) and inf ended in an OverflowError traceback
    r = _mpql("generate", "--users", "2", "--days", "1", "--events-per-user-day", k,
              "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "expected a number ≥ 0" in r.stderr
    with pytest.raises(InputError, match="events-per-user-day"):
        generate(tmp_path / "p", users=2, days=1, events_per_user_day=float(k))


def test_serve_a_manifest_that_is_not_an_object_is_exit_2(small_dataset):
    (small_dataset.path / "manifest.json").write_text("[1]")
    for action in ("serve", "info"):
        r = _mpql(action, "--data", str(small_dataset.path))
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert "expected a JSON object" in r.stderr


def test_serve_banner_example_works_when_now_is_before_the_data_ends(small_dataset):
    """With --now in the past, the banner's curl example used the dataset's last day, which is
    after "today": the example itself got `to_date cannot be later than today`."""
    proc = subprocess.Popen([sys.executable, "-m", "mpql", "sandbox", "serve", "--data",
                             str(small_dataset.path), "--now", "2026-10-31T12:00:00", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(9)]
        curl = next(line for line in lines if line.startswith("try: curl"))
        url = curl.split("'")[-2]
        user, secret = curl.split("'")[1].split(":")
        assert "from_date=2026-10-31&to_date=2026-10-31" in url
        assert requests.get(url, auth=(user, secret), timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    shutil.rmtree(small_dataset.path)


@pytest.mark.parametrize("spec", ["export:delay=nan", "export:stall=inf", "export:retry-after=nan",
                                  "engage:delay=1e400"])
def test_fault_numbers_must_be_finite(spec):
    # time.sleep(nan) raised inside the handler (a 500); a "nan" Retry-After header followed
    with pytest.raises(InputError, match="must be a finite number"):
        parse_faults(spec)
    r = _mpql("serve", "--faults", spec)
    assert r.returncode == 2 and "must be a finite number" in r.stderr and "Traceback" not in r.stderr


def test_an_injected_429_never_says_free_again_in_0_seconds(sandbox):
    # On a fresh (or unlimited) sandbox the hourly window is empty: it said `"export";r=0;t=0`.
    sandbox.add_faults("export#1:429; export#2:policy=second; engage#1:429")
    day = sandbox.dataset.last_date.isoformat()
    params = {"project_id": sandbox.credentials.project_id, "from_date": day, "to_date": day}
    hour = requests.get(f"{sandbox.url}/api/2.0/export", params=params, auth=_auth(sandbox))
    second = requests.get(f"{sandbox.url}/api/2.0/export", params=params, auth=_auth(sandbox))
    engage = _engage(sandbox)
    assert hour.headers["RateLimit"].startswith('"export";r=0;t=1, "export-second";r=3;t=0')
    assert '"export-second";r=0;t=1' in second.headers["RateLimit"]
    assert engage.headers["RateLimit"].startswith('"project";r=0;t=1')


def test_a_truncated_engage_body_records_no_complete_result(sandbox):
    sandbox.add_faults("engage#1:truncate=300")
    r = _engage(sandbox)
    assert r.status_code == 200 and len(r.content) == 300
    assert sandbox.requests[-1].records == 0  # it said 150: every result of the uncut page


def test_a_reset_export_records_the_complete_lines_it_sent(sandbox):
    # It recorded 0: the lines of the block cut by the reset were never counted.
    day = sandbox.dataset.last_date.isoformat()
    params = {"project_id": sandbox.credentials.project_id, "from_date": day, "to_date": day,
              "where": "true"}
    full = requests.get(f"{sandbox.url}/api/2.0/export", params=params, auth=_auth(sandbox),
                        headers={"Accept-Encoding": "identity"}).content
    sandbox.add_faults("export#1:reset-after=5000")
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.get(f"{sandbox.url}/api/2.0/export", params=params, auth=_auth(sandbox),
                     headers={"Accept-Encoding": "identity"})
    rec = sandbox.requests[-1]
    assert rec.bytes_sent == 5000 and rec.records == full[:5000].count(b"\n") > 0


def test_bad_gzip_level_or_time_scale_is_refused_up_front(sandbox_dataset, sandbox):
    # gzip_level=42 was accepted and every gzip-sized response became a 500; NaN time scales
    # were accepted and made every window NaN.
    for kwargs in ({"gzip_level": 42}, {"time_scale": float("nan")}, {"time_scale": float("inf")}):
        with pytest.raises(SandboxError):
            Sandbox(sandbox_dataset, **kwargs)
    with pytest.raises(SandboxError, match="time_scale"):
        sandbox.reset_limits(time_scale=0)
    with Sandbox(sandbox_dataset, gzip_level=9, limits=Limits.unlimited()) as sb:
        r = _engage(sb)
        assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"


def test_a_failing_on_request_callback_does_not_cut_responses(sandbox_dataset, capfd):
    # The callback runs before the last byte; its exception used to abort the response
    # (IncompleteRead) — e.g. `serve --log FILE` on a full disk.
    def broken(record):
        raise OSError("No space left on device")

    with Sandbox(sandbox_dataset, limits=Limits.unlimited(), on_request=broken) as sb:
        first, second = _engage(sb), _engage(sb)
        assert first.status_code == second.status_code == 200
        assert first.json()["total"] == len(sb.profiles())
        assert len(sb.requests) == 2
    err = capfd.readouterr().err
    assert err.count("on_request callback failed (OSError: No space left on device)") == 1

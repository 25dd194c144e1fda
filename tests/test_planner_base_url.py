"""`base_url` validation: host names, IPv4 and bracketed IPv6 literals (http://[::1]:8080) are
accepted; malformed brackets and non-IPv6 text inside them are refused before any request."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from hypothesis import given, strategies as st

from mpql import Query, ServiceAccount
from mpql.errors import PlanError
from mpql.planner.encode import check_base_url


@pytest.mark.parametrize("url", ["http://[::1]:8080", "http://[::1]", "https://[2001:db8::7]/mp/",
                                 "http://[::ffff:127.0.0.1]:80", "http://[FE80::1]:9"])
def test_bracketed_ipv6_hosts_are_accepted(url):
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://[::1", "http://::1:8080", "http://[]:80",
                                 "http://[1.2.3.4]:80", "http://[::g]:80", "http://[1::2::3]",
                                 "http://[fe80::1%25eth0]:80", "http://[::1]x:80"])
def test_malformed_ipv6_hosts_are_refused(url):
    with pytest.raises(PlanError, match=r"base_url must look like .*\[::1\]"):
        check_base_url(url)


@given(st.ip_addresses(v=6), st.integers(0, 65535))
def test_every_ipv6_address_in_brackets_is_accepted(addr, port):
    for text in {str(addr), addr.exploded}:
        assert check_base_url(f"http://[{text}]:{port}") == f"http://[{text}]:{port}"


def events(where):
    return Query.events(where, from_date="2024-01-01", to_date="2024-01-01")


def test_plan_steps_point_at_the_ipv6_server():
    plan = events('properties["a"] == 1').plan(base_url="http://[::1]:8765/")
    assert [s.url for s in plan.steps] == ["http://[::1]:8765/api/2.0/export"]


def _ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class _V6Server(HTTPServer):
    address_family = socket.AF_INET6


class _Export(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = json.dumps({"event": "e", "properties": {"a": 1, "time": 1704067200,
                                                        "distinct_id": "u"}}).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.skipif(not _ipv6_loopback_available(), reason="no IPv6 loopback (::1) here")
def test_client_runs_against_an_ipv6_loopback_server():
    from mpql import Client

    server = _V6Server(("::1", 0), _Export)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        client = Client(ServiceAccount("u", "s3cret", 1), base_url=f"http://[::1]:{port}")
        plan = events('properties["a"] == 1').plan(auth=ServiceAccount("u", "s3cret", 1),
                                                   base_url=f"http://[::1]:{port}")
        rows = list(client.run(plan))
    finally:
        server.shutdown()
        server.server_close()
    assert [r["event"] for r in rows] == ["e"]
    assert ipaddress.ip_address("::1").is_loopback

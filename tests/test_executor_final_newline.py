"""An export body whose last line lacks its newline is a truncated body (docs/executor.md).

Mixpanel ends every exported line with ``\\n``; a body that ends after a complete record but
without that newline was cut (a proxy or the export backend ended the response cleanly at a
record boundary). A complete HTTP framing (Content-Length met, last chunk seen, gzip trailer
present) does not vouch for the content: the cut may have happened upstream. So the executor
retries the chunk; ``Client(require_final_newline=False)`` accepts such bodies for servers that
are known to omit the newline.

The server here is a real loopback HTTP server (stdlib) because the sandbox, by design, can no
longer produce this body (tests/test_sandbox_truncate.py).
"""

from __future__ import annotations

import gzip
import http.server
import json
import logging
import random
import threading

import pytest

from mpql.errors import TransportError
from mpql.executor import Client, Limits, RetryPolicy
from mpql.planner import Plan, ServiceAccount, Step

RECORDS = [{"event": "A", "properties": {"time": 1, "distinct_id": "u1", "$insert_id": "i1"}},
           {"event": "B", "properties": {"time": 2, "distinct_id": "u2", "$insert_id": "i2"}}]
FULL = b"".join(json.dumps(r).encode() + b"\n" for r in RECORDS)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server's naming
        server = self.server
        with server.lock:
            server.hits += 1
            body = server.bodies[min(server.hits, len(server.bodies)) - 1]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        if server.gzip:
            body = gzip.compress(body)  # a complete gzip member: the trailer is there
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(*bodies: bytes, gz: bool = False):
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        srv.daemon_threads = True
        srv.bodies, srv.hits, srv.gzip, srv.lock = list(bodies), 0, gz, threading.Lock()
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _plan() -> Plan:
    step = Step("export", "GET", "https://data.mixpanel.com/api/2.0/export",
                 {"from_date": "2024-01-01", "to_date": "2024-01-01"}, chunking="day",
                 rate_class="export")
    return Plan([step], project_id="1")


def _client(srv, **kw) -> Client:
    retry = RetryPolicy(base=0.01, cap=0.02, rng=random.Random(0), max_attempts=3)
    return Client(ServiceAccount("u", "s", "1"), base_url=f"http://127.0.0.1:{srv.server_address[1]}",
                  retry=retry, limits=Limits(export_per_second=1000), **kw)


@pytest.mark.parametrize("gz", [False, True])
def test_a_complete_record_without_its_newline_is_retried(serve, gz, caplog):
    srv = serve(FULL[:-1], FULL, gz=gz)
    client = _client(srv)
    with caplog.at_level(logging.WARNING, logger="mpql.executor"):
        got = list(client.run(_plan()))
    assert got == RECORDS
    assert srv.hits == 2 and client.last_stats.retries == 1
    assert any("final newline" in r.getMessage() for r in caplog.records)


def test_never_terminated_body_fails_after_the_retries(serve):
    srv = serve(FULL[:-1])
    with pytest.raises(TransportError, match="final newline"):
        list(_client(srv).run(_plan()))
    assert srv.hits == 3


def test_lenient_client_accepts_the_unterminated_last_record(serve):
    srv = serve(FULL[:-1])
    client = _client(srv, require_final_newline=False)
    assert list(client.run(_plan())) == RECORDS
    assert srv.hits == 1 and client.last_stats.retries == 0


def test_lenient_client_still_rejects_a_cut_record(serve):
    srv = serve(FULL[:-5], FULL)
    client = _client(srv, require_final_newline=False)
    assert list(client.run(_plan())) == RECORDS
    assert srv.hits == 2 and client.last_stats.retries == 1


def test_an_empty_body_is_an_empty_chunk(serve):
    srv = serve(b"")
    assert list(_client(srv).run(_plan())) == []
    assert srv.hits == 1

"""One Query API call that answers a single JSON document: metadata (``events/names``,
``events/properties/top``, ``events/properties/values``, ``funnels/list``) and aggregates.

It goes through the same ``Transport`` as exports and engage pages — the client's pacer (the
Query API's 60/hour and 5 concurrent), its retry policy (429/5xx, connection errors, a body
that is cut short), typed ``ApiError``s with Mixpanel's message and redacted secrets — and
adds ``project_id``/``workspace_id`` for a service account, as every Query API call needs.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Mapping

from ._jsonl import StreamBroken
from ..planner.encode import encode_params
from ._transport import Call, Stats, Transport

__all__ = ["json_body", "query_json", "wire_params"]


def json_body(what: str):
    """A ``Transport.send`` consumer returning the decoded JSON body; a 200 whose body is not
    one complete JSON document was cut off, so it raises ``StreamBroken`` (retried whole).
    ``what``: the request, already redacted, for the message."""

    def consume(resp) -> Any:
        body = resp.content
        try:
            return json.loads(body)
        except ValueError:
            raise StreamBroken(f"{what}: the response is not complete JSON ({len(body)} bytes); "
                               "retrying") from None

    return consume


def wire_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Parameter values as Mixpanel reads them: lists and dicts JSON-encoded (``event=["A"]``,
    ``values=["x"]``), booleans ``true``/``false``, None left out."""
    out = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, (list, tuple, dict)):
            out[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            out[name] = str(value)
    return out


def query_json(client, endpoint: str, params: Mapping[str, Any] | None = None) -> Any:
    """GET one Query API endpoint (``client.base_url`` if set, else the client's region's
    host) and return its decoded JSON body."""
    from mpql.planner.encode import query_url

    client._require_credentials(None)
    wire = wire_params(params or {})
    creds = client.credentials
    if creds is not None and creds.kind == "service_account":
        if "project_id" not in wire and creds.project_id:
            wire["project_id"] = str(creds.project_id)
        if "workspace_id" not in wire and creds.workspace_id:
            wire["workspace_id"] = str(creds.workspace_id)
    query = encode_params(wire)
    url = query_url(client.region, endpoint.strip("/"), client.base_url)
    call = Call("GET", url + (f"?{query}" if query else ""), None, rate_class="query",
                label=endpoint)
    retry = client.retry
    deadline_at = None if retry.deadline is None else time.monotonic() + retry.deadline
    transport = Transport(creds, pacer=client.pacer, retry=retry, timeout=client.timeout,
                          stats=Stats(), stop=threading.Event(), sleep=client._sleep,
                          deadline_at=deadline_at)
    try:
        return transport.send(call, json_body(call.describe(transport.secrets)))
    finally:
        transport.close()

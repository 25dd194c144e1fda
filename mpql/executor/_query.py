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
from ._transport import Call, Stats, Transport, encode_params

__all__ = ["query_json", "query_url"]

QUERY_HOSTS = {"us": "mixpanel.com", "eu": "eu.mixpanel.com", "in": "in.mixpanel.com"}


def query_url(endpoint: str, region: str = "us", base_url: str | None = None) -> str:
    """``https://{mixpanel|eu.mixpanel|in.mixpanel}.com/api/query/<endpoint>`` (or under
    ``base_url``)."""
    base = base_url.rstrip("/") if base_url else f"https://{QUERY_HOSTS[region]}"
    return f"{base}/api/query/{endpoint.strip('/')}"


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


def query_json(client, endpoint: str, params: Mapping[str, Any] | None = None, *,
               url: str | None = None, stats: Stats | None = None) -> Any:
    """GET one Query API endpoint and return its decoded JSON body.

    ``url`` overrides the endpoint's URL (a planned request's); the client's ``base_url``
    still wins, as for every request it sends."""
    import urllib.parse

    client._require_credentials()
    target = url or query_url(endpoint, client.region)
    if client.base_url:
        parts = urllib.parse.urlsplit(target)
        target = client.base_url + parts.path
    wire = wire_params(params or {})
    creds = client.credentials
    if creds is not None and creds.kind == "service_account":
        if "project_id" not in wire and creds.project_id:
            wire["project_id"] = str(creds.project_id)
        if "workspace_id" not in wire and creds.workspace_id:
            wire["workspace_id"] = str(creds.workspace_id)
    query = encode_params(wire)
    call = Call("GET", target + (f"?{query}" if query else ""), None, rate_class="query",
                label=endpoint)
    retry = client.retry
    deadline_at = None if retry.deadline is None else time.monotonic() + retry.deadline
    transport = Transport(creds, pacer=client.pacer, retry=retry, timeout=client.timeout,
                          stats=stats or Stats(), stop=threading.Event(), sleep=client._sleep,
                          deadline_at=deadline_at)

    def consume(resp) -> Any:
        body = resp.content
        try:
            return json.loads(body)
        except ValueError:
            # A 200 whose body is not one JSON document was cut off: retry the request.
            raise StreamBroken(f"{call.describe(transport.secrets)}: the response is not "
                               f"complete JSON ({len(body)} bytes); retrying") from None

    try:
        return transport.send(call, consume)
    finally:
        transport.close()

"""Hosts, URLs and the encoding of request parameters — the one place bytes on the wire are
decided.

Rules (docs/mixpanel-reference.md §2–3, §6 (item 1)): ``/export`` is a GET whose parameters are percent-encoded in the URL
query with spaces as ``%20`` and a literal ``+`` as ``%2B`` (Mixpanel decodes a raw ``+`` as a
space); ``/engage`` is a POST with a form-encoded body and ``project_id``/``workspace_id`` in the
URL. Both use the same encoder: RFC 3986 unreserved characters and ``[ ] " $`` stay as they
are (which reproduces the URLs of Mixpanel's curl examples byte for byte and keeps them readable), everything
else — space, ``=``, ``&``, ``+``, ``%``, ``'``, ``#``, non-ASCII — is percent-encoded as UTF-8.
Because ``'`` is always encoded, an encoded string is safe inside single shell quotes.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from ..errors import PlanError

__all__ = ["REGIONS", "engage_url", "export_url", "query_url", "encode_value", "encode_params",
           "encode_component", "check_base_url"]

REGIONS = ("us", "eu", "in")
_QUERY_HOST = {"us": "mixpanel.com", "eu": "eu.mixpanel.com", "in": "in.mixpanel.com"}
_EXPORT_HOST = {"us": "data.mixpanel.com", "eu": "data-eu.mixpanel.com",
                "in": "data-in.mixpanel.com"}
QUERY_PATH = "/api/query/"
ENGAGE_PATH = "/api/query/engage"
EXPORT_PATH = "/api/2.0/export"

_SAFE = '[]"$'
# The host is a name, an IPv4 address, or a bracketed IPv6 literal (RFC 3986: http://[::1]:8080);
# the bracketed part is checked with `ipaddress`, as a regex for IPv6 would be unreadable.
_BASE_URL = re.compile(r"^https?://(?:[A-Za-z0-9.\-]+|\[(?P<ipv6>[0-9A-Fa-f:.]+)\])"
                       r"(:[0-9]{1,5})?(/[A-Za-z0-9._~\-/]*)?$")


def check_region(region: str) -> str:
    if region not in REGIONS:
        raise PlanError(
            f"unknown region {region!r}: expected one of {', '.join(REGIONS)} (the project's "
            "data residency: US, EU or India)"
        )
    return region


def check_base_url(base_url: str) -> str:
    m = _BASE_URL.match(base_url) if isinstance(base_url, str) else None
    if m is None or (m.group("ipv6") is not None and not _is_ipv6(m.group("ipv6"))):
        raise PlanError(
            f"base_url must look like http://127.0.0.1:8080 or http://[::1]:8080 (scheme, "
            f"host, optional port and path), got {base_url!r}"
        )
    return base_url.rstrip("/")


def _is_ipv6(text: str) -> bool:
    import ipaddress  # lazily: only bracketed hosts need it

    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def engage_url(region: str, base_url: str | None = None) -> str:
    if base_url:
        return check_base_url(base_url) + ENGAGE_PATH
    return f"https://{_QUERY_HOST[check_region(region)]}{ENGAGE_PATH}"


def query_url(region: str, path: str, base_url: str | None = None) -> str:
    """A Query API endpoint (``path`` under /api/query, e.g. "segmentation/numeric")."""
    if base_url:
        return check_base_url(base_url) + QUERY_PATH + path
    return f"https://{_QUERY_HOST[check_region(region)]}{QUERY_PATH}{path}"


def export_url(region: str, base_url: str | None = None) -> str:
    if base_url:
        return check_base_url(base_url) + EXPORT_PATH
    return f"https://{_EXPORT_HOST[check_region(region)]}{EXPORT_PATH}"


@lru_cache(maxsize=512)  # a batch's where is encoded once, not once per date chunk
def encode_component(text: str) -> str:
    return quote(text, safe=_SAFE)


def encode_value(name: str, value: Any, json_params: Iterable[str] = ()) -> str:
    """A parameter value as the text Mixpanel expects (before percent-encoding)."""
    if name in json_params:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return str(value)
    raise PlanError(f"parameter {name!r} has a value of type {type(value).__name__} that "
                    "cannot be sent; declare it in json_params")


def encode_params(params: Mapping[str, Any], json_params: Iterable[str] = ()) -> str:
    """``k=v&k=v`` with both sides percent-encoded; None values are left out."""
    json_params = tuple(json_params)
    return "&".join(
        f"{encode_component(k)}={encode_component(encode_value(k, v, json_params))}"
        for k, v in params.items() if v is not None
    )

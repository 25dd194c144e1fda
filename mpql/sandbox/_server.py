"""The sandbox HTTP server: Mixpanel's `/engage` and `/export` on 127.0.0.1.

One ``ThreadingHTTPServer`` (stdlib; a thread per connection, HTTP/1.1 keep-alive) serves every
path on one port, so a client pointing both its query host and its export host
(``data.mixpanel.com``) at ``Sandbox.url`` works unchanged.

Request flow, in the order Mixpanel's front end plausibly applies it::

    route (404) → fault rules → method (405) → auth (401/400) → rate limits (429)
      → parameters (400) → response (JSON for engage; JSONL streamed from disk for export)

Everything the server answers is recorded (``Sandbox.requests``) minus the Authorization
header, so tests can assert exactly what a client sent. The dummy credentials are the
sandbox's own: they open nothing but this local server.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
import json
import math
import re
import secrets as _secrets
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

from ..errors import InputError, MpqlError, SandboxError
from ._data import (
    Dataset, behavior_counts, compile_where, default_dataset, pinned_now, project_profile,
)
from ._faults import Fault, FaultSet, parse_faults
from ._limits import Limits, RateLimiter

__all__ = ["Credentials", "RequestRecord", "Sandbox"]

DEFAULT_PROJECT_ID = 424242
DEFAULT_USERNAME = "mpql-sandbox.0f1e2d.mp-service-account"
DEFAULT_SECRET = "sandbox-secret-not-a-real-one"
DEFAULT_PROJECT_SECRET = "sandbox-project-secret-not-a-real-one"

ENGAGE_PATHS = ("/api/query/engage", "/api/2.0/engage")
EXPORT_PATHS = ("/api/2.0/export",)
GZIP_MIN_BYTES = 1400  # docs/mixpanel-reference.md §3.2: gzip only when the body is larger than this
MAX_EXPORT_LIMIT = 100_000
_MAX_TIMESTAMP = 253402300800  # 10000-01-01: beyond it dates (and the OS's time calls) overflow
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@attrs.frozen
class Credentials:
    """The sandbox's dummy credentials. Secrets are left out of the repr all the same, so code
    that logs a Credentials never learns to leak real ones."""

    username: str
    secret: str = attrs.field(repr=False)
    project_id: int
    project_secret: str = attrs.field(repr=False)

    def service_account(self):
        """These credentials as an ``mpql.ServiceAccount``, for ``Query.plan(auth=...)`` and
        ``mpql.Client``."""
        from ..planner import ServiceAccount

        return ServiceAccount(self.username, self.secret, self.project_id)


@attrs.frozen
class RequestRecord:
    """One request the sandbox answered.

    ``query`` / ``form``: the URL query and the form (or JSON) body as name → value (the last
    value when a name repeats; ``query_string`` / ``body`` keep the raw text). ``params``: body
    merged over query, as the server reads them. ``headers``: every header except
    Authorization. ``auth``: "service_account", "project_secret", "invalid" or None (no header);
    ``username`` is the service-account user name (never a secret). ``status``: the status sent
    (None when the connection was dropped before a status line). ``bytes_sent``: body bytes
    written to the socket (compressed if gzip), excluding chunk framing. ``records``: complete
    JSONL lines or engage results in those bytes. ``fault``: the fault rule applied, as written.
    """

    index: int
    method: str
    path: str
    endpoint: str | None
    query_string: str
    query: dict
    form: dict
    body: str
    params: dict
    headers: dict
    auth: str | None
    username: str | None
    status: int | None
    bytes_sent: int
    records: int
    gzip: bool
    fault: str | None
    error: str | None
    started: float
    duration: float

    def to_dict(self) -> dict:
        """A JSON-ready dict (what `mpql sandbox serve --log FILE` writes, one per line)."""
        return attrs.asdict(self)


class _Abort(Exception):
    """Stop handling this request now (the connection was reset or dropped on purpose)."""


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": ")).encode("utf-8")


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, *, plain: bool = False, headers=()) -> None:
        super().__init__(message)
        self.status, self.message, self.plain, self.headers = status, message, plain, tuple(headers)


_NGINX = {
    400: "400 Bad Request",
    413: "413 Request Entity Too Large",
    414: "414 Request-URI Too Large",
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}
_FAULT_MESSAGES = {
    400: "Timeout Error.",
    401: "Unable to authenticate request",
    402: "Your plan does not allow API calls. Upgrade your plan to use this API.",
    403: "You do not have permission to access this project",
    404: "Invalid API endpoint",
    429: "Rate limit exceeded",
    500: "Internal server error",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # an idle keep-alive connection is closed after this (seconds)
    sandbox: Sandbox

    def version_string(self) -> str:
        return "mpql-sandbox"

    def parse_request(self) -> bool:
        # The request line has just been read: this is when the request arrived, for the
        # rate limiter (reading headers and body, and auth, must not delay its timestamp).
        self._arrived = time.monotonic()
        return super().parse_request()

    # http.server logs every request to stderr; the sandbox records them instead.
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _method_not_allowed(self) -> None:
        self._handle()

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _method_not_allowed

    # -- per-request state -----------------------------------------------------------------

    def _handle(self) -> None:
        sb = self.sandbox
        self._t0 = time.monotonic()
        self._started = time.time()
        self._status: int | None = None
        self._bytes = 0
        self._records = 0
        self._gzip = False
        self._fault: Fault | None = None
        self._error: str | None = None
        self._auth: str | None = None
        self._username: str | None = None
        self._committed = False
        # http.server decodes the request line as Latin-1; a client that sends raw UTF-8 (curl
        # with an unencoded "München") means UTF-8, as Mixpanel's front end reads it.
        target = self.path.encode("latin-1", "replace").decode("utf-8", "replace")
        split = urlsplit(target)
        self._path = split.path
        self._query_string = split.query
        self._query = dict(parse_qsl(split.query, keep_blank_values=True))
        self._body, self._form = "", {}
        self._params = dict(self._query)
        self._endpoint = (
            "engage" if self._path in ENGAGE_PATHS else "export" if self._path in EXPORT_PATHS else None
        )
        self._rate_class: str | None = None
        try:
            try:
                self._read_params()
                if sb.max_url_length is not None and len(self.path) > sb.max_url_length:
                    # nginx's answer to a request line beyond large_client_header_buffers (8k)
                    raise _HTTPError(414, _NGINX[414], plain=True)
                fault = sb._faults.pick(self._endpoint, self._params)
                self._fault = fault
                if fault is not None:
                    self._pre_fault(fault)
                if self._endpoint is None:
                    raise _HTTPError(404, "Invalid API endpoint")
                allowed = ("GET",) if self._endpoint == "export" else ("GET", "POST")
                if self.command not in allowed:
                    raise _HTTPError(
                        405, f"{self.command} is not supported on {self._path}; use {' or '.join(allowed)}",
                        headers=[("Allow", ", ".join(allowed))],
                    )
                self._authenticate()
                rate_class = "query" if self._endpoint == "engage" else "export"
                counts = not (self._endpoint == "engage" and self._params.get("session_id"))
                rejection = sb._limiter.acquire(rate_class, counts=counts, at=self._arrived)
                if rejection is None:
                    self._rate_class = rate_class
                else:
                    raise _HTTPError(429, rejection.message, headers=rejection.headers)
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                if self._endpoint == "engage":
                    self._engage()
                else:
                    self._export()
            except _HTTPError as err:
                self._error = err.message
                self._send_error(err)
        except _Abort:
            pass
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a sandbox bug: answer 500 (if still possible), never hang
            self._error = f"internal sandbox error: {type(exc).__name__}: {exc}"
            self.close_connection = True
            if self._status is None:
                try:
                    self._send_error(_HTTPError(500, self._error))
                except OSError:
                    pass
        finally:
            self._commit(0)

    def _read_params(self) -> None:
        """Read the body and merge its parameters over the query string's (docs/mixpanel-reference.md §2.2)."""
        body = self._read_body()
        self._body = body.decode("utf-8", "replace")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if body and ctype == "application/json":
            try:
                loaded = json.loads(body)
            except ValueError as exc:
                loaded = exc
            if not isinstance(loaded, dict):
                # Silently ignoring it would answer an unfiltered query: say so instead.
                raise _HTTPError(400, "the request body is Content-Type application/json but not a "
                                      f"JSON object ({loaded}); send an object like "
                                      '{"where": "…"} or a form body')
            self._form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in loaded.items()}
        elif body:
            self._form = dict(parse_qsl(self._body, keep_blank_values=True))
        self._params = {**self._query, **self._form}

    def _read_body(self) -> bytes:
        """The request body, within ``max_body_bytes``. A malformed length or chunk framing is
        nginx's 400; a body over the limit nginx's 413 — both end the connection, since the
        rest of the stream can no longer be framed."""
        limit = self.sandbox.max_body_bytes
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts, total = [], 0
            while True:
                try:
                    size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    self._bad_framing(400)
                if size < 0:
                    self._bad_framing(400)
                total += size
                if limit is not None and total > limit:
                    self._bad_framing(413)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = (self.headers.get("Content-Length") or "").strip()
        if not length:
            return b""
        if not length.isascii() or not length.isdigit():
            self._bad_framing(400)
        if limit is not None and int(length) > limit:
            self._bad_framing(413)
        return self.rfile.read(int(length))

    def _bad_framing(self, status: int) -> None:
        self.close_connection = True
        raise _HTTPError(status, _NGINX[status], plain=True)

    # -- faults ------------------------------------------------------------------------------

    def _pre_fault(self, fault: Fault) -> None:
        """The parts of a fault that happen before the normal response: slow first byte, drop,
        an injected status."""
        # A delay alone is a slow first byte of a normal answer, so it waits after admission
        # (holding a concurrency slot, like a slow query); with an error status it comes first.
        if fault.delay and (fault.drop or fault.expired or fault.status is not None):
            time.sleep(fault.delay)
        if fault.drop:
            self._commit(0)
            self._reset()
        if fault.expired:
            raise _HTTPError(400, "Unable to authenticate request")
        if fault.status is not None:
            status = fault.status
            headers: list[tuple[str, str]] = []
            if status == 429:
                rate_class = "query" if self._endpoint != "export" else "export"
                policy = fault.policy or "hour"
                if policy != "none":
                    # The running limits if there are any, else Mixpanel's defaults: an injected
                    # 429 always describes a limit, even on a sandbox without rate limiting.
                    headers += (self.sandbox._limiter.policy_headers(rate_class, tripped=policy)
                                or RateLimiter(Limits(), self.sandbox.time_scale).policy_headers(
                                    rate_class, tripped=policy))
                if fault.retry_after is not None:
                    ra = fault.retry_after
                    headers.append(("Retry-After", str(int(ra)) if float(ra).is_integer() else str(ra)))
            if status in (502, 503, 504) and fault.message is None:
                raise _HTTPError(status, _NGINX[status], headers=headers, plain=True)
            message = fault.message or _FAULT_MESSAGES.get(status, f"Injected fault {status}")
            raise _HTTPError(status, message, headers=headers)

    def _reset(self) -> None:
        """Close the connection with a TCP RST (SO_LINGER 0): the client sees a reset, not a
        clean end of stream."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True
        raise _Abort()

    # -- auth ----------------------------------------------------------------------------------

    def _authenticate(self) -> None:
        sb = self.sandbox
        header = self.headers.get("Authorization")
        if not header:
            self._auth = None
            raise _HTTPError(401, "Unable to authenticate request: no Authorization header; send "
                                  "HTTP Basic auth (service account username:secret, or project secret)",
                             headers=[("WWW-Authenticate", 'Basic realm="Mixpanel"')])
        scheme, _, token = header.strip().partition(" ")
        user = password = None
        if scheme.lower() == "basic":
            token = token.strip()
            try:
                decoded = base64.b64decode(token, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                decoded = token  # Mixpanel also accepts plain `user:secret` (docs/mixpanel-reference.md §5.1)
            if ":" in decoded:
                user, _, password = decoded.partition(":")
        creds = sb.credentials
        project_id = self._params.get("project_id")
        if project_id is not None and not _is_digits(project_id):
            self._auth = "invalid"
            raise _HTTPError(400, f"project_id must be an integer, found {project_id!r}")
        workspace_id = self._params.get("workspace_id")
        if workspace_id is not None and not _is_digits(workspace_id):
            raise _HTTPError(400, f"workspace_id must be an integer, found {workspace_id!r}")
        if user is not None and user == creds.username and _secrets.compare_digest(password, creds.secret):
            self._auth, self._username = "service_account", user
            if project_id is None:
                raise _HTTPError(400, "project_id is required when authenticating with a service "
                                      "account; add ?project_id=<your project id> to the URL")
            if int(project_id) != int(creds.project_id):
                raise _HTTPError(401, f"Service account {user!r} has no access to project {project_id}")
            return
        if user is not None and password == "" and _secrets.compare_digest(user, creds.project_secret):
            self._auth = "project_secret"
            if project_id is not None and int(project_id) != int(creds.project_id):
                raise _HTTPError(401, f"This project secret does not belong to project {project_id}")
            return
        self._auth = "invalid"
        self._username = user if user == creds.username else None
        raise _HTTPError(401, "Unable to authenticate request: invalid username or secret",
                         headers=[("WWW-Authenticate", 'Basic realm="Mixpanel"')])

    # -- endpoints -------------------------------------------------------------------------

    def _json_list(self, name: str) -> list | None:
        raw = self._params.get(name)
        if raw is None or raw == "":
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            raise _HTTPError(400, f"{name} must be a JSON-encoded list, e.g. {name}=[\"a\", \"b\"]; "
                                  f"found {raw[:80]!r}")
        return value

    def _compile(self, scope: str, *, behaviors: dict | None = None) -> Callable[[dict], bool] | None:
        where = self._params.get("where")
        if where is None and scope == "profiles":
            where = self._params.get("selector")  # the older alias (docs/mixpanel-reference.md §1.1)
        if where is None or not where.strip():
            return None
        try:
            profiles = self.sandbox._profiles_by_id() if scope == "events" else None
            return compile_where(where, scope, now=self.sandbox.now(), profiles=profiles,
                                 behaviors=behaviors)
        except MpqlError as exc:
            raise _HTTPError(400, f"Invalid 'where' expression: {exc}") from None

    def _engage(self) -> None:
        sb = self.sandbox
        p = self._params
        try:
            page = int(p.get("page") or 0)
        except ValueError:
            raise _HTTPError(400, f"page must be a non-negative integer, found {p.get('page')!r}") from None
        if page < 0:
            raise _HTTPError(400, f"page must be a non-negative integer, found {page}")
        output_properties = self._json_list("output_properties")
        session_id = p.get("session_id") or None
        page_size = self._page_size()
        if page > 0 and session_id is None:
            raise _HTTPError(400, "session_id is required when page > 0; pass the session_id "
                                  "returned with page 0")
        session = sb._session(session_id) if session_id else None
        if session_id and page > 0 and session is None:
            raise _HTTPError(400, f"session_id {session_id!r} is unknown or expired; start again from page 0")
        if session is None:
            selected, uncached = self._engage_select()
            session_id, session = sb._new_session(selected, uncached)
        selected, uncached = session
        if page > 0 and uncached:
            # Mixpanel's documented failure (docs/mixpanel-reference.md §2.2): more than 1000 profiles with behaviors
            # and no as_of_timestamp cannot be paged.
            raise _HTTPError(400, "request for page in uncached query for params; pass "
                                  "as_of_timestamp with behaviors to page through more than "
                                  "1000 profiles")
        results = selected[page * page_size:(page + 1) * page_size]
        payload = {
            "page": page,
            "page_size": page_size,
            "session_id": session_id,
            "status": "ok",
            "total": len(selected),
            "results": [project_profile(r, output_properties) for r in results],
        }
        self._records_in_body = len(results)
        self._send_body(200, [_json(payload)], "application/json", chunked=False)

    def _page_size(self) -> int:
        """The page size of this response: the sandbox's, or with ``honour_page_size`` the
        request's ``page_size`` (1 … the sandbox's). Whether Mixpanel honours the parameter
        is UNCONFIRMED (docs/mixpanel-reference.md §2.3), so by default it is ignored and the response says 1000."""
        sb, raw = self.sandbox, self._params.get("page_size")
        if not sb.honour_page_size or raw is None or raw == "":
            return sb.page_size
        if not _is_digits(raw) or not 1 <= int(raw) <= sb.page_size:
            raise _HTTPError(400, f"page_size must be an integer from 1 to {sb.page_size}, found {raw!r}")
        return int(raw)

    def _engage_select(self) -> tuple[list, bool]:
        """Page 0: the whole selection (and whether it is an "uncached" behaviors query)."""
        sb, p = self.sandbox, self._params
        distinct_ids = self._json_list("distinct_ids")
        if p.get("distinct_id"):
            if distinct_ids is not None:
                raise _HTTPError(400, "distinct_id and distinct_ids are mutually exclusive")
            distinct_ids = [p["distinct_id"]]
        cohort_id = self._cohort_id()
        include_all_users = self._bool("include_all_users", default=True)
        data_group_id = p.get("data_group_id") or None
        if data_group_id is not None and (cohort_id is not None or p.get("behaviors")):
            raise _HTTPError(400, "data_group_id (group profiles) cannot be combined with "
                                  "filter_by_cohort or behaviors in the mpql sandbox")
        behaviors = None
        if p.get("behaviors"):
            if cohort_id is not None:
                raise _HTTPError(400, "behaviors and filter_by_cohort are mutually exclusive")
            try:
                behaviors = json.loads(p["behaviors"])
            except ValueError:
                raise _HTTPError(400, f"behaviors must be a JSON list, found {p['behaviors'][:80]!r}") from None
        as_of = None
        if p.get("as_of_timestamp"):
            try:
                as_of = int(p["as_of_timestamp"])
                if not 0 <= as_of < _MAX_TIMESTAMP:
                    raise ValueError
            except ValueError:
                raise _HTTPError(400, "as_of_timestamp must be Unix seconds (an integer between 0 "
                                      f"and {_MAX_TIMESTAMP - 1}), found {p['as_of_timestamp']!r}") from None
        try:
            counts = None
            if behaviors is not None:
                counts = behavior_counts(sb.dataset, behaviors, as_of if as_of is not None else sb.now(),
                                         now=sb.now())
            predicate = self._compile("profiles", behaviors=counts)
            selected = sb.dataset.select(predicate, distinct_ids=distinct_ids, cohort_id=cohort_id,
                                         include_all_users=include_all_users,
                                         data_group_id=data_group_id)
        except InputError as exc:
            raise _HTTPError(400, str(exc)) from None
        except MpqlError as exc:
            raise _HTTPError(400, f"Error evaluating 'where': {exc}") from None
        return selected, behaviors is not None and as_of is None and len(selected) > 1000

    def _cohort_id(self) -> int | None:
        raw = self._params.get("filter_by_cohort")
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if isinstance(value, dict) and "raw_cohort" in value:
            raise _HTTPError(400, "inline cohort definitions (raw_cohort) are not supported by the "
                                  "mpql sandbox; use a saved cohort's id")
        cid = value.get("id") if isinstance(value, dict) else None
        if isinstance(cid, str) and cid.isdigit():
            cid = int(cid)
        if not isinstance(cid, int) or isinstance(cid, bool):
            raise _HTTPError(400, 'filter_by_cohort must be a JSON object like {"id": 12345}, '
                                  f"found {raw[:80]!r}")
        return cid

    def _bool(self, name: str, *, default: bool) -> bool:
        raw = self._params.get(name)
        if raw is None or raw == "":
            return default
        value = raw.strip().lower()
        if value not in ("true", "false", "1", "0"):
            raise _HTTPError(400, f"{name} must be true or false, found {raw!r}")
        return value in ("true", "1")

    def _export(self) -> None:
        sb = self.sandbox
        p = self._params
        dates = {}
        for name in ("from_date", "to_date"):
            raw = p.get(name)
            if not raw:
                raise _HTTPError(400, f"{name} is required (yyyy-mm-dd)")
            try:
                if not _DATE.fullmatch(raw):
                    raise ValueError  # fromisoformat also takes 20261101 and 2026-W47-1
                dates[name] = dt.date.fromisoformat(raw)
            except ValueError:
                raise _HTTPError(400, f"{name} must be a date as yyyy-mm-dd, found {raw!r}") from None
        if dates["from_date"] > dates["to_date"]:
            raise _HTTPError(400, f"from_date {p['from_date']} is after to_date {p['to_date']}")
        if dates["to_date"] > sb.today():
            raise _HTTPError(400, "to_date cannot be later than today", plain=True)
        events = self._json_list("event")
        if events is not None and not all(isinstance(e, str) for e in events):
            raise _HTTPError(400, "event must be a JSON-encoded list of event names")
        limit = None
        if p.get("limit"):
            try:
                limit = int(p["limit"])
            except ValueError:
                raise _HTTPError(400, f"limit must be an integer, found {p['limit']!r}") from None
            if limit > MAX_EXPORT_LIMIT:
                raise _HTTPError(400, f"limit must be at most {MAX_EXPORT_LIMIT}, found {limit}")
            if limit < 1:
                raise _HTTPError(400, f"limit must be a positive integer, found {limit}")
        tims = (p.get("time_in_ms") or "false").strip().lower()
        if tims not in ("true", "false", "1", "0"):
            raise _HTTPError(400, f"time_in_ms must be true or false, found {p['time_in_ms']!r}")
        # Compiled here, so a bad `where` is a 400 before any byte of the body is sent.
        predicate = self._compile("events")
        if predicate is None and events is None and limit is None and tims in ("false", "0") \
                and self._fault is None:
            files = sb.dataset.day_files(dates["from_date"], dates["to_date"])
            sizes = [f.stat().st_size for f in files]
            if not (self._accepts_gzip() and sum(sizes) > GZIP_MIN_BYTES):
                self._send_files(files, sizes)
                return
        blocks = sb.dataset.iter_event_lines(
            dates["from_date"], dates["to_date"], predicate=predicate, event=events,
            limit=limit, time_in_ms=tims in ("true", "1"),
        )
        self._records_in_body = None
        self._send_body(200, blocks, "text/plain; charset=utf-8", chunked=True)

    # -- writing -----------------------------------------------------------------------------

    def _accepts_gzip(self) -> bool:
        ae = self.headers.get("Accept-Encoding") or ""
        for item in ae.split(","):
            name, _, q = item.strip().partition(";")
            if name.strip().lower() in ("gzip", "*"):
                return q.strip() not in ("q=0", "q=0.0")
        return False

    def _send_error(self, err: _HTTPError) -> None:
        if err.plain:
            if err.status in _NGINX and err.message == _NGINX[err.status]:
                body = (f"<html>\r\n<head><title>{err.message}</title></head>\r\n<body>\r\n"
                        f"<center><h1>{err.message}</h1></center>\r\n<hr><center>nginx</center>\r\n"
                        "</body>\r\n</html>\r\n").encode()
                ctype = "text/html"
            else:
                body, ctype = err.message.encode("utf-8"), "text/plain; charset=utf-8"
        else:
            request = self._path + (f"?{self._query_string}" if self._query_string else "")
            body, ctype = _json({"request": request, "error": err.message}), "application/json"
        self._records_in_body = 0
        self._send_body(err.status, [body], ctype, chunked=False, headers=err.headers, apply_faults=False)

    def _send_body(self, status: int, blocks: Iterable[bytes], ctype: str, *, chunked: bool,
                   headers: Sequence[tuple[str, str]] = (), apply_faults: bool = True) -> None:
        fault = self._fault if apply_faults else None
        it = iter(blocks)
        if fault is not None and fault.terminated_early is not None and self._endpoint == "export":
            it = _terminate_early(it, fault.terminated_early)
        if fault is not None and fault.split_line is not None and self._endpoint == "export":
            it = _split_line(it, fault.split_line)
        if fault is not None and fault.truncate is not None:
            it = _truncate(it, fault.truncate)
        # Decide on gzip the way Mixpanel documents it: only when the body exceeds 1400 bytes.
        head, done = [], False
        size = 0
        while size <= GZIP_MIN_BYTES:
            try:
                block = next(it)
            except StopIteration:
                done = True
                break
            except SandboxError as exc:  # a corrupt dataset: the sandbox's fault, not the client's
                raise _HTTPError(500, f"internal sandbox error: corrupt dataset: {exc}") from None
            except MpqlError as exc:  # the `where` failed on a record: Mixpanel fails the query
                raise _HTTPError(400, f"Error evaluating 'where': {exc}") from None
            head.append(block)
            size += len(block)
        use_gzip = self._accepts_gzip() and size > GZIP_MIN_BYTES
        self._gzip = use_gzip
        truncated_gzip = use_gzip and fault is not None and fault.truncate is not None
        compressor = zlib.compressobj(self.sandbox.gzip_level, zlib.DEFLATED, 31) if use_gzip else None

        def guarded(rest: Iterator[bytes]) -> Iterator[bytes]:
            # Once the status line is out, a failing `where` can only end the stream the way
            # Mixpanel's own failures do: a final `terminated early` line.
            try:
                yield from rest
            except MpqlError as exc:
                self._error = (f"internal sandbox error: corrupt dataset: {exc}"
                               if isinstance(exc, SandboxError) else f"Error evaluating 'where': {exc}")
                yield b"terminated early\n"

        def encoded() -> Iterator[tuple[bytes, int]]:
            """(wire bytes, complete records in them) for every block."""
            for block in _chain(head, None if done else guarded(it)):
                records = 0
                if self._records_in_body is None and block != b"terminated early\n":
                    records = block.count(b"\n")
                data = compressor.compress(block) if compressor else block
                if data:
                    yield data, records
                elif records:
                    yield b"", records
            if compressor is not None:
                # A truncated gzip stream: everything so far is decodable (sync flush) but the
                # final block and the CRC/size trailer never come.
                tail = compressor.flush(zlib.Z_SYNC_FLUSH if truncated_gzip else zlib.Z_FINISH)
                if tail:
                    yield tail, 0

        reset_after = fault.reset_after if fault is not None else None
        if not chunked:
            parts = list(encoded())
            body = b"".join(d for d, _ in parts)
            self._start_response(status, ctype, headers, use_gzip, length=len(body))
            if self.command == "HEAD":  # the headers of the answer, never its body
                self._commit(0)
                return
            if reset_after is not None:
                body = body[: min(reset_after, max(0, len(body) - 1))]
            elif fault is None or fault.truncate is None:
                # a cut JSON document holds no complete result
                self._records = self._records_in_body or 0
            if fault is not None and fault.stall:
                head_part, body = body[: fault.stall_after], body[fault.stall_after:]
                self.wfile.write(head_part)
                self._bytes += len(head_part)
                time.sleep(fault.stall)
            # Record before the last byte leaves: a client that has the whole response must
            # find its request in Sandbox.requests.
            self._commit(len(body))
            self.wfile.write(body)
            self._bytes += len(body)
            if reset_after is not None:
                self._reset()
            return
        self._start_response(status, ctype, headers, use_gzip, length=None)
        buffer, buffered = [], 0
        stall_at = fault.stall_after if fault is not None and fault.stall else None
        for data, records in encoded():
            if stall_at is not None and self._bytes + buffered + len(data) >= stall_at:
                # Pause mid-body (a stalled upstream): send exactly stall-after bytes first.
                split = stall_at - self._bytes - buffered
                buffer.append(data[:split])
                self._write_chunk(b"".join(buffer))
                buffer, buffered, data = [], 0, data[split:]
                time.sleep(fault.stall)
                stall_at = None
            if reset_after is not None and self._bytes + buffered + len(data) >= reset_after:
                piece = data[: reset_after - self._bytes - buffered]
                if compressor is None and records:
                    self._records += piece.count(b"\n")  # the complete lines before the reset
                buffer.append(piece)
                last = b"".join(buffer)
                self._commit(len(last))
                self._write_chunk(last)
                self._reset()
            buffer.append(data)
            buffered += len(data)
            self._records += records
            if buffered >= 1 << 16:
                self._write_chunk(b"".join(buffer))
                buffer, buffered = [], 0
        last = b"".join(buffer)
        self._commit(len(last))
        if reset_after is not None:
            # The body was shorter than reset-after: reset before the terminating chunk.
            self._write_chunk(last)
            self._reset()
        framed = (b"%x\r\n%s\r\n" % (len(last), last) if last else b"") + b"0\r\n\r\n"
        self.wfile.write(framed)
        self._bytes += len(last)

    def _send_files(self, files: Sequence[Path], sizes: Sequence[int]) -> None:
        """An unfiltered, uncompressed export: the day files are the body, one chunk each,
        copied by the kernel (``sendfile``) — the stored form is the default export form."""
        self._start_response(200, "text/plain; charset=utf-8", (), False, length=None)
        for i, (path, size) in enumerate(zip(files, sizes)):
            ms = path.with_suffix(".ms")
            records = ms.stat().st_size // 4 if ms.exists() else path.read_bytes().count(b"\n")
            if i == len(files) - 1:
                self._records += records  # counted before the last byte, like its bytes
                self._commit(size)
            if not size:
                continue
            self.wfile.write(b"%x\r\n" % size)
            with path.open("rb") as fh:
                self.connection.sendfile(fh, 0, size)
            self.wfile.write(b"\r\n")
            if i < len(files) - 1:
                self._bytes += size
                self._records += records  # only once the file is on the wire
        self._commit(0)
        self.wfile.write(b"0\r\n\r\n")

    def _commit(self, pending_bytes: int) -> None:
        """Record this request now, counting ``pending_bytes`` about to be written."""
        if not self._committed:
            self._committed = True
            # The concurrency slot is freed before the last byte too: a client that sends its
            # next request the moment it has this response must not find the slot still taken.
            if self._rate_class is not None:
                self.sandbox._limiter.release(self._rate_class)
                self._rate_class = None
            self.sandbox._record(self, pending_bytes)

    def _start_response(self, status, ctype, headers, use_gzip, *, length: int | None) -> None:
        self._status = status
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if use_gzip:
            self.send_header("Content-Encoding", "gzip")
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _write(self, data: bytes) -> None:
        if data:
            self.wfile.write(data)
            self._bytes += len(data)

    def _write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self._bytes += len(data)


def _is_digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²" and "٣", which int() then rejects."""
    text = text.strip()
    return text.isascii() and text.isdigit()


def _chain(head: list[bytes], rest: Iterator[bytes] | None) -> Iterator[bytes]:
    yield from head
    if rest is not None:
        yield from rest


def _terminate_early(blocks: Iterator[bytes], lines: int) -> Iterator[bytes]:
    """Pass ``lines`` complete lines through, then the literal `terminated early` line."""
    left = lines
    for block in blocks:
        if left <= 0:
            break
        n = block.count(b"\n")
        if n <= left:
            yield block
            left -= n
            continue
        cut = -1
        for _ in range(left):
            cut = block.index(b"\n", cut + 1)
        yield block[: cut + 1]
        left = 0
        break
    yield b"terminated early\n"


def _split_line(blocks: Iterator[bytes], nth: int) -> Iterator[bytes]:
    """Split the ``nth`` line (1-based) in two at its middle — the "record split across
    adjacent lines" anomaly seen in real exports (docs/mixpanel-reference.md §3.3)."""
    seen = 0
    for block in blocks:
        n = block.count(b"\n")
        if seen < nth <= seen + n:
            start = -1
            for _ in range(nth - seen - 1):
                start = block.index(b"\n", start + 1)
            end = block.index(b"\n", start + 1)
            middle = start + 1 + max(1, (end - start - 1) // 2)
            block = block[:middle] + b"\n" + block[middle:]
        seen += n
        yield block


def _truncate(blocks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    """Cut the body after about ``limit`` bytes — always strictly inside a line, so that the
    cut is detectable: the body never ends with ``\n`` and its last line is never a complete
    record. A cut that would land on a line boundary (just after a newline, or just before
    one: a complete record without its newline) moves a byte or two into a line; a body
    shorter than ``limit`` loses the second half of its last line.

    The last line seen is held back (with the current block) until the next one starts, so
    that it can still be cut wherever the blocks happen to split the lines."""
    sent, pending = 0, b""  # pending starts at a line start and holds the last line so far

    def inside(p: int) -> bool:
        """Whether a cut before ``pending[p]`` is strictly inside a line."""
        return 0 < p < len(pending) and pending[p - 1:p] != b"\n" and pending[p:p + 1] != b"\n"

    for block in blocks:
        pending += block
        if sent + len(pending) > limit:
            n = limit - sent
            # The nearest cut inside a line: forward first (so `limit` is met exactly when it
            # already falls inside a line), then backward (it fell at the end of the last line).
            def order():
                return itertools.chain(range(n, len(pending)), range(n - 1, 0, -1))

            p = next((p for p in order() if inside(p)), None)
            if p is None:  # only one-byte lines (never JSON records): at least no clean end
                p = next((p for p in order() if pending[p - 1:p] not in (b"\n", b"")), n)
            yield pending[:p]
            return
        keep = pending.rstrip(b"\n").rfind(b"\n") + 1  # where the last line starts
        if keep:
            yield pending[:keep]
            sent, pending = sent + keep, pending[keep:]
    body = pending.rstrip(b"\n")  # the last line, without its newline
    if body:
        yield body[: max(1, len(body) // 2)]


def _check_time_scale(time_scale: float) -> float:
    if isinstance(time_scale, bool) or not isinstance(time_scale, (int, float)) \
            or not 0 < time_scale < math.inf:  # NaN fails this too
        raise SandboxError(f"time_scale must be a finite number > 0, found {time_scale}")
    return time_scale


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints a traceback here; the handler already answers its own failures,
        # so whatever still gets here (a client gone mid-handshake) is worth one line at most.
        import sys

        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            print(f"mpql sandbox: request from {client_address[0]}:{client_address[1]} failed: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr)


class Sandbox:
    """A Mixpanel-compatible server on 127.0.0.1, for tests, demos and offline work.

    ::

        with Sandbox() as sb:                      # the default dataset, a free port
            r = requests.post(f"{sb.url}/api/query/engage",
                              params={"project_id": sb.credentials.project_id},
                              data={"where": 'properties["plan"] == "pro"'},
                              auth=(sb.credentials.username, sb.credentials.secret))
            assert len(r.json()["results"]) == len(sb.profiles('properties["plan"] == "pro"'))

    ``data_dir``: a dataset directory (``mpql sandbox generate``), a ``Dataset``, or None for
    the default dataset. ``faults``: a fault spec (docs/sandbox.md) or a list of ``Fault``.
    ``time_scale`` shrinks rate-limit windows and session lifetimes (0.001: an hour is 3.6 s).
    ``limits``: ``Limits`` (Mixpanel's documented quotas by default; ``Limits.unlimited()``).
    ``now``: a fixed epoch time for `NOW` in `where` and for "today" (default: noon UTC of
    ``$MPQL_SANDBOX_TODAY`` when that is set, else the real clock).
    ``page_size``: engage page size (1000 like Mixpanel). ``session_ttl``: engage session
    lifetime in (unscaled) seconds. ``on_request``: called with each ``RequestRecord`` once
    the request is answered (on the server's thread; keep it quick). ``user_on_export``:
    whether ``user["x"]`` in an export `where` reads the event's user profile (UNCONFIRMED for
    Mixpanel, docs/mixpanel-reference.md §1.10; off by default, so ``user[...]`` is undefined on export).
    ``timezone``: the project's timezone (IANA name), used only for "today" in the
    `to_date` check, as Mixpanel does; day boundaries of the data stay UTC (a project created
    after 2023). ``max_url_length``: a longer path + query string gets nginx's 414 (nginx's default 8 KB
    request-line buffer; Mixpanel's exact limit is not documented); None turns it off.
    ``honour_page_size``: serve engage pages of the request's ``page_size`` (1 … ``page_size``)
    instead of ignoring it (whether Mixpanel honours it is UNCONFIRMED). ``max_body_bytes``: a
    larger request body gets nginx's 413 (the sandbox's guard; Mixpanel's limit is not
    documented); None turns it off.
    """

    def __init__(
        self,
        data_dir: str | Path | Dataset | None = None,
        *,
        port: int = 0,
        faults: str | Sequence[Fault] | None = None,
        time_scale: float = 1.0,
        limits: Limits | None = None,
        project_id: int = DEFAULT_PROJECT_ID,
        username: str = DEFAULT_USERNAME,
        secret: str = DEFAULT_SECRET,
        project_secret: str = DEFAULT_PROJECT_SECRET,
        page_size: int = 1000,
        session_ttl: float = 3600.0,
        now: float | None = None,
        gzip_level: int = 1,
        on_request: Callable[[RequestRecord], None] | None = None,
        user_on_export: bool = False,
        max_url_length: int | None = 8192,
        timezone: str = "UTC",
        honour_page_size: bool = False,
        max_body_bytes: int | None = 10 << 20,
    ) -> None:
        for name, value in (("page_size", page_size), ("project_id", project_id)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SandboxError(f"{name} must be a whole number ≥ 1, found {value!r}")
        if limits is not None and not isinstance(limits, Limits):
            raise SandboxError(f"limits must be an mpql.sandbox.Limits, found {type(limits).__name__}")
        if not (faults is None or isinstance(faults, (str, Fault, list, tuple))):
            raise SandboxError(f"faults must be a fault spec string or a list of faults, found "
                               f"{type(faults).__name__}")
        _check_time_scale(time_scale)
        if gzip_level not in range(-1, 10):
            # zlib would only refuse it on the first gzip response, as a 500 each time
            raise SandboxError(f"gzip_level must be -1 (zlib's default) or 0–9, found {gzip_level!r}")
        self._data_arg = data_dir
        self._dataset: Dataset | None = data_dir if isinstance(data_dir, Dataset) else None
        self._port = port
        self.credentials = Credentials(username, secret, int(project_id), project_secret)
        self.time_scale = time_scale
        self.limits = limits if limits is not None else Limits()
        self.page_size = page_size
        self.session_ttl = session_ttl
        self.gzip_level = gzip_level
        self._now = now if now is not None else pinned_now()
        self._on_request = on_request
        self._callback_failed = False
        self.user_on_export = user_on_export
        self.max_url_length = max_url_length
        self.honour_page_size = honour_page_size
        self.max_body_bytes = max_body_bytes
        try:
            from zoneinfo import ZoneInfo

            self._zone = dt.timezone.utc if timezone == "UTC" else ZoneInfo(timezone)
        except (ValueError, KeyError, OSError, ImportError, TypeError):
            raise SandboxError(
                f"timezone: expected an IANA zone name like 'America/Los_Angeles', found {timezone!r}"
            ) from None
        self.timezone = timezone
        self._profile_map: dict | None = None
        self._faults = FaultSet(parse_faults(faults))
        self._limiter = RateLimiter(self.limits, time_scale)
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._sessions: dict[str, tuple[float, tuple[list, bool]]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        # Load (or generate) before the port opens: the first request is fast, and concurrent
        # first requests never race to load the profiles.
        _ = self.dataset.all_profiles
        handler = type("Handler", (_Handler,), {"sandbox": self})
        if not 0 <= self._port <= 65535:
            raise SandboxError(f"port must be 0 (any free port) to 65535, found {self._port}")
        try:
            self._server = _Server(("127.0.0.1", self._port), handler)
        except OSError as exc:
            raise SandboxError(f"could not listen on 127.0.0.1:{self._port}: {exc.strerror or exc}") from None
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"mpql-sandbox:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    close = stop

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self._server else "stopped"
        return f"<Sandbox {state} project_id={self.credentials.project_id}>"

    @property
    def port(self) -> int:
        if self._server is None:
            raise SandboxError("the sandbox is not running; use `with Sandbox() as sb:` or sb.start()")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- data ------------------------------------------------------------------------------

    @property
    def dataset(self) -> Dataset:
        if self._dataset is None:
            self._dataset = default_dataset() if self._data_arg is None else Dataset(self._data_arg)
        return self._dataset

    def _profiles_by_id(self) -> dict | None:
        if not self.user_on_export:
            return None
        if self._profile_map is None:
            self._profile_map = {p.get("$distinct_id"): p for p in self.dataset.all_profiles}
        return self._profile_map

    def now(self) -> float:
        return self._now if self._now is not None else time.time()

    def today(self) -> dt.date:
        """Today in the project's timezone: the date a `to_date` may not exceed."""
        return dt.datetime.fromtimestamp(self.now(), self._zone).date()

    def events(self, from_date=None, to_date=None, where: str | None = None, **kwargs: Any) -> list[dict]:
        """Ground truth: what ``/export`` answers for these parameters (default: the dataset's
        whole range), computed locally."""
        ds = self.dataset
        return ds.events(from_date or ds.first_date, to_date or ds.last_date, where=where,
                         now=kwargs.pop("now", self.now()),
                         profiles=kwargs.pop("profiles", self._profiles_by_id()), **kwargs)

    def profiles(self, where: str | None = None, **kwargs: Any) -> list[dict]:
        """Ground truth: every profile ``/engage`` returns for this `where` (all pages)."""
        return self.dataset.profiles(where, now=kwargs.pop("now", self.now()), **kwargs)

    # -- faults, limits, records ---------------------------------------------------------------

    def add_faults(self, spec: str | Sequence[Fault]) -> list[Fault]:
        """Add fault rules at runtime; their request counts start now."""
        rules = parse_faults(spec)
        self._faults.add(rules)
        return rules

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        return self._faults.rules

    def reset_limits(self, limits: Limits | None = None, *, time_scale: float | None = None) -> None:
        """Forget every rate-limit window (and optionally change the limits). Call it between
        tests that share one sandbox, while no request is in flight."""
        if limits is not None:
            self.limits = limits
        if time_scale is not None:
            self.time_scale = _check_time_scale(time_scale)
        self._limiter = RateLimiter(self.limits, self.time_scale)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request answered so far, in the order they finished (a copy)."""
        with self._lock:
            return list(self._records)

    def clear_requests(self) -> None:
        with self._lock:
            self._records.clear()

    def _record(self, h: _Handler, pending_bytes: int = 0) -> None:
        headers = {k: v for k, v in h.headers.items() if k.lower() != "authorization"}
        with self._lock:
            record = RequestRecord(
                index=len(self._records), method=h.command, path=h._path, endpoint=h._endpoint,
                query_string=h._query_string, query=h._query, form=h._form, body=h._body,
                params=h._params, headers=headers, auth=h._auth, username=h._username,
                status=h._status, bytes_sent=h._bytes + pending_bytes, records=h._records, gzip=h._gzip,
                fault=h._fault.text if h._fault else None, error=h._error,
                started=h._started, duration=time.monotonic() - h._t0,
            )
            self._records.append(record)
        if self._on_request is not None:
            # The callback runs just before the response's last byte: if it raised, the client
            # would get a cut response for a bug that is not the server's. Say so once instead.
            try:
                self._on_request(record)
            except Exception as exc:
                if not self._callback_failed:
                    self._callback_failed = True
                    import sys

                    print(f"mpql sandbox: on_request callback failed ({type(exc).__name__}: {exc}); "
                          "responses are still sent; further failures are not reported",
                          file=sys.stderr)

    # -- engage sessions -------------------------------------------------------------------------

    def _new_session(self, selected: list, uncached: bool = False) -> tuple[str, tuple[list, bool]]:
        session_id = f"{int(self.now())}-{_secrets.token_hex(3).upper()}"
        with self._lock:
            cutoff = time.monotonic() - self.session_ttl * self.time_scale
            for key in [k for k, (t, _) in self._sessions.items() if t < cutoff]:
                del self._sessions[key]
            self._sessions[session_id] = (time.monotonic(), (selected, uncached))
        return session_id, (selected, uncached)

    def _session(self, session_id: str) -> tuple[list, bool] | None:
        with self._lock:
            entry = self._sessions.get(session_id)
            if entry is None:
                return None
            if entry[0] < time.monotonic() - self.session_ttl * self.time_scale:
                del self._sessions[session_id]
                return None
            return entry[1]

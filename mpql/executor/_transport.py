"""One Mixpanel request, sent until it succeeds or must fail: pacing, retries, typed errors.

``Transport.send(call, consume)`` takes a permission slot from the ``Pacer``, sends the request
with ``stream=True``, and hands a 200 response to ``consume`` (which reads the body into a
spool). Anything transient — a connection error, a timeout, a 429/5xx, a body that broke,
was truncated or ended with ``terminated early`` — discards the partial result and retries the
*whole* request after a full-jitter backoff (``RetryPolicy``); the slot is released while
sleeping. Statuses 400/401/402/403/404 fail at once with a typed ``ApiError`` that carries
Mixpanel's message, the request with secrets redacted, and advice.

urllib3's own retries are off (requests' default ``max_retries=0``), so there is exactly one
retry layer. Logging goes to the ``mpql.executor`` logger, always redacted.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import zlib
from typing import Any, Callable, Iterator

import attrs
import requests
import urllib3

from mpql.errors import (
    ApiError, AuthenticationError, BadRequestError, DeadlineExceeded, ExecutionError,
    ForbiddenError, NotFoundError, PaymentRequiredError, RateLimitError, ServerError,
    TransportError,
)

from ._auth import Credentials, redact
from ._jsonl import StreamBroken
from ._pacer import Pacer
from ._retry import RetryPolicy, parse_retry_after

__all__ = ["Call", "Transport", "Cancelled", "body_chunks", "Stats"]

log = logging.getLogger("mpql.executor")

CHUNK = 1 << 18
PIECE = 1 << 20  # at most this many decoded bytes are handed on at once
USER_AGENT = "mpql-executor"


class Cancelled(ExecutionError):
    """The run was stopped (an error elsewhere, or the caller stopped iterating)."""


@attrs.frozen
class Call:
    """A request, fully encoded, without credentials: ``url`` includes the query string and
    ``body`` is the form-encoded body (POST) or None."""

    method: str
    url: str
    body: str | None = None
    rate_class: str = "export"
    counted: bool = True
    label: str = ""

    def describe(self, secrets: tuple = ()) -> str:
        text = f"{self.method} {self.url}"
        if self.body:
            body = self.body
            text += f" (body: {body[:300]}{'…' if len(body) > 300 else ''})"
        return redact(text, secrets)


@attrs.define
class Stats:
    """Counters for progress output and the run summary (updated from worker threads)."""

    requests: int = 0
    retries: int = 0
    records: int = 0
    bytes: int = 0
    units_done: int = 0
    units_skipped: int = 0  # committed by an earlier run (--resume): done, but took no time
    units_total: int | None = None
    started: float = attrs.field(factory=time.monotonic)
    statuses: dict = attrs.field(factory=dict)
    lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False, eq=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def saw(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


def body_chunks(resp: requests.Response, stop: threading.Event | None = None) -> Iterator[bytes]:
    """Decoded body bytes. gzip is decoded here (not by urllib3) so that a gzip stream that
    ends before its trailer is detected instead of silently accepted."""
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity", "gzip", "x-gzip"):
        decoder = zlib.decompressobj(wbits=31) if "gzip" in encoding else None
        for chunk in resp.raw.stream(CHUNK, decode_content=False):
            if stop is not None and stop.is_set():
                raise Cancelled("cancelled")
            if decoder is None:
                for i in range(0, len(chunk), PIECE):
                    yield chunk[i:i + PIECE] if len(chunk) > PIECE else chunk
                continue
            # Bounded output per call: one compressed block can inflate 10-20x, and the lines
            # split from it would multiply that again — memory must not grow with chunk size.
            try:
                out = decoder.decompress(chunk, PIECE)
                while True:
                    if out:
                        yield out
                    if not decoder.unconsumed_tail:
                        break
                    out = decoder.decompress(decoder.unconsumed_tail, PIECE)
            except zlib.error as exc:
                raise StreamBroken(f"the gzip body is corrupt ({exc})") from None
        if decoder is not None:
            out = decoder.flush()
            if out:
                yield out
            if not decoder.eof:
                raise StreamBroken("the gzip body ended before its trailer (truncated)")
    else:  # deflate, br, …: let requests decode
        yield from resp.iter_content(CHUNK)


_ERRORS = {400: BadRequestError, 401: AuthenticationError, 402: PaymentRequiredError,
           403: ForbiddenError, 404: NotFoundError, 429: RateLimitError}


def _error_message(status: int, body: bytes) -> str:
    """Mixpanel's message: JSON ``error``, else ``message``, else the text (docs/mixpanel-reference.md §5.3)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("error", "message"):
            if data.get(key):
                return str(data[key])
    if text.lstrip().startswith("<"):  # an HTML error page from a proxy (nginx, a CDN)
        title = re.search(r"<title>(.*?)</title>", text, re.S | re.I)
        if title:
            return " ".join(title.group(1).split())[:200]
    if text:
        return text[:500]
    return {429: "rate limit exceeded"}.get(status, f"HTTP {status} with an empty body")


def _advice(status: int, message: str, credentials: Credentials | None, call: Call) -> str:
    sa = credentials is not None and credentials.kind == "service_account"
    pid = credentials.project_id if credentials else None
    if status == 400:
        low = message.lower()
        if "authenticate" in low:
            return ("the credentials were rejected: the service account may be expired or "
                    "deleted; check MP_USERNAME/MP_SECRET")
        if "to_date" in low or "later than today" in low:
            return ("to_date is later than today in the project's timezone; use an earlier "
                    "--to date")
        if "limit" in low:
            return "export `limit` must be at most 100000"
        return ("Mixpanel rejected the request's parameters; check the expression with "
                "`mpql lint` and the dates; this is not retried")
    if status == 401:
        if sa:
            return (f"check MP_USERNAME/MP_SECRET and that the service account belongs to "
                    f"project_id {pid} (MP_PROJECT_ID) — a wrong project_id also gives 401")
        return "check the project secret (MP_SECRET), or use a service account"
    if status == 402:
        return "the project's Mixpanel plan does not include this API"
    if status == 403:
        return (f"the service account lacks a role with access to project {pid}; grant it "
                f"one in Organization Settings → Service Accounts" if sa else
                "the credentials lack permission for this project")
    if status == 404:
        return ("check the region (MP_REGION / --region: us, eu, in) and the project_id; "
                f"requested {call.url}")
    if status == 429:
        return ("Mixpanel kept answering 429 after every retry; lower the Limits (or wait "
                "for the hourly budget to recover) — another client may share the project's quota")
    return "Mixpanel had a server-side problem that persisted through every retry; try later"


class Transport:
    """Sends ``Call``s with one shared pacer, retry policy and credentials."""

    def __init__(
        self,
        credentials: Credentials | None,
        *,
        pacer: Pacer,
        retry: RetryPolicy,
        timeout: float | tuple[float, float],
        stats: Stats,
        stop: threading.Event,
        sleep: Callable[[float], None] | None = None,
        deadline_at: float | None = None,
    ) -> None:
        self.credentials = credentials
        self.secrets = credentials.secrets() if credentials else ()
        self.pacer = pacer
        self.retry = retry
        self.timeout = timeout
        self.stats = stats
        self.stop = stop
        self._sleep = self._interruptible(sleep)
        self.deadline_at = deadline_at
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _interruptible(self, sleep: Callable[[float], None] | None) -> Callable[[float], None]:
        """A sleep that ends early, raising ``Cancelled``, once the run is stopped — so no
        worker keeps backing off (or spinning in the pacer) after the run failed."""
        stop = self.stop

        def wait(seconds: float) -> None:
            if sleep is None:
                stopped = stop.wait(seconds)
            else:
                sleep(seconds)
                stopped = stop.is_set()
            if stopped:
                raise Cancelled("cancelled")

        return wait

    def session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.trust_env = False  # no proxies/.netrc: the credentials are ours alone
            s.headers["User-Agent"] = USER_AGENT
            s.headers["Accept-Encoding"] = "gzip"
            if self.credentials is not None:
                s.headers["Authorization"] = self.credentials.authorization()
            self._local.session = s
            with self._lock:
                self._sessions.append(s)
        return s

    def close(self) -> None:
        with self._lock:
            for s in self._sessions:
                s.close()
            self._sessions.clear()

    def _check(self, call: Call, wait: float = 0.0) -> None:
        if self.stop.is_set():
            raise Cancelled("cancelled")
        if self.deadline_at is not None and time.monotonic() + wait > self.deadline_at:
            raise DeadlineExceeded(
                f"the run's deadline passed while retrying {call.describe(self.secrets)}; "
                f"raise RetryPolicy(deadline=…) or narrow the query")

    def send(self, call: Call, consume: Callable[[requests.Response], Any]) -> Any:
        attempt = 0
        while True:
            self._check(call)
            error: ExecutionError
            retry_after = None
            headers = {}
            if call.body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            with self.pacer.slot(call.rate_class, call.counted, sleep=self._sleep):
                self._check(call)
                self.stats.add(requests=1)
                try:
                    resp = self.session().request(
                        call.method, call.url, data=call.body, headers=headers,
                        stream=True, timeout=self.timeout, allow_redirects=False)
                except requests.Timeout:
                    error = TransportError(
                        f"{call.describe(self.secrets)}: no response within the timeout")
                except (requests.RequestException, urllib3.exceptions.HTTPError,
                        OSError) as exc:
                    error = TransportError(
                        f"{call.describe(self.secrets)}: connection failed "
                        f"({type(exc).__name__})")
                else:
                    with resp:
                        self.stats.saw(resp.status_code)
                        if resp.status_code == 200:
                            try:
                                return consume(resp)
                            except StreamBroken as exc:
                                error = exc
                            except (requests.RequestException, urllib3.exceptions.HTTPError,
                                    OSError, zlib.error) as exc:
                                error = StreamBroken(
                                    f"{call.describe(self.secrets)}: the response body broke "
                                    f"off ({type(exc).__name__}); retrying the whole request")
                        else:
                            error, retry_after = self._status_error(call, resp)
            attempt += 1
            if attempt >= self.retry.max_attempts:
                if isinstance(error, ApiError):
                    raise error
                raise TransportError(
                    f"{redact(str(error), self.secrets)} — gave up after {attempt} attempts")
            wait = self.retry.backoff(attempt - 1, retry_after)
            self._check(call, wait)
            self.stats.add(retries=1)
            reason = (f"HTTP {error.status}: {error.message}" if isinstance(error, ApiError)
                      else str(error))
            log.warning("retry %d/%d in %.1fs (%s): %s", attempt, self.retry.max_attempts - 1,
                        wait, call.label or call.url, redact(reason, self.secrets))
            self._sleep(wait)

    def _status_error(self, call: Call, resp: requests.Response):
        status = resp.status_code
        try:
            body = resp.raw.read(1 << 16, decode_content=True) or b""
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, zlib.error):
            body = b""
        message = redact(_error_message(status, body), self.secrets)
        retryable = status in self.retry.statuses
        cls = _ERRORS.get(status) or (ServerError if status >= 500 else ApiError)
        error = cls(message, status=status, request=call.describe(self.secrets),
                    advice=_advice(status, message, self.credentials, call))
        if not retryable:
            raise error
        return error, parse_retry_after(resp.headers.get("Retry-After"))

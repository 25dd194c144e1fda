"""``Client``: runs a ``Plan`` against Mixpanel (or the sandbox) and delivers its records.

A plan step expands into *units* — one export date chunk (per id batch) or one engage page —
each fetched by ``Transport.send`` into a private spool (a temporary file that stays in memory
up to 1 MiB). Units are fetched in parallel where the limits allow but committed strictly in
plan order, and only once complete: so a retried unit can never lose or duplicate a record, and
the output is the same whatever the timing (the basis of ``--resume``, see ``_output``).

The concrete requests of a step come from the planner's ``expand(step, ids)`` — the single
implementation of date chunking, encoding and the id strategies (ids spliced into ``where``,
in batches, or a local ``keep`` filter); this module runs them. Ids a step produces for a
later one are collected from its records. A step's ``client_filter`` expression is applied
with the evaluator's ``compile_predicate``; ``Step.limit`` caps the records in total.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import math
import queue
import tempfile
import urllib.parse
import threading
import time
from concurrent.futures import Future
from typing import IO, Any, BinaryIO, Callable, Iterable, Iterator

import attrs

from mpql.errors import ConfigError, ExecutionError, PlanError, TransportError

from ._auth import Credentials, region_from_env
from ._jsonl import LineSplitter, StreamBroken, check_line, dedupe_key
from ._output import FileSink, StreamSink
from ._pacer import Limits, Pacer
from ._retry import RetryPolicy
# The planner's encoder, the one place bytes on the wire are decided: parameters the executor
# adds (project_id, workspace_id, page, session_id) are encoded exactly like the plan's.
from ..planner.encode import encode_params
from ._transport import Call, Stats, Transport, body_chunks

__all__ = ["Client", "RunResult"]

SPOOL_IN_MEMORY = 1 << 20
DEFAULT_PAGE_SIZE = 1000


@attrs.define
class Unit:
    """A completed unit: its records as JSONL bytes in ``spool``."""

    key: str
    spool: IO[bytes] | None
    records: int = 0
    nbytes: int = 0
    extra: dict = attrs.field(factory=dict)  # engage: page_size, session_id, total

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None

    def lines(self) -> Iterator[bytes]:
        assert self.spool is not None
        self.spool.seek(0)
        for line in self.spool:
            yield line


@attrs.frozen
class RunResult:
    """Summary of a finished run (``Client.write``)."""

    records: int
    bytes: int
    units: int
    resumed_units: int
    requests: int
    retries: int
    seconds: float
    statuses: dict


def _fingerprint(plan: Any, **options: Any) -> str:
    # The plan's credentials (Plan.auth) are not part of what it asks for: a resumed run may
    # bring the same credentials in another form (env instead of code).
    data = attrs.asdict(plan, recurse=True, filter=lambda a, _: a.name != "auth") \
        if attrs.has(type(plan)) else repr(plan)
    text = json.dumps({"plan": data, "options": options}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _cap(plan, limit: int | None) -> int | None:
    """The overall record cap: the caller's, or the plan's output steps' ``limit``."""
    caps = [s.limit for s in plan.steps if s.output and getattr(s, "limit", None) is not None]
    if limit is not None:
        caps.append(limit)
    return min(caps) if caps else None


def _decode(line: bytes) -> Any:
    """A spooled export line as a record. Lines were checked as they arrived, but the cheap
    check accepts anything between braces, so a line Mixpanel sent broken inside is caught
    here as a TransportError, never as a bare JSON error."""
    try:
        return json.loads(line)
    except ValueError:
        raise TransportError(f"an export line is not valid JSON ({len(line)} bytes, starting "
                             f"{line[:40]!r})") from None


def _record_id(record: dict, field: str):
    """The consumed field of a record, for both shapes Mixpanel returns."""
    if field in record:
        return record[field]
    props = record.get("properties") or record.get("$properties") or {}
    if field in props:
        return props[field]
    if field == "$distinct_id":
        return props.get("distinct_id")
    return None


def _close_unit(fut: Future) -> None:
    if not fut.cancelled() and fut.exception() is None:
        fut.result().close()


class _DaemonPool:
    """A minimal thread pool whose threads are daemons.

    ``ThreadPoolExecutor`` threads are joined at interpreter exit, so a worker blocked in a
    slow socket read (up to the read timeout) would keep Ctrl-C or an error from ending the
    process. Here a stopped run gives its workers a moment to notice, then leaves them."""

    def __init__(self, workers: int) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._loop, name=f"mpql-fetch-{n}",
                                          daemon=True) for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable, item: Any) -> Future:
        fut: Future = Future()
        self._jobs.put((fut, fn, item))
        return fut

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fut, fn, item = job
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(item))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller via the future
                fut.set_exception(exc)

    def shutdown(self, timeout: float) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        end = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))


class _Run:
    """State of one execution of a plan."""

    def __init__(self, client: "Client", plan, *, dedupe: bool, skip: Iterable[str] = ()):
        self.client = client
        self.plan = plan
        self.credentials = client._credentials_for(plan)
        self.dedupe = dedupe
        self.skip = set(skip)
        self.stop = threading.Event()
        self.stats = Stats()
        retry = client.retry
        deadline_at = None if retry.deadline is None else time.monotonic() + retry.deadline
        self.transport = Transport(
            self.credentials, pacer=client.pacer, retry=retry, timeout=client.timeout,
            stats=self.stats, stop=self.stop, sleep=client._sleep, deadline_at=deadline_at)
        self._predicates: dict[int, Callable[[dict], bool]] = {}

    # -- helpers -------------------------------------------------------------------------

    def rebase(self, url: str) -> str:
        """``url`` sent to ``base_url`` instead of Mixpanel's host (same path and query)."""
        base = self.client.base_url
        if not base:
            return url
        parts = urllib.parse.urlsplit(url)
        return base + parts.path + (f"?{parts.query}" if parts.query else "")

    def with_identity(self, url: str) -> str:
        """Add ``project_id`` (and ``workspace_id``) from the credentials when the plan was
        made without them: Mixpanel rejects service-account requests that lack it."""
        creds = self.credentials
        if creds is None or creds.kind != "service_account":
            return url
        query = urllib.parse.urlsplit(url).query
        names = {k for k, _ in urllib.parse.parse_qsl(query, keep_blank_values=True)}
        extra = {}
        if "project_id" not in names and creds.project_id:
            extra["project_id"] = creds.project_id
        if "workspace_id" not in names and creds.workspace_id:
            extra["workspace_id"] = creds.workspace_id
        if not extra:
            return url
        return url + ("&" if query else "?") + encode_params(extra)

    def call(self, step, request, *, label: str, counted: bool = True, extra=None) -> Call:
        url = self.with_identity(self.rebase(request.url))
        body = request.body
        if extra:
            if body is not None:
                body = (body + "&" if body else "") + encode_params(extra)
            else:
                url += ("&" if "?" in url else "?") + encode_params(extra)
        rate = step.rate_class or ("export" if step.endpoint == "export" else "query")
        return Call(request.method, url, body, rate_class=rate, counted=counted, label=label)

    def predicate(self, index: int, step) -> Callable[[dict], bool] | None:
        if not step.client_filter:
            return None
        if index not in self._predicates:
            from mpql.evaluator import compile_predicate

            scope = "profiles" if step.endpoint == "engage" else "events"
            self._predicates[index] = compile_predicate(step.client_filter, scope=scope)
        return self._predicates[index]

    def spool(self) -> IO[bytes]:
        return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, dir=self.client.spool_dir)

    def ordered(self, fn: Callable[[Any], Unit], items: Iterable, workers: int) -> Iterator[Unit]:
        """``map(fn, items)`` with up to ``workers`` in flight, results in input order."""
        if workers <= 1:
            for item in items:
                yield fn(item)
            return
        pool = _DaemonPool(workers)
        pending: collections.deque = collections.deque()
        it = iter(items)
        try:
            for item in itertools.islice(it, workers * 2):
                pending.append(pool.submit(fn, item))
            while pending:
                unit = pending.popleft().result()
                for item in itertools.islice(it, 1):
                    pending.append(pool.submit(fn, item))
                yield unit
        finally:
            if pending:  # stopped early or failed: stop the others, free their spools
                self.stop.set()
                for fut in pending:
                    fut.cancel()
                    fut.add_done_callback(_close_unit)
            pool.shutdown(timeout=1.0)

    # -- record filtering -------------------------------------------------------------------

    def filters(self, index: int, step, keep_ids: Callable[[dict], bool] | None):
        """A factory of per-unit record filters (dedupe state is per unit: duplicates share
        their ``time``, hence their date chunk), or None when every record is kept."""
        pred = self.predicate(index, step)
        dedupe = self.dedupe and step.endpoint == "export"
        if pred is None and keep_ids is None and not dedupe:
            return None

        def make():
            seen: set = set()

            def keep(record: dict) -> bool:
                if keep_ids is not None and not keep_ids(record):
                    return False
                if pred is not None and not pred(record):
                    return False
                if dedupe:
                    key = dedupe_key(record)
                    if key in seen:
                        return False
                    seen.add(key)
                return True

            return keep

        return make

    # -- export ------------------------------------------------------------------------------

    def fetch_export(self, call: Call, make_keep) -> Unit:
        def consume(resp) -> Unit:
            spool = self.spool()
            try:
                return self._read_export(resp, spool, call.label, make_keep)
            except BaseException:
                spool.close()
                raise

        return self.transport.send(call, consume)

    def _read_export(self, resp, spool, key, make_keep) -> Unit:
        keep = make_keep() if make_keep else None
        parse = keep is not None
        splitter = LineSplitter()
        records = 0

        def write(data) -> None:
            try:
                spool.write(data)
            except OSError as exc:  # the temporary directory is full: not worth a retry
                raise ExecutionError(
                    f"{key}: cannot buffer the chunk in a temporary file ({exc.strerror or exc})"
                    f"; free space in {tempfile.gettempdir()} (or set TMPDIR)") from None

        def slow(lines) -> None:
            """Line by line: parses when filtering, normalises ``\r\n`` and blank lines,
            and raises ``StreamBroken`` for the sentinel or a broken record."""
            nonlocal records
            out = []
            for line in lines:
                if not line or line == b"\r":
                    continue
                record = check_line(line, parse=parse)
                if keep is not None and not keep(record):
                    continue
                out.append(line[:-1] if line.endswith(b"\r") else line)
            if out:
                records += len(out)
                write(b"\n".join(out) + b"\n")

        for data in body_chunks(resp, self.stop):
            self.stats.add(bytes=len(data))  # live, for the progress line
            if keep is not None:
                slow(splitter.feed(data))
                continue
            # Fast path, no JSON parsing and no copy of the data written: the complete lines
            # (the buffered tail + `data` up to its last newline) are accepted as they are when
            # every line starts with `{` and ends with `}` (a first/last byte test per line —
            # measured faster than counting `}\n{` in C, which scans the bytes twice). Anything
            # else (CRLF, blank lines, the sentinel, a split record) takes the slow path, which
            # says exactly what is wrong.
            cut = data.rfind(b"\n") + 1
            tail = splitter.close()
            if not cut:
                splitter.feed(tail + data)  # no complete line yet
                continue
            lines = data[:cut - 1].split(b"\n")
            if tail:
                lines[0] = tail + lines[0]
            for line in lines:
                if line[:1] != b"{" or line[-1:] != b"}":
                    slow(lines)
                    break
            else:
                if tail:
                    write(tail)
                write(memoryview(data)[:cut] if cut < len(data) else data)
                records += len(lines)
            splitter.feed(data[cut:])
        tail = splitter.close()
        if tail.strip():
            record = check_line(tail, last=True)
            if self.client.require_final_newline:
                # Mixpanel ends every line with \n: a complete record without it is a body
                # cut at a record boundary, whatever the HTTP framing says (docs/executor.md).
                raise StreamBroken(
                    f"the export stream's last line is a complete record ({len(tail)} bytes) "
                    f"without a final newline: the body was cut at a record boundary; the "
                    f"chunk will be retried (Client(require_final_newline=False) accepts it)")
            if keep is None or keep(record):
                records += 1
                write(tail.rstrip(b"\r") + b"\n")
        return Unit(key, spool, records, spool.tell())

    def export_units(self, index: int, step, ids: dict) -> Iterator[Unit]:
        from mpql.planner import expand

        expansion = expand(step, ids)
        make = self.filters(index, step, expansion.keep)
        units = []
        for request in expansion.requests:
            chunk = "..".join(request.chunk) if request.chunk else "all"
            digest = hashlib.sha1(f"{request.url}\n{request.body}".encode()).hexdigest()[:10]
            key = f"s{index}:{chunk}:{digest}"
            units.append(self.call(step, request, label=key))
        with self.stats.lock:
            self.stats.units_total = (self.stats.units_total or 0) + len(units)

        def fetch(call: Call) -> Unit:
            if call.label in self.skip:
                return Unit(call.label, None)
            return self.fetch_export(call, make)

        limits = self.client.limits
        workers = max(1, min(limits.workers, limits.export_concurrency))
        yield from self.ordered(fetch, units, workers)

    # -- engage ------------------------------------------------------------------------------

    def fetch_page(self, step, request, page: int, session_id, make_keep, key: str) -> Unit:
        extra = {"page": page, "session_id": session_id} if page > 0 else None
        call = self.call(step, request, label=key, counted=page == 0, extra=extra)

        def consume(resp) -> Unit:
            body = b"".join(body_chunks(resp, self.stop))
            try:
                data = json.loads(body)
                results = data["results"]
                if not isinstance(results, list):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise StreamBroken(f"{key}: the engage response is not complete JSON with a "
                                   f"`results` list ({len(body)} bytes)") from None
            keep = make_keep() if make_keep else None
            spool = self.spool()
            n = 0
            for record in results:
                if keep is not None and not keep(record):
                    continue
                spool.write(json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                            .encode() + b"\n")
                n += 1
            self.stats.add(bytes=len(body))
            return Unit(key, spool, n, spool.tell(), extra={
                "count": len(results), "page_size": data.get("page_size"),
                "session_id": data.get("session_id"), "total": data.get("total")})

        return self.transport.send(call, consume)

    def engage_units(self, index: int, step, ids: dict) -> Iterator[Unit]:
        from mpql.planner import expand

        if step.inputs or step.consumes is not None:
            raise PlanError(f"step {index + 1}: an engage step cannot consume ids")
        params = {k: v for k, v in step.params.items() if k not in ("page", "session_id")}
        expansion = expand(attrs.evolve(step, params=params), ids)
        for n, request in enumerate(expansion.requests):
            yield from self._engage_pages(index, step, request, f"s{index}:r{n}:")

    def _engage_pages(self, index, step, request, prefix) -> Iterator[Unit]:
        make = self.filters(index, step, None)
        first = self.fetch_page(step, request, 0, None, make, f"{prefix}p0")
        page_size = first.extra["page_size"] or DEFAULT_PAGE_SIZE
        session_id = first.extra["session_id"]
        total = first.extra["total"]
        full = first.extra["count"] >= page_size and first.extra["count"] > 0
        if first.key in self.skip:
            first.close()
            first = Unit(first.key, None)
        yield first
        if not full:
            return
        if not session_id:
            raise TransportError(f"{prefix}p0: a full engage page came without a session_id; "
                                 f"cannot fetch the next page")

        def fetch(page: int) -> Unit:
            key = f"{prefix}p{page}"
            if key in self.skip:
                return Unit(key, None, extra={"count": page_size})
            return self.fetch_page(step, request, page, session_id, make, key)

        page = 1
        if isinstance(total, int) and total > page_size:
            # `total` lets later pages go in parallel; it is not trusted for termination.
            last_page = math.ceil(total / page_size) - 1
            workers = max(1, self.client.limits.query_concurrency)
            for unit in self.ordered(fetch, range(1, last_page + 1), workers):
                full = unit.extra.get("count", 0) >= page_size
                yield unit
            page = last_page + 1
        while full:
            unit = fetch(page)
            full = unit.extra.get("count", 0) >= page_size
            yield unit
            page += 1

    # -- the plan ------------------------------------------------------------------------

    def units(self) -> Iterator[tuple[int, Unit]]:
        """(step index, unit) for every unit of every step, in plan order. Units of steps whose
        output is consumed by a later step are read here to collect the ids."""
        steps = list(self.plan.steps)
        produced: dict[int, list] = {}
        for index, step in enumerate(steps):
            inputs = list(step.inputs) or ([step.consumes] if step.consumes else [])
            ids = {}
            for c in inputs:
                if c.step not in produced:
                    raise PlanError(f"step {index + 1} consumes step {c.step + 1}, which has "
                                    f"not run before it")
                ids[c.step] = produced[c.step]
            consumers = [c.field for s in steps[index + 1:]
                         for c in (list(s.inputs) or ([s.consumes] if s.consumes else []))
                         if c.step == index]
            if step.endpoint == "export":
                gen = self.export_units(index, step, ids)
            elif step.endpoint == "engage":
                gen = self.engage_units(index, step, ids)
            else:
                raise PlanError(f"step {index}: unknown endpoint {step.endpoint!r}")
            collected: list = []
            seen: set = set()
            for unit in gen:
                if consumers and unit.spool is None and unit.key in self.skip:
                    raise ConfigError("resume: a step whose ids feed a later step was "
                                      "skipped; delete the state file and start over")
                if consumers and unit.spool is not None:
                    for line in unit.lines():
                        value = _record_id(_decode(line), consumers[0])
                        if value is not None and value not in seen:
                            seen.add(value)
                            collected.append(value)
                if step.output:
                    yield index, unit
                else:
                    unit.close()
            produced[index] = collected


class Client:
    """Runs plans against Mixpanel, or against any Mixpanel-compatible server (``base_url``).

    ``auth``: a ``ServiceAccount``/``ProjectSecret`` (or ``Credentials``). Which credentials a
    run uses, first found: this ``auth``; the plan's own (``Query.plan(auth=…)`` keeps it as
    ``plan.auth``); the environment (``MP_USERNAME``/``MP_SECRET``/``MP_PROJECT_ID``). ``region``: us, eu or in (default from
    ``MP_REGION``, else us) — used when this client plans queries (``events``/``profiles``).
    ``base_url``: send every request there instead of Mixpanel's hosts (the sandbox).
    ``timeout``: seconds, or (connect, read). ``retry``: a ``RetryPolicy``. ``limits``:
    ``Limits`` for pacing and parallelism. ``clock``/``sleep``: injectable for tests.
    ``require_final_newline``: an export body whose last record lacks its ``\n`` is truncated
    and retried (the default; Mixpanel terminates every line); False accepts that record.
    """

    def __init__(
        self,
        auth: Any = None,
        region: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | tuple[float, float] = (10.0, 600.0),
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        spool_dir: str | None = None,
        require_final_newline: bool = True,
    ) -> None:
        # Explicit credentials win over a plan's; the environment is the last resort
        # (docs/executor.md, "Credentials").
        self._explicit = auth is not None
        self._credentials = Credentials.from_auth(auth) if auth is not None \
            else Credentials.from_env()
        if region is not None and not isinstance(region, str):
            raise ConfigError(f"region: expected us, eu or in; found {region!r}")
        region = (region or region_from_env() or "us").lower()
        if region not in ("us", "eu", "in"):
            raise ConfigError(f"region: expected us, eu or in; found {region!r}")
        self.region = region
        if base_url:  # checked now: a URL without a scheme would be "retried" for a minute
            from mpql.planner.encode import check_base_url

            base_url = check_base_url(base_url)
        self.base_url = base_url or None
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        if sleep is not None and retry is None:
            self.retry = self.retry.with_(sleep=sleep)
        self.limits = limits or Limits()
        self.pacer = Pacer(self.limits, clock=clock or time.monotonic,
                           sleep=sleep or time.sleep)
        self._sleep = sleep
        self.spool_dir = spool_dir
        self.require_final_newline = require_final_newline
        self.last_stats: Stats | None = None

    def __repr__(self) -> str:
        where = f", base_url={self.base_url!r}" if self.base_url else ""
        return f"Client(region={self.region!r}{where}, auth={self._credentials!r})"

    @property
    def credentials(self) -> Credentials | None:
        return self._credentials

    def _credentials_for(self, plan) -> Credentials | None:
        """The credentials a run of ``plan`` uses: this client's own when given explicitly,
        else the plan's (``plan.auth``), else the environment's."""
        plan_auth = getattr(plan, "auth", None)
        if self._explicit or plan_auth is None:
            return self._credentials
        return Credentials.from_auth(plan_auth)

    def _require_credentials(self, plan) -> None:
        if self._credentials_for(plan) is None and self.base_url is None:
            raise ConfigError(
                "no Mixpanel credentials: set MP_USERNAME, MP_SECRET and MP_PROJECT_ID (service "
                "account), pass auth=ServiceAccount(...), or use the sandbox (base_url=...)")

    # -- running ------------------------------------------------------------------------

    def run(self, plan, *, dedupe: bool = False, limit: int | None = None) -> Iterator[dict]:
        """Yield the plan's output records (dicts) as each unit completes, in plan order."""
        self._require_credentials(plan)
        limit = _cap(plan, limit)
        run = _Run(self, plan, dedupe=dedupe)
        self.last_stats = run.stats
        gen = run.units()
        emitted = 0
        try:
            for _, unit in gen:
                try:
                    for line in unit.lines():
                        if limit is not None and emitted >= limit:
                            return
                        emitted += 1
                        yield _decode(line)
                finally:
                    unit.close()
                run.stats.add(units_done=1, records=unit.records)
        finally:
            gen.close()
            run.stop.set()
            run.transport.close()

    def write(
        self,
        plan,
        out: str | BinaryIO,
        *,
        resume: bool = False,
        dedupe: bool = False,
        limit: int | None = None,
        on_progress: Callable[[Stats], None] | None = None,
    ) -> RunResult:
        """Write the plan's records as JSONL to ``out`` (a path, or a binary stream).

        With a path, a state file next to it allows ``resume=True`` to continue an
        interrupted run; the result is byte-identical to an uninterrupted run.
        """
        self._require_credentials(plan)
        limit = _cap(plan, limit)
        if isinstance(out, str):
            sink: Any = FileSink(out, _fingerprint(plan, dedupe=dedupe, limit=limit),
                                 resume=resume)
        else:
            if resume:
                raise ConfigError("--resume needs an output file (-o FILE), not a stream")
            sink = StreamSink(out)
        run = _Run(self, plan, dedupe=dedupe, skip=sink.resumed_units)
        self.last_stats = run.stats
        run.stats.records = sink.records
        done = sink.records
        gen = run.units()
        ok = False
        ticking = threading.Event()
        if on_progress is not None:  # redraw while a long chunk downloads, not only between
            def tick() -> None:
                while not ticking.wait(0.25):
                    on_progress(run.stats)

            threading.Thread(target=tick, name="mpql-progress", daemon=True).start()
        try:
            for _, unit in gen:
                try:
                    if unit.spool is None:  # committed by an earlier run
                        run.stats.add(units_done=1, units_skipped=1)
                        continue
                    if limit is not None and done + unit.records > limit:
                        unit = self._cut(run, unit, limit - done)
                    sink.commit(unit.key, unit.spool, unit.records)
                    done += unit.records
                    run.stats.add(units_done=1, records=unit.records)
                finally:
                    unit.close()
                if on_progress is not None:
                    on_progress(run.stats)
                if limit is not None and done >= limit:
                    break
            ok = True
        finally:
            ticking.set()
            gen.close()
            run.stop.set()
            run.transport.close()
            if ok:
                sink.finish()
            elif hasattr(sink, "abort"):
                sink.abort()
        s = run.stats
        return RunResult(records=done, bytes=sink.bytes, units=s.units_done,
                         resumed_units=len(sink.resumed_units), requests=s.requests,
                         retries=s.retries, seconds=time.monotonic() - s.started,
                         statuses=dict(s.statuses))

    @staticmethod
    def _cut(run: _Run, unit: Unit, keep: int) -> Unit:
        spool = run.spool()
        for line in itertools.islice(unit.lines(), max(keep, 0)):
            spool.write(line)
        unit.close()
        return Unit(unit.key, spool, max(keep, 0), spool.tell())

    # -- shortcuts ---------------------------------------------------------------------

    def _plan(self, query):
        creds = self._credentials
        auth = creds.planner_auth() if creds is not None else None
        return query.plan(region=self.region, auth=auth)

    def events(self, where=None, from_date=None, to_date=None, *, dedupe: bool = False,
               **options) -> Iterator[dict]:
        """Plan ``Query.events(...)`` for this client's region and run it."""
        from mpql.planner import Query

        query = Query.events(where=where, from_date=from_date, to_date=to_date, **options)
        return self.run(self._plan(query), dedupe=dedupe)

    def profiles(self, where=None, **options) -> Iterator[dict]:
        """Plan ``Query.profiles(...)`` for this client's region and run it."""
        from mpql.planner import Query

        return self.run(self._plan(Query.profiles(where=where, **options)))

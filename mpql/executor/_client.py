"""``Client``: runs a ``Plan`` against Mixpanel (or the sandbox) and delivers its records.

A plan step expands into *units* — one export date chunk (per id batch) or one engage page —
each fetched by ``Transport.send`` into a private spool (a temporary file that stays in memory
up to 1 MiB). Units are fetched in parallel where the limits allow but committed strictly in
plan order, and only once complete: so a retried unit can never lose or duplicate a record, and
the output is the same whatever the timing (the basis of ``--resume``, see ``_output``).

Steps that consume an earlier step's ids (``Consumes``) get them in one of three ways: spliced
into ``where`` in batches (``where-in``), in the ``distinct_ids`` parameter
(``distinct-ids-param``), or by filtering the returned records locally (``client-filter``).
A step's ``client_filter`` expression is applied with the evaluator's ``compile_predicate``.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import itertools
import json
import math
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, BinaryIO, Callable, Iterable, Iterator

import attrs

from mpql.errors import ConfigError, ExecutionError, PlanError, TransportError

from ._auth import Credentials, region_from_env
from ._jsonl import LineSplitter, StreamBroken, check_line, dedupe_key
from ._output import FileSink, StreamSink
from ._pacer import Limits, Pacer
from ._retry import RetryPolicy
from ._transport import Call, Stats, Transport, body_chunks

__all__ = ["Client", "RunResult"]

SPOOL_IN_MEMORY = 1 << 20
DEFAULT_PAGE_SIZE = 1000
DEFAULT_BATCH = 100  # ids per where-in batch when the plan does not say


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
    data = attrs.asdict(plan, recurse=True) if attrs.has(type(plan)) else repr(plan)
    text = json.dumps({"plan": data, "options": options}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _date_chunks(start: str, end: str, chunking: str | None) -> list[tuple[str, str]]:
    try:
        a = dt.date.fromisoformat(str(start))
        b = dt.date.fromisoformat(str(end))
    except ValueError as exc:
        raise PlanError(f"export step: from_date/to_date must be YYYY-MM-DD ({exc})") from None
    if b < a:
        raise PlanError(f"export step: from_date {a} is after to_date {b}")
    if chunking in (None, "", "none"):
        return [(a.isoformat(), b.isoformat())]
    out = []
    cur = a
    while cur <= b:
        if chunking == "day":
            nxt = cur
        elif chunking == "week":
            nxt = cur + dt.timedelta(days=6)
        elif chunking == "month":
            first_next = (cur.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            nxt = first_next - dt.timedelta(days=1)
        else:
            raise PlanError(f"export step: unknown chunking {chunking!r}; expected day, week, "
                            f"month or None")
        nxt = min(nxt, b)
        out.append((cur.isoformat(), nxt.isoformat()))
        cur = nxt + dt.timedelta(days=1)
    return out


def _wire_params(step, params: dict) -> dict:
    """JSON-encode the parameters Mixpanel expects as JSON text (``event``, ``distinct_ids``…)."""
    out = {}
    for k, v in params.items():
        if v is None:
            continue
        if k in step.json_params or isinstance(v, (list, tuple, dict)):
            if not isinstance(v, str):
                v = json.dumps(list(v) if isinstance(v, tuple) else v, ensure_ascii=False,
                               separators=(",", ":"))
        elif isinstance(v, bool):
            v = "true" if v else "false"
        out[k] = v
    return out


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _id_test(ids: list) -> str:
    if not ids:
        return "false"
    items = ", ".join(_quote(i) if isinstance(i, str) else json.dumps(i) for i in ids)
    return f'properties["$distinct_id"] in [{items}]'


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


class _Run:
    """State of one execution of a plan."""

    def __init__(self, client: "Client", plan, *, dedupe: bool, skip: Iterable[str] = ()):
        self.client = client
        self.plan = plan
        self.dedupe = dedupe
        self.skip = set(skip)
        self.stop = threading.Event()
        self.stats = Stats()
        retry = client.retry
        deadline_at = None if retry.deadline is None else time.monotonic() + retry.deadline
        self.transport = Transport(
            client._credentials, pacer=client.pacer, retry=retry, timeout=client.timeout,
            stats=self.stats, stop=self.stop, sleep=client._sleep, deadline_at=deadline_at)
        self._predicates: dict[int, Callable[[dict], bool]] = {}

    # -- helpers -------------------------------------------------------------------------

    def url(self, step) -> str:
        base = self.client.base_url
        if not base:
            return step.url
        import urllib.parse as up

        path = up.urlsplit(step.url).path
        return base + path

    def query_params(self, step, params: dict) -> tuple[dict, dict | None]:
        """Split params into (URL query, form body) per the step's encoding; add project_id."""
        creds = self.client._credentials
        ident = {}
        pid = params.pop("project_id", None) or self.plan.project_id
        if pid is None and creds is not None and creds.kind == "service_account":
            pid = creds.project_id
        if pid is not None:
            ident["project_id"] = pid
        wid = params.pop("workspace_id", None) or (creds.workspace_id if creds else None)
        if wid is not None:
            ident["workspace_id"] = wid
        wire = _wire_params(step, params)
        if step.encoding == "form":
            return ident, wire
        return {**ident, **wire}, None

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
        pool = ThreadPoolExecutor(workers, thread_name_prefix="mpql-fetch")
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
            pool.shutdown(wait=True, cancel_futures=True)
            for fut in pending:
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    fut.result().close()

    # -- record filtering -------------------------------------------------------------------

    def filters(self, index: int, step, ids: set | None):
        pred = self.predicate(index, step)
        field = step.consumes.field if step.consumes else "$distinct_id"
        dedupe = self.dedupe and step.endpoint == "export"
        if pred is None and ids is None and not dedupe:
            return None

        def make():
            seen: set = set()

            def keep(record: dict) -> bool:
                if ids is not None and _record_id(record, field) not in ids:
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

    def fetch_export(self, index: int, step, key: str, params: dict, make_keep) -> Unit:
        query, form = self.query_params(step, dict(params))
        call = Call(step.method or "GET", self.url(step), query, form,
                    rate_class=step.rate_class or "export", label=key)

        def consume(resp) -> Unit:
            spool = self.spool()
            try:
                return self._read_export(resp, spool, key, make_keep)
            except BaseException:
                spool.close()
                raise

        return self.transport.send(call, consume)

    def _read_export(self, resp, spool, key, make_keep) -> Unit:
        keep = make_keep() if make_keep else None
        parse = keep is not None
        splitter = LineSplitter()
        records = 0
        nbytes = 0
        write = spool.write
        for data in body_chunks(resp, self.stop):
            nbytes += len(data)
            lines = splitter.feed(data)
            if not lines:
                continue
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
        tail = splitter.close()
        if tail.strip():
            record = check_line(tail, last=True)
            if keep is None or keep(record):
                records += 1
                write(tail.rstrip(b"\r") + b"\n")
        self.stats.add(bytes=nbytes)
        return Unit(key, spool, records, spool.tell())

    def export_units(self, index: int, step, ids: list | None) -> Iterator[Unit]:
        params = dict(step.params)
        chunks = _date_chunks(params.pop("from_date", None), params.pop("to_date", None),
                              step.chunking)
        batches: list[tuple[str, dict, set | None]] = []
        cons = step.consumes
        if cons is None:
            batches.append(("", params, None))
        elif cons.strategy == "where-in":
            where = params.get("where") or ""
            placeholder = cons.placeholder
            if not placeholder or placeholder not in where:
                raise PlanError(f"step {index}: where-in needs the placeholder "
                                f"{placeholder!r} in `where`, found {where!r}")
            size = cons.batch_size or DEFAULT_BATCH
            if not ids and where.strip() == placeholder:
                return  # nothing can match: no requests at all
            groups = [ids[i:i + size] for i in range(0, len(ids), size)] or [[]]
            for n, group in enumerate(groups):
                digest = hashlib.sha1(json.dumps(group).encode()).hexdigest()[:8]
                p = dict(params, where=where.replace(placeholder, _id_test(group)))
                batches.append((f"b{n}.{digest}:", p, None))
        elif cons.strategy == "client-filter":
            where = params.get("where")
            if cons.placeholder and where and cons.placeholder in where:
                if where.strip() != cons.placeholder:
                    raise PlanError(f"step {index}: client-filter with the placeholder inside "
                                    f"a larger `where` is not supported: {where!r}")
                params.pop("where")
            batches.append(("", params, set(ids or ())))
        else:
            raise PlanError(f"step {index}: export cannot consume ids with strategy "
                            f"{cons.strategy!r}; expected where-in or client-filter")
        units = []
        for prefix, p, idset in batches:
            for a, b in chunks:
                units.append((f"s{index}:{prefix}{a}..{b}", dict(p, from_date=a, to_date=b),
                              idset))
        with self.stats.lock:
            self.stats.units_total = (self.stats.units_total or 0) + len(units)
        make_plain = self.filters(index, step, None)

        def fetch(item) -> Unit:
            key, p, idset = item
            if key in self.skip:
                return Unit(key, None)
            make = self.filters(index, step, idset) if idset is not None else make_plain
            return self.fetch_export(index, step, key, p, make)

        limits = self.client.limits
        workers = max(1, min(limits.workers, limits.export_concurrency))
        yield from self.ordered(fetch, units, workers)

    # -- engage ------------------------------------------------------------------------------

    def fetch_page(self, index: int, step, params: dict, page: int, session_id, make_keep,
                   key: str) -> Unit:
        p = dict(params)
        if page > 0:
            p["page"] = page
            p["session_id"] = session_id
        query, form = self.query_params(step, p)
        call = Call(step.method or "POST", self.url(step), query, form,
                    rate_class=step.rate_class or "query", counted=page == 0, label=key)

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

    def engage_units(self, index: int, step, ids: list | None) -> Iterator[Unit]:
        params = dict(step.params)
        params.pop("page", None)
        params.pop("session_id", None)
        cons = step.consumes
        idset = None
        if cons is not None:
            if cons.strategy == "distinct-ids-param":
                if not ids:
                    return
                size = cons.batch_size or 2000
                for n in range(0, len(ids), size):
                    p = dict(params, distinct_ids=list(ids[n:n + size]))
                    yield from self._engage_pages(index, step, p, f"s{index}:b{n // size}:",
                                                  None)
                return
            if cons.strategy == "client-filter":
                idset = set(ids or ())
            elif cons.strategy == "where-in":
                where = params.get("where") or ""
                if not cons.placeholder or cons.placeholder not in where:
                    raise PlanError(f"step {index}: where-in needs the placeholder in `where`")
                params["where"] = where.replace(cons.placeholder, _id_test(list(ids or ())))
            else:
                raise PlanError(f"step {index}: unknown consumes strategy {cons.strategy!r}")
        yield from self._engage_pages(index, step, params, f"s{index}:", idset)

    def _engage_pages(self, index, step, params, prefix, idset) -> Iterator[Unit]:
        make = self.filters(index, step, idset)
        first = self.fetch_page(index, step, params, 0, None, make, f"{prefix}p0")
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
            return self.fetch_page(index, step, params, page, session_id, make, key)

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
            ids = None
            if step.consumes is not None:
                if step.consumes.step not in produced:
                    raise PlanError(f"step {index} consumes step {step.consumes.step}, which "
                                    f"has not run before it")
                ids = produced[step.consumes.step]
            consumers = [s.consumes.field for s in steps[index + 1:]
                         if s.consumes is not None and s.consumes.step == index]
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
                        value = _record_id(json.loads(line), consumers[0])
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

    ``auth``: a ``ServiceAccount``/``ProjectSecret`` (or ``Credentials``); ``None`` reads
    ``MP_USERNAME``/``MP_SECRET``/``MP_PROJECT_ID``. ``region``: us, eu or in (default from
    ``MP_REGION``, else us) — used when this client plans queries (``events``/``profiles``).
    ``base_url``: send every request there instead of Mixpanel's hosts (the sandbox).
    ``timeout``: seconds, or (connect, read). ``retry``: a ``RetryPolicy``. ``limits``:
    ``Limits`` for pacing and parallelism. ``clock``/``sleep``: injectable for tests.
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
    ) -> None:
        self._credentials = Credentials.from_auth(auth) if auth is not None \
            else Credentials.from_env()
        region = (region or region_from_env() or "us").lower()
        if region not in ("us", "eu", "in"):
            raise ConfigError(f"region: expected us, eu or in; found {region!r}")
        self.region = region
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        if sleep is not None and retry is None:
            self.retry = self.retry.with_(sleep=sleep)
        self.limits = limits or Limits()
        self.pacer = Pacer(self.limits, clock=clock or time.monotonic,
                           sleep=sleep or time.sleep)
        self._sleep = sleep
        self.spool_dir = spool_dir
        self.last_stats: Stats | None = None

    def __repr__(self) -> str:
        where = f", base_url={self.base_url!r}" if self.base_url else ""
        return f"Client(region={self.region!r}{where}, auth={self._credentials!r})"

    @property
    def credentials(self) -> Credentials | None:
        return self._credentials

    def _require_credentials(self) -> None:
        if self._credentials is None and self.base_url is None:
            raise ConfigError(
                "no Mixpanel credentials: set MP_USERNAME, MP_SECRET and MP_PROJECT_ID (service "
                "account), pass auth=ServiceAccount(...), or use the sandbox (base_url=...)")

    # -- running ------------------------------------------------------------------------

    def run(self, plan, *, dedupe: bool = False, limit: int | None = None) -> Iterator[dict]:
        """Yield the plan's output records (dicts) as each unit completes, in plan order."""
        self._require_credentials()
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
                        yield json.loads(line)
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
        self._require_credentials()
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
        try:
            for _, unit in gen:
                try:
                    if unit.spool is None:  # committed by an earlier run
                        run.stats.add(units_done=1)
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
        from mpql.planner import ProjectSecret, ServiceAccount

        creds = self._credentials
        auth = None
        if creds is not None:
            auth = ServiceAccount(creds.username, creds.secret, creds.project_id,
                                  workspace_id=creds.workspace_id) \
                if creds.kind == "service_account" else ProjectSecret(creds.secret)
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

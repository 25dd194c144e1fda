"""The sandbox's Query API endpoints other than ``/engage``: metadata and saved funnels.

Each endpoint is a function ``(ctx, params) -> JSON value``: ``params`` are the request's merged
HTTP parameters (strings, as the server received them) and ``ctx`` the sandbox (its dataset,
clock and timezone). The HTTP server calls these, and ``Sandbox.query(endpoint, **params)``
calls the very same functions locally — so a test can ask "what will the server answer?"
without HTTP, and the two can never disagree on parameter handling.

Served here (Mixpanel's parameter names, defaults and response shapes, from the Query API
reference — https://docs.mixpanel.com/reference/query-events-top-properties and its
neighbours; docs/sandbox.md has the details and every UNCONFIRMED choice):

    events/names               type, limit (255)        → ["Page Viewed", …]
    events/properties/top      event, limit (10)        → {"$os": {"count": 3155}, …}
    events/properties/values   event, name, limit (255) → ["Chrome", "Safari", …]
    funnels/list               —                        → [{"funnel_id": 1, "name": …}, …]

Bad parameters raise ``QueryParamError`` (the server's 400 with Mixpanel's error body).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ENDPOINTS", "QueryParamError", "answer", "metadata_window", "render_value"]

#: Mixpanel's /events/names is "the most common events over the last 31 days"; the sandbox uses
#: the same window (ending on the sandbox's today) for the two property endpoints too, whose
#: window Mixpanel does not document (UNCONFIRMED).
WINDOW_DAYS = 31
MAX_LIMIT = 10_000
TYPES = ("general", "unique", "average")


class QueryParamError(Exception):
    """A bad parameter: the server answers 400 ``{"request", "error": message}``."""

    def __init__(self, message: str, status: int = 400, *, plain: bool = False) -> None:
        super().__init__(message)
        self.message, self.status, self.plain = message, status, plain


# -- parameter helpers ---------------------------------------------------------------------------


def param_int(params: Mapping[str, str], name: str, default: int | None, *, low: int = 1,
              high: int = MAX_LIMIT) -> int | None:
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.lstrip("-").isdigit()):
        raise QueryParamError(f"{name} must be an integer from {low} to {high}, found {raw!r}")
    value = int(text)
    if not low <= value <= high:
        raise QueryParamError(f"{name} must be an integer from {low} to {high}, found {value}")
    return value


def param_required(params: Mapping[str, str], name: str, example: str) -> str:
    raw = params.get(name)
    if raw is None or raw == "":
        raise QueryParamError(f"{name} is required, e.g. {name}={example}")
    return raw


def param_choice(params: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise QueryParamError(f"{name} must be one of {', '.join(choices)}; found {raw!r}")
    return raw


def single_event(params: Mapping[str, str], param: str = "event") -> str:
    """``event`` on the property and aggregate endpoints is ONE name (Mixpanel's docs: "not an
    array"). A JSON array — /export's form — is refused with that advice rather than looked
    up as a literal name that matches nothing (what Mixpanel does with it is UNCONFIRMED)."""
    name = param_required(params, param, "Purchase")
    if name.startswith("[") and name.endswith("]"):
        try:
            json.loads(name)
        except ValueError:
            return name
        raise QueryParamError(f"{param} must be a single event name (not a JSON array) on this "
                              f"endpoint, found {name[:80]!r}")
    return name


# -- the data behind the metadata endpoints ------------------------------------------------------


def metadata_window(ctx) -> tuple[dt.date, dt.date]:
    """The days the metadata endpoints look at: the 31 days ending on the sandbox's today."""
    today = ctx.today()
    return today - dt.timedelta(days=WINDOW_DAYS - 1), today


class _Summary:
    """Per event of a date window: event count, distinct users, and per property the number
    of events that carry it — over deduplicated events, like every Query API answer (only
    /export sends duplicates). Computed once per window and cached on the sandbox."""

    def __init__(self, ds, first: dt.date, last: dt.date) -> None:
        self.counts: Counter = Counter()
        self.users: dict[str, set] = defaultdict(set)
        self.props: dict[str, Counter] = defaultdict(Counter)
        for record in deduplicated(iter_events(ds, first, last)):
            name = record.get("event")
            if not isinstance(name, str):
                continue
            props = record.get("properties")
            props = props if isinstance(props, dict) else {}
            self.counts[name] += 1
            self.users[name].add(json.dumps(props.get("distinct_id")))
            self.props[name].update(props.keys())


_SUMMARY_LOCK = threading.Lock()


def _summary(ctx) -> _Summary:
    first, last = metadata_window(ctx)
    key = (id(ctx.dataset), first, last)
    cache = ctx.__dict__.setdefault("_metadata_cache", {})
    with _SUMMARY_LOCK:
        if key not in cache:
            cache.clear()  # one window at a time: the clock moves forward, old ones are stale
            cache[key] = _Summary(ctx.dataset, first, last)
        return cache[key]


def iter_events(ds, first: dt.date, last: dt.date, names: set | None = None):
    """Parsed export records of ``first..last`` (optionally only these event names)."""
    from ._data import _load_event, _read_line_blocks, event_name_of

    for path in ds.day_files(first, last):
        for block in _read_line_blocks(path, 1 << 18):
            for line in block.split(b"\n"):
                if not line:
                    continue
                if names is not None and event_name_of(line) not in names:
                    continue
                yield _load_event(line, path)


def deduplicated(records):
    """Records minus Mixpanel-duplicates (same event, distinct_id, time and ``$insert_id``):
    Mixpanel's reports deduplicate at query time, ``/export`` does not
    (https://docs.mixpanel.com/reference/event-deduplication). Duplicates share their time,
    hence their day: the key set is kept for one day at a time."""
    from ..executor._jsonl import dedupe_key

    seen: set = set()
    day = None
    for record in records:
        t = (record.get("properties") or {}).get("time")
        this_day = t // 86400 if isinstance(t, (int, float)) else None
        if this_day != day:
            seen.clear()
            day = this_day
        key = dedupe_key(record)
        if key in seen:
            continue
        seen.add(key)
        yield record


def _event_names(endpoint: str, query: Mapping[str, str], ds) -> set | None:
    """The event names an aggregate can count (None: any), so the scan skips other lines
    without parsing them — as export's ``event`` filter does. Only a hint: the aggregate
    itself still selects by name, and reports bad parameters."""
    if endpoint.startswith("segmentation"):
        return {query["event"]} if query.get("event") else None
    if endpoint == "retention/addiction":
        return {query["event"]} if query.get("event") else None
    if endpoint == "retention":
        if not query.get("event"):
            return None  # returns are "any event"
        born = query.get("born_event")
        return {query["event"]} | ({born} if born else set())
    if endpoint == "funnels":
        raw = (query.get("funnel_id") or "").strip()
        funnel = ds.funnels.get(int(raw)) if raw.isascii() and raw.isdigit() else None
        if funnel is None:
            return None
        return {step if isinstance(step, str) else step.get("event")
                for step in funnel.get("steps") or ()}
    return None


def render_value(value: Any) -> str:
    """A property value as /events/properties/values lists it: Mixpanel documents the items
    as strings. Strings are themselves; other values are their JSON text (``12.5``, ``true``,
    ``["a", "b"]``) — how Mixpanel renders non-strings is UNCONFIRMED."""
    if isinstance(value, str):
        return value
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)  # what json.dumps writes, without its overhead
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _ranked(counter: Mapping[str, float], limit: int) -> list[str]:
    """Keys by count (highest first), ties by name: a stable order for tests and users."""
    return [k for k, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


# -- endpoints -------------------------------------------------------------------------------------


def events_names(ctx, params: Mapping[str, str]) -> list[str]:
    kind = param_choice(params, "type", TYPES, "general")
    limit = param_int(params, "limit", 255)
    s = _summary(ctx)
    if kind == "general":
        score: Mapping[str, float] = s.counts
    elif kind == "unique":
        score = {k: len(v) for k, v in s.users.items()}
    else:  # average: events per user
        score = {k: s.counts[k] / len(s.users[k]) for k in s.counts}
    return _ranked(score, limit)


def events_properties_top(ctx, params: Mapping[str, str]) -> dict:
    event = single_event(params)
    limit = param_int(params, "limit", 10)
    counts = _summary(ctx).props.get(event, Counter())
    return {name: {"count": counts[name]} for name in _ranked(counts, limit)}


def _event_values(ctx, event: str) -> dict[str, Counter]:
    """Property → Counter of rendered values, for one event of the metadata window. The last
    few events are cached: a client listing an event's properties asks for each in turn."""
    first, last = metadata_window(ctx)
    key = (id(ctx.dataset), first, last, event)
    cache = ctx.__dict__.setdefault("_values_cache", {})
    with _SUMMARY_LOCK:
        hit = cache.pop(key, None)
        if hit is not None:
            cache[key] = hit  # most recently used last
            return hit
    values: dict[str, Counter] = defaultdict(Counter)
    for record in deduplicated(iter_events(ctx.dataset, first, last, {event})):
        props = record.get("properties")
        if isinstance(props, dict):
            for name, value in props.items():
                if value is not None:
                    values[name][value if type(value) is str else render_value(value)] += 1
    with _SUMMARY_LOCK:
        cache[key] = values
        while len(cache) > 4:
            del cache[next(iter(cache))]
    return values


def events_properties_values(ctx, params: Mapping[str, str]) -> list[str]:
    event = single_event(params)
    name = param_required(params, "name", "%24browser")
    limit = param_int(params, "limit", 255)
    return _ranked(_event_values(ctx, event).get(name, Counter()), limit)


def funnels_list(ctx, params: Mapping[str, str]) -> list[dict]:
    from ..aggregates import saved_funnels_list

    return saved_funnels_list(ctx.dataset.manifest.get("funnels"))


# -- aggregates ------------------------------------------------------------------------------------

_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def aggregate(endpoint: str) -> Callable[[Any, Mapping[str, str]], Any]:
    """The handler of one aggregate endpoint: parameters are validated and the answer computed
    by ``mpql.aggregates.compute`` (the same function an export + local plan runs) over the
    dataset's events, with the dataset's saved funnels and profiles (for ``user[...]``), the
    sandbox clock (``NOW``, sum's ``computed_at``) and the project timezone (date buckets)."""

    def handler(ctx, params: Mapping[str, str]) -> Any:
        from .. import aggregates

        query = {k: v for k, v in params.items() if k not in ("project_id", "workspace_id")}
        for name in ("event", "born_event"):
            if query.get(name):  # one name on every aggregate endpoint, unlike /export's array
                single_event(query, name)
        # Mixpanel's date rules come first, as on /export: a future to_date is a plain-text 400.
        to_date = query.get("to_date")
        if to_date and _DATE_TEXT.fullmatch(to_date):
            try:
                late = dt.date.fromisoformat(to_date) > ctx.today()
            except ValueError:
                late = False
            if late:
                raise QueryParamError("to_date cannot be later than today", plain=True)
        ds = ctx.dataset
        first = ds.first_date
        start = query.get("from_date") or ""
        if _DATE_TEXT.fullmatch(start):
            try:  # local dates reach one UTC day back; earlier events cannot count
                first = max(first, dt.date.fromisoformat(start) - dt.timedelta(days=1))
            except ValueError:
                pass
        extra = {}
        if endpoint == "segmentation/sum":
            extra["computed_at"] = dt.datetime.fromtimestamp(
                ctx.now(), dt.timezone.utc).isoformat()
        names = _event_names(endpoint, query, ds)
        return aggregates.compute(
            endpoint, deduplicated(iter_events(ds, first, ds.last_date, names)), query,
            funnels=ds.manifest.get("funnels") or (), profiles=ds.all_profiles,
            timezone=ctx.timezone, now=ctx.now(), **extra)

    handler.__name__ = f"aggregate_{endpoint.replace('/', '_')}"
    return handler


#: endpoint name (the path after /api/query/ or /api/2.0/) → handler
ENDPOINTS: dict[str, Callable[[Any, Mapping[str, str]], Any]] = {
    "events/names": events_names,
    "events/properties/top": events_properties_top,
    "events/properties/values": events_properties_values,
    "funnels/list": funnels_list,
}
for _name in ("segmentation", "segmentation/numeric", "segmentation/sum", "segmentation/average",
              "retention", "retention/addiction", "funnels"):
    ENDPOINTS[_name] = aggregate(_name)


def answer(ctx, endpoint: str, params: Mapping[str, str]) -> Any:
    """The JSON value the sandbox answers for ``endpoint`` with these HTTP parameters (raises
    ``QueryParamError`` for a 400)."""
    handler = ENDPOINTS.get(endpoint)
    if handler is None:
        raise QueryParamError("Invalid API endpoint", status=404)
    return handler(ctx, params)

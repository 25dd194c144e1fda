"""Aggregate queries (segmentation, retention, frequency, funnels) and their plans.

``Query.segmentation(...)`` & co. (defined here, attached to ``Query``) validate every
parameter rule of Mixpanel's endpoint at once (QueryError: what, where, how to fix) and return
an ``AggregateQuery``. ``AggregateQuery.plan(...)`` picks how to answer it:

* **server** — one GET to ``/api/query/<endpoint>``; its JSON body is the answer. Chosen when
  Mixpanel's endpoint can answer exactly.
* **export** — ``/export`` steps for the events the report needs (the ``where`` pushed down
  when it filters every event alike and fits in a URL), then ``mpql.aggregates`` computes
  the same answer locally (``Plan.local_aggregate``). Chosen when the endpoint cannot
  answer: ad-hoc funnels (no endpoint takes steps), units the endpoint lacks (week
  segmentation, minute/week/month numeric measures, hourly uniques), a request too long for
  a URL — or when asked with ``strategy="export"``.

``strategy="server"`` never falls back: a query the endpoint cannot answer is a QueryError or
PlanError that says why. docs/aggregates.md explains the rules.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import attrs

from .._convert import to_dict
from ..aggregates import _params as P
from ..errors import PlanError, QueryError
from ..language import ast as A
from ..language.printer import format_expr
from . import encode as E
from .model import LocalAggregate, Plan, Step

__all__ = ["AggregateQuery", "STRATEGIES", "segmentation_query", "retention_query",
           "frequency_query", "funnel_query", "measure_query"]

STRATEGIES = ("auto", "server", "export")
_NUMERIC = ("number", "unknown")


def _today(today) -> _dt.date:
    from .query import _today as today_of

    return today_of(today)


def _expr(name: str, value) -> A.Expr | None:
    if value is None:
        return None
    from ..aggregates._common import to_node

    return to_node(name, value)


def _wire(node) -> str | None:
    return None if node is None else format_expr(node, "wire")


def _dates(from_date, to_date, today) -> tuple[str, str]:
    start, end = P.check_range(from_date, to_date)
    now = _today(today)
    if end > now:
        raise QueryError(
            f"to_date {end} is in the future (today is {now} UTC); Mixpanel answers 400 "
            f"'to_date cannot be later than today' — use to_date={now.isoformat()!r} or earlier")
    return start.isoformat(), end.isoformat()


def _strategy(strategy) -> str:
    return P.check_choice("strategy", strategy, STRATEGIES,
                          hint="auto: the endpoint when it can answer exactly, else export")


def _event_name(name: str, value, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise QueryError(f"{name} must be one event name (a non-empty string), got {value!r}"
                         + (" — a list? the endpoint takes a single event" if isinstance(
                             value, (list, tuple)) else ""))
    return value


def _numeric_on(endpoint: str, on: A.Expr | None) -> None:
    if on is None:
        raise QueryError(f"/{endpoint} needs on= (a numeric expression, e.g. "
                         'number(properties["price"]))')
    from ..checker import infer_type

    t = infer_type(on, endpoint="segmentation")
    if t not in _NUMERIC:
        raise QueryError(f"/{endpoint} needs a numeric on=, but `{format_expr(on)}` is "
                         f"{'an' if t[0] in 'aeiou' else 'a'} {t}; wrap a property holding "
                         "numbers as text in number(...)")


@attrs.frozen
class AggregateQuery:
    """A validated aggregate query. ``endpoint``: the Mixpanel endpoint path under /api/query
    it corresponds to; ``params``: its parameters as Mixpanel names them (dates, unit, …;
    expressions are kept as ASTs in ``where``/``on``/``born_where``); ``steps``: an ad-hoc
    funnel's steps; ``strategy``: "auto", "server" or "export"."""

    endpoint: str
    params: dict = attrs.field(factory=dict, converter=to_dict)
    where: A.Expr | None = None
    on: A.Expr | None = None
    born_where: A.Expr | None = None
    steps: tuple | None = None
    strategy: str = "auto"
    #: the ``today`` given when the query was built (a date or a callable; None: the UTC
    #: clock), reused by ``plan`` when it extends the export range.
    today: Any = attrs.field(default=None, eq=False, repr=False)

    kind = "aggregate"

    # -- what only export + local aggregation can answer --------------------------------------

    def export_reasons(self) -> list[str]:
        """Why Mixpanel's endpoint cannot answer this query exactly (empty: it can)."""
        p, ep = self.params, self.endpoint
        out = []
        if ep == "funnels" and self.steps is not None:
            out.append("an ad-hoc funnel (steps=) has no Mixpanel endpoint: /funnels only "
                       "answers saved funnels by funnel_id")
        unit = p.get("unit")
        if unit is not None and unit not in P.SERVER_UNITS[ep] and not (
                ep == "segmentation" and p.get("interval") is not None):
            out.append(f"/{ep} has no {unit} unit (it takes "
                       + ", ".join(P.SERVER_UNITS[ep]) + ")")
        if ep == "segmentation" and p.get("type") == "unique" and unit in ("minute", "hour"):
            out.append(f"Mixpanel has no {unit}ly uniques")
        return out

    # -- planning -------------------------------------------------------------------------------

    def plan(self, region: str = "us", auth=None, chunk: str = "day", *, project_id=None,
             workspace_id=None, base_url: str | None = None, timezone: str = "UTC",
             max_url_length: int | None = None, distinct_id_property: str = "$distinct_id",
             today=None, check: bool = True, strict: bool = False) -> Plan:
        """Compile to a Plan (see the module docstring for server vs export). ``timezone``:
        the project timezone, used for local date buckets (Mixpanel's endpoints use the
        project's own). ``chunk``/``distinct_id_property``: as for ``Query.events(...).plan``.
        ``today`` replaces the UTC clock when the export range is extended past
        ``to_date`` (funnel windows, retention intervals). ``check``: lint every expression
        in its context (where, on, born_where) into ``plan.notes``; ``strict``: raise
        CheckError on an error finding."""
        from .query import DEFAULT_MAX_URL_LENGTH, _Context

        max_url = DEFAULT_MAX_URL_LENGTH if max_url_length is None else max_url_length
        from ..evaluator.semantics import resolve_timezone

        try:
            resolve_timezone(timezone)
        except ValueError as exc:
            raise PlanError(str(exc)) from None
        ctx = _Context.make(self, region, auth, chunk, project_id, workspace_id,
                            distinct_id_property, "as-written", max_url, 2000, base_url)
        reasons = self.export_reasons()
        if self.strategy == "server" and reasons:
            raise QueryError("strategy='server' cannot answer this query: " + "; ".join(reasons)
                             + " — use strategy='auto' or 'export'")
        plan = None
        if self.strategy != "export" and not reasons:
            step = self._server_step(ctx)
            length = len(step.url) + 1 + len(E.encode_params(step.params))
            if length <= max_url:
                plan = Plan(steps=[step], region=ctx.region, auth_kind=ctx.auth_kind,
                            project_id=ctx.auth_params.get("project_id"),
                            summary=self.summary(), aggregate=self.endpoint)
            elif self.strategy == "server":
                raise PlanError(f"the /{self.endpoint} URL would be {length} characters, over "
                                f"{max_url}; shorten the where (a long `in [...]` list?) or use "
                                "strategy='export', which applies it locally")
            else:
                reasons = [f"the /{self.endpoint} URL would be {length} characters (over "
                           f"{max_url}); the export runs without the long expression and "
                           "mpql applies it locally"]
        if plan is None:
            if self.endpoint == "funnels" and self.steps is None:
                raise QueryError("a saved funnel (funnel_id) can only be answered by Mixpanel's "
                                 "/funnels: its steps are not known locally — pass steps=[...] "
                                 "to compute it from exported events")
            why = "; ".join(reasons) if reasons else "strategy='export' was asked for"
            plan = self._export_plan(ctx, region, auth, chunk, project_id, workspace_id,
                                     base_url, timezone, max_url, distinct_id_property, today,
                                     why, url_too_long=bool(reasons) and "URL" in reasons[-1])
        if check or strict:
            plan = self._check(plan, strict)
        if auth is not None and not isinstance(auth, str):
            plan = attrs.evolve(plan, auth=auth)  # kept in memory only, as Query.plan does
        return plan

    def summary(self) -> str:
        p = self.params
        head = {"segmentation": f"segmentation of {p.get('event')!r}",
                "segmentation/numeric": f"numeric segmentation of {p.get('event')!r}",
                "segmentation/sum": f"sum over {p.get('event')!r}",
                "segmentation/average": f"average over {p.get('event')!r}",
                "retention": f"{p.get('retention_type', 'birth')} retention",
                "retention/addiction": "frequency (addiction)",
                "funnels": (f"funnel {p['funnel_id']}" if p.get("funnel_id") is not None else
                            "ad-hoc funnel " + " → ".join(s["event"] for s in self.steps or ()))}
        text = head[self.endpoint] + f" {p['from_date']}..{p['to_date']}"
        if self.on is not None:
            text += f" on {format_expr(self.on)}"
        if self.where is not None:
            text += f" where {format_expr(self.where)}"
        return text

    def _http_params(self) -> dict:
        """The endpoint's parameters in Mixpanel's spelling, expressions as wire text."""
        params = {}
        for k, v in self.params.items():
            if v is not None:
                params[k] = v
        for name in ("born_where", "where", "on"):
            node = getattr(self, name)
            if node is not None:
                params[name] = _wire(node)
        return params

    def _server_step(self, ctx) -> Step:
        params = dict(ctx.auth_params)
        params.update(self._http_params())
        return Step(endpoint=self.endpoint, method="GET",
                    url=E.query_url(ctx.region, self.endpoint, ctx.base_url), params=params,
                    encoding="query", rate_class="query", output=True,
                    why=f"/{self.endpoint} computes this report on Mixpanel's side: one "
                        "request, the answer is its JSON body", max_url_length=ctx.max_url)

    def _local_params(self, pushed_where: bool) -> dict:
        params = {k: v for k, v in self.params.items() if v is not None}
        params.pop("funnel_id", None)
        for name in ("born_where", "where", "on"):
            node = getattr(self, name)
            if node is not None and not (name == "where" and pushed_where):
                params[name] = _wire(node)
        if self.steps is not None:
            params["steps"] = [
                {"event": s["event"], "where": _wire(_expr("steps.where", s["where"])),
                 "label": s["label"]} for s in self.steps]
        return params

    def _export_names(self) -> list | None:
        p = self.params
        if self.endpoint.startswith("segmentation"):
            return [p["event"]]
        if self.endpoint == "funnels":
            return list(dict.fromkeys(s["event"] for s in self.steps))
        if self.endpoint == "retention/addiction":
            return [p["event"]] if p.get("event") else None
        if p.get("event") is None:
            return None  # returns are "any event"
        names = [p["event"]]
        if p.get("retention_type", "birth") == "birth":
            names.insert(0, p["born_event"])
        return list(dict.fromkeys(names))

    def _extra_days(self) -> int:
        """Days past to_date whose events the local computation needs."""
        p = self.params
        if self.endpoint == "funnels":
            length, unit = p.get("length"), p.get("length_unit")
            if length is None:
                length, unit = P.DEFAULT_LENGTH
            return math.ceil(P.length_seconds(length, unit or "day") / 86400)
        if self.endpoint == "retention":
            days = {"day": 1, "week": 7, "month": 31}[p.get("unit", "day")]
            return days * p.get("interval", 1) * (p.get("interval_count", 1) + 1)
        return 0

    def _export_plan(self, ctx, region, auth, chunk, project_id, workspace_id, base_url,
                     timezone, max_url, id_property, today, why, url_too_long) -> Plan:
        from .query import Query

        p = self.params
        start = _dt.date.fromisoformat(p["from_date"])
        end = _dt.date.fromisoformat(p["to_date"])
        notes = []
        utc = str(timezone).upper() in ("UTC", "ETC/UTC", "GMT", "Z")
        pad = 0 if utc else 1  # local dates reach into the UTC days either side
        ex_start = start - _dt.timedelta(days=pad)
        ex_end = end + _dt.timedelta(days=pad + self._extra_days())
        now = _today(today if today is not None else self.today)
        if ex_end > now:
            if self._extra_days():
                notes.append(f"events after {now} do not exist yet: conversions/returns later "
                             f"than that are not counted (the window reaches "
                             f"{ex_end.isoformat()})")
            ex_end = now
        push = (self.where is not None and self.endpoint != "retention" and not url_too_long)
        kwargs = dict(region=region, auth=auth, chunk=chunk, project_id=project_id,
                      workspace_id=workspace_id, base_url=base_url,
                      distinct_id_property=id_property, max_url_length=max_url, check=False)
        events_query = Query.events(self.where if push else None,
                                    from_date=ex_start.isoformat(), to_date=ex_end.isoformat(),
                                    events=self._export_names(), today=lambda: now)
        try:
            events_plan = events_query.plan(**kwargs)
        except PlanError:
            if not push:
                raise
            push = False
            events_plan = Query.events(None, from_date=ex_start.isoformat(),
                                       to_date=ex_end.isoformat(), events=self._export_names(),
                                       today=lambda: now).plan(**kwargs)
            notes.append("the where does not fit in an export URL: it is applied locally")
        steps = [attrs.evolve(s, output=False) if s.endpoint == "export" else s
                 for s in events_plan.steps]
        events_steps = [i for i, s in enumerate(steps) if s.endpoint == "export"]
        params = self._local_params(pushed_where=push)
        profiles_step = None
        names = _profile_names(params)
        if names:
            steps.append(Step(
                endpoint="engage", method="POST", url=E.engage_url(ctx.region, ctx.base_url),
                params={**ctx.auth_params, "output_properties": sorted(names)},
                encoding="form", json_params=("output_properties",), pagination="page",
                rate_class="query", output=False,
                why="the local aggregation reads user[...] ("
                    + ", ".join(sorted(names)) + "): fetch those profile properties"))
            profiles_step = len(steps) - 1
        local = LocalAggregate(function=self.endpoint, params=params, timezone=str(timezone),
                               events_steps=events_steps, profiles_step=profiles_step, why=why)
        if push:
            notes.append("the where is applied by /export (it filters every event alike)")
        return Plan(steps=steps, region=ctx.region, auth_kind=ctx.auth_kind,
                    project_id=ctx.auth_params.get("project_id"), summary=self.summary(),
                    notes=tuple(events_plan.notes) + tuple(notes), aggregate=self.endpoint,
                    local_aggregate=local)

    def _check(self, plan: Plan, strict: bool) -> Plan:
        """Lint where/on/born_where in their contexts; findings become notes."""
        from ..checker import check
        ctx_endpoint = {"funnels": "funnels", "retention": "retention",
                        "retention/addiction": "retention"}.get(self.endpoint, "segmentation")
        found, notes = [], []
        items = [("where", self.where), ("on", self.on), ("born_where", self.born_where)]
        for i, s in enumerate(self.steps or ()):
            items.append((f"steps[{i + 1}].where", _expr("where", s["where"])))
        for name, node in items:
            if node is None:
                continue
            param = name if name in ("on", "born_where") else "where"
            try:
                diagnostics = check(node, endpoint=ctx_endpoint, param=param)
            except Exception as exc:  # a checker bug must not block planning; say so instead
                notes.append(f"{name}: the checker failed ({type(exc).__name__}: {exc})")
                continue
            for d in diagnostics:
                found.append(d)
                notes.append(f"{name}: {d.code} {d.severity}: {d.message}")
        from .query import raise_if_strict

        raise_if_strict(found, strict)
        if not notes:
            return plan
        return attrs.evolve(plan, notes=tuple(plan.notes) + tuple(notes))


def _profile_names(params: dict) -> set:
    """Profile properties (user[...]) read by the expressions left for local evaluation."""
    from ..language import parse

    texts = [params.get(k) for k in ("where", "on", "born_where")]
    texts += [s.get("where") for s in params.get("steps", ())]
    names = set()
    for text in texts:
        if text:
            names |= {n.name for n in A.walk(parse(text))
                      if isinstance(n, A.Property) and n.scope == "user"}
    return names


# ---------------------------------------------------------------------------------------------
# Constructors (attached to Query in query.py)


def segmentation_query(event, *, from_date, to_date, on=None, where=None, unit="day",
                       interval=None, type="general", limit=None, strategy="auto",
                       today=None) -> AggregateQuery:
    """/segmentation: ``event`` counted per ``unit`` (minute, hour, day, week*, month) or per
    ``interval`` days (type unique/average only), split by the value of ``on``, filtered by
    ``where``. ``type``: general (events), unique (users), average (events per user).
    ``limit``: top ``on`` values (1–10000, default 60; needs ``on``). *week has no endpoint:
    computed from exported events."""
    kind = type
    event = _event_name("event", event, required=True)
    f, t = _dates(from_date, to_date, today)
    P.check_choice("type", kind, P.SEGMENTATION_TYPES, endpoint="segmentation")
    interval = P.check_int("interval", interval, 1)
    if interval is not None and kind == "general":
        raise QueryError("interval (days per bucket) replaces unit only for type='unique' or "
                         "'average' (Mixpanel's rule); use unit= for general counts")
    if interval is None:
        P.check_unit("segmentation", unit, server=False)
    on_node = _expr("on", on)
    limit = P.check_limit("segmentation", limit, on_node is not None)
    params = {"event": event, "from_date": f, "to_date": t,
              "unit": unit if interval is None else None, "interval": interval,
              "type": kind, "limit": limit}
    return AggregateQuery("segmentation", params, _expr("where", where), on_node,
                          strategy=_strategy(strategy), today=today)


def measure_query(endpoint, event, *, from_date, to_date, on, where=None, unit="day",
                  type=None, strategy="auto", today=None) -> AggregateQuery:
    """/segmentation/numeric, /sum, /average: ``on`` must be numeric; unit hour or day on
    Mixpanel (minute/week/month computed from exported events)."""
    event = _event_name("event", event, required=True)
    f, t = _dates(from_date, to_date, today)
    on_node = _expr("on", on)
    _numeric_on(endpoint, on_node)
    P.check_unit(endpoint, unit, server=False)
    params = {"event": event, "from_date": f, "to_date": t, "unit": unit}
    if endpoint == "segmentation/numeric":
        params["type"] = P.check_choice("type", type or "general", P.SEGMENTATION_TYPES,
                                        endpoint=endpoint)
    elif type is not None:
        raise QueryError(f"/{endpoint} takes no type")
    return AggregateQuery(endpoint, params, _expr("where", where), on_node,
                          strategy=_strategy(strategy), today=today)


def retention_query(born_event=None, event=None, *, from_date, to_date, born_where=None,
                    where=None, on=None, retention_type="birth", interval=1, interval_count=1,
                    unit="day", unbounded=False, limit=None, strategy="auto",
                    today=None) -> AggregateQuery:
    """/retention. Birth retention (default) needs ``born_event``; compounded ignores it.
    ``interval`` units per bucket (≤ 90 when unit is day), ``interval_count`` buckets after
    the 0th; ``unbounded``: a return counts for every earlier interval too."""
    f, t = _dates(from_date, to_date, today)
    P.check_choice("retention_type", retention_type, ("birth", "compounded"),
                   endpoint="retention")
    born_event = _event_name("born_event", born_event, required=retention_type == "birth")
    if retention_type == "compounded" and (born_event is not None or born_where is not None):
        raise QueryError("compounded retention has no born event: leave born_event and "
                         "born_where out (the cohort is everyone who did `event`)")
    event = _event_name("event", event, required=False)
    P.check_unit("retention", unit, server=False)
    interval = P.check_int("interval", interval, 1,
                           P.MAX_RETENTION_DAYS if unit == "day" else None,
                           hint="Mixpanel allows at most 90 days per interval")
    interval_count = P.check_int("interval_count", interval_count, 1, 10_000)
    if not isinstance(unbounded, bool):
        raise QueryError(f"unbounded must be True or False, got {unbounded!r}")
    on_node = _expr("on", on)
    limit = P.check_limit("retention", limit, on_node is not None)
    params = {"from_date": f, "to_date": t, "retention_type": retention_type,
              "born_event": born_event, "event": event, "interval": interval,
              "interval_count": interval_count, "unit": unit,
              "unbounded_retention": unbounded or None, "limit": limit}
    return AggregateQuery("retention", params, _expr("where", where), on_node,
                          _expr("born_where", born_where), strategy=_strategy(strategy),
                          today=today)


def frequency_query(event=None, *, from_date, to_date, unit="day", addiction_unit="hour",
                    where=None, on=None, limit=None, strategy="auto",
                    today=None) -> AggregateQuery:
    """/retention/addiction: per ``unit`` (day/week/month), how many users did ``event`` in
    at least 1, 2, … distinct ``addiction_unit``s (hour/day)."""
    f, t = _dates(from_date, to_date, today)
    event = _event_name("event", event, required=False)
    P.check_unit("retention/addiction", unit, server=False)
    P.check_choice("addiction_unit", addiction_unit, P.ADDICTION_UNITS,
                   endpoint="retention/addiction")
    if addiction_unit == "day" and unit == "day":
        raise QueryError("addiction_unit='day' with unit='day' has one period per bucket; "
                         "use addiction_unit='hour' or a week/month unit")
    on_node = _expr("on", on)
    limit = P.check_limit("retention/addiction", limit, on_node is not None)
    params = {"from_date": f, "to_date": t, "unit": unit, "addiction_unit": addiction_unit,
              "event": event, "limit": limit}
    return AggregateQuery("retention/addiction", params, _expr("where", where), on_node,
                          strategy=_strategy(strategy), today=today)


def funnel_query(funnel_id=None, steps=None, *, from_date, to_date, length=None,
                 length_unit=None, interval=None, unit=None, on=None, where=None, limit=None,
                 strategy="auto", today=None) -> AggregateQuery:
    """/funnels: a saved funnel by ``funnel_id`` (Mixpanel's endpoint) or an ad-hoc one by
    ``steps`` (event names or ``{"event", "where", "label"}``; computed from exported
    events). ``length``/``length_unit``: conversion window (≤ 90 days); buckets by ``unit``
    (day/week/month) or ``interval`` days; ``limit`` top ``on`` values (default 255)."""
    f, t = _dates(from_date, to_date, today)
    if (funnel_id is None) == (steps is None):
        raise QueryError("give exactly one of funnel_id= (a saved funnel) or steps=[...] "
                         "(an ad-hoc funnel)")
    norm = None
    if steps is not None:
        norm = P.normalize_steps(steps)
        for i, s in enumerate(norm):
            s["where"] = _expr(f"steps[{i + 1}].where", s["where"])
        norm = tuple(norm)
    else:
        funnel_id = P.check_int("funnel_id", funnel_id, 1)
    if length is not None or length_unit is not None:
        length, length_unit = P.check_length(30 if length is None else length,
                                             length_unit or "day")
    if unit is not None and interval is not None:
        raise QueryError("give either unit= or interval=, not both")
    if unit is not None:
        P.check_unit("funnels", unit, server=False)
    interval = P.check_int("interval", interval, 1)
    on_node = _expr("on", on)
    limit = P.check_limit("funnels", limit, on_node is not None)
    params = {"funnel_id": funnel_id, "from_date": f, "to_date": t, "length": length,
              "length_unit": length_unit, "interval": interval, "unit": unit, "limit": limit}
    return AggregateQuery("funnels", params, _expr("where", where), on_node, steps=norm,
                          strategy=_strategy(strategy), today=today)

"""Queries (what the user wants) and planning (which Mixpanel requests answer it).

``Query.events(...)`` and ``Query.profiles(...)`` validate their inputs at once (QueryError:
what, where, how to fix). ``query.plan(region=, auth=, chunk=, ...)`` returns a ``Plan``
(mpql/planner/model.py): one `/export` step for event filters, one `/engage` step for profile
filters, and for events filtered on profile properties too, engage steps for the profile-only
conditions followed by an export step that tests the ids they found (mpql/planner/rewrite.py).
No network, no credentials in the plan.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Iterable

import attrs

from ..errors import MpqlError, PlanError, QueryError
from ..language import ast as A
from ..language.printer import format_expr
from ..aggregates._params import parse_date as _date
from . import aggregate as _agg
from . import encode as E
from .model import Consumes, Plan, Step
from .rewrite import (
    EVENT, kinds, polarities, sentinel_name, simplify, split_events_where,
)

__all__ = ["Query", "CHUNKS", "date_chunks", "MAX_EXPORT_LIMIT", "DEFAULT_MAX_URL_LENGTH"]

MAX_EXPORT_LIMIT = 100_000
#: Conservative: 8 KiB is the smallest request-line limit among common front ends (nginx's
#: default large_client_header_buffers); Mixpanel's own limit is not documented.
DEFAULT_MAX_URL_LENGTH = 8000
#: Largest `distinct_ids` list sent in one engage request (the real maximum is UNCONFIRMED;
#: a third-party spec says 2000).
DEFAULT_MAX_DISTINCT_IDS = 2000
CHUNKS = ("day", "week", "month", "none")
ENGAGE_ACCESSORS = ("as-written", "user", "properties")
#: Export requests per hour before Mixpanel answers 429 (docs/mixpanel-reference.md §5.4).
EXPORT_HOURLY_BUDGET = 60

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")  # \d would take any Unicode digit

# ---------------------------------------------------------------------------------------------
# Validation helpers


def _today(today) -> _dt.date:
    if today is None:
        return _dt.datetime.now(_dt.timezone.utc).date()
    if callable(today):
        today = today()
    if not isinstance(today, _dt.date) or isinstance(today, _dt.datetime):
        raise QueryError(f"today must be a datetime.date (or a callable returning one), got "
                         f"{type(today).__name__}")
    return today


def _names(name: str, values, *, what: str) -> tuple | None:
    if values is None:
        return None
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise QueryError(f"{name} must be a list of {what}, got {type(values).__name__}"
                         + (f" (did you mean {name}=[{values!r}]?)" if isinstance(values, str)
                            else ""))
    # A set is sorted: its iteration order changes with PYTHONHASHSEED, and so would the
    # request parameters, the plan JSON and the executor's resume keys.
    items = tuple(sorted(values, key=str) if isinstance(values, (set, frozenset)) else values)
    if not items:
        raise QueryError(f"{name}=[] would select nothing; leave {name} out to select all")
    for item in items:
        if not isinstance(item, str) or not item:
            raise QueryError(f"{name} must contain non-empty strings ({what}), got {item!r}")
    return tuple(dict.fromkeys(items))  # de-duplicated, order kept


def _where(where) -> A.Expr | None:
    if where is None:
        return None
    from ..builder import to_condition

    try:
        return to_condition(where)
    except MpqlError:  # ParseError, BuildError: already say what is wrong
        raise
    except TypeError:
        raise QueryError(f"where must be expression text, a builder expression or an AST "
                         f"node, got {type(where).__name__}") from None


def _int(name: str, value, lo: int | None = None, hi: int | None = None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise QueryError(f"{name} must be an integer, got {value!r}")
    if lo is not None and value < lo or hi is not None and value > hi:
        bounds = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise QueryError(f"{name} must be {bounds}, got {value}")
    return value


# ---------------------------------------------------------------------------------------------


@attrs.frozen
class Query:
    """A request for events or profiles. Build with ``Query.events`` / ``Query.profiles``."""

    kind: str
    where: A.Expr | None = None
    from_date: str | None = None
    to_date: str | None = None
    event_names: tuple | None = None
    limit: int | None = None
    time_in_ms: bool = False
    output_properties: tuple | None = None
    distinct_ids: tuple | None = None
    cohort_id: int | None = None
    include_all_users: bool | None = None
    group_key: str | None = None
    behaviors: tuple | None = None
    as_of_timestamp: int | None = None

    @classmethod
    def events(cls, where=None, *, from_date, to_date, events=None, limit=None,
               time_in_ms: bool = False, today=None) -> "Query":
        """Events between ``from_date`` and ``to_date`` (inclusive, ``YYYY-MM-DD``) matching
        ``where``, optionally only the named ``events``. ``limit`` caps the number returned
        (≤ 100000). ``today`` (a date or a callable) replaces the UTC clock for the
        "to_date not in the future" check."""
        start, end = _date("from_date", from_date), _date("to_date", to_date)
        if start > end:
            raise QueryError(f"from_date {start} is after to_date {end}: swap them")
        now = _today(today)
        if end > now:
            raise QueryError(
                f"to_date {end} is in the future (today is {now} UTC); Mixpanel answers 400 "
                f"'to_date cannot be later than today' — use to_date={now.isoformat()!r} or "
                "earlier"
            )
        if not isinstance(time_in_ms, bool):
            raise QueryError(f"time_in_ms must be True or False, got {time_in_ms!r}")
        return cls(
            kind="events", where=_where(where), from_date=start.isoformat(),
            to_date=end.isoformat(), event_names=_names("events", events, what="event names"),
            limit=_int("limit", limit, 1, MAX_EXPORT_LIMIT), time_in_ms=time_in_ms,
        )

    @classmethod
    def profiles(cls, where=None, *, output_properties=None, distinct_ids=None,
                 cohort_id=None, include_all_users=None, group_key=None, behaviors=None,
                 as_of_timestamp=None) -> "Query":
        """User (or, with ``group_key``, group) profiles matching ``where``.

        ``output_properties`` limits the properties returned; ``distinct_ids`` fetches those
        profiles; ``cohort_id`` keeps a cohort's members (``include_all_users`` defaults to
        False here: only ids that have a profile); ``behaviors`` (a list of behavior
        definitions, referenced as ``behaviors["name"]``) cannot be combined with a cohort;
        ``as_of_timestamp`` only goes with ``behaviors``."""
        cohort_id = _int("cohort_id", cohort_id, 1)
        if cohort_id is not None and behaviors is not None:
            raise QueryError("cohort_id and behaviors cannot be combined (Mixpanel's engage "
                             "treats filter_by_cohort and behaviors as mutually exclusive)")
        if include_all_users is not None:
            if not isinstance(include_all_users, bool):
                raise QueryError(f"include_all_users must be True or False, got "
                                 f"{include_all_users!r}")
            if cohort_id is None:
                raise QueryError("include_all_users only applies with cohort_id")
        if as_of_timestamp is not None and behaviors is None:
            raise QueryError("as_of_timestamp only applies with behaviors")
        if group_key is not None and (not isinstance(group_key, str) or not group_key):
            raise QueryError(f"group_key must be the group key's data_group_id string, got "
                             f"{group_key!r}")
        if behaviors is not None:
            if isinstance(behaviors, dict):
                behaviors = [behaviors]
            if not isinstance(behaviors, (list, tuple)) or not behaviors or not all(
                isinstance(b, dict) and isinstance(b.get("name"), str) for b in behaviors
            ):
                raise QueryError('behaviors must be a non-empty list of definitions such as '
                                 '{"name": "bought", "window": "30d", "event_selectors": '
                                 '[{"event": "Purchase"}]}')
            behaviors = tuple(behaviors)
        node = _where(where)
        if node is not None:
            used = {n.name for n in A.walk(node)
                    if isinstance(n, A.Property) and n.scope == "behaviors"}
            defined = {b["name"] for b in behaviors or ()}
            if used - defined:
                missing = ", ".join(sorted(used - defined))
                raise QueryError(f"where uses behaviors[{missing!r}] but no behavior of that "
                                 "name is defined: pass behaviors=[{\"name\": …, …}]")
        return cls(
            kind="profiles", where=node,
            output_properties=_names("output_properties", output_properties,
                                     what="property names"),
            distinct_ids=_names("distinct_ids", distinct_ids, what="distinct ids"),
            cohort_id=cohort_id,
            include_all_users=(False if cohort_id is not None and include_all_users is None
                               else include_all_users),
            group_key=group_key, behaviors=behaviors,
            as_of_timestamp=_int("as_of_timestamp", as_of_timestamp, 0),
        )

    # Aggregate reports (mpql/planner/aggregate.py): each returns an AggregateQuery whose
    # .plan() asks Mixpanel's endpoint or exports the events and aggregates them locally.
    segmentation = staticmethod(_agg.segmentation_query)
    retention = staticmethod(_agg.retention_query)
    frequency = staticmethod(_agg.frequency_query)
    funnel = staticmethod(_agg.funnel_query)

    @staticmethod
    def segmentation_numeric(event, *, from_date, to_date, on, where=None, unit="day",
                             type="general", strategy="auto", today=None):
        """/segmentation/numeric: ``event`` counted per numeric range of ``on``."""
        return _agg.measure_query("segmentation/numeric", event, from_date=from_date,
                                  to_date=to_date, on=on, where=where, unit=unit, type=type,
                                  strategy=strategy, today=today)

    @staticmethod
    def segmentation_sum(event, *, from_date, to_date, on, where=None, unit="day",
                         strategy="auto", today=None):
        """/segmentation/sum: the sum of the numeric ``on`` over ``event`` per unit."""
        return _agg.measure_query("segmentation/sum", event, from_date=from_date,
                                  to_date=to_date, on=on, where=where, unit=unit,
                                  strategy=strategy, today=today)

    @staticmethod
    def segmentation_average(event, *, from_date, to_date, on, where=None, unit="day",
                             strategy="auto", today=None):
        """/segmentation/average: the mean of the numeric ``on`` over ``event`` per unit."""
        return _agg.measure_query("segmentation/average", event, from_date=from_date,
                                  to_date=to_date, on=on, where=where, unit=unit,
                                  strategy=strategy, today=today)

    # -----------------------------------------------------------------------------------------

    def plan(self, region: str = "us", auth=None, chunk: str = "day", *,
             project_id=None, workspace_id=None, distinct_id_property: str = "$distinct_id",
             engage_accessor: str = "as-written",
             max_url_length: int = DEFAULT_MAX_URL_LENGTH,
             max_distinct_ids: int = DEFAULT_MAX_DISTINCT_IDS,
             base_url: str | None = None, check: bool = True, strict: bool = False) -> Plan:
        """Compile to a Plan. ``auth``: ServiceAccount / ProjectSecret (its kind and project
        id are recorded; the object itself is kept as ``plan.auth``, in memory only, so a
        ``Client`` without credentials runs the plan with it), or just the kind as a string (then pass ``project_id``). ``chunk``: export date chunks, "day" | "week" | "month" |
        "none". ``distinct_id_property``: how export's where spells the event's distinct id
        (UNCONFIRMED, docs/mixpanel-reference.md §1.10). ``engage_accessor``: rewrite profile references in engage
        wheres to ``user[...]`` or ``properties[...]`` ("as-written" keeps them).
        ``base_url``: send everything to one server instead (the sandbox).
        ``check``: run the checker (mpql.checker, when installed) on every where as it will
        be sent and add its findings to ``plan.notes``; ``strict``: raise CheckError if any
        finding is an error."""
        ctx = _Context.make(self, region, auth, chunk, project_id, workspace_id,
                            distinct_id_property, engage_accessor, max_url_length,
                            max_distinct_ids, base_url)
        plan = _plan_events(self, ctx) if self.kind == "events" else _plan_profiles(self, ctx)
        if check or strict:
            plan = _check(plan, self, strict)
        if auth is not None and not isinstance(auth, str):
            plan = attrs.evolve(plan, auth=auth)  # Client().run(plan) runs with it
        return plan


@attrs.frozen
class _Context:
    region: str
    auth_kind: str
    auth_params: dict
    chunk: str | None
    id_property: str
    accessor: str
    max_url: int
    max_ids: int
    base_url: str | None

    @classmethod
    def make(cls, query, region, auth, chunk, project_id, workspace_id, id_property,
             accessor, max_url, max_ids, base_url):
        E.check_region(region)
        if chunk not in CHUNKS:
            raise PlanError(f"unknown chunk {chunk!r}: expected one of {', '.join(CHUNKS)}")
        if not isinstance(id_property, str) or not id_property:
            raise PlanError("distinct_id_property must be a property name such as "
                            "'$distinct_id' or 'distinct_id'")
        if accessor not in ENGAGE_ACCESSORS:
            raise PlanError(f"engage_accessor must be one of {', '.join(ENGAGE_ACCESSORS)}, "
                            f"got {accessor!r}")
        if isinstance(max_url, bool) or not isinstance(max_url, int) or max_url < 256:
            raise PlanError(f"max_url_length must be an integer ≥ 256, got {max_url!r}")
        if isinstance(max_ids, bool) or not isinstance(max_ids, int) or max_ids < 1:
            raise PlanError(f"max_distinct_ids must be a positive integer, got {max_ids!r}")
        if base_url is not None:
            E.check_base_url(base_url)
        if auth is not None and not isinstance(auth, str):
            kind = getattr(auth, "kind", None)
            if kind not in ("service_account", "project_secret"):
                raise PlanError(f"auth must be a ServiceAccount or ProjectSecret, got "
                                f"{type(auth).__name__}")
            params = auth.query_params()
        else:
            from .auth import _optional_id

            # No credentials (or just their kind): plan for them without knowing the secret.
            kind = auth or "service_account"
            if kind not in ("service_account", "project_secret"):
                raise PlanError(f"auth must be a ServiceAccount, a ProjectSecret, "
                                f"'service_account' or 'project_secret', got {auth!r}")
            params = {}
            try:
                if project_id is not None:
                    params["project_id"] = _optional_id(project_id)
                if workspace_id is not None:
                    params["workspace_id"] = _optional_id(workspace_id)
            except Exception as exc:
                raise PlanError(str(exc)) from None
        return cls(region, kind, params, None if chunk == "none" else chunk, id_property,
                   accessor, max_url, max_ids, base_url)


# ---------------------------------------------------------------------------------------------
# Events


def _wire(node: A.Expr) -> str:
    return format_expr(node, "wire")


def _export_params(q: Query, ctx: _Context, where: str | None) -> dict:
    params = dict(ctx.auth_params)
    params.update(from_date=q.from_date, to_date=q.to_date)
    if q.event_names:
        params["event"] = list(q.event_names)
    if where is not None:
        params["where"] = where
    if q.limit is not None:
        params["limit"] = q.limit
    if q.time_in_ms:
        params["time_in_ms"] = True
    return params


def _url_length(url: str, params: dict) -> int:
    return len(url) + 1 + len(E.encode_params(params, ("event",)))


def _engage_where(node: A.Expr, accessor: str) -> A.Expr:
    if accessor == "as-written":
        return node

    def fn(n):
        if isinstance(n, A.Property) and n.scope in ("user", "properties"):
            return A.Property(accessor, n.name)
        return n

    return A.transform(node, fn)


def _plan_events(q: Query, ctx: _Context) -> Plan:
    url = E.export_url(ctx.region, ctx.base_url)
    n_chunks = len(date_chunks(q.from_date, q.to_date, ctx.chunk))
    notes = []
    steps: list[Step] = []
    inputs: list[Consumes] = []
    where_text = None
    why = ("/export is the only API that returns raw events; the where filters on event "
           "properties, which export evaluates itself")
    if q.where is None:
        why = "/export is the only API that returns raw events; no where: every event in range"
    else:
        template, parts = split_events_where(q.where)
        where_text = _wire(template)
        if parts:
            conj = A.conjuncts(template)
            occurrences = polarities(template)
            for part in parts:
                sentinel = A.Property("properties", sentinel_name(part.step))
                count = sum(1 for node, _ in occurrences if node == sentinel)
                splittable = (not part.negated and count == 1
                              and any(c == sentinel for c in conj))
                steps.append(Step(
                    endpoint="engage", method="POST", url=E.engage_url(ctx.region, ctx.base_url),
                    params={**ctx.auth_params,
                            "where": _wire(_engage_where(part.engage_where, ctx.accessor)),
                            "output_properties": ["$distinct_id"]},
                    encoding="form", json_params=("output_properties",), pagination="page",
                    rate_class="query", output=False,
                    why=("the where tests profile properties, which /export cannot see: "
                         + ("find the profiles for which it is NOT true (it is true for users "
                            "without a profile, whom engage cannot list)"
                            if part.negated else "find the matching profiles")
                         + f" and pass their $distinct_id to step {len(parts) + 1}"),
                ))
                if splittable:
                    reason = ("the id test is a top-level `and` condition, so the ids can be "
                              "split into batches (disjoint, no duplicates) that each keep the "
                              f"URL under {ctx.max_url} characters")
                else:
                    reason = ("the id test sits under `or`/`not`; splitting it would lose or "
                              "duplicate events, so if the ids do not fit in one URL of "
                              f"{ctx.max_url} characters the export runs without it and "
                              "mpql keeps only the records whose id passes the test")
                inputs.append(Consumes(
                    step=part.step, field="$distinct_id", strategy="where-in",
                    placeholder=_wire(sentinel), reason=reason, property=ctx.id_property,
                    negated=part.negated, splittable=splittable, fallback="client-filter",
                ))
            why = ("/export returns the raw events; the profile conditions are answered by "
                   f"step{'s' if len(parts) > 1 else ''} "
                   + ", ".join(str(p.step + 1) for p in parts)
                   + " and replaced by a test on the event's distinct id")
            notes.append(
                f'events are matched to profiles by properties["{ctx.id_property}"] in the '
                "export where — the spelling is UNCONFIRMED (docs/mixpanel-reference.md §1.10); change it with "
                "distinct_id_property="
            )
            # The where without any ids must fit, or no strategy can work.
            relaxed = simplify(_relax_all(template))
            relaxed_text = None if relaxed == A.Boolean(True) else _wire(relaxed)
            if _url_length(url, _export_params(q, ctx, relaxed_text)) > ctx.max_url:
                raise PlanError(
                    f"the event conditions alone make an export URL longer than "
                    f"{ctx.max_url} characters; shorten the where or raise max_url_length"
                )
        elif _url_length(url, _export_params(q, ctx, where_text)) > ctx.max_url:
            raise PlanError(
                f"the where makes the export URL longer than {ctx.max_url} characters "
                f"({_url_length(url, _export_params(q, ctx, where_text))}); shorten it (a long "
                "`in [...]` list can be split into several queries) or raise max_url_length"
            )
    params = _export_params(q, ctx, where_text)
    steps.append(Step(
        endpoint="export", method="GET", url=url, params=params, encoding="query",
        json_params=("event",), chunking=ctx.chunk, rate_class="export",
        consumes=inputs[0] if inputs else None, inputs=tuple(inputs), output=True, why=why,
        max_url_length=ctx.max_url, limit=q.limit,
    ))
    if n_chunks > EXPORT_HOURLY_BUDGET:
        notes.append(
            f"{n_chunks} export requests ({ctx.chunk} chunks) exceed Mixpanel's 60 export "
            "requests/hour; the run will be paced over more than an hour — use a larger chunk"
        )
    summary = f"events {q.from_date}..{q.to_date}"
    if q.event_names:
        summary += " of " + ", ".join(q.event_names)
    summary += f" where {format_expr(q.where)}" if q.where is not None else " (no filter)"
    return Plan(steps=steps, region=ctx.region, auth_kind=ctx.auth_kind,
                project_id=ctx.auth_params.get("project_id"), summary=summary, notes=notes)


def _relax_all(template: A.Expr) -> A.Expr:
    """Every id atom replaced by the constant that can only widen the result (its polarity)."""

    def visit(node, positive):
        from .rewrite import is_sentinel

        if is_sentinel(node):
            return A.Boolean(positive)
        if isinstance(node, A.Not):
            return A.Not(visit(node.operand, not positive))
        if isinstance(node, (A.And, A.Or)):
            return type(node)(visit(node.left, positive), visit(node.right, positive))
        return node

    return visit(template, True)


# ---------------------------------------------------------------------------------------------
# Profiles


def _distinct_id_test(node: A.Expr):
    """The string ids if ``node`` is ``X["$distinct_id"] == "id"`` / ``in [..]`` / an ``or`` of
    such (X = properties or user); else None."""
    def is_id(n):
        return (isinstance(n, A.Property) and n.scope in ("properties", "user")
                and n.name == "$distinct_id")

    ids = []
    for d in A.disjuncts(node):
        if isinstance(d, A.Compare) and d.op == "==":
            if is_id(d.left) and isinstance(d.right, A.String):
                ids.append(d.right.value)
            elif is_id(d.right) and isinstance(d.left, A.String):
                ids.append(d.left.value)
            else:
                return None
        elif (isinstance(d, A.In) and is_id(d.left) and isinstance(d.right, A.ListLiteral)
              and d.right.items and all(isinstance(i, A.String) for i in d.right.items)):
            ids.extend(i.value for i in d.right.items)
        else:
            return None
    return list(dict.fromkeys(ids))


def _plan_profiles(q: Query, ctx: _Context) -> Plan:
    where = q.where
    if where is not None and EVENT in kinds(where) and any(
        isinstance(n, A.Property) and n.scope == "event" for n in A.walk(where)
    ):
        raise PlanError(
            "a profiles query cannot filter on event properties (event[...]): /engage only "
            "sees profiles. To find users by what they did, either define a behavior "
            '(Query.profiles(behaviors=[{"name": "bought", "window": "30d", "event_selectors": '
            '[{"event": "Purchase"}]}], where=\'behaviors["bought"] > 0\')) or export the '
            "events with Query.events(...) and collect their distinct ids"
        )
    ids = list(q.distinct_ids) if q.distinct_ids else None
    id_source = "distinct_ids="
    if where is not None and ids is None:
        conj = A.conjuncts(where)
        for i, c in enumerate(conj):
            found = _distinct_id_test(c)
            if found:
                ids, id_source = found, "the where's $distinct_id test"
                rest = conj[:i] + conj[i + 1:]
                where = None
                for r in rest:
                    where = r if where is None else A.And(where, r)
                break
    url = E.engage_url(ctx.region, ctx.base_url)
    base = dict(ctx.auth_params)
    if where is not None:
        base["where"] = _wire(_engage_where(where, ctx.accessor))
    json_params = ["output_properties", "filter_by_cohort", "behaviors", "distinct_ids"]
    tail = {}
    if q.output_properties:
        tail["output_properties"] = list(q.output_properties)
    if q.cohort_id is not None:
        tail["filter_by_cohort"] = {"id": q.cohort_id}
        tail["include_all_users"] = q.include_all_users
    if q.group_key:
        tail["data_group_id"] = q.group_key
    if q.behaviors:
        tail["behaviors"] = [dict(b) for b in q.behaviors]
    if q.as_of_timestamp is not None:
        tail["as_of_timestamp"] = q.as_of_timestamp
    why = ("/engage is the Query API endpoint for profiles; "
           + ("the where filters on profile properties, which engage evaluates"
              if where is not None else "no where: every profile"))
    batches = [None]
    if ids:
        batches = [ids[i:i + ctx.max_ids] for i in range(0, len(ids), ctx.max_ids)]
        why = (f"/engage fetches profiles by id with the distinct_id(s) parameter (from "
               f"{id_source}), the way Mixpanel recommends instead of a where on the id")
    steps = []
    for batch in batches:
        params = dict(base)
        if batch is not None:
            if len(batch) == 1:
                params["distinct_id"] = batch[0]
            else:
                params["distinct_ids"] = batch
        params.update(tail)
        steps.append(Step(
            endpoint="engage", method="POST", url=url, params=params, encoding="form",
            json_params=tuple(k for k in json_params if k in params), pagination="page",
            rate_class="query", output=True, why=why,
        ))
    notes = []
    if len(batches) > 1:
        notes.append(f"{len(ids)} distinct ids are split into {len(batches)} engage requests of "
                     f"at most {ctx.max_ids} (the real maximum is UNCONFIRMED); the id sets are "
                     "disjoint, so no profile is returned twice")
    if ctx.accessor == "as-written" and where is not None and any(
        isinstance(n, A.Property) and n.scope == "user" for n in A.walk(where)
    ):
        notes.append('engage where uses user[...]; official libraries write properties[...] — '
                     'UNCONFIRMED that both work (docs/mixpanel-reference.md §1.10); engage_accessor="properties" '
                     "rewrites them")
    summary = "profiles" + (f" where {format_expr(q.where)}" if q.where is not None else "")
    return Plan(steps=steps, region=ctx.region, auth_kind=ctx.auth_kind,
                project_id=ctx.auth_params.get("project_id"), summary=summary, notes=notes)


# ---------------------------------------------------------------------------------------------


def _check(plan: Plan, q: Query, strict: bool) -> Plan:
    """Lint each where as it will be sent (engage wheres for "engage", the export where with
    each id atom shown as a one-id test for "export"); findings become notes."""
    from ..checker import check
    from .expand import id_test
    from .rewrite import is_sentinel

    behaviors = [b["name"] for b in q.behaviors] if q.behaviors else None
    found, notes = [], []
    for i, step in enumerate(plan.steps):
        text = step.params.get("where")
        if text is None:
            continue
        node = parse_where(text)
        if step.inputs:
            prop = {c.step: c.property for c in step.inputs}

            def fn(n):
                if is_sentinel(n):
                    from .rewrite import sentinel_step

                    return id_test(["id"], prop[sentinel_step(n)])
                return n

            node = A.transform(node, fn)
        try:
            diagnostics = check(node, endpoint=step.endpoint, behaviors=behaviors)
        except Exception as exc:  # a checker bug must not block planning; say so instead
            notes.append(f"step {i + 1}: the checker failed ({type(exc).__name__}: {exc})")
            continue
        for d in diagnostics:
            found.append(d)
            notes.append(f"step {i + 1}: {d.code} {d.severity}: {d.message}")
    raise_if_strict(found, strict)
    if not notes:
        return plan
    kept = [n for n in plan.notes if not n.startswith("engage where uses user[...]")]
    return attrs.evolve(plan, notes=tuple(kept) + tuple(notes))


def raise_if_strict(found, strict: bool) -> None:
    """``strict`` planning: CheckError with the error-severity findings, if any."""
    errors = [d for d in found if d.severity == "error"]
    if strict and errors:
        from ..errors import CheckError

        raise CheckError(errors)


def parse_where(text: str) -> A.Expr:
    from ..language import parse

    return parse(text)


def date_chunks(from_date: str, to_date: str, chunk: str | None) -> list[tuple[str, str]]:
    """Inclusive ``(from, to)`` ranges covering ``from_date..to_date`` exactly once: single days,
    7-day blocks starting at ``from_date``, or calendar months (clipped to the range)."""
    start, end = _dt.date.fromisoformat(from_date), _dt.date.fromisoformat(to_date)
    if chunk is None or chunk == "none":
        return [(from_date, to_date)]
    out = []
    cur = start
    while cur <= end:
        if chunk == "day":
            stop = cur
        elif chunk == "week":
            stop = cur + _dt.timedelta(days=6)
        elif chunk == "month":
            nxt = (cur.replace(day=1) + _dt.timedelta(days=32)).replace(day=1)
            stop = nxt - _dt.timedelta(days=1)
        else:
            raise PlanError(f"unknown chunk {chunk!r}: expected one of {', '.join(CHUNKS)}")
        stop = min(stop, end)
        out.append((cur.isoformat(), stop.isoformat()))
        cur = stop + _dt.timedelta(days=1)
    return out


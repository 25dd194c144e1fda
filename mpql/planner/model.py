"""The plan model: what the planner produces and the executor consumes.

A ``Plan`` is an ordered tuple of ``Step``s. Each step is one logical Mixpanel request family
(an `/engage` scan, or a date-chunked `/export`); the executor expands it into HTTP requests
(pages, date chunks, id batches) according to its ``pagination`` / ``chunking`` strategy.
A step may consume the output of an earlier step (``consumes``), e.g. the export step of the
HubSpot workflow filters on the distinct ids that the engage step found.

This module is the contract between mpql/planner and mpql/executor: fields may be added, but
renaming or removing one means changing both sides.

Executors need not re-implement the id substitution, batching and client-side filtering that a
consuming step implies: ``mpql.planner.expand(step, ids)`` (also ``Plan.expand``) turns a step
plus the id sets of the steps it consumes into the concrete HTTP requests (every date chunk and
id batch, URLs fully encoded) and the record filter to apply locally, if any. It is the single
implementation of the rules in docs/planner.md.
"""

from __future__ import annotations

from typing import Any, Mapping

import attrs

from .._convert import to_dict, to_tuple

__all__ = ["Step", "Plan", "Consumes", "LocalAggregate"]

REGIONS = ("us", "eu", "in")


@attrs.frozen
class Consumes:
    """How a step uses an earlier step's results.

    ``step``: index of the producing step. ``field``: what is taken from each record
    (``"$distinct_id"``). ``strategy``: ``"where-in"`` (ids go into this step's `where` as
    ``properties["$distinct_id"] in [...]``, split into batches of ``batch_size`` ids so every
    URL stays under ``max_url_length``), ``"distinct-ids-param"`` (ids go into the
    ``distinct_ids`` parameter), or ``"client-filter"`` (the step runs without the ids and the
    executor keeps only records whose id is in the set). ``placeholder``: the text in
    ``params["where"]`` that the executor replaces with the id test. ``reason``: why this
    strategy was chosen (shown by Plan.explain()).

    Added by the planner (all optional, defaults keep the original meaning):
    ``property``: the event property the id test reads (``properties[<property>]``; default
    ``"$distinct_id"``, configurable because the spelling is UNCONFIRMED, docs/mixpanel-reference.md §1.10).
    ``negated``: the producing step found the ids for which the profile condition is *not*
    true (used when the condition also holds for users without a profile); the ``not`` is
    already in the where template, so substitution is the same either way. ``splittable``:
    the id test is a top-level conjunct of the where, so splitting the ids into batches is
    exact and duplicate-free; when False the id list must go into one request or not at all.
    ``fallback``: the strategy used when the ids do not fit (``"client-filter"``).
    ``batch_size``: None means batches are packed by URL length, not by count. Ids are
    compared as strings (engage may return numbers; export ids are strings). The
    placeholder is a sentinel property (``properties["$mpql:ids-of-step-1"]``) so the where
    stays parseable; replace it by the parenthesised id test.
    """

    step: int
    field: str = "$distinct_id"
    strategy: str = "where-in"
    batch_size: int | None = None
    placeholder: str | None = None
    reason: str = ""
    property: str = "$distinct_id"
    negated: bool = False
    splittable: bool = True
    fallback: str | None = "client-filter"


@attrs.frozen
class Step:
    """One Mixpanel request family.

    ``endpoint``: "engage" or "export". ``method``: "GET" or "POST". ``url``: the full URL for
    the region (no credentials, no query string). ``params``: the request parameters as values
    (strings, ints, lists); ``encoding`` says how they are sent: "query" (percent-encoded URL
    query, spaces as %20) or "form" (form-encoded POST body; ``project_id`` still goes in the
    URL query). ``json_params``: names of params that are sent JSON-encoded (e.g. export's
    ``event`` array, engage's ``output_properties``). ``pagination``: for engage, "page"
    (session_id + page); None otherwise. ``chunking``: for export, "day" / "week" / "month" / "Nd" (N days) /
    None — the executor splits ``from_date..to_date`` into chunks of that size. ``rate_class``:
    "query" (Query API: 60/h, 5 concurrent) or "export" (60/h, 3/s, 100 concurrent).
    ``client_filter``: wire-style expression text the executor applies to records locally
    (evaluator), or None. The planner leaves it None: the only local filter it needs, the id
    test of the client-filter strategy, depends on the ids found at run time, so it comes
    from ``expand(step, ids).keep``; the field stays for executors and hand-made plans. ``why``: one sentence on why this endpoint was chosen.

    Added by the planner: ``inputs``: every ``Consumes`` of this step (a where can contain
    several profile conditions, each answered by its own engage step); ``consumes`` is
    ``inputs[0]`` (so a one-input executor keeps working), but a step with several inputs must
    be run through ``expand`` or handle every entry of ``inputs``. ``url_params``:
    names of params that go in the URL query string even when ``encoding`` is "form"
    (``project_id``, ``workspace_id``). ``max_url_length``: the longest URL the planner lets
    a request have (id batching and the client-filter fallback keep to it). ``limit``: the
    query's overall record cap (``params["limit"]`` is per request; the executor stops after
    ``limit`` records in total). Booleans in params are sent as ``true``/``false``;
    json_params with compact separators. The planner leaves ``client_filter`` None: whether
    a local filter is needed depends on how many ids the producing steps find, so it comes
    from ``expand()`` at run time (``Expansion.keep``).
    """

    endpoint: str
    method: str
    url: str
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=to_dict)
    encoding: str = "query"
    json_params: tuple = attrs.field(default=(), converter=to_tuple)
    pagination: str | None = None
    chunking: str | None = None
    rate_class: str = "query"
    consumes: Consumes | None = None
    client_filter: str | None = None
    output: bool = True  # whether this step's records are part of the query's result
    why: str = ""
    inputs: tuple = attrs.field(default=(), converter=to_tuple)
    url_params: tuple = attrs.field(default=("project_id", "workspace_id"), converter=to_tuple)
    max_url_length: int | None = None
    limit: int | None = None


@attrs.frozen
class LocalAggregate:
    """How to finish an aggregate plan locally: what the executor does after the export steps.

    ``function``: the aggregate endpoint path, a key of ``mpql.aggregates.FUNCTIONS``
    ("segmentation", "segmentation/numeric", "segmentation/sum", "segmentation/average",
    "retention", "retention/addiction", "funnels"). ``params``: its keyword arguments besides
    the events, JSON values only (expressions as wire text; funnel ``steps`` as
    ``[{"event", "where", "label"}]``). ``timezone``: the project timezone of the date
    buckets. ``events_steps``: indices of the steps whose records are the events (their
    records are NOT the query's result; ``output`` is False on them). ``profiles_step``: the
    index of an engage step whose records are the profiles ``user[...]`` reads, or None.
    ``why``: why the plan aggregates locally instead of asking Mixpanel's endpoint.

    Executors call ``run(events, profiles)`` (or ``mpql.aggregates.FUNCTIONS[function](events,
    **params, timezone=timezone, profiles=profiles)``) and return its answer: the JSON
    document Mixpanel's endpoint would have sent. docs/aggregates.md, "Plans".
    """

    function: str
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=to_dict)
    timezone: str = "UTC"
    events_steps: tuple = attrs.field(default=(), converter=to_tuple)
    profiles_step: int | None = None
    why: str = ""

    def run(self, events, profiles=None, *, semantics=None, **extra) -> dict:
        """The aggregate answer over ``events`` (export lines) and ``profiles`` (Engage
        results, for user[...])."""
        from ..aggregates import FUNCTIONS

        return FUNCTIONS[self.function](events, profiles=profiles, semantics=semantics,
                                        timezone=self.timezone, **dict(self.params), **extra)


@attrs.frozen
class Plan:
    """Ordered steps plus where they run. ``summary``: one line describing the query;
    ``notes``: warnings the planner wants a human to see (request budget, UNCONFIRMED
    behaviour relied upon). ``explain()``, ``to_json()``, ``to_curl()`` render it;
    ``expand(i, ids)`` gives step ``i``'s concrete requests."""

    steps: tuple = attrs.field(converter=to_tuple)
    region: str = "us"
    #: "service_account" or "project_secret"; credentials themselves are never stored here.
    auth_kind: str = "service_account"
    project_id: str | None = None
    summary: str = ""
    notes: tuple = attrs.field(default=(), converter=to_tuple)
    #: Aggregate plans: the Mixpanel endpoint whose answer this plan produces
    #: ("segmentation", "funnels", …; None for record plans). Without ``local_aggregate`` the
    #: plan's single output step IS that endpoint and its JSON body is the answer; with it,
    #: the export steps' events are aggregated locally (``LocalAggregate.run``).
    aggregate: str | None = None
    local_aggregate: LocalAggregate | None = None
    #: The ``ServiceAccount``/``ProjectSecret`` passed to ``Query.plan(auth=…)``, so that
    #: ``Client().run(plan)`` runs with it. Kept in memory only: never shown (``repr``), never
    #: compared, never serialised (``to_dict``/``to_json``), so a saved plan holds no secret.
    auth: Any = attrs.field(default=None, repr=False, eq=False, kw_only=True)

    def explain(self) -> str:
        """Readable text: one block per step, with why that endpoint and strategy."""
        from .render import explain

        return explain(self)

    def to_json(self, indent: int | None = 2) -> str:
        from .render import to_json

        return to_json(self, indent=indent)

    def to_dict(self) -> dict:
        from .render import to_dict

        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> "Plan":
        from .render import from_dict

        return from_dict(data)

    @classmethod
    def from_json(cls, text: str) -> "Plan":
        import json

        from ..errors import InputError

        if not isinstance(text, (str, bytes, bytearray)):
            raise InputError(f"Plan.from_json() takes the JSON text of a plan, got "
                             f"{type(text).__name__}")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise InputError(f"mpql plan is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def to_curl(self, ids: Mapping[int, Any] | None = None) -> str:
        """Shell-safe curl commands (``$MP_USERNAME:$MP_SECRET`` placeholders, never a
        secret). Consumed ids not given in ``ids`` are shown as sample values."""
        from .render import to_curl

        return to_curl(self, ids=ids)

    def expand(self, index: int, ids: Mapping[int, Any] | None = None, **kwargs):
        """Step ``index``'s concrete requests given the ids of the steps it consumes."""
        from .expand import expand

        return expand(self.steps[index], ids, **kwargs)

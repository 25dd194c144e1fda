"""The plan model: what the planner produces and the executor consumes.

A ``Plan`` is an ordered tuple of ``Step``s. Each step is one logical Mixpanel request family
(an `/engage` scan, or a date-chunked `/export`); the executor expands it into HTTP requests
(pages, date chunks, id batches) according to its ``pagination`` / ``chunking`` strategy.
A step may consume the output of an earlier step (``consumes``), e.g. the export step of the
HubSpot workflow filters on the distinct ids that the engage step found.

This module is the contract between mpql/planner and mpql/executor: fields may be added, but
renaming or removing one means changing both sides.
"""

from __future__ import annotations

from typing import Any, Mapping

import attrs

__all__ = ["Step", "Plan", "Consumes"]

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
    """

    step: int
    field: str = "$distinct_id"
    strategy: str = "where-in"
    batch_size: int | None = None
    placeholder: str | None = None
    reason: str = ""


@attrs.frozen
class Step:
    """One Mixpanel request family.

    ``endpoint``: "engage" or "export". ``method``: "GET" or "POST". ``url``: the full URL for
    the region (no credentials, no query string). ``params``: the request parameters as values
    (strings, ints, lists); ``encoding`` says how they are sent: "query" (percent-encoded URL
    query, spaces as %20) or "form" (form-encoded POST body; ``project_id`` still goes in the
    URL query). ``json_params``: names of params that are sent JSON-encoded (e.g. export's
    ``event`` array, engage's ``output_properties``). ``pagination``: for engage, "page"
    (session_id + page); None otherwise. ``chunking``: for export, "day" / "week" / "month" /
    None — the executor splits ``from_date..to_date`` into chunks of that size. ``rate_class``:
    "query" (Query API: 60/h, 5 concurrent) or "export" (60/h, 3/s, 100 concurrent).
    ``client_filter``: wire-style expression text the executor applies to records locally
    (evaluator), or None. ``why``: one sentence on why this endpoint was chosen.
    """

    endpoint: str
    method: str
    url: str
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)
    encoding: str = "query"
    json_params: tuple = attrs.field(default=(), converter=tuple)
    pagination: str | None = None
    chunking: str | None = None
    rate_class: str = "query"
    consumes: Consumes | None = None
    client_filter: str | None = None
    output: bool = True  # whether this step's records are part of the query's result
    why: str = ""


@attrs.frozen
class Plan:
    steps: tuple = attrs.field(converter=tuple)
    region: str = "us"
    #: "service_account" or "project_secret"; credentials themselves are never stored here.
    auth_kind: str = "service_account"
    project_id: str | None = None

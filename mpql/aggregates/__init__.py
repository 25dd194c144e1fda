"""Mixpanel's aggregate reports computed locally from raw export lines.

Public API (pure functions; each returns the JSON answer of the Mixpanel endpoint it is named
after, in the documented shape; parameter names mirror Mixpanel's HTTP parameters)::

    segmentation(events, *, event, from_date, to_date, on=, where=, unit=, interval=, type=, limit=)
    segmentation_numeric(events, *, event, from_date, to_date, on, where=, unit=, type=)
    segmentation_sum(events, *, event, from_date, to_date, on, where=, unit=, computed_at=)
    segmentation_average(events, *, event, from_date, to_date, on, where=, unit=)
    retention(events, *, from_date, to_date, retention_type=, born_event=, event=, born_where=,
              where=, interval=, interval_count=, unit=, unbounded_retention=, on=, limit=)
    frequency(events, *, from_date, to_date, unit, addiction_unit, event=, where=, on=, limit=)
    funnel(events, *, steps, from_date, to_date, length=, length_unit=, interval=, unit=, on=,
           where=, limit=)
    compute(endpoint, events, params, *, funnels=, profiles=, ...)   # HTTP query params in

Every function also takes ``profiles=`` (Engage results, or distinct_id → properties, for
``user[...]``), ``semantics=`` (an ``mpql.evaluator.Semantics``: the expression semantics and
every UNCONFIRMED aggregate choice), ``timezone=`` (the project timezone of the date buckets;
default ``semantics.timezone``) and ``now=`` (``NOW``). ``events`` is any iterable of export
lines ``{"event": NAME, "properties": {"time": SECONDS, "distinct_id": …, …}}``, read once.

How it fits: ``where``/``on`` compile through mpql.evaluator, so aggregates agree with
``mpql filter``; _params.py holds the parameter rules shared with the planner
(``mpql.Query.segmentation`` & co. choose between Mixpanel's endpoint and export + these
functions) and the sandbox. docs/aggregates.md documents shapes, semantics and evidence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import import_module
from typing import Any

from ..errors import QueryError
from . import _params as params
from ._params import (
    DEFAULT_LENGTH, ENDPOINTS, LOCAL_UNITS, SERVER_UNITS, check_saved_funnel, find_saved_funnel,
    normalize_steps,
)

__all__ = [
    "segmentation", "segmentation_numeric", "segmentation_sum", "segmentation_average",
    "retention", "frequency", "funnel", "compute", "http_kwargs", "FUNCTIONS", "ENDPOINTS",
    "SERVER_UNITS", "LOCAL_UNITS", "normalize_steps", "check_saved_funnel",
    "find_saved_funnel", "saved_funnels_list", "DEFAULT_LENGTH", "params", "dumps",
]

# The computing modules import the evaluator; load them on first use so that the planner
# (which needs only the parameter rules) keeps `mpql plan` start-up lean.
_LAZY = {
    "segmentation": "._segmentation",
    "segmentation_numeric": "._segmentation",
    "segmentation_sum": "._segmentation",
    "segmentation_average": "._segmentation",
    "retention": "._retention",
    "frequency": "._retention",
    "funnel": "._funnels",
}
#: endpoint path (under /api/query) → name of its local function.
_FUNCTION_NAMES = {
    "segmentation": "segmentation",
    "segmentation/numeric": "segmentation_numeric",
    "segmentation/sum": "segmentation_sum",
    "segmentation/average": "segmentation_average",
    "retention": "retention",
    "retention/addiction": "frequency",
    "funnels": "funnel",
}


def __getattr__(name: str) -> Any:
    if name == "FUNCTIONS":
        #: endpoint path (under /api/query) → local function.
        value = {ep: __getattr__(fn) for ep, fn in _FUNCTION_NAMES.items()}
    else:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'mpql.aggregates' has no attribute {name!r}")
        value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


# HTTP parameters each endpoint takes (besides project_id / workspace_id, which the server
# handles), as the functions' keyword names.
_HTTP = {
    "segmentation": ("event", "from_date", "to_date", "on", "where", "unit", "interval",
                     "type", "limit", "format"),
    "segmentation/numeric": ("event", "from_date", "to_date", "on", "where", "unit", "type"),
    "segmentation/sum": ("event", "from_date", "to_date", "on", "where", "unit"),
    "segmentation/average": ("event", "from_date", "to_date", "on", "where", "unit"),
    "retention": ("from_date", "to_date", "retention_type", "born_event", "event",
                  "born_where", "where", "interval", "interval_count", "unit",
                  "unbounded_retention", "on", "limit"),
    "retention/addiction": ("from_date", "to_date", "unit", "addiction_unit", "event",
                            "where", "on", "limit"),
    "funnels": ("funnel_id", "from_date", "to_date", "length", "length_unit", "interval",
                "unit", "on", "where", "limit"),
}
_INTS = {"interval", "interval_count", "limit", "length", "funnel_id"}
_REQUIRED = {
    "segmentation": ("event", "from_date", "to_date"),
    "segmentation/numeric": ("event", "from_date", "to_date", "on"),
    "segmentation/sum": ("event", "from_date", "to_date", "on"),
    "segmentation/average": ("event", "from_date", "to_date", "on"),
    "retention": ("from_date", "to_date"),
    "retention/addiction": ("from_date", "to_date", "unit", "addiction_unit"),
    "funnels": ("funnel_id", "from_date", "to_date"),
}


def saved_funnels_list(funnels) -> list:
    """The /funnels/list answer for a dataset's saved funnels: ``[{"funnel_id", "name"}]``."""
    return [{"funnel_id": f["funnel_id"], "name": f["name"]}
            for f in (check_saved_funnel(f, i) for i, f in enumerate(funnels or ()))]


def http_kwargs(endpoint: str, query: Mapping, *, funnels=None, server: bool = True) -> dict:
    """Mixpanel HTTP query parameters (text values) → keyword arguments of the endpoint's
    function, validated as Mixpanel's server would (``server=True``: only the units the
    endpoint has). QueryError names the offending parameter."""
    if not isinstance(endpoint, str) or endpoint not in _FUNCTION_NAMES:
        raise QueryError(f"unknown aggregate endpoint {endpoint!r}: expected one of "
                         + ", ".join(ENDPOINTS))
    if not isinstance(query, Mapping):
        raise QueryError(f"query must be a mapping of HTTP parameters, got {type(query).__name__}")
    allowed = _HTTP[endpoint]
    kw: dict = {}
    for name, value in query.items():
        if name in ("project_id", "workspace_id"):
            continue
        if name not in allowed:
            raise QueryError(f"/{endpoint} has no parameter {name!r} (it takes "
                             + ", ".join(allowed) + ")")
        if isinstance(value, (list, tuple)):
            if len(value) != 1:
                raise QueryError(f"parameter {name!r} was given {len(value)} times")
            value = value[0]
        if name in ("where", "on", "born_where") and isinstance(value, str) and not value.strip():
            continue  # an empty expression parameter is no expression (as in an HTML form)
        if name in _INTS:
            value = params.check_int(name, value)
        if name == "unbounded_retention":
            value = params.check_bool(name, value)
        kw[name] = value
    for name in _REQUIRED[endpoint]:
        if kw.get(name) in (None, ""):
            raise QueryError(f"/{endpoint} needs the {name} parameter")
    if kw.pop("format", None) not in (None, "json"):
        raise QueryError("format=csv is not supported by mpql; leave format out for JSON")
    if server:
        unit = kw.get("unit")
        if unit is not None:
            params.check_unit(endpoint, unit, server=True)
        if endpoint == "segmentation":
            if kw.get("interval") is not None and kw.get("type", "general") == "general":
                raise QueryError("interval replaces unit only when type is unique or average")
            if kw.get("type") == "unique" and unit in ("minute", "hour"):
                raise QueryError(f"/segmentation has no {unit}ly uniques (Mixpanel: \"you "
                                 "cannot get hourly uniques\")")
    if endpoint == "funnels":
        saved = find_saved_funnel(funnels, kw.pop("funnel_id"))
        kw["steps"] = saved["steps"]
        if "length" not in kw and "length" in saved:
            kw["length"] = saved["length"]
            kw.setdefault("length_unit", saved["length_unit"])
    return kw


def compute(endpoint: str, events, query: Mapping, *, funnels=None, profiles=None,
            semantics=None, timezone=None, now=None, server: bool = True, **extra) -> dict:
    """The answer of ``/api/query/<endpoint>`` for HTTP query parameters ``query`` over
    ``events`` — what the sandbox serves. ``funnels``: the dataset's saved funnels (for
    ``funnel_id``). ``extra``: more keyword arguments for the function (``computed_at``)."""
    kw = http_kwargs(endpoint, query, funnels=funnels, server=server)
    return __getattr__(_FUNCTION_NAMES[endpoint])(events, profiles=profiles, semantics=semantics,
                               timezone=timezone, now=now, **kw, **extra)


def dumps(answer) -> str:
    """An answer as compact JSON text (as the sandbox sends it)."""
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":"))

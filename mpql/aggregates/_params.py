"""Parameter rules of Mixpanel's aggregate endpoints — one implementation for the planner
(``Query.segmentation`` & co.), the local functions and the sandbox.

Every rule raises ``QueryError`` naming the parameter, what is allowed and what was given.
Two sets of rules exist for units: what Mixpanel's endpoint accepts (``SERVER_UNITS``, from
the Query API reference, docs.mixpanel.com/reference/segmentation-query and siblings) and
what the local computation accepts (``LOCAL_UNITS``, a superset: week segmentation, minute
buckets for the numeric measures). The planner uses the difference to choose export + local
aggregation.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Mapping

from ..errors import QueryError

__all__ = [
    "ENDPOINTS", "SERVER_UNITS", "LOCAL_UNITS", "ADDICTION_UNITS", "LENGTH_UNITS",
    "SEGMENTATION_TYPES", "LIMITS", "DEFAULT_LENGTH", "MAX_FUNNEL_LENGTH_DAYS",
    "MAX_RETENTION_DAYS",
    "parse_date", "check_range", "check_unit", "check_limit", "check_int", "check_bool",
    "check_choice", "check_length", "normalize_steps", "check_saved_funnel", "find_saved_funnel",
    "length_seconds",
]

#: Aggregate endpoints by their path under /api/query.
ENDPOINTS = ("segmentation", "segmentation/numeric", "segmentation/sum",
             "segmentation/average", "retention", "retention/addiction", "funnels")

SERVER_UNITS = {
    "segmentation": ("minute", "hour", "day", "month"),
    "segmentation/numeric": ("hour", "day"),
    "segmentation/sum": ("hour", "day"),
    "segmentation/average": ("hour", "day"),
    "funnels": ("day", "week", "month"),
    "retention": ("day", "week", "month"),
    "retention/addiction": ("day", "week", "month"),
}
_ALL = ("minute", "hour", "day", "week", "month")
LOCAL_UNITS = {
    "segmentation": _ALL,
    "segmentation/numeric": _ALL,
    "segmentation/sum": _ALL,
    "segmentation/average": _ALL,
    "funnels": ("day", "week", "month"),
    "retention": ("day", "week", "month"),
    "retention/addiction": ("day", "week", "month"),
}
ADDICTION_UNITS = ("hour", "day")
LENGTH_UNITS = ("day", "hour", "minute", "second")
SEGMENTATION_TYPES = ("general", "unique", "average")
#: endpoint → (default, maximum) of ``limit`` (top segment values; only with ``on``).
LIMITS = {"segmentation": (60, 10_000), "funnels": (255, 10_000),
          "retention": (None, 10_000), "retention/addiction": (None, 10_000)}
MAX_FUNNEL_LENGTH_DAYS = 90
#: Conversion window when neither the call nor the saved funnel gives one (Mixpanel's UI
#: default is 30 days; the API's default is "the value saved in the UI").
DEFAULT_LENGTH = (30, "day")
MAX_RETENTION_DAYS = 90
_LENGTH_SECONDS = {"day": 86400, "hour": 3600, "minute": 60, "second": 1}

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_date(name: str, value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        raise QueryError(f"{name} takes a date, got a datetime ({value.isoformat()}): "
                         f"pass {name}={value.date().isoformat()!r}")
    if isinstance(value, _dt.date):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise QueryError(f"{name} must be a date written YYYY-MM-DD, got {value!r}")
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name} {value!r} is not a real calendar date") from None


def check_range(from_date, to_date) -> tuple[_dt.date, _dt.date]:
    start, end = parse_date("from_date", from_date), parse_date("to_date", to_date)
    if start > end:
        raise QueryError(f"from_date {start} is after to_date {end}: swap them")
    return start, end


def check_choice(name: str, value, allowed, *, endpoint: str | None = None,
                 hint: str = "") -> str:
    if value not in allowed:
        where = f" for /{endpoint}" if endpoint else ""
        raise QueryError(f"{name} must be one of {', '.join(map(str, allowed))}{where}, got "
                         f"{value!r}" + (f" ({hint})" if hint else ""))
    return value


def check_unit(endpoint: str, unit, *, server: bool, name: str = "unit") -> str:
    table = SERVER_UNITS if server else LOCAL_UNITS
    allowed = table[endpoint]
    if unit not in allowed:
        hint = ""
        if server and unit in LOCAL_UNITS[endpoint]:
            hint = (f"Mixpanel's /{endpoint} has no {unit} unit; mpql computes it from "
                    "exported events with strategy='export' (or 'auto')")
        check_choice(name, unit, allowed, endpoint=endpoint, hint=hint)
    return unit


def check_int(name: str, value, lo: int | None = None, hi: int | None = None,
              *, hint: str = "") -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,30}", value.strip()):
        value = int(value)  # HTTP query parameters arrive as text (30 digits: far past any
        #                     bound, and short of Python's 4300-digit ValueError)
    if isinstance(value, bool) or not isinstance(value, int):
        raise QueryError(f"{name} must be an integer, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise QueryError(f"{name} must be {bounds}, got {value}" + (f" ({hint})" if hint else ""))
    return value


def check_bool(name: str, value) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if not isinstance(value, bool):
        raise QueryError(f"{name} must be true or false, got {value!r}")
    return value


def check_limit(endpoint: str, limit, has_on: bool, *, strict: bool = True) -> int | None:
    """``limit`` is the number of top segment values (Mixpanel's default applies when ``on``
    is given and ``limit`` is not). Mixpanel ignores it without ``on``: with ``strict`` the
    Query API says so instead, without it (the local functions, the sandbox) it is ignored."""
    default, hi = LIMITS[endpoint]
    if limit is None:
        return default if has_on else None
    limit = check_int("limit", limit, 1, hi)
    if not has_on and not strict:
        return None
    if not has_on:
        raise QueryError(f"limit only applies with on= (it keeps the top {limit} segment "
                         "values); Mixpanel ignores it without on — leave it out")
    return limit


def length_seconds(length: int, length_unit: str) -> int:
    return length * _LENGTH_SECONDS[length_unit]


def check_length(length, length_unit) -> tuple[int, str]:
    check_choice("length_unit", length_unit, LENGTH_UNITS, endpoint="funnels")
    length = check_int("length", length, 1)
    if length_seconds(length, length_unit) > MAX_FUNNEL_LENGTH_DAYS * 86400:
        raise QueryError(f"length {length} {length_unit}(s) is longer than the "
                         f"{MAX_FUNNEL_LENGTH_DAYS} days Mixpanel allows for a funnel's "
                         "conversion window")
    return length, length_unit


def normalize_steps(steps, *, name: str = "steps") -> list[dict]:
    """Funnel steps as ``[{"event": NAME, "where": EXPR-or-None, "label": str-or-None}]``.

    Accepts event names or mappings ``{"event": NAME, "where": EXPR, "label": TEXT}`` (the
    ``where`` as text, a builder expression or an AST)."""
    if isinstance(steps, (str, bytes)) or not hasattr(steps, "__iter__"):
        raise QueryError(f"{name} must be a list of event names or "
                         f'{{"event": NAME, "where": EXPR}} steps, got {steps!r:.60}')
    out = []
    for i, step in enumerate(steps, 1):
        if isinstance(step, str):
            step = {"event": step}
        if not isinstance(step, Mapping):
            raise QueryError(f"{name}[{i}] must be an event name or a mapping with an "
                             f"\"event\" key, got {step!r:.60}")
        unknown = set(step) - {"event", "where", "label", "selector"}
        if unknown:
            raise QueryError(f"{name}[{i}] has unknown keys {', '.join(sorted(map(str, unknown)))}"
                             " (allowed: event, where, label)")
        event = step.get("event")
        if not isinstance(event, str) or not event:
            raise QueryError(f"{name}[{i}] needs an \"event\" name (a non-empty string), got "
                             f"{event!r}")
        where = step.get("where", step.get("selector"))
        label = step.get("label")
        if label is not None and not isinstance(label, str):
            raise QueryError(f"{name}[{i}] label must be text, got {label!r}")
        out.append({"event": event, "where": where, "label": label})
    if len(out) < 2:
        raise QueryError(f"a funnel needs at least 2 steps, got {len(out)}")
    return out


def check_saved_funnel(funnel: Mapping, i: int | None = None) -> dict:
    """A saved funnel as stored in a dataset's ``funnels`` list (docs/aggregates.md):
    ``{"funnel_id": int, "name": str, "steps": [...], "length": int?, "length_unit": str?}``."""
    where = f"funnel #{i + 1}" if i is not None else "saved funnel"
    if not isinstance(funnel, Mapping):
        raise QueryError(f"{where}: expected an object, got {funnel!r:.60}")
    fid = funnel.get("funnel_id")
    if isinstance(fid, bool) or not isinstance(fid, int):
        raise QueryError(f"{where}: funnel_id must be an integer, got {fid!r}")
    name = funnel.get("name")
    if not isinstance(name, str) or not name:
        raise QueryError(f"{where} (funnel_id {fid}): name must be a non-empty string")
    steps = normalize_steps(funnel.get("steps"), name=f"funnel {fid} steps")
    for s in steps:
        if s["where"] is not None and not isinstance(s["where"], str):
            raise QueryError(f"funnel {fid}: a stored step where must be expression text")
    out = {"funnel_id": fid, "name": name, "steps": steps}
    if "length" in funnel or "length_unit" in funnel:
        out["length"], out["length_unit"] = check_length(funnel.get("length", 30),
                                                         funnel.get("length_unit", "day"))
    return out


def find_saved_funnel(funnels, funnel_id) -> dict:
    fid = check_int("funnel_id", funnel_id, 1)
    if fid is None:
        raise QueryError("funnel_id is required for a saved funnel")
    for i, f in enumerate(funnels or ()):
        f = check_saved_funnel(f, i)
        if f["funnel_id"] == fid:
            return f
    known = ", ".join(str(f.get("funnel_id")) for f in funnels or () if isinstance(f, Mapping))
    raise QueryError(f"funnel_id {fid} is not a saved funnel (known: {known or 'none'})")

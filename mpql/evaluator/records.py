"""How a property reference finds its value in a record of the shape Mixpanel returns.

Two record shapes (docs/mixpanel-reference.md §2.3, §3.3)::

    events    a Raw Export line     {"event": "Signup", "properties": {"time": 1700000000,
                                      "distinct_id": "u1", "$insert_id": "…", …}}
    profiles  an Engage result      {"$distinct_id": "u1", "$properties": {"$email": …, …}}

Resolution rules (Mixpanel documents none of the aliases; docs/semantics.md, "Records"):

========================  =========================================  ===========================
reference                 events (export line)                       profiles (engage result)
========================  =========================================  ===========================
``properties["x"]``       ``properties.x``                            ``$properties.x``
``event["x"]``            same as ``properties["x"]``                 undefined
``user["x"]``             the user's profile ``x`` (``profiles=``      same as ``properties["x"]``
                          lookup by ``distinct_id``), else undefined
``behaviors["x"]``        undefined                                   ``behaviors=`` lookup by
                                                                      ``$distinct_id``, else
                                                                      undefined
``…["$time"]``            ``properties.$time`` if present, else        ``$properties.$time``
                          ``properties.time`` read as ``datetime(n)``
``…["$distinct_id"]``     ``properties.$distinct_id``, else            ``$properties`` value, else
                          ``properties.distinct_id``                  the record's ``$distinct_id``
``…["distinct_id"]``      ``properties.distinct_id``                  ``$properties`` value, else
                                                                      the record's ``$distinct_id``
========================  =========================================  ===========================

A record that does not have this shape is an ``InputError`` naming what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ArgumentError, ArgumentTypeError, InputError
from .values import Undefined, a_kind, datetime_from_number

__all__ = ["EVENTS", "PROFILES", "RECORD_SCOPES", "Resolver", "properties_of", "shape_error"]

EVENTS = "events"
PROFILES = "profiles"
RECORD_SCOPES = (EVENTS, PROFILES)

_PROPS_KEY = {EVENTS: "properties", PROFILES: "$properties"}

#: References whose lookup is not a plain ``props.get(name)`` — the compiler's fast path
#: must not be used for these.
SPECIAL_NAMES = {
    EVENTS: frozenset({"$time", "$distinct_id"}),
    PROFILES: frozenset({"$distinct_id", "distinct_id"}),
}


def shape_error(record, scope: str) -> InputError:
    key = _PROPS_KEY[scope]
    example = (
        '{"event": "…", "properties": {…}} (a Raw Export line)'
        if scope == EVENTS
        else '{"$distinct_id": "…", "$properties": {…}} (an Engage result)'
    )
    if isinstance(record, Mapping):
        keys = ", ".join(repr(k) for k in list(record)[:6]) or "none"
        if key in record:
            found = f'"{key}" is {a_kind(record[key])}, not an object'
        else:
            found = f"its keys are {keys}"
            other = _PROPS_KEY[PROFILES if scope == EVENTS else EVENTS]
            if other in record:
                if scope == EVENTS:
                    found += " (this looks like an Engage result: use scope='profiles' / --profiles)"
                else:
                    found += " (this looks like a Raw Export line: use scope='events' / drop --profiles)"
    else:
        found = f"it is {a_kind(record)}"
    what = "an event" if scope == EVENTS else "a profile"
    return InputError(f"expected {what} record {example} with a \"{key}\" object, but {found}")


def properties_of(record, scope: str):
    """The property object of a record, or InputError."""
    try:
        props = record[_PROPS_KEY[scope]]
    except (KeyError, TypeError, IndexError):
        raise shape_error(record, scope) from None
    if type(props) is not dict and not isinstance(props, Mapping):
        raise shape_error(record, scope)
    return props


class Resolver:
    """Property lookup for one record scope, with the optional profile and behaviour joins.

    ``profile_of(distinct_id)`` → the profile's properties (or None); ``behaviors_of(
    distinct_id)`` → a mapping of behaviour name → count (or None).
    """

    def __init__(self, scope: str, typed, profile_of=None, behaviors_of=None) -> None:
        if scope not in RECORD_SCOPES:
            raise ArgumentError(f"scope must be one of {RECORD_SCOPES!r}, got {scope!r}")
        self.scope = scope
        self.typed = typed
        self.profile_of = profile_of
        self.behaviors_of = behaviors_of

    def distinct_id(self, record, props):
        if self.scope == EVENTS:
            did = props.get("distinct_id", Undefined)
            if did is Undefined:
                did = props.get("$distinct_id", Undefined)
            return did
        did = record.get("$distinct_id", Undefined) if isinstance(record, Mapping) else Undefined
        if did is Undefined:
            did = props.get("$distinct_id", props.get("distinct_id", Undefined))
        return did

    def read(self, record, props, scope: str, name: str):
        """The typed value of ``scope["name"]`` in this record."""
        if self.scope == EVENTS:
            if scope == "properties" or scope == "event":
                return self._event_prop(props, name)
            if scope == "user":
                if name in ("$distinct_id", "distinct_id"):
                    return self.distinct_id(record, props)
                if self.profile_of is None:
                    return Undefined
                did = self.distinct_id(record, props)
                profile = self.profile_of(did)
                if profile is None:
                    return Undefined
                if type(profile) is not dict and not isinstance(profile, Mapping):
                    raise InputError(
                        f"the profile of distinct_id {did!r} is {a_kind(profile)}, "
                        "expected an object of profile properties"
                    )
                return self.typed(profile.get(name, Undefined))
            return Undefined  # behaviors[…] only exists on Engage
        # profiles
        if scope == "properties" or scope == "user":
            value = props.get(name, Undefined)
            if value is Undefined and (name == "$distinct_id" or name == "distinct_id"):
                return record.get("$distinct_id", Undefined)
            return self.typed(value)
        if scope == "behaviors":
            if self.behaviors_of is None:
                return Undefined
            did = self.distinct_id(record, props)
            counts = self.behaviors_of(did)
            if counts is None:
                return Undefined
            return counts.get(name, Undefined)
        return Undefined  # event[…] on a profile

    def _event_prop(self, props, name: str):
        value = props.get(name, Undefined)
        if value is Undefined:
            if name == "$time":
                # Export lines carry the event time as `time` (seconds, or ms with
                # time_in_ms); Mixpanel's `$time` is that instant as a datetime.
                return datetime_from_number(props.get("time", Undefined))
            if name == "$distinct_id":
                value = props.get("distinct_id", Undefined)
        return self.typed(value)


def mapping_lookup(mapping, *, engage_records: bool, name: str = "profiles"):
    """``mapping.get`` that unwraps Engage-shaped values (``{"$properties": {…}}``)."""
    if mapping is None:
        return None
    if not isinstance(mapping, Mapping):
        raise ArgumentTypeError(f"{name} must be a mapping of distinct_id → "
                                f"{'profile' if engage_records else '{name: count}'}, "
                                f"got {type(mapping).__name__}")
    get = mapping.get

    def lookup(key):
        # distinct ids are strings (or numbers); anything else (undefined, a list) has no entry
        if type(key) not in (str, int, float):
            return None
        found = get(key)
        if engage_records and isinstance(found, Mapping) and isinstance(found.get("$properties"), Mapping):
            return found["$properties"]
        return found

    return lookup

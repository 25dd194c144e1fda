"""What the REPL knows about the data: property names per scope, their types, how many records
carry them, and their most common values.

Completion (``mpql.repl.completion``) suggests names and values from a :class:`Catalog`; the
evaluation report uses it to explain an empty result ("no loaded event has `$0s`; did you mean
`$os`?", "values seen for `$os`: …"). A catalog is built from loaded records
(:meth:`Catalog.from_records`) and/or from a schema mapping (:meth:`Catalog.add_schema`); the
two are merged, the schema's declared type winning over the observed one.

Scopes are the two kinds of record Mixpanel returns: ``"event"`` (export lines
``{"event", "properties"}``) and ``"profile"`` (engage results ``{"$distinct_id",
"$properties"}``). Which accessor reads which scope depends on the endpoint
(:func:`scope_for_accessor`).
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping

import attrs

from .._datetext import is_date_property

__all__ = ["Field", "Catalog", "scope_for_accessor", "value_type", "EVENT", "PROFILE"]

EVENT = "event"
PROFILE = "profile"

#: Distinct values remembered per property; past this a property is "high-cardinality" and
#: its values are not offered for completion (ids, timestamps, insert ids).
MAX_DISTINCT = 200



_TYPE_NAMES = {bool: "boolean", int: "number", float: "number", list: "list",
               type(None): "null", dict: "object"}


def value_type(value) -> str:
    """The mpql type name of a JSON value as it appears in a record."""
    t = type(value)
    if t is str:
        # Cheap test first: most strings are not dates, and this runs once per value loaded.
        if len(value) >= 10 and value[4:5] == "-" and is_date_property(value):
            return "datetime"
        return "string"
    name = _TYPE_NAMES.get(t)
    if name is not None:
        return name
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return value_type(str(value))
    return "list" if isinstance(value, list) else "object"


@attrs.define
class Field:
    """One property of one scope."""

    scope: str
    name: str
    #: observed (or declared) type names, most frequent first, e.g. ("number", "string").
    types: tuple = ()
    #: records that carry the property (0 when it comes from a schema only).
    count: int = 0
    declared: str | None = None
    _type_counts: Counter = attrs.field(factory=Counter, repr=False)
    _values: Counter | None = attrs.field(factory=Counter, repr=False)

    @property
    def type(self) -> str:
        """One display string: the declared type, else the observed ones joined with `|`."""
        if self.declared:
            return self.declared
        names = [t for t, _ in self._type_counts.most_common()] or list(self.types)
        return "|".join(names) if names else "unknown"

    def type_counts(self) -> dict[str, int]:
        """Observed type name → records holding a value of that type."""
        return dict(self._type_counts)

    def top_values(self, n: int = 10) -> list[tuple[object, int]]:
        """Most common scalar values with their counts; empty for high-cardinality fields."""
        if not self._values:
            return []
        return [(key[1], count) for key, count in self._values.most_common(n)]

    @property
    def high_cardinality(self) -> bool:
        return self._values is None

    def observe(self, value) -> None:
        self.count += 1
        self._type_counts[value_type(value)] += 1
        values = self._values
        if values is None:
            return
        for item in value if type(value) is list else (value,):
            t = type(item)
            if t is str or t is int or t is float or t is bool:
                # Keyed with the bool-ness so that True and 1 (equal in Python) stay apart.
                key = (t is bool, item)
                if key in values:
                    values[key] += 1
                elif len(values) >= MAX_DISTINCT:
                    self._values = None  # too many distinct values to be useful
                    return
                else:
                    values[key] = 1


class Catalog:
    """Known fields by scope; built incrementally from records and schemas."""

    def __init__(self) -> None:
        self.fields: dict[str, dict[str, Field]] = {EVENT: {}, PROFILE: {}}
        self.event_names: Counter = Counter()
        self.records: dict[str, int] = {EVENT: 0, PROFILE: 0}

    @classmethod
    def from_records(cls, events: Iterable[Mapping] = (), profiles: Iterable[Mapping] = ()):
        cat = cls()
        cat.add_records(events, EVENT)
        cat.add_records(profiles, PROFILE)
        return cat

    def add_records(self, records: Iterable[Mapping], scope: str) -> None:
        fields = self.fields[scope]
        props_key = "properties" if scope == EVENT else "$properties"
        names = self.event_names
        n = 0
        for record in records:
            n += 1
            if scope == EVENT and "event" in record:
                names[record["event"]] += 1
            props = record.get(props_key)
            if not isinstance(props, Mapping):
                continue
            for name, value in props.items():
                field = fields.get(name)
                if field is None:
                    field = fields[name] = Field(scope, name)
                # Field.observe, inlined for the common scalar case: this loop runs once per
                # property of every loaded record.
                t = type(value)
                if t is str or t is int or t is float or t is bool:
                    field.count += 1
                    field._type_counts[value_type(value) if t is str else _TYPE_NAMES[t]] += 1
                    values = field._values
                    if values is not None:
                        vkey = (t is bool, value)  # as in Field.observe
                        if vkey in values:
                            values[vkey] += 1
                        elif len(values) >= MAX_DISTINCT:
                            field._values = None
                        else:
                            values[vkey] = 1
                else:
                    field.observe(value)
        self.records[scope] += n

    def add_schema(self, mapping: Mapping[str, str], scope: str) -> None:
        """Declare ``name → type`` for ``scope`` (a schema file's mapping)."""
        fields = self.fields[scope]
        for name, type_name in mapping.items():
            field = fields.get(name)
            if field is None:
                field = fields[name] = Field(scope, name)
            field.declared = str(type_name)

    def get(self, scope: str, name: str) -> Field | None:
        return self.fields[scope].get(name)

    def names(self, scope: str) -> list[str]:
        return list(self.fields[scope])

    def sorted_fields(self, scope: str) -> list[Field]:
        """Most common first (declared-only fields last), then by name."""
        return sorted(self.fields[scope].values(), key=lambda f: (-f.count, f.name))


def scope_for_accessor(accessor: str, endpoint: str) -> str | None:
    """Which record scope ``accessor[...]`` reads at ``endpoint``; None when it reads neither
    (``behaviors[...]`` counts come from the engage ``behaviors`` parameter, not from data)."""
    if accessor == "behaviors":
        return None
    if endpoint == "engage":
        # In /engage, properties[...] is a profile property (as Mixpanel's own libraries use
        # it) and user[...] is the same thing; event[...] has no meaning there.
        return PROFILE if accessor in ("properties", "user") else None
    return PROFILE if accessor == "user" else EVENT

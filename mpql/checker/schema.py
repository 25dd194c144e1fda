"""User schemas: which properties a project has, and their types.

A schema makes the checker stricter: declared types replace "unknown", and a property the
schema does not list gets a "did you mean" warning (rule S007). Two file formats are read
(docs/lint.md "Schemas"):

* **mpql's simple mapping** (what ``mpql schema infer`` writes)::

      {"mpql_schema": 1,
       "event":   {"plan": "string", "amount": "number", "signup": "datetime"},
       "profile": {"$email": "string", "age": "number"}}

  A flat ``{"name": "type"}`` object is accepted too and applies to events and profiles.

* **Mixpanel's Lexicon Schemas API export** (``GET /api/app/projects/{id}/schemas``): a
  ``{"results": [...]}`` or ``{"entries": [...]}`` object, or a bare list, of entries
  ``{"entityType": "event"|"profile", "name": …, "schemaJson": {"properties": {…}}}``
  whose properties are JSON-schema fragments (``"type": "string"``, ``"format": "date-time"``,
  ``"type": ["number", "null"]``). Event properties are merged over all events; a property
  declared with different types on different events becomes ``unknown``.

Inference (``infer_schema``) reads export JSONL (``{"event": …, "properties": {…}}``) or
engage results (``{"$distinct_id": …, "$properties": {…}}``).
"""

from __future__ import annotations

from typing import Iterable

import attrs

from .._datetext import is_date_property
from .._lazyre import LazyRegex
from ..errors import ConfigError, InputError, read_errors
from . import types as T

__all__ = ["Schema", "load_schema", "parse_schema", "infer_schema", "value_type",
           "listed_value_type", "schema_from_metadata"]

_TYPE_ALIASES = {
    "string": T.STRING, "str": T.STRING, "text": T.STRING,
    "number": T.NUMBER, "integer": T.NUMBER, "int": T.NUMBER, "float": T.NUMBER,
    "numeric": T.NUMBER,
    "boolean": T.BOOLEAN, "bool": T.BOOLEAN,
    "datetime": T.DATETIME, "date-time": T.DATETIME, "date": T.DATETIME,
    "list": T.LIST, "array": T.LIST,
    "object": T.UNKNOWN, "unknown": T.UNKNOWN, "any": T.UNKNOWN,
}



@attrs.frozen
class Schema:
    """Declared property types per entity (``event``, ``profile``). ``None`` for an entity means
    the schema says nothing about it (no "unknown property" warnings there)."""

    event: dict | None = None
    profile: dict | None = None
    source: str = "<schema>"

    def lookup(self, entity: str, name: str) -> str | None:
        table = self.event if entity == "event" else self.profile
        if table is None:
            return None
        return table.get(name)

    def covers(self, entity: str) -> bool:
        return (self.event if entity == "event" else self.profile) is not None

    def names(self, entity: str) -> list[str]:
        table = self.event if entity == "event" else self.profile
        return sorted(table or ())

    def to_json(self) -> dict:
        out: dict = {"mpql_schema": 1}
        if self.event is not None:
            out["event"] = dict(sorted(self.event.items()))
        if self.profile is not None:
            out["profile"] = dict(sorted(self.profile.items()))
        return out


def load_schema(path) -> Schema:
    """Read a schema file; ConfigError names the file and what is wrong with it."""
    import json  # lazily: `lint -e` without a schema needs no JSON (nor pathlib)
    from pathlib import Path

    path = Path(path)
    try:
        with read_errors(f"schema file {path}", ConfigError, expect="a JSON file",
                         encoding_hint="; save it as UTF-8 JSON"):
            raw = path.read_text(encoding="utf-8")
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"schema file {path}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})") from None
    return parse_schema(data, source=str(path))


def parse_schema(data, source: str = "<schema>") -> Schema:
    """A Schema from already-decoded JSON in either supported format."""
    if isinstance(data, Schema):
        return data
    if isinstance(data, list) or (isinstance(data, dict) and (
            "results" in data or "entries" in data)):
        return _parse_lexicon(data, source)
    if not isinstance(data, dict):
        raise ConfigError(f"schema {source}: expected a JSON object, found {type(data).__name__}")
    if "event" in data or "profile" in data or "mpql_schema" in data:
        version = data.get("mpql_schema", 1)
        if version != 1:
            raise ConfigError(f"schema {source}: `mpql_schema` version {version!r} is not "
                              "supported (this mpql reads version 1)")
        extra = sorted(set(data) - {"mpql_schema", "event", "profile"})
        if extra:  # e.g. "events": its properties would silently go unchecked
            raise ConfigError(f"schema {source}: unknown key `{extra[0]}`; an mpql schema has "
                              "`mpql_schema`, `event` and `profile`")
        event = _parse_mapping(data.get("event"), source, "event")
        profile = _parse_mapping(data.get("profile"), source, "profile")
        return Schema(event, profile, source)
    flat = _parse_mapping(data, source, "")
    return Schema(flat, dict(flat), source)


def _parse_mapping(table, source: str, where: str) -> dict | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"schema {source}: `{where}` must map property names to types")
    out = {}
    for name, declared in table.items():
        out[name] = _type_name(declared, source, f"{where}.{name}" if where else name)
    return out


def _type_name(declared, source: str, where: str) -> str:
    if isinstance(declared, dict):  # {"type": "string"} fragments are accepted here too
        return _json_schema_type(declared)
    if not isinstance(declared, str) or declared.lower() not in _TYPE_ALIASES:
        raise ConfigError(
            f"schema {source}: `{where}` has type {declared!r}; expected one of "
            + ", ".join(T.VALUE_TYPES))
    return _TYPE_ALIASES[declared.lower()]


def _json_schema_type(fragment: dict) -> str:
    declared = fragment.get("type")
    if isinstance(declared, list):
        kinds = [k for k in declared if k != "null"]
        declared = kinds[0] if len(kinds) == 1 else None
    if declared == "string" and fragment.get("format") in ("date-time", "date"):
        return T.DATETIME
    if isinstance(declared, str):
        return _TYPE_ALIASES.get(declared.lower(), T.UNKNOWN)
    return T.UNKNOWN


def _parse_lexicon(data, source: str) -> Schema:
    entries = data if isinstance(data, list) else data.get("results", data.get("entries"))
    if not isinstance(entries, list):
        raise ConfigError(f"schema {source}: Lexicon `results` must be a list of entries")
    event: dict = {}
    profile: dict = {}
    seen_event = seen_profile = False
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "entityType" not in entry:
            raise ConfigError(
                f"schema {source}: Lexicon entry {i} has no `entityType` (expected "
                '{"entityType": "event", "name": …, "schemaJson": {…}})')
        kind = entry["entityType"]
        props = (entry.get("schemaJson") or {}).get("properties") or {}
        if kind == "event":
            seen_event = True
            target = event
        elif kind == "profile":
            seen_profile = True
            target = profile
        else:  # groups, lookup tables: not addressable from a where expression
            continue
        for name, fragment in props.items():
            kind_of = _json_schema_type(fragment) if isinstance(fragment, dict) else T.UNKNOWN
            _merge(target, name, kind_of)
    return Schema(event if seen_event else None, profile if seen_profile else None, source)


def _merge(table: dict, name: str, kind: str) -> None:
    old = table.get(name)
    table[name] = kind if old in (None, kind) else T.UNKNOWN


def value_type(value) -> str:
    """The checker type of a JSON value as Mixpanel would store it."""
    if isinstance(value, bool):
        return T.BOOLEAN
    if isinstance(value, (int, float)):
        return T.NUMBER
    if isinstance(value, str):
        return T.DATETIME if is_date_property(value) else T.STRING
    if isinstance(value, list):
        return T.LIST
    return T.UNKNOWN


class SchemaBuilder:
    """Accumulates property types from records, one at a time (``infer_schema`` for files,
    ``mpql filter`` for the first records of its input). A property whose values disagree on
    type is typed unknown and listed in ``conflicts``; null values say nothing."""

    def __init__(self) -> None:
        self.event: dict = {}
        self.profile: dict = {}
        self.conflicts: dict = {}
        self.records = 0

    def add(self, record, where: str = "<input>") -> None:
        """One export line or engage profile; anything else raises InputError."""
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected a JSON object per record")
        if isinstance(record.get("properties"), dict):
            table, props = self.event, record["properties"]
        elif isinstance(record.get("$properties"), dict):
            table, props = self.profile, record["$properties"]
        else:
            raise InputError(
                f"{where}: expected an export record with `properties` or an engage profile "
                "with `$properties`")
        self.records += 1
        conflicts = self.conflicts
        for name, value in props.items():
            if value is None:
                continue
            kind = value_type(value)
            old = table.get(name)
            if old is not None and old != kind:
                conflicts.setdefault(name, {old}).add(kind)
                kind = T.UNKNOWN
            table[name] = kind if old in (None, kind) else T.UNKNOWN

    def schema(self, source: str = "<input>") -> Schema:
        return Schema(self.event or None, self.profile or None, source)

    def stats(self) -> dict:
        return {"records": self.records,
                "conflicts": {k: sorted(v) for k, v in sorted(self.conflicts.items())}}


def infer_schema(lines: Iterable[str], source: str = "<input>") -> tuple[Schema, dict]:
    """Infer a schema from records: raw export JSONL (``{"event", "properties"}`` per line),
    engage profiles one per line (``{"$distinct_id", "$properties"}``), or engage responses
    as Mixpanel returns them (``{"results": [profiles…], "page": …}`` — one per line, or one
    pretty-printed JSON document). Returns the schema and statistics (records read,
    properties whose values disagree on type)."""
    from .._jsonlines import TERMINATED_EARLY, JsonLineError, loads  # lazily: see lint -e

    builder = SchemaBuilder()
    add = builder.add

    it = iter(lines)
    for lineno, raw in enumerate(it, 1):
        line = raw.strip()
        if lineno == 1:
            line = line.lstrip("\ufeff")  # a byte-order mark is not part of the data
        if not line or line == TERMINATED_EARLY:  # export's end-of-stream sentinel
            continue
        try:
            value = loads(line)
        except JsonLineError as exc:
            if builder.records or line[:1] not in "{[":
                raise InputError(f"{source}:{lineno}: not a JSON record ({exc})") from None
            # Perhaps one pretty-printed document (an engage response saved as it came).
            try:
                value = loads(raw + "".join(it))
            except JsonLineError:
                raise InputError(f"{source}:{lineno}: not a JSON record ({exc}); expected "
                                 "JSONL (one record per line) or one JSON document") from None
        if isinstance(value, dict) and isinstance(value.get("results"), list):
            items = value["results"]  # an engage response page
        elif isinstance(value, list):
            items = value
        else:
            items = [value]
        for k, record in enumerate(items):
            add(record, f"{source}:{lineno}" + (f" (record {k + 1})" if len(items) > 1 else ""))
    return builder.schema(source), builder.stats()


_NUMBER_TEXT = LazyRegex(r"^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")


def listed_value_type(text: str) -> str:
    """The type a value listed by ``/events/properties/values`` tells us. Mixpanel lists
    values as strings, so ``"12.5"`` may be the number 12.5 or the string "12.5", and
    ``"true"`` a boolean or a string: those are ``unknown`` (a wrong guess would make the
    checker flag correct filters). Dates, lists and other text are what they look like."""
    if not isinstance(text, str):
        return value_type(text)  # a server that lists typed JSON values
    if text in ("true", "false") or _NUMBER_TEXT.match(text):
        return T.UNKNOWN
    if text[:1] == "[" and text[-1:] == "]":
        import json

        try:
            if isinstance(json.loads(text), list):
                return T.LIST
        except ValueError:
            pass
    return value_type(text)


def schema_from_metadata(events: dict, source: str = "<metadata>") -> tuple[Schema, dict]:
    """An event schema from what the metadata endpoints said: ``{event: {property: [listed
    values] or None}}`` (None: values not fetched → ``unknown``). A property typed
    differently on different events, or whose values disagree, is ``unknown``; the
    returned dict lists those conflicts (property → types seen). Profiles are not covered
    (no metadata endpoint lists profile properties), so the schema says nothing about them."""
    table: dict = {}
    conflicts: dict = {}
    for props in events.values():
        for name, values in props.items():
            kinds = {listed_value_type(v) for v in values} if values else {T.UNKNOWN}
            known = kinds - {T.UNKNOWN}
            if len(known) > 1:
                conflicts.setdefault(name, set()).update(known)
            kind = known.pop() if len(known) == 1 and T.UNKNOWN not in kinds else T.UNKNOWN
            old = table.get(name)
            if old is not None and old != kind and T.UNKNOWN not in (old, kind):
                conflicts.setdefault(name, set()).update({old, kind})
            table[name] = kind if old in (None, kind) else T.UNKNOWN
    return Schema(table, None, source), {k: sorted(v) for k, v in conflicts.items()}

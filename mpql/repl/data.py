"""Loading records for the REPL: JSONL (or JSON) files of Mixpanel export events and engage
profiles, told apart by their shape.

* export line: ``{"event": "Signup", "properties": {...}}``  → an event
* engage result: ``{"$distinct_id": "u1", "$properties": {...}}`` → a profile

A file may hold either kind (or both). Also accepted: a JSON array of such records, an engage
response page ``{"results": [...]}``, gzip-compressed files (``.gz``), and export's
``terminated early`` sentinel line (which is reported: the export it came from is incomplete).
A line that is not a JSON object of either shape is an error naming the file and line —
records are never dropped silently.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import attrs

from .._jsonlines import TERMINATED_EARLY, JsonLineError, loads
from ..errors import InputError, read_errors

__all__ = ["Dataset", "load_file", "classify"]


@attrs.define
class Dataset:
    events: list = attrs.field(factory=list)
    profiles: list = attrs.field(factory=list)
    #: human-readable origin of each part, e.g. "events.jsonl", "sandbox sample data".
    sources: list = attrs.field(factory=list)
    notes: list = attrs.field(factory=list)
    #: the sandbox's sample data (replaced, not added to, when the user loads a file)
    sample: bool = False

    def extend(self, other: "Dataset") -> None:
        self.events.extend(other.events)
        self.profiles.extend(other.profiles)
        self.sources.extend(other.sources)
        self.notes.extend(other.notes)


def classify(record) -> str | None:
    """``"event"``, ``"profile"`` or None for a record of neither shape."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("properties"), dict) and "event" in record:
        return "event"
    if isinstance(record.get("$properties"), dict):
        return "profile"
    return None


def _open_text(path: Path) -> str:
    with read_errors(path):
        raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path}: broken gzip data: {exc}") from None
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark is not part of the data
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def load_file(path) -> Dataset:
    """Read one data file, or a directory (a sandbox dataset written by ``mpql sandbox
    generate``, or any directory of ``*.jsonl`` files). Raises InputError naming the file (and
    line) on bad content."""
    path = Path(path)
    if path.is_dir():
        return _load_dir(path)
    text = _open_text(path)
    data = Dataset(sources=[str(path)])
    stripped = text.lstrip()
    if stripped.startswith("["):  # a JSON array of records
        records = _load_json(path, text)
        _add_all(data, path, records)
    elif stripped.startswith("{") and not _first_line_is_json(text):
        doc = _load_json(path, text)
        if isinstance(doc, dict) and isinstance(doc.get("results"), list):
            _add_all(data, path, doc["results"])  # one engage response page
        else:
            _add_all(data, path, [doc])
    else:
        # Split on "\n" only: str.splitlines() would also split inside a JSON string
        # holding a raw U+2028 (which JSON allows), and report a broken record.
        for lineno, line in enumerate(text.split("\n"), 1):
            line = line.strip()
            if not line:
                continue
            if line == TERMINATED_EARLY:
                data.notes.append(
                    f"{path}:{lineno}: `terminated early` — the export that wrote this file "
                    "stopped before the end; the data is incomplete")
                continue
            try:
                record = loads(line)
            except JsonLineError as exc:
                raise InputError(f"{path}:{lineno}: not a JSON record ({exc})") from None
            if classify(record) is None and isinstance(record, dict) \
                    and isinstance(record.get("results"), list):
                _add_all(data, path, record["results"])  # an engage page on one line
            else:
                _add(data, record, f"{path}:{lineno}")
    if not data.events and not data.profiles:
        data.notes.append(f"{path}: no records")
    return data


def _load_dir(path: Path) -> Dataset:
    if (path / "manifest.json").is_file():
        from ..sandbox import Dataset as SandboxDataset

        # The sandbox stores times in ms; read events as /export serves them (seconds).
        sample = SandboxDataset(path)
        return Dataset(sample.events(sample.first_date, sample.last_date),
                       list(sample.all_profiles), [str(path)])
    files = sorted(p for p in path.rglob("*.jsonl") if p.is_file())
    if not files:
        raise InputError(f"{path}: a directory with no .jsonl files")
    data = Dataset(sources=[str(path)])
    for file in files:
        part = load_file(file)
        data.events.extend(part.events)
        data.profiles.extend(part.profiles)
        data.notes.extend(n for n in part.notes if not n.endswith(": no records"))
    return data


def _first_line_is_json(text: str) -> bool:
    # A JSONL file's first line is a whole object; a pretty-printed document's is not.
    try:
        loads(text.lstrip().split("\n", 1)[0])
        return True
    except JsonLineError:
        return False


def _load_json(path: Path, text: str):
    try:
        return loads(text)
    except JsonLineError as exc:
        where = f"{path}:{exc.line}:{exc.column}" if exc.line else str(path)
        raise InputError(f"{where}: not valid JSON ({exc.reason})") from None


def _add_all(data: Dataset, path: Path, records) -> None:
    if not isinstance(records, list):
        raise InputError(f"{path}: expected a list of records, found {type(records).__name__}")
    for i, record in enumerate(records):
        _add(data, record, f"{path}: record {i + 1}")


def _add(data: Dataset, record, where: str) -> None:
    kind = classify(record)
    if kind == "event":
        data.events.append(record)
    elif kind == "profile":
        data.profiles.append(record)
    else:
        found = type(record).__name__ if not isinstance(record, dict) else (
            "an object with keys " + ", ".join(sorted(record)[:5]) if record else "an empty object")
        raise InputError(
            f"{where}: expected an export event {{\"event\", \"properties\"}} or an engage "
            f"profile {{\"$distinct_id\", \"$properties\"}}, found {found}")

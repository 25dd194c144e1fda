"""Sample data for the sandbox: a deterministic generator and the on-disk dataset format.

A dataset is a directory::

    manifest.json            {"format": "mpql-sandbox/2", "first_date", "last_date", counts, …}
    profiles.jsonl           one engage result per line: {"$distinct_id", "$properties"}
    events/YYYY-MM-DD.jsonl  one export line per event, by UTC day of its time, exactly as
                             ``/export`` sends it by default: {"event": NAME,
                             "properties": {"time": EPOCH_SECONDS, …}} (``time`` first)
    events/YYYY-MM-DD.ms     the millisecond part of each line's time: 3 digits + "\n" per
                             line, in the same order (for ``time_in_ms=true``)

The default export is therefore the files' bytes: an unfiltered export never parses a line,
memory stays flat and throughput is the server loop's (≈ 200 MB/s on one core). The rarer
``time_in_ms=true`` form splices the sidecar's digits in after ``"time":<seconds>`` with one
regex per block.

The generator (``generate``) is deterministic: the same arguments give byte-identical files.
Every random choice comes from ``random.Random`` seeded with ``(seed, purpose, day)`` strings,
so one day's file does not depend on how many days come before it.

Ground truth: ``Dataset.events`` and ``Dataset.profiles`` compute locally, with the evaluator,
what the server answers — tests compare what a client received over HTTP with these.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError, SandboxError

__all__ = [
    "FORMAT",
    "Dataset",
    "TODAY_ENV",
    "default_dataset",
    "generate",
    "pinned_now",
    "sandbox_today",
    "to_ms_form",
    "write_dataset",
]

FORMAT = "mpql-sandbox/2"
#: bumped whenever the generator's output changes, so cached default datasets are rebuilt.
GENERATOR_VERSION = 7

#: Pins the sandbox's "today" (YYYY-MM-DD): the default dataset then ends the day before, and a
#: Sandbox without ``now=`` runs its clock at noon UTC of that day. Tests, demos and bug reports
#: set it so that nothing depends on the real date; unset, the real UTC date is used.
TODAY_ENV = "MPQL_SANDBOX_TODAY"

DEFAULT_USERS = 150
DEFAULT_DAYS = 30
DEFAULT_EVENTS_PER_USER_DAY = 3.0
DEFAULT_SEED = 0
#: the data_group_id of the generated "company" group key (Mixpanel's look like signed 64-bit ints)
COMPANY_GROUP_ID = "-1405123841946871899"

_DUMPS = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

# The first `"properties":{"time":<seconds>` of a line, and the rest of that line. Quotes inside
# JSON strings are escaped, so the literal cannot occur inside the event name or any string
# value; consuming the rest of the line means a nested object with the same keys is never touched.
_SECONDS_TIME = re.compile(rb'("properties":\{"time":-?\d+)([,}][^\n]*\n)')
_EVENT_NAME = re.compile(rb'^\{"event":"((?:[^"\\\n]|\\.)*)"')


def to_ms_form(block: bytes, ms_digits: Sequence[bytes] | None) -> bytes:
    """Stored lines (``time`` in seconds) → the ``time_in_ms=true`` form, given each line's
    three millisecond digits (None: no sidecar, so 0 ms)."""
    it = iter(ms_digits or ())

    def splice(m: re.Match) -> bytes:
        head, seconds = m.group(1).rsplit(b":", 1)
        return b"%s:%d%s" % (head, int(seconds) * 1000 + int(next(it, b"0") or b"0"), m.group(2))

    return _SECONDS_TIME.sub(splice, block)


def event_name_of(line: bytes) -> str | None:
    """The event name of a stored line without parsing the whole line (None if not found)."""
    m = _EVENT_NAME.match(line)
    if m is None:
        return None
    raw = m.group(1)
    return json.loads(b'"' + raw + b'"') if b"\\" in raw else raw.decode("utf-8")


# ----------------------------------------------------------------------------------------------
# Dataset


def sandbox_today() -> dt.date:
    """The sandbox's "today": ``$MPQL_SANDBOX_TODAY`` when set, else the real UTC date."""
    text = os.environ.get(TODAY_ENV, "").strip()
    if not text:
        return dt.datetime.now(dt.timezone.utc).date()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ConfigError(f"{TODAY_ENV}: expected a date as YYYY-MM-DD, found {text!r}; "
                          f"unset it to use today's date")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{TODAY_ENV}: {text!r} is not a calendar date") from None


def pinned_now() -> float | None:
    """Noon UTC of ``$MPQL_SANDBOX_TODAY`` as epoch seconds, or None when it is not set (the
    sandbox then follows the real clock)."""
    if not os.environ.get(TODAY_ENV, "").strip():
        return None
    noon = dt.datetime.combine(sandbox_today(), dt.time(12), dt.timezone.utc)
    return noon.timestamp()


def _parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InputError(f"{what}: expected a date as YYYY-MM-DD, found {text!r}") from None


class Dataset:
    """A dataset directory, opened for reading.

    Profiles are loaded into memory (they are few and every engage query scans them); events
    stay on disk and are streamed day file by day file.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise SandboxError(f"Dataset(path): expected a directory path, got {type(path).__name__}")
        self.path = Path(path)
        manifest_path = self.path / "manifest.json"
        try:
            found = manifest_path.is_file()
        except OSError as exc:  # a name too long, say
            raise SandboxError(f"{self.path}: cannot read: {exc.strerror}") from None
        if not found:
            raise SandboxError(
                f"{self.path}: not a sandbox dataset (no manifest.json); create one with "
                "`mpql sandbox generate --out DIR`"
            )
        try:
            self.manifest: dict = json.loads(manifest_path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise SandboxError(f"{manifest_path}: unreadable manifest ({exc})") from None
        if not isinstance(self.manifest, dict):
            raise SandboxError(f"{manifest_path}: expected a JSON object, found {type(self.manifest).__name__}")
        if self.manifest.get("format") != FORMAT:
            raise SandboxError(
                f"{manifest_path}: expected format {FORMAT!r}, found {self.manifest.get('format')!r}"
            )
        self.first_date = _parse_date(self.manifest["first_date"], "manifest first_date")
        self.last_date = _parse_date(self.manifest["last_date"], "manifest last_date")
        self._profiles: list[dict] | None = None
        self._profile_lines: list[bytes] | None = None

    def __repr__(self) -> str:
        return (
            f"Dataset({str(self.path)!r}, {self.first_date}..{self.last_date}, "
            f"events={self.manifest.get('events')}, profiles={self.manifest.get('profiles')})"
        )

    # -- profiles ------------------------------------------------------------------------------

    def _load_profiles(self) -> None:
        lines: list[tuple[bytes, int]] = []
        records: list[dict] = []
        path = self.path / "profiles.jsonl"
        if path.exists():
            with path.open("rb") as fh:
                for number, line in enumerate(fh, 1):
                    line = line.rstrip(b"\n")
                    if not line:
                        continue
                    try:
                        record = json.loads(line)
                    except ValueError as exc:
                        raise SandboxError(f"{path}:{number}: not JSON ({exc})") from None
                    if not (isinstance(record, dict) and isinstance(record.get("$properties"), dict)
                            and "$distinct_id" in record):
                        raise SandboxError(f"{path}:{number}: expected a profile "
                                           f'{{"$distinct_id": …, "$properties": {{…}}}}, found {line[:80]!r}')
                    records.append(record)
                    lines.append(line)
        elif self.manifest.get("profiles"):
            raise SandboxError(f"{path}: missing (the manifest lists {self.manifest['profiles']} profiles)")
        self._profiles, self._profile_lines = records, lines

    @property
    def all_profiles(self) -> list[dict]:
        """Every profile, in file order (the order engage pages through them). Do not mutate."""
        if self._profiles is None:
            self._load_profiles()
        return self._profiles  # type: ignore[return-value]

    def profiles(
        self,
        where: str | None = None,
        *,
        distinct_ids: Sequence[str] | None = None,
        output_properties: Sequence[str] | None = None,
        cohort_id: int | None = None,
        include_all_users: bool = True,
        behaviors: Sequence[Mapping] | None = None,
        as_of_timestamp: float | None = None,
        data_group_id: str | None = None,
        now: float | None = None,
    ) -> list[dict]:
        """The profiles an engage query selects, in the order the server pages through them
        (all pages concatenated). ``cohort_id`` / ``include_all_users`` / ``behaviors`` /
        ``as_of_timestamp`` mean what engage's ``filter_by_cohort``, ``include_all_users``,
        ``behaviors``, ``as_of_timestamp`` and ``data_group_id`` mean (docs/sandbox.md)."""
        predicate = None
        if where:
            counts = None
            if behaviors is not None:
                as_of = as_of_timestamp if as_of_timestamp is not None else (
                    now if now is not None else time.time())
                counts = behavior_counts(self, behaviors, as_of, now=now)
            predicate = compile_where(where, "profiles", now=now, behaviors=counts)
        elif behaviors is not None:
            parse_behaviors(behaviors)  # still validated
        selected = self.select(predicate, distinct_ids=distinct_ids, cohort_id=cohort_id,
                               include_all_users=include_all_users, data_group_id=data_group_id)
        return [project_profile(p, output_properties) for p in selected]

    # -- cohorts ---------------------------------------------------------------------------------

    @property
    def cohorts(self) -> dict[int, dict]:
        """Saved cohorts by id: ``{"id", "name", "where"}`` (members are the profiles the
        expression selects) or ``{"id", "name", "members"}`` (a static list of distinct ids,
        which may include ids without a profile)."""
        return {int(c["id"]): c for c in self.manifest.get("cohorts", [])}

    def cohort_members(self, cohort_id: int) -> list[str]:
        cohort = self.cohorts.get(int(cohort_id))
        if cohort is None:
            known = ", ".join(str(k) for k in sorted(self.cohorts)) or "none"
            raise InputError(f"cohort {cohort_id} not found (this dataset's cohorts: {known})")
        if "members" in cohort:
            return [str(m) for m in cohort["members"]]
        keep = compile_where(cohort["where"], "profiles")
        return [str(p["$distinct_id"]) for p in self.all_profiles if keep(p)]

    # -- group profiles --------------------------------------------------------------------------

    @property
    def groups(self) -> dict[str, dict]:
        """Group keys by ``data_group_id``: ``{"data_group_id", "key", "file"}``."""
        return {str(g["data_group_id"]): g for g in self.manifest.get("groups", [])}

    def group_profiles(self, data_group_id: str) -> list[dict]:
        """The group profiles of one group key (engage results), in file order."""
        group = self.groups.get(str(data_group_id))
        if group is None:
            known = ", ".join(f"{k} ({g['key']})" for k, g in self.groups.items()) or "none"
            raise InputError(f"data_group_id {data_group_id} not found (this dataset's group keys: {known})")
        cache = self.__dict__.setdefault("_group_cache", {})
        if data_group_id not in cache:
            path = self.path / group["file"]
            cache[data_group_id] = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        return cache[data_group_id]

    def select(
        self,
        predicate: Callable[[dict], bool] | None,
        *,
        distinct_ids: Sequence[str] | None = None,
        cohort_id: int | None = None,
        include_all_users: bool = True,
        data_group_id: str | None = None,
    ) -> list[dict]:
        """Engage's selection with an already compiled `where`: profiles (or the group
        profiles of ``data_group_id``) in file order, then (``include_all_users``) cohort
        members that have no profile, as empty profiles."""
        wanted = None if distinct_ids is None else {str(d) for d in distinct_ids}
        members = None if cohort_id is None else self.cohort_members(cohort_id)
        member_set = None if members is None else set(members)
        source = self.all_profiles if data_group_id is None else self.group_profiles(data_group_id)
        out = []
        for profile in source:
            did = str(profile.get("$distinct_id"))
            if wanted is not None and did not in wanted:
                continue
            if member_set is not None and did not in member_set:
                continue
            if predicate is not None and not predicate(profile):
                continue
            out.append(profile)
        if members is not None and include_all_users:
            have = {str(p.get("$distinct_id")) for p in self.all_profiles}
            for did in dict.fromkeys(members):
                if did in have or (wanted is not None and did not in wanted):
                    continue
                empty = {"$distinct_id": did, "$properties": {}}
                if predicate is None or predicate(empty):
                    out.append(empty)
        return out

    # -- events --------------------------------------------------------------------------------

    def day_files(self, from_date: dt.date, to_date: dt.date) -> list[Path]:
        """The existing day files for ``from_date..to_date`` (inclusive), in date order."""
        files = []
        day = max(from_date, self.first_date)
        last = min(to_date, self.last_date)
        while day <= last:
            path = self.path / "events" / f"{day.isoformat()}.jsonl"
            if path.exists():
                files.append(path)
            day += dt.timedelta(days=1)
        return files

    def events(
        self,
        from_date: str | dt.date,
        to_date: str | dt.date,
        *,
        where: str | None = None,
        event: Sequence[str] | None = None,
        limit: int | None = None,
        time_in_ms: bool = False,
        now: float | None = None,
        profiles: Mapping | None = None,
    ) -> list[dict]:
        """What ``/export`` returns for these parameters, parsed (one dict per line), in the
        order the server streams them. ``profiles`` (distinct_id → profile) lets ``user["x"]``
        read the event's user; without it ``user[...]`` is undefined."""
        return [
            json.loads(line)
            for block in self.iter_event_lines(
                from_date, to_date, where=where, event=event, limit=limit,
                time_in_ms=time_in_ms, now=now, profiles=profiles,
            )
            for line in block.splitlines()
            if line
        ]

    def iter_event_lines(
        self,
        from_date: str | dt.date,
        to_date: str | dt.date,
        *,
        where: str | None = None,
        event: Sequence[str] | None = None,
        limit: int | None = None,
        time_in_ms: bool = False,
        now: float | None = None,
        profiles: Mapping | None = None,
        predicate: Callable[[dict], bool] | None = None,
        block_size: int = 1 << 18,
    ) -> Iterator[bytes]:
        """Export output as blocks of whole lines (each ending in ``\\n``), streamed from disk.

        The server writes these blocks to the socket; ``events()`` parses them. Memory is
        bounded by ``block_size`` whatever the size of the range. ``predicate`` is an already
        compiled `where` (the server compiles it before sending the status line).
        """
        if isinstance(from_date, str):
            from_date = _parse_date(from_date, "from_date")
        if isinstance(to_date, str):
            to_date = _parse_date(to_date, "to_date")
        if where:
            predicate = compile_where(where, "events", now=now, profiles=profiles)
        names = set(event) if event is not None else None
        remaining = limit
        for path in self.day_files(from_date, to_date):
            ms_file = path.with_suffix(".ms") if time_in_ms else None
            ms_fh = ms_file.open("rb") if ms_file is not None and ms_file.exists() else None
            try:
                for block in _read_line_blocks(path, block_size):
                    digits = None
                    if ms_fh is not None:
                        digits = ms_fh.read(4 * block.count(b"\n")).split(b"\n")
                    if predicate is None and names is None and remaining is None:
                        yield block if not time_in_ms else to_ms_form(block, digits)
                        continue
                    out = []
                    for i, line in enumerate(block.split(b"\n")):
                        if not line:
                            continue
                        if names is not None and event_name_of(line) not in names:
                            continue
                        if predicate is not None and not predicate(_load_event(line, path)):
                            continue
                        if time_in_ms:
                            line = to_ms_form(line + b"\n", None if digits is None else digits[i:i + 1])[:-1]
                        out.append(line)
                        if remaining is not None:
                            remaining -= 1
                            if remaining <= 0:
                                break
                    if out:
                        out.append(b"")
                        yield b"\n".join(out)
                    if remaining is not None and remaining <= 0:
                        return
            finally:
                if ms_fh is not None:
                    ms_fh.close()


def _load_event(line: bytes, path: Path) -> dict:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise SandboxError(f"{path}: a line is not JSON ({exc}): {line[:80]!r}") from None
    if not isinstance(record, dict):
        raise SandboxError(f"{path}: a line is not an export record (a JSON object): {line[:80]!r}")
    return record


def _read_line_blocks(path: Path, block_size: int) -> Iterator[bytes]:
    """Blocks of whole lines from a file, each ending in a newline."""
    tail = b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(block_size)
            if not chunk:
                break
            chunk = tail + chunk
            cut = chunk.rfind(b"\n") + 1
            tail = chunk[cut:]
            if cut:
                yield chunk[:cut]
    if tail.strip():
        yield tail + b"\n"


def compile_where(where: str, scope: str, *, now: float | None = None,
                  profiles: Mapping | None = None, behaviors: Mapping | None = None) -> Callable[[dict], bool]:
    """Compile a `where` with the evaluator (imported lazily: the CLI's start-up stays fast)."""
    from mpql import compile_predicate

    extra = {}
    if profiles is not None:
        extra["profiles"] = profiles
    if behaviors is not None:
        extra["behaviors"] = behaviors
    return compile_predicate(where, scope=scope, now=now, **extra)


_WINDOW = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_WINDOW_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def parse_behaviors(behaviors) -> list[tuple[str, int, list[tuple[str, str | None]]]]:
    """Validate engage's ``behaviors`` (a list of ``{"name", "window", "event_selectors":
    [{"event", "selector"?}]}``, the official library's format, docs/mixpanel-reference.md §2.2) into
    ``(name, window seconds, [(event, selector or None)])``. Raises InputError naming the
    problem."""
    example = ('[{"name": "bought", "window": "30d", "event_selectors": [{"event": "Purchase"}]}]')
    if not isinstance(behaviors, (list, tuple)) or not behaviors:
        raise InputError(f"behaviors must be a non-empty JSON list like {example}")
    out = []
    for i, b in enumerate(behaviors):
        where = f"behaviors[{i}]"
        if not isinstance(b, Mapping) or not isinstance(b.get("name"), str) or not b["name"]:
            raise InputError(f"{where} needs a \"name\" string; expected e.g. {example}")
        m = _WINDOW.match(str(b.get("window", "")))
        if not m:
            raise InputError(f"{where}.window must be like \"30d\", \"12h\" or \"2w\", "
                             f"found {b.get('window')!r}")
        selectors = b.get("event_selectors")
        if not isinstance(selectors, (list, tuple)) or not selectors:
            raise InputError(f"{where}.event_selectors must be a non-empty list of "
                             "{\"event\": NAME, \"selector\": EXPR (optional)}")
        parsed = []
        for j, sel in enumerate(selectors):
            if not isinstance(sel, Mapping) or not isinstance(sel.get("event"), str):
                raise InputError(f"{where}.event_selectors[{j}] needs an \"event\" name")
            expr = sel.get("selector")
            if expr is not None and not isinstance(expr, str):
                raise InputError(f"{where}.event_selectors[{j}].selector must be an expression string")
            parsed.append((sel["event"], expr or None))
        out.append((b["name"], int(m.group(1)) * _WINDOW_SECONDS[m.group(2)], parsed))
    return out


def behavior_counts(ds: Dataset, behaviors, as_of: float, *, now: float | None = None) -> dict:
    """``{distinct_id: {behavior name: count}}`` for every profile: events in
    ``(as_of - window, as_of]`` that match one of the behavior's selectors."""
    defs = parse_behaviors(behaviors)
    compiled = [
        (name, as_of - window,
         [(event, compile_where(expr, "events", now=now) if expr else None) for event, expr in sels])
        for name, window, sels in defs
    ]
    names = [name for name, _, _ in compiled]
    counts: dict = {p.get("$distinct_id"): dict.fromkeys(names, 0) for p in ds.all_profiles}
    earliest = min(start for _, start, _ in compiled)
    first = dt.datetime.fromtimestamp(max(earliest, 0), dt.timezone.utc).date()
    last = dt.datetime.fromtimestamp(max(as_of, 0), dt.timezone.utc).date()
    wanted_events = {event for _, _, sels in compiled for event, _ in sels}
    for path in ds.day_files(first, last):
        for block in _read_line_blocks(path, 1 << 18):
            for line in block.split(b"\n"):
                if not line or event_name_of(line) not in wanted_events:
                    continue
                e = json.loads(line)
                props = e.get("properties") or {}
                t = props.get("time")
                user = counts.get(props.get("distinct_id"))
                if user is None or not isinstance(t, (int, float)) or t > as_of:
                    continue
                for name, start, sels in compiled:
                    if t <= start:
                        continue
                    for event, pred in sels:
                        if e.get("event") == event and (pred is None or pred(e)):
                            user[name] += 1
                            break
    return counts


def project_profile(profile: dict, output_properties: Sequence[str] | None) -> dict:
    if output_properties is None:
        return profile
    props = profile.get("$properties", {})
    return {
        "$distinct_id": profile.get("$distinct_id"),
        "$properties": {k: props[k] for k in output_properties if k in props},
    }


# ----------------------------------------------------------------------------------------------
# Writing datasets


def write_dataset(
    out: str | os.PathLike,
    events: Iterable[Mapping[str, Any]],
    profiles: Iterable[Mapping[str, Any]] = (),
    *,
    overwrite: bool = False,
    cohorts: Sequence[Mapping[str, Any]] = (),
    extra_manifest: Mapping[str, Any] | None = None,
) -> Dataset:
    """Write records you made yourself as a dataset the sandbox can serve.

    ``cohorts``: saved cohorts for engage's ``filter_by_cohort``, each ``{"id": int, "name":
    str, "where": EXPR}`` or ``{"id": int, "name": str, "members": [distinct ids]}``.

    ``events`` are export lines ``{"event": NAME, "properties": {"time": T, …}}``; ``T`` may be
    epoch seconds (int or float) or milliseconds (an int above 10**11 is read as ms).
    ``profiles`` are engage results ``{"$distinct_id": ID, "$properties": {…}}``. Events are
    split into day files by the UTC date of their time, keeping their order within a day.
    """
    out = Path(out)
    _prepare_out(out, overwrite)
    events_dir = out / "events"
    events_dir.mkdir(parents=True, exist_ok=True)
    by_day: dict[str, list[tuple[bytes, int]]] = {}
    n_events = 0
    for number, record in enumerate(events, 1):
        line, ms = _normalise_event(record, number)
        day = dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc).date().isoformat()
        by_day.setdefault(day, []).append((line, ms % 1000))
        n_events += 1
    for day, items in by_day.items():
        _write_day(events_dir, day, items)
    n_profiles = 0
    with (out / "profiles.jsonl").open("wb") as fh:
        for number, profile in enumerate(profiles, 1):
            if not isinstance(profile, Mapping) or "$distinct_id" not in profile:
                raise InputError(f"profile #{number}: expected {{'$distinct_id', '$properties'}}, found {profile!r:.80}")
            fh.write(_DUMPS({"$distinct_id": profile["$distinct_id"],
                             "$properties": dict(profile.get("$properties") or {})}).encode() + b"\n")
            n_profiles += 1
    days = sorted(by_day)
    today = sandbox_today().isoformat()
    manifest = {
        "format": FORMAT,
        "first_date": days[0] if days else today,
        "last_date": days[-1] if days else today,
        "events": n_events,
        "profiles": n_profiles,
        "cohorts": [_check_cohort(c, i) for i, c in enumerate(cohorts)],
        **dict(extra_manifest or {}),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return Dataset(out)


def _check_cohort(cohort: Mapping[str, Any], i: int) -> dict:
    ok = isinstance(cohort, Mapping) and isinstance(cohort.get("id"), int) and (
        isinstance(cohort.get("where"), str) or isinstance(cohort.get("members"), (list, tuple)))
    if not ok:
        raise InputError(f"cohort #{i + 1}: expected {{'id': int, 'name': str, 'where': EXPR}} or "
                         f"{{'id': int, 'name': str, 'members': [ids]}}, found {cohort!r:.80}")
    out = dict(cohort)
    if "members" in out:
        out["members"] = [str(m) for m in out["members"]]
    return out


def _normalise_event(record: Mapping[str, Any], number: int) -> bytes:
    if not isinstance(record, Mapping) or not isinstance(record.get("event"), str) \
            or not isinstance(record.get("properties"), Mapping):
        raise InputError(f"event #{number}: expected {{'event': str, 'properties': {{...}}}}, found {record!r:.80}")
    props = dict(record["properties"])
    t = props.pop("time", None)
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        raise InputError(f"event #{number}: properties.time must be a number (epoch s or ms), found {t!r}")
    ms = t if (isinstance(t, int) and t > 10**11) else round(t * 1000)
    return _event_line(record["event"], ms // 1000, props), ms


def _event_line(name: str, seconds: int, props: Mapping[str, Any]) -> bytes:
    """The stored (= default export) form: ``time`` first, in seconds."""
    return _DUMPS({"event": name, "properties": {"time": seconds, **props}}).encode()


def _write_day(events_dir: Path, day: str, items: Sequence[tuple[bytes, int]]) -> None:
    """One day file and its millisecond sidecar."""
    (events_dir / f"{day}.jsonl").write_bytes(b"".join(line + b"\n" for line, _ in items))
    (events_dir / f"{day}.ms").write_bytes(b"".join(b"%03d\n" % ms for _, ms in items))


def _prepare_out(out: Path, overwrite: bool) -> None:
    try:
        _replace_out(out, overwrite)
    except OSError as exc:  # a name too long, no permission, a full disk …
        raise InputError(f"{out}: cannot write the dataset: {exc.strerror or exc}") from None


def _replace_out(out: Path, overwrite: bool) -> None:
    if out.exists():
        if not out.is_dir():
            raise InputError(f"{out}: exists and is not a directory")
        if any(out.iterdir()):
            if not overwrite:
                raise InputError(f"{out}: directory is not empty (use --force to replace it)")
            if not (out / "manifest.json").exists():
                raise InputError(
                    f"{out}: refusing to replace a non-empty directory that is not a sandbox dataset"
                )
            shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


# ----------------------------------------------------------------------------------------------
# The generator

_FIRST = ["Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "Mateo",
          "Isabella", "Lucas", "Mia", "Levi", "Charlotte", "Hugo", "Léa", "Jonas", "Sofía", "Yuki",
          "Priya", "Arjun", "Chloé", "Lukas", "Ana", "João", "Fatima", "Omar", "Zoë", "Mei",
          "Hannah", "Ethan", "Grace", "Kai", "Nora", "Ravi", "Ingrid", "Tomás", "Aisha", "Finn"]
_LAST = ["Smith", "Johnson", "Garcia", "Müller", "Rossi", "Dubois", "Silva", "Kowalski", "Tanaka",
         "Patel", "Nguyen", "Kim", "Andersen", "O'Brien", "Novak", "Fernández", "Jensen", "Ivanova",
         "Schmidt", "Martin", "Brown", "Lee", "Walker", "Haddad", "Costa", "Sato", "Khan", "Moreau",
         "Lindqvist", "Okafor"]
_COMPANY_A = ["Blue", "Bright", "North", "Quantum", "Silver", "Rapid", "Green", "Iron", "Lunar",
              "Clever", "Open", "True"]
_COMPANY_B = ["Harbor", "Labs", "Works", "Systems", "Analytics", "Cloud", "Retail", "Health",
              "Logistics", "Media", "Robotics", "Foods"]
_COMPANY_C = ["Inc", "GmbH", "Ltd", "LLC", "SA", "BV", "AB", "KK"]
# (country code, weight, [(city, region, timezone)])
_GEO = [
    ("US", 34, [("San Francisco", "California", "America/Los_Angeles"),
                ("New York", "New York", "America/New_York"), ("Austin", "Texas", "America/Chicago"),
                ("Seattle", "Washington", "America/Los_Angeles")]),
    ("GB", 10, [("London", "England", "Europe/London"), ("Manchester", "England", "Europe/London")]),
    ("DE", 9, [("Berlin", "Berlin", "Europe/Berlin"), ("München", "Bavaria", "Europe/Berlin")]),
    ("FR", 7, [("Paris", "Île-de-France", "Europe/Paris"), ("Lyon", "Auvergne-Rhône-Alpes", "Europe/Paris")]),
    ("BR", 6, [("São Paulo", "São Paulo", "America/Sao_Paulo")]),
    ("IN", 8, [("Bengaluru", "Karnataka", "Asia/Kolkata"), ("Mumbai", "Maharashtra", "Asia/Kolkata")]),
    ("JP", 5, [("Tokyo", "Tokyo", "Asia/Tokyo")]),
    ("CA", 5, [("Toronto", "Ontario", "America/Toronto")]),
    ("AU", 4, [("Sydney", "New South Wales", "Australia/Sydney")]),
    ("NL", 4, [("Amsterdam", "North Holland", "Europe/Amsterdam")]),
    ("SE", 3, [("Stockholm", "Stockholm", "Europe/Stockholm")]),
    ("ES", 5, [("Madrid", "Madrid", "Europe/Madrid")]),
]
_PLANS = [("free", 45), ("starter", 28), ("pro", 20), ("enterprise", 7)]
_PLAN_MRR = {"free": 0, "starter": 29, "pro": 99, "enterprise": 499}
_STAGES = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
           "customer", "evangelist"]
_TAGS = ["beta", "vip", "churn-risk", "newsletter", "partner", "trial-extended", "webinar"]
_UTM = [None, None, None, "google", "newsletter", "linkedin", "twitter", "partner", "producthunt"]
# platform → (weight, [(os, weight)], [(browser, weight)] or None for the mobile SDKs, mp_lib)
_PLATFORMS = {
    "web": (70, [("Mac OS X", 40), ("Windows", 45), ("Linux", 8), ("Chrome OS", 7)],
            [("Chrome", 60), ("Safari", 18), ("Firefox", 10), ("Microsoft Edge", 12)], "web"),
    "ios": (18, [("iOS", 1)], None, "iphone"),
    "android": (12, [("Android", 1)], None, "android"),
}
_PAGES = ["/", "/pricing", "/features", "/blog", "/docs", "/dashboard", "/settings", "/reports",
          "/integrations", "/billing", "/team"]
_FEATURES = ["dashboards", "alerts", "exports", "sso", "api", "reports", "segments", "funnels"]
_ITEMS = [("Notebook", 12.5), ("Desk Lamp", 39.0), ("Headphones", 129.99), ("Backpack", 74.0),
          ("Coffee Beans", 16.75), ("Keyboard", 89.9), ("Monitor Arm", 59.0), ("Water Bottle", 24.0)]
_SEARCHES = ["pricing", "export csv", "api key", "invoice", "sso setup", "funnel", "retention",
             "delete account", "dark mode", "webhooks"]
# event name → relative weight for an identified user's ordinary activity
_EVENT_MIX = [("Page Viewed", 34), ("Logged In", 7), ("Search", 8), ("Viewed Item", 14),
              ("Added to Cart", 6), ("Purchase", 3), ("Feature Used", 14), ("Invite Sent", 2),
              ("Support Ticket Created", 1), ("Subscription Upgraded", 1)]


def _pick(rng: random.Random, weighted: Sequence[tuple]) -> Any:
    total = sum(w for _, w, *_ in weighted)
    x = rng.random() * total
    for item in weighted:
        x -= item[1]
        if x < 0:
            return item[0]
    return weighted[-1][0]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:32]}"


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(int(ts), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _day_start(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())


class _User:
    __slots__ = (
        "app_version",
        "browser",
        "browser_version",
        "city",
        "country",
        "device_id",
        "distinct_id",
        "engagement",
        "index",
        "last_seen",
        "os",
        "plan",
        "platform",
        "props",
        "region",
        "screen",
        "signup",
        "timezone",
    )


def _make_users(n: int, seed: int, first: dt.date, last: dt.date) -> list[_User]:
    rng = random.Random(f"{seed}:users")
    users = []
    customer_ids: set[int] = set()
    span = (last - first).days + 1
    for i in range(n):
        u = _User()
        u.index = i
        u.distinct_id = f"u-{rng.getrandbits(40):010x}"
        u.device_id = _uuid(rng)
        u.platform = _pick(rng, [(k, v[0]) for k, v in _PLATFORMS.items()])
        _, oses, browsers, _ = _PLATFORMS[u.platform]
        u.os = _pick(rng, oses)
        u.browser = _pick(rng, browsers) if browsers else None
        u.browser_version = rng.choice([118, 119, 120, 121, 122, 17.1, 17.2, 124])
        u.app_version = rng.choice(["4.2.0", "4.2.1", "4.3.0", "5.0.0"])
        u.screen = rng.choice([(1920, 1080), (1440, 900), (2560, 1440), (390, 844), (412, 915)])
        country = _pick(rng, [(c, w, cities) for c, w, cities in _GEO])
        cities = next(cs for c, _, cs in _GEO if c == country)
        u.country = country
        u.city, u.region, u.timezone = rng.choice(cities)
        # A quarter of the users sign up during the range (they have anonymous events first);
        # the rest signed up up to 180 days before it.
        if rng.random() < 0.25:
            u.signup = first + dt.timedelta(days=rng.randrange(span))
        else:
            u.signup = first - dt.timedelta(days=rng.randrange(1, 181))
        u.engagement = rng.choice([0.15, 0.3, 0.5, 0.7, 0.9])
        u.plan = _pick(rng, _PLANS)
        first_name, last_name = rng.choice(_FIRST), rng.choice(_LAST)
        company = f"{rng.choice(_COMPANY_A)} {rng.choice(_COMPANY_B)} {rng.choice(_COMPANY_C)}"
        domain = re.sub(r"[^a-z]", "", company.lower().rsplit(" ", 1)[0]) + ".example"
        ascii_name = unicodedata.normalize("NFKD", f"{first_name}.{last_name}").encode("ascii", "ignore")
        local = re.sub(r"[^a-z.]", "", ascii_name.decode().lower())
        created = _day_start(u.signup) + rng.randrange(6 * 3600, 22 * 3600)
        props: dict[str, Any] = {
            "$created": _iso(created),
            "$email": f"{local}{i}@{domain}",
            "$first_name": first_name,
            "$last_name": last_name,
            "$name": f"{first_name} {last_name}",
            "$city": u.city,
            "$region": u.region,
            "$country_code": u.country,
            "$timezone": u.timezone,
        }
        # HubSpot contact ids: numeric, sent as strings by the CRM sync; 10 % never synced.
        if rng.random() < 0.9:
            while True:
                cid = rng.randrange(10_000_000, 99_999_999_999)
                if cid not in customer_ids:
                    customer_ids.add(cid)
                    break
            props["customer_id"] = str(cid)
        seats = rng.choice([1, 1, 2, 3, 5, 10, 25, 50])
        props["plan"] = u.plan
        props["company"] = company
        # Typing traps: some numbers and booleans arrive as strings (CSV imports, CRM sync).
        props["seats"] = str(seats) if rng.random() < 0.2 else seats
        mrr = _PLAN_MRR[u.plan] * (seats if u.plan != "free" else 0)
        props["mrr"] = f"{mrr:.2f}" if rng.random() < 0.15 else mrr
        props["lifecycle_stage"] = rng.choice(_STAGES)
        props["is_paying"] = u.plan != "free"
        props["newsletter_opt_in"] = rng.choice(["true", "false", True, False])
        tags = sorted(rng.sample(_TAGS, rng.choice([0, 0, 1, 1, 2, 3])))
        if tags:
            props["tags"] = tags
        if u.plan != "free" or rng.random() < 0.3:
            props["trial_ends"] = (u.signup + dt.timedelta(days=14)).isoformat()
        if rng.random() < 0.4:
            props["last_purchase_at"] = created + rng.randrange(0, 90 * 86400)  # a date as a number
        utm = rng.choice(_UTM)
        if utm:
            props["utm_source"] = utm
        u.props = props
        # Until an event says otherwise: seen some time between sign-up and the range's start.
        # Until an event says otherwise, seen some time between sign-up and the range's start;
        # users who sign up during the range get $created and $last_seen from their events.
        # (This draw order is generator v2's; v4 briefly restored v1's and was reverted because
        # other tests and recorded docs had moved to v2's data.)
        start = _day_start(first)
        u.last_seen = created + rng.randrange(0, max(1, start - created)) if created < start else 0
        users.append(u)
    return users


def _base_props(u: _User, ms: int, rng: random.Random, distinct_id: str, identified: bool) -> dict:
    p: dict[str, Any] = {
        "distinct_id": distinct_id,
        "$insert_id": f"{rng.getrandbits(128):032x}",
        "mp_processing_time_ms": ms + rng.randrange(200, 90_000),
        "$device_id": u.device_id,
    }
    if identified:
        p["$user_id"] = u.distinct_id
    p["$os"] = u.os
    if u.browser:
        p["$browser"] = u.browser
        p["$browser_version"] = u.browser_version
        p["$screen_width"], p["$screen_height"] = u.screen
        p["mp_lib"] = "web"
        p["$lib_version"] = "2.55.1"
    else:
        p["$app_version_string"] = u.app_version
        p["$model"] = "iPhone15,2" if u.platform == "ios" else "Pixel 8"
        p["mp_lib"] = "iphone" if u.platform == "ios" else "android"
        p["$lib_version"] = "5.0.3"
    p["$city"] = u.city
    p["$region"] = u.region
    p["mp_country_code"] = u.country
    return p


def _event_props(name: str, u: _User, rng: random.Random, ms: int) -> dict:
    p: dict[str, Any] = {}
    if name == "Page Viewed":
        page = rng.choice(_PAGES)
        p["$current_url"] = f"https://app.example.com{page}"
        p["page"] = page
        if rng.random() < 0.3:
            p["$referring_domain"] = rng.choice(["www.google.com", "t.co", "news.ycombinator.com", "$direct"])
    elif name == "Search":
        p["query"] = rng.choice(_SEARCHES)
        p["results"] = rng.randrange(0, 60)
    elif name in ("Viewed Item", "Added to Cart"):
        item, price = rng.choice(_ITEMS)
        p["item"] = item
        p["price"] = price
    elif name == "Purchase":
        item, price = rng.choice(_ITEMS)
        qty = rng.choice([1, 1, 1, 2, 3])
        amount = round(price * qty, 2)
        p["item"] = item
        p["quantity"] = qty
        # A typing trap: some SDK calls send the amount as a string.
        p["amount"] = f"{amount:.2f}" if rng.random() < 0.2 else amount
        p["currency"] = "USD"
        p["order_id"] = f"ORD-{rng.randrange(10**7, 10**8)}"
        p["order_date"] = _iso(ms // 1000)  # a date stored as a string
        u.props["last_purchase_at"] = ms // 1000
    elif name == "Feature Used":
        p["feature"] = rng.choice(_FEATURES)
        p["duration_s"] = round(rng.uniform(2, 600), 1)
    elif name == "Invite Sent":
        p["invitee_count"] = rng.choice([1, 1, 2, 5])
    elif name == "Support Ticket Created":
        p["priority"] = rng.choice(["low", "normal", "high", "urgent"])
    elif name == "Subscription Upgraded":
        order = [k for k, _ in _PLANS]
        i = order.index(u.plan)
        new = order[min(i + 1, len(order) - 1)]
        p["from_plan"], p["to_plan"] = u.plan, new
        p["trial_ends_at"] = _iso(ms // 1000 + 14 * 86400)
    elif name == "Logged In":
        p["method"] = rng.choice(["password", "google", "sso", "magic-link"])
    return p


def generate(
    out: str | os.PathLike,
    *,
    users: int = DEFAULT_USERS,
    days: int = DEFAULT_DAYS,
    events_per_user_day: float = DEFAULT_EVENTS_PER_USER_DAY,
    seed: int = DEFAULT_SEED,
    end_date: str | dt.date | None = None,
    overwrite: bool = False,
) -> Dataset:
    """Generate a deterministic dataset into ``out`` and return it opened.

    ``end_date`` is the last day with events (default: yesterday, UTC, or the day before
    ``$MPQL_SANDBOX_TODAY``). The same arguments
    (including ``end_date``) always give byte-identical files.
    """
    for name, value in (("users", users), ("days", days)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"generate: {name} must be a whole number, found {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise InputError(f"generate: seed must be a whole number or a string, found {seed!r}")
    if isinstance(events_per_user_day, bool) or not isinstance(events_per_user_day, (int, float)):
        raise InputError(f"generate: events_per_user_day must be a number, found "
                         f"{events_per_user_day!r}")
    if not (end_date is None or isinstance(end_date, (str, dt.date))):
        raise InputError(f"generate: end_date must be YYYY-MM-DD or a date, found {end_date!r}")
    if not isinstance(out, (str, os.PathLike)):
        raise InputError(f"generate: out must be a directory path, found {type(out).__name__}")
    # `not 0 <= x < inf` also refuses NaN (every comparison with it is false)
    if users < 1 or days < 1 or not 0 <= events_per_user_day < math.inf:
        raise InputError(
            f"generate: expected users ≥ 1, days ≥ 1, events-per-user-day ≥ 0; "
            f"found users={users}, days={days}, events-per-user-day={events_per_user_day}"
        )
    if end_date is None:
        end_date = sandbox_today() - dt.timedelta(days=1)
    elif isinstance(end_date, str):
        end_date = _parse_date(end_date, "end date")
    try:
        first = end_date - dt.timedelta(days=days - 1)
    except OverflowError:
        raise InputError(f"generate: {days} days before {end_date} is before year 1") from None
    out = Path(out)
    _prepare_out(out, overwrite)
    (out / "events").mkdir()
    population = _make_users(users, seed, first, end_date)
    # Visitors who never sign up: anonymous devices, no profile, events on one day only.
    anon_rng = random.Random(f"{seed}:anonymous")
    anon = []
    for _ in range(max(1, users // 5)):
        v = _make_users(1, anon_rng.getrandbits(32), first, end_date)[0]
        v.distinct_id = f"$device:{v.device_id}"
        anon.append((first + dt.timedelta(days=anon_rng.randrange(days)), v))
    n_events = 0
    event_names = [n for n, _ in _EVENT_MIX]
    for d in range(days):
        day = first + dt.timedelta(days=d)
        rng = random.Random(f"{seed}:events:{day.isoformat()}")
        start = _day_start(day)
        lines: list[tuple[bytes, int]] = []

        def emit(u: _User, name: str, ts_ms: int, distinct_id: str, identified: bool, extra=None,
                 rng=rng, lines=lines):  # bound now: this day's generator and output
            props = _base_props(u, ts_ms, rng, distinct_id, identified)
            props.update(_event_props(name, u, rng, ts_ms))
            if extra:
                props.update(extra)
            item = (_event_line(name, ts_ms // 1000, props), ts_ms % 1000)
            u.last_seen = max(u.last_seen, ts_ms // 1000)
            lines.append(item)
            if rng.random() < 0.004:  # an SDK retry: the same event (same $insert_id) twice
                lines.append(item)

        for u in population:
            if u.signup > day:
                continue
            t = start + rng.randrange(0, 20 * 3600)
            if u.signup == day:
                # Anonymous browsing before identify. Export shows the canonical distinct_id
                # (docs/mixpanel-reference.md [S36]: exports carry the canonical id); `$user_id` is unset.
                for _ in range(rng.randrange(1, 4)):
                    emit(u, "Page Viewed", t * 1000 + rng.randrange(1000), u.distinct_id, False)
                    t += rng.randrange(5, 120)
                u.props["$created"] = _iso(t)
                emit(u, "Signed Up", t * 1000 + rng.randrange(1000), u.distinct_id, True,
                     {"signup_method": rng.choice(["email", "google", "sso"]), "plan": u.plan})
                t += rng.randrange(1, 5)
                emit(u, "$identify", t * 1000 + rng.randrange(1000), u.distinct_id, True,
                     {"$anon_distinct_id": f"$device:{u.device_id}", "$identified_id": u.distinct_id})
                t += rng.randrange(5, 60)
            if rng.random() >= u.engagement:
                continue
            count = _poisson(rng, events_per_user_day / u.engagement)
            for _ in range(count):
                name = _pick(rng, _EVENT_MIX) if event_names else "Page Viewed"
                emit(u, name, t * 1000 + rng.randrange(1000), u.distinct_id, True)
                t += rng.randrange(3, 400)
                if t >= start + 86400:
                    t = start + 86399
        for visit_day, v in anon:
            if visit_day != day:
                continue
            t = start + rng.randrange(0, 20 * 3600)
            for _ in range(rng.randrange(1, 5)):
                emit(v, "Page Viewed", t * 1000 + rng.randrange(1000), v.distinct_id, False)
                t += rng.randrange(5, 200)
        if lines:
            _write_day(out / "events", day.isoformat(), lines)
        n_events += len(lines)
    n_profiles = 0
    with (out / "profiles.jsonl").open("wb") as fh:
        for u in population:
            props = dict(u.props)
            props["$last_seen"] = _iso(u.last_seen)
            fh.write(_DUMPS({"$distinct_id": u.distinct_id, "$properties": props}).encode() + b"\n")
            n_profiles += 1
    # Saved cohorts: two defined by an expression, one static list (as from a CSV upload) that
    # includes anonymous devices and an id Mixpanel has never seen, so include_all_users matters.
    crng = random.Random(f"{seed}:cohorts")
    listed = [u.distinct_id for u in crng.sample(population, min(len(population), 12))]
    listed += [v.distinct_id for _, v in crng.sample(anon, min(len(anon), 3))]
    listed.append(f"u-{crng.getrandbits(40):010x}")  # no events, no profile
    cohorts = [
        {"id": 1001, "name": "Paying customers", "where": 'properties["is_paying"] == true'},
        {"id": 1002, "name": "Pro and enterprise in the US",
         "where": '(properties["plan"] == "pro" or properties["plan"] == "enterprise") and '
                  'properties["$country_code"] == "US"'},
        {"id": 1003, "name": "Webinar attendees (list upload)", "members": listed},
    ]
    # Group profiles for the group key "company" (group analytics): one per company, derived
    # from its users without drawing random numbers, so the rest of the data is unchanged.
    companies: dict[str, dict] = {}
    for u in population:
        name = u.props["company"]
        c = companies.setdefault(name, {"$name": name, "$country_code": u.country, "users": 0,
                                        "seats": 0, "mrr": 0.0, "plan": "free"})
        c["users"] += 1
        c["seats"] += int(u.props["seats"])
        c["mrr"] = round(c["mrr"] + float(u.props["mrr"]), 2)
        order = [k for k, _ in _PLANS]
        if order.index(u.plan) > order.index(c["plan"]):
            c["plan"] = u.plan
    (out / "groups").mkdir()
    with (out / "groups" / "company.jsonl").open("wb") as fh:
        for name, props in companies.items():
            fh.write(_DUMPS({"$distinct_id": name, "$properties": props}).encode() + b"\n")
    groups = [{"data_group_id": COMPANY_GROUP_ID, "key": "company", "file": "groups/company.jsonl"}]
    manifest = {
        "format": FORMAT,
        "generator": {"version": GENERATOR_VERSION, "users": users, "days": days,
                      "events_per_user_day": events_per_user_day, "seed": seed,
                      "end_date": end_date.isoformat()},
        "first_date": first.isoformat(),
        "last_date": end_date.isoformat(),
        "events": n_events,
        "profiles": n_profiles,
        "cohorts": cohorts,
        "groups": groups,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return Dataset(out)


def _cache_root() -> Path:
    env = os.environ.get("MPQL_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "mpql" if xdg else Path.home() / ".cache" / "mpql"


def default_dataset(end_date: dt.date | None = None) -> Dataset:
    """The small default dataset (150 users, 30 days ending yesterday), generated on first use
    and cached under ``$MPQL_CACHE_DIR`` (default ``~/.cache/mpql``); falls back to a temporary
    directory when the cache is not writable. "Yesterday" is the day before
    ``$MPQL_SANDBOX_TODAY`` when that is set."""
    if end_date is None:
        end_date = sandbox_today() - dt.timedelta(days=1)
    name = f"sandbox-default-v{GENERATOR_VERSION}-{end_date.isoformat()}"
    for root in (_cache_root(), Path(tempfile.gettempdir()) / f"mpql-{os.getuid() if hasattr(os, 'getuid') else 'user'}"):
        target = root / name
        if (target / "manifest.json").exists():
            return Dataset(target)
        try:
            root.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=name + ".", dir=root))
        except OSError:
            continue
        try:
            generate(work / "data", end_date=end_date)
            try:
                os.replace(work / "data", target)  # atomic: concurrent first uses do not clash
            except OSError:
                if not (target / "manifest.json").exists():
                    raise
        except OSError:
            continue
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _prune_old_defaults(root, end_date)
        return Dataset(target)
    raise SandboxError("could not create the default sandbox dataset (no writable cache or temp dir)")


def _prune_old_defaults(root: Path, end_date: dt.date) -> None:
    """Remove cached default datasets more than a week old (a server started yesterday may
    still be streaming yesterday's, so recent ones stay)."""
    pattern = re.compile(r"sandbox-default-v\d+-(\d{4}-\d{2}-\d{2})")
    for old in root.glob("sandbox-default-v*"):
        m = pattern.fullmatch(old.name)
        if m and old.is_dir() and dt.date.fromisoformat(m.group(1)) < end_date - dt.timedelta(days=7):
            shutil.rmtree(old, ignore_errors=True)

"""`mpql filter`: dataset directories, `--where @FILE`, and the warnings on filters that would
silently select nothing (user[...] without profiles, type mismatches, unknown properties) —
real subprocess runs on real files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mpql.sandbox import write_dataset

T0 = 1_717_200_000  # 2024-06-01T00:00:00Z: pinned, never today's date

EVENTS = [
    {"event": "Purchase", "properties": {"time": T0 + 60, "distinct_id": "u1", "amount": 30,
                                         "$os": "iOS"}},
    {"event": "Purchase", "properties": {"time": T0 + 120, "distinct_id": "u2", "amount": 5,
                                         "$os": "Android"}},
    {"event": "Login", "properties": {"time": T0 + 86_400 + 10, "distinct_id": "u1",
                                      "$os": "iOS"}},
]
PROFILES = [
    {"$distinct_id": "u1", "$properties": {"plan": "pro", "seats": 3}},
    {"$distinct_id": "u2", "$properties": {"plan": "free", "seats": 1}},
]


def mpql_filter(*args, stdin: bytes | None = None):
    return subprocess.run([sys.executable, "-m", "mpql", "filter", *args], input=stdin,
                          capture_output=True, timeout=120)


@pytest.fixture
def dataset(tmp_path):
    out = tmp_path / "data"
    write_dataset(out, EVENTS, PROFILES)
    return out


@pytest.fixture
def events_file(dataset, tmp_path):
    """The dataset's events as one export file (the lines exactly as stored)."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(p.read_bytes() for p in sorted((dataset / "events").glob("*.jsonl"))))
    return path


def _names(stdout: bytes) -> list:
    return [(json.loads(l)["event"], json.loads(l)["properties"]["distinct_id"])
            for l in stdout.splitlines()]


# -- dataset directories ------------------------------------------------------------------------

def test_a_dataset_directory_is_read_with_its_profiles_for_user(dataset):
    done = mpql_filter("-w", 'user["plan"] == "pro"', str(dataset))
    assert done.returncode == 0, done.stderr
    assert _names(done.stdout) == [("Purchase", "u1"), ("Login", "u1")]  # day files in order
    assert b"warning" not in done.stderr


def test_a_dataset_directory_with_profiles_filters_its_profiles(dataset):
    done = mpql_filter("--profiles", "-w", 'properties["seats"] > 2', str(dataset))
    assert done.returncode == 0, done.stderr
    assert [json.loads(l)["$distinct_id"] for l in done.stdout.splitlines()] == ["u1"]


def test_profiles_from_overrides_the_datasets_profiles(dataset, tmp_path):
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"$distinct_id": "u2", "$properties": {"plan": "pro"}}) + "\n")
    done = mpql_filter("--profiles-from", str(other), "-w", 'user["plan"] == "pro"', str(dataset))
    assert done.returncode == 0, done.stderr
    assert _names(done.stdout) == [("Purchase", "u2")]


def test_a_directory_that_is_not_a_dataset_is_a_clear_error(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    done = mpql_filter("-w", "true", str(tmp_path))
    assert done.returncode == 2
    assert b"not a dataset (no events/ and no profiles.jsonl)" in done.stderr
    assert b"Traceback" not in done.stderr


# -- --where @FILE -------------------------------------------------------------------------------

def test_where_from_a_file(dataset, tmp_path):
    query = tmp_path / "q.mpql"
    query.write_text('# purchases on iOS\nproperties["$os"] == "iOS"\n  and properties["amount"] > 10\n')
    done = mpql_filter("-w", f"@{query}", str(dataset))
    assert done.returncode == 0, done.stderr
    assert _names(done.stdout) == [("Purchase", "u1")]


def test_a_syntax_error_in_the_where_file_points_at_its_line_and_column(dataset, tmp_path):
    query = tmp_path / "q.mpql"
    query.write_text('# purchases\nproperties["$os"] == "iOS" and\n  properties["amount"] >\n')
    done = mpql_filter("-w", f"@{query}", str(dataset))
    assert done.returncode == 2 and done.stdout == b""
    assert f"--> {query}:3:".encode() in done.stderr, done.stderr


def test_a_missing_where_file_is_a_clear_error(dataset, tmp_path):
    done = mpql_filter("-w", f"@{tmp_path / 'nope.mpql'}", str(dataset))
    assert done.returncode == 2 and b"nope.mpql: no such file" in done.stderr


# -- warnings on filters that silently select nothing -----------------------------------------

def test_user_without_profiles_warns_and_strict_stops(events_file):
    done = mpql_filter("-w", 'user["plan"] == "pro"', str(events_file))
    assert done.returncode == 0 and done.stdout == b""
    assert b'user["plan"] reads the event\'s user profile, but no profiles are loaded' \
        in done.stderr
    done = mpql_filter("--strict", "-w", 'user["plan"] == "pro"', str(events_file))
    assert done.returncode == 2 and done.stdout == b""
    assert b"stopped by --strict" in done.stderr


def test_a_type_mismatch_per_the_inferred_schema_warns(events_file):
    # amount is a number in the data: comparing it with a string never matches.
    done = mpql_filter("-w", 'properties["amount"] == "30"', str(events_file))
    assert done.returncode == 0 and done.stdout == b""
    assert b"T001" in done.stderr and b"warning: the expression may silently" in done.stderr
    # The records are still read and filtered: the warning changes nothing else.
    done = mpql_filter("-w", 'properties["amount"] == 30', str(events_file))
    assert done.returncode == 0 and _names(done.stdout) == [("Purchase", "u1")]
    assert done.stderr == b""


def test_an_unknown_property_warns_when_the_schema_is_inferred(events_file):
    done = mpql_filter("--count", "-w", 'properties["amuont"] > 10', str(events_file))
    assert done.returncode == 0 and done.stdout == b"0\n"
    assert b"S007" in done.stderr and b"inferred from the first 1000 lines" in done.stderr


def test_an_explicit_schema_is_used_instead_of_the_data(events_file, tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"event": {"amount": "string"}}))
    done = mpql_filter("--schema", str(schema), "-w", 'properties["amount"] == "30"',
                       str(events_file))
    assert done.returncode == 0 and b"T001" not in done.stderr, done.stderr


def test_standard_input_is_not_read_ahead_for_inference():
    # Nothing inferred from a stream: no S007 for a property the stream does not have.
    line = json.dumps(EVENTS[0]).encode() + b"\n"
    done = mpql_filter("--count", "-w", 'properties["amuont"] > 10', "-", stdin=line)
    assert done.returncode == 0 and b"S007" not in done.stderr

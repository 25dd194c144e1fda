"""`mpql filter`, run as a real subprocess on real files."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pytest

EVENTS = [
    {"event": "Signup", "properties": {"distinct_id": "u1", "time": 1700000000, "plan": "pro", "n": 3}},
    {"event": "View", "properties": {"distinct_id": "u2", "time": 1700000100, "plan": "free", "n": "7"}},
    {"event": "View", "properties": {"distinct_id": "u1", "time": 1700086400, "plan": "pro", "n": 12}},
]
PROFILES = [
    {"$distinct_id": "u1", "$properties": {"$email": "a@example.com", "age": 31}},
    {"$distinct_id": "u2", "$properties": {"age": 20}},
]


def mpql(*args, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, "-m", "mpql", "filter", *args],
        input=stdin, capture_output=True, timeout=60,
    )


def jsonl(records) -> str:
    # Mixed spacing on purpose: output must be the input lines byte for byte.
    return "".join(json.dumps(r, separators=(",", ":") if i % 2 else (", ", ": ")) + "\n"
                   for i, r in enumerate(records))


@pytest.fixture
def events_file(tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_text(jsonl(EVENTS), encoding="utf-8")
    return path


def test_selects_matching_lines_byte_for_byte(events_file):
    done = mpql("--where", 'properties["plan"] == "pro"', str(events_file))
    assert done.returncode == 0, done.stderr
    lines = events_file.read_bytes().splitlines(keepends=True)
    assert done.stdout == lines[0] + lines[2]
    assert done.stderr == b""


def test_reads_standard_input_and_counts(events_file):
    done = mpql("--count", "--where", 'properties["n"] > 5', "-", stdin=events_file.read_bytes())
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "1"  # "7" is a string: never > 5


def test_no_match_is_success(events_file):
    done = mpql("-w", 'properties["plan"] == "enterprise"', str(events_file))
    assert (done.returncode, done.stdout) == (0, b"")


def test_malformed_lines_are_reported_with_line_numbers(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = json.dumps(EVENTS[0])
    path.write_text(
        f"{good}\n{{not json\n\n[1, 2]\n{{\"event\": \"x\", \"properties\": {{\"n\": NaN}}}}\n{good}\nterminated early\n",
        encoding="utf-8",
    )
    done = mpql("-w", "true", str(path))
    assert done.returncode == 2
    assert done.stdout.decode().splitlines() == [good, good]  # the good lines still come out
    err = done.stderr.decode()
    assert f"{path}:2: error: not valid JSON" in err
    assert f"{path}:3:" not in err  # blank lines are not records
    assert f"{path}:4: error: expected an event record" in err
    assert f"{path}:5: error: not valid JSON: NaN" in err
    assert f"{path}:7: error: the export ends with `terminated early`" in err
    assert "4 malformed line(s)" in err


def test_invalid_utf8_is_reported(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"event": "e", "properties": {"city": "S\xe3o Paulo"}}\n')
    done = mpql("-w", "true", str(path))
    assert done.returncode == 2
    assert f"{path}:1: error:" in done.stderr.decode()


def test_gzip_input(tmp_path):
    path = tmp_path / "export.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(jsonl(EVENTS))
    done = mpql("--count", "-w", 'event["$time"] >= datetime("2023-11-15T00:00:00")', str(path))
    assert (done.returncode, done.stdout.strip()) == (0, b"1"), done.stderr


def test_truncated_gzip_is_an_input_error(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(jsonl(EVENTS * 50).encode())
    path.write_bytes(data[: len(data) // 2])
    done = mpql("-w", "true", str(path))
    assert done.returncode == 2
    assert "cannot read" in done.stderr.decode()


def test_profiles_scope(tmp_path):
    path = tmp_path / "profiles.jsonl"
    path.write_text(jsonl(PROFILES), encoding="utf-8")
    done = mpql("--profiles", "-w", 'defined(properties["$email"])', str(path))
    assert done.returncode == 0, done.stderr
    assert [json.loads(x)["$distinct_id"] for x in done.stdout.splitlines()] == ["u1"]


def test_wrong_shape_suggests_the_scope(tmp_path):
    path = tmp_path / "profiles.jsonl"
    path.write_text(jsonl(PROFILES), encoding="utf-8")
    done = mpql("-w", "true", str(path))
    assert done.returncode == 2
    assert "looks like an Engage result" in done.stderr.decode()


def test_user_join_with_profiles_from(tmp_path, events_file):
    profiles = tmp_path / "profiles.jsonl"
    profiles.write_text(jsonl(PROFILES), encoding="utf-8")
    done = mpql("--count", "--profiles-from", str(profiles), "-w", 'user["age"] > 30', str(events_file))
    assert (done.returncode, done.stdout.strip()) == (0, b"2"), done.stderr


def test_syntax_error_is_rendered(events_file):
    done = mpql("-w", 'properties["plan"] === "pro"', str(events_file))
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "E101" in err and "--where:1:20" in err and "help:" in err
    assert "Traceback" not in err


def test_non_boolean_and_operand_fails_the_run(events_file):
    done = mpql("-w", 'properties["plan"] and true', str(events_file))
    assert done.returncode == 2
    err = done.stderr.decode()
    assert f"{events_file}:1: error: `and` needs boolean operands" in err
    lenient = mpql("--lenient", "--count", "-w", 'properties["plan"] and true', str(events_file))
    assert (lenient.returncode, lenient.stdout.strip()) == (0, b"0")


def test_timezone_and_now(events_file):
    # 1700000000 is 2023-11-14T22:13:20Z = 2023-11-15T07:13:20 in Tokyo.
    where = 'event["$time"] >= datetime("2023-11-15T07:00:00")'
    utc = mpql("--count", "-w", where, str(events_file))
    tokyo = mpql("--count", "--timezone", "Asia/Tokyo", "-w", where, str(events_file))
    assert (utc.stdout.strip(), tokyo.stdout.strip()) == (b"1", b"3")
    recent = mpql("--count", "--now", "1700086400", "-w",
                  'event["$time"] > datetime(NOW - 3600)', str(events_file))
    assert recent.stdout.strip() == b"1", recent.stderr  # only the third event
    recent = mpql("--count", "--now", "2023-11-15T00:00:00Z", "-w",
                  'event["$time"] < datetime(NOW)', str(events_file))
    assert recent.stdout.strip() == b"2", recent.stderr


def test_bad_options_and_missing_files(events_file, tmp_path):
    done = mpql("--timezone", "Mars/Olympus", "-w", "true", str(events_file))
    assert done.returncode == 2 and b"unknown timezone" in done.stderr
    done = mpql("-w", "true", str(tmp_path / "nope.jsonl"))
    assert done.returncode == 2 and b"no such file" in done.stderr
    done = mpql(str(events_file))  # --where is required
    assert done.returncode == 2


def test_explain_prints_generated_source():
    done = mpql("--explain", "-w", 'properties["plan"] == "pro"')
    assert done.returncode == 0
    assert b"def _mpql_filter(r):" in done.stdout and b"p.get(" in done.stdout


def test_invert_and_trace(events_file):
    done = mpql("-v", "-w", 'properties["plan"] == "pro"', str(events_file))
    assert done.returncode == 0
    assert [json.loads(x)["properties"]["plan"] for x in done.stdout.splitlines()] == ["free"]
    done = mpql("--trace", "--count", "-w", 'properties["n"] > 5', str(events_file))
    assert done.returncode == 0 and done.stdout.strip() == b"1"
    err = done.stderr.decode()
    assert f"{events_file}:2:" in err and '"7" (string)' in err and "→ undefined" in err


def test_event_names(events_file):
    done = mpql("--count", "--event", "View", "-w", 'properties["plan"] == "pro"', str(events_file))
    assert (done.returncode, done.stdout.strip()) == (0, b"1"), done.stderr
    done = mpql("--count", "--event", "View", "--event", "Signup", "-w", "true", str(events_file))
    assert done.stdout.strip() == b"3"
    done = mpql("--profiles", "--event", "View", "-w", "true", str(events_file))
    assert done.returncode == 2 and b"cannot be used with --profiles" in done.stderr
    done = mpql("--invert", "--count", "--event", "View", "-w", "true", str(events_file))
    assert done.stdout.strip() == b"1"  # the Signup

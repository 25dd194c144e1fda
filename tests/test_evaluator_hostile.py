"""Hostile input to `mpql filter` (real subprocesses) and odd records to the Python API.

Each case is a bug found by black-box testing: the input that triggered it is the test.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _helpers import buffered_env, read_line, sigint_default

import mpql
from mpql.errors import InputError
from mpql.evaluator import Undefined, compile_expression

PRO = b'{"event":"e","properties":{"plan":"pro"}}\n'


def mpql_filter(*args, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, "-m", "mpql", "filter", *args],
        input=stdin, capture_output=True, timeout=60,
    )


def test_closed_pipe_exits_quietly(tmp_path):
    # `mpql filter … | head -1` used to report "cannot read: Broken pipe" and exit 2.
    path = tmp_path / "many.jsonl"
    path.write_bytes(PRO * 200_000)
    cmd = [sys.executable, "-m", "mpql", "filter", "-w", 'properties["plan"] == "pro"', str(path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 0, stderr
    assert first == PRO
    assert b"Broken pipe" not in stderr and b"Traceback" not in stderr


def test_out_of_range_numbers_are_malformed_lines():
    # `1e999` is JSON syntax, but json made it float("inf"), which then matched `> 1`.
    lines = b'{"event":"e","properties":{"x":1e999}}\n{"event":"e","properties":{"x":1.5}}\n'
    done = mpql_filter("-w", 'properties["x"] > 1', "-", stdin=lines)
    assert done.returncode == 2
    assert done.stdout == lines.splitlines(keepends=True)[1]
    assert b"<stdin>:1: error:" in done.stderr and b"1e999 is out of range" in done.stderr


def test_huge_integer_literal_is_explained():
    line = b'{"event":"e","properties":{"x":' + b"9" * 5000 + b"}}\n"
    done = mpql_filter("-w", 'properties["x"] > 5', "-", stdin=line)
    assert done.returncode == 2
    assert b"more than 4300 digits" in done.stderr
    assert b"set_int_max_str_digits" not in done.stderr  # Python's advice is not the user's fix


def test_leading_byte_order_mark_is_accepted_and_dropped():
    # A BOM on line 1 used to make the line "not valid JSON: Expecting value".
    data = b"\xef\xbb\xbf" + PRO + PRO
    done = mpql_filter("-w", 'properties["plan"] == "pro"', "-", stdin=data)
    assert done.returncode == 0, done.stderr
    assert done.stdout == PRO + PRO


def test_byte_order_mark_after_line_one_is_still_an_error():
    done = mpql_filter("-w", "true", "-", stdin=PRO + b"\xef\xbb\xbf" + PRO)
    assert done.returncode == 2
    assert b"<stdin>:2: error:" in done.stderr


@pytest.mark.parametrize(
    ("line", "found"),
    [
        (b"[1, 2]", b"it is a list"),
        (b'"text"', b"it is a string"),
        (b"null", b"it is null"),
        (b"5", b"it is a number"),
        (b'{"event": "e", "properties": [1]}', b'"properties" is a list, not an object'),
    ],
)
def test_json_that_is_not_a_record_is_named_in_json_terms(line, found):
    done = mpql_filter("-w", "true", "-", stdin=line + b"\n")
    assert done.returncode == 2
    assert found in done.stderr, done.stderr
    assert b"NoneType" not in done.stderr


@pytest.mark.parametrize("properties", [[1, 2], "abc", None, 5])
def test_evaluate_reports_a_non_object_properties_like_compile_predicate(properties):
    # evaluate() used to read such a record as a bare property mapping and answer Undefined.
    record = {"event": "e", "properties": properties}
    with pytest.raises(InputError, match='"properties" is'):
        mpql.evaluate('properties["x"] > 5', record)
    with pytest.raises(InputError, match='"properties" is'):
        mpql.compile_predicate('properties["x"] > 5')(record)
    with pytest.raises(InputError, match='"\\$properties" is'):
        mpql.evaluate('properties["x"] > 5', {"$distinct_id": "u", "$properties": properties})


def test_huge_integers_in_casts_are_undefined_not_a_crash():
    # number("9…9" × 5000) and string(10**5000) raised Python's ValueError (a traceback in
    # `mpql filter`): as Mixpanel doubles they are infinite, i.e. no number.
    digits = "9" * 5000
    for expr, record in [
        ('number(properties["x"])', {"x": digits}),
        ('string(properties["x"])', {"x": 10**5000}),
    ]:
        assert mpql.evaluate(expr, record) is Undefined
        assert compile_expression(expr)({"event": "e", "properties": record}) is Undefined
    line = json.dumps({"event": "e", "properties": {"x": digits}}).encode() + b"\n"
    done = mpql_filter("-w", 'number(properties["x"]) > 5', "-", stdin=line)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_error_message_about_a_huge_integer_operand():
    with pytest.raises(mpql.errors.EvaluationError, match="too large to print|number"):
        mpql.evaluate('properties["x"] and true', {"x": 10**5000})


def test_ctrl_c_exits_130_without_a_traceback():
    import signal
    import time

    # Without PYTHONUNBUFFERED (as for a user): the match arrives because filter flushes each
    # match when standard input is a pipe; read_line fails instead of hanging if it does not.
    proc = subprocess.Popen(
        [sys.executable, "-m", "mpql", "filter", "-w", "true", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=buffered_env(), preexec_fn=sigint_default,
    )
    proc.stdin.write(PRO)
    proc.stdin.flush()
    assert read_line(proc.stdout) == PRO  # running, and blocked reading the next line
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err


def test_profiles_from_with_malformed_profiles(tmp_path):
    # A profile whose $properties was a number crashed the run with AttributeError (exit 1).
    profiles = tmp_path / "profiles.jsonl"
    profiles.write_bytes(b'{"$distinct_id": ["a"], "$properties": {}}\n'
                         b'{"$distinct_id": "u", "$properties": 5}\n')
    done = mpql_filter("-w", 'user["x"] == 1', "--profiles-from", str(profiles), "-",
                       stdin=b'{"event":"e","properties":{"distinct_id":"u"}}\n')
    assert done.returncode == 2
    assert b'profiles.jsonl:1: error: not an Engage profile record: "$distinct_id" is a list' in done.stderr
    assert b'profiles.jsonl:2: error: not an Engage profile record: "$properties" is a number' in done.stderr
    assert b"Traceback" not in done.stderr


def test_a_profile_that_is_not_an_object_is_an_input_error():
    record = {"event": "e", "properties": {"distinct_id": "u"}}
    with pytest.raises(InputError, match="profile of distinct_id 'u' is a number"):
        mpql.compile_predicate('user["x"] == 1', profiles={"u": 5})(record)
    with pytest.raises(InputError, match="is a number"):
        mpql.evaluate('user["x"] == 1', record, profile=5)


def test_trace_with_profiles_on_a_record_of_the_wrong_shape(tmp_path):
    # --trace --profiles-from read record["properties"].get(…) before the shape was checked:
    # AttributeError on `"properties": [1]`.
    profiles = tmp_path / "profiles.jsonl"
    profiles.write_bytes(b'{"$distinct_id": "u", "$properties": {"x": 1}}\n')
    done = mpql_filter("--trace", "--profiles-from", str(profiles), "-w", "true", "-",
                       stdin=b'{"event":"e","properties":[1]}\n{"event":"e","properties":"s"}\n')
    assert done.returncode == 2
    assert b"<stdin>:1: error:" in done.stderr and b"<stdin>:2: error:" in done.stderr
    assert b"Traceback" not in done.stderr


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("count", [False, True])
def test_a_full_disk_is_a_write_error_not_a_read_error(tmp_path, count):
    # Writing to a full device was reported as "export.jsonl:2: cannot read: [Errno 28] …".
    path = tmp_path / "export.jsonl"
    path.write_bytes(PRO * 20_000)
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "mpql", "filter", "-w", "true", *(["--count"] if count else []),
             str(path)],
            stdout=full, stderr=subprocess.PIPE, timeout=60,
        )
    assert done.returncode == 2
    assert b"cannot write the output: No space left on device" in done.stderr, done.stderr
    assert b"cannot read" not in done.stderr and b"Traceback" not in done.stderr

"""One JSONL reader (mpql/_jsonlines.py) with one policy, for `mpql filter`, the REPL's data
loader and `mpql schema infer`: the same file is accepted or rejected by all three alike."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mpql.errors import InputError
from mpql.repl.data import load_file

GOOD = '{"event": "e", "properties": {"distinct_id": "u1", "n": 1.5, "s": "a\u2028b"}}'

REJECTED = {
    "nan": '{"event": "e", "properties": {"n": NaN}}',
    "infinity": '{"event": "e", "properties": {"n": Infinity}}',
    "minus-infinity": '{"event": "e", "properties": {"n": -Infinity}}',
    "overflow": '{"event": "e", "properties": {"n": 1e999}}',
    "huge-int": '{"event": "e", "properties": {"n": ' + "9" * 5000 + "}}",
}


def _mpql(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "mpql", *args], capture_output=True,
                          text=True, input=stdin, timeout=120)


def _filter(path):
    return _mpql("filter", "--count", "--where", "true", str(path))


def _schema(path):
    return _mpql("schema", "infer", str(path))


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_every_reader_rejects_what_mixpanel_cannot_hold(tmp_path, case):
    path = tmp_path / "data.jsonl"
    path.write_text(GOOD + "\n" + REJECTED[case] + "\n", encoding="utf-8")
    done = _filter(path)
    assert done.returncode == 2 and f"{path}:2: error:" in done.stderr, done.stderr
    done = _schema(path)
    assert done.returncode == 2 and f"{path}:2: not a JSON record" in done.stderr, done.stderr
    with pytest.raises(InputError, match=rf"{path}:2: not a JSON record"):
        load_file(path)


def test_every_reader_accepts_a_bom_and_a_raw_line_separator_in_a_string(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (GOOD + "\r\n" + GOOD + "\n").encode("utf-8"))
    done = _filter(path)
    assert done.returncode == 0 and done.stdout.strip() == "2", done.stderr
    done = _schema(path)
    assert done.returncode == 0 and '"s": "string"' in done.stdout, done.stderr
    assert len(load_file(path).events) == 2

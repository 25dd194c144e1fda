"""The executor's pure parts: retry policy, pacer, JSONL framing, credentials, resume sink.

These run without a server; everything that talks HTTP is in test_executor_sandbox.py.
"""

from __future__ import annotations

import io
import json
import random

import pytest
from hypothesis import given, strategies as st

from mpql.errors import ConfigError
from mpql.executor import Credentials, Limits, RetryPolicy
from mpql.executor._auth import redact
from mpql.executor._jsonl import LineSplitter, StreamBroken, check_line, dedupe_key
from mpql.executor._output import FileSink, state_path
from mpql.executor._pacer import Pacer
from mpql.executor._retry import parse_retry_after
from mpql.planner.encode import encode_params


# -- retry policy -----------------------------------------------------------------------------

@given(attempt=st.integers(0, 80), seed=st.integers(0, 2**32))
def test_backoff_is_full_jitter_within_cap(attempt, seed):
    policy = RetryPolicy(rng=random.Random(seed))
    wait = policy.backoff(attempt)
    assert 0.0 <= wait <= min(60.0, 1.0 * 2**attempt)


def test_backoff_spreads_over_the_whole_interval():
    policy = RetryPolicy(rng=random.Random(7))
    waits = [policy.backoff(3) for _ in range(2000)]
    assert max(waits) > 7.0 and min(waits) < 1.0  # full jitter, not "base + small jitter"


@given(ra=st.floats(0, 1e6, allow_nan=False))
def test_retry_after_replaces_backoff_and_is_capped(ra):
    policy = RetryPolicy(retry_after_max=30.0)
    assert policy.backoff(5, ra) == min(ra, 30.0)


def test_parse_retry_after_forms():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


def test_policy_rejects_zero_attempts():
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


# -- pacer ------------------------------------------------------------------------------------

class FakeTime:
    def __init__(self):
        self.now = 0.0

    def clock(self):
        return self.now

    def sleep(self, s):
        self.now += s


@given(n=st.integers(1, 200), per_s=st.integers(1, 5), per_h=st.integers(1, 70))
def test_pacer_never_exceeds_any_window(n, per_s, per_h):
    t = FakeTime()
    limits = Limits(export_per_second=per_s, export_per_hour=per_h, hour=100.0, second=1.0,
                    margin=0.0, slack=0.0)
    pacer = Pacer(limits, clock=t.clock, sleep=t.sleep)
    sends = []
    for _ in range(n):
        with pacer.slot("export"):
            sends.append(t.now)
    for i, start in enumerate(sends):
        assert sum(1 for s in sends[i:] if s < start + 1.0) <= per_s
        assert sum(1 for s in sends[i:] if s < start + 100.0) <= per_h
    # ... and it is not slower than it must be: the last send is at the theoretical minimum.
    assert sends[-1] == pytest.approx(limits.minimum_duration(n, "export"))


def test_engage_pages_with_session_do_not_count():
    t = FakeTime()
    pacer = Pacer(Limits(query_per_hour=2, hour=100.0), clock=t.clock, sleep=t.sleep)
    for _ in range(50):
        with pacer.slot("query", counted=False):
            pass
    assert t.now == 0.0
    for _ in range(3):
        with pacer.slot("query"):
            pass
    assert t.now == pytest.approx(100.0 * 1.02 + 0.02)  # margin and slack


def test_pacer_rejects_unknown_class():
    with pytest.raises(ValueError, match="rate class"):
        with Pacer().slot("ingest"):
            pass


# -- JSONL framing --------------------------------------------------------------------------

record = st.fixed_dictionaries({
    "event": st.text(),
    "properties": st.dictionaries(st.text(max_size=5), st.one_of(st.text(), st.integers()),
                                  max_size=4),
})


@given(records=st.lists(record, max_size=20), cuts=st.lists(st.integers(0, 10_000), max_size=30),
       final_newline=st.booleans(), crlf=st.booleans())
def test_splitter_recovers_every_line_at_any_chunk_boundary(records, cuts, final_newline, crlf):
    # ensure_ascii=False puts raw U+2028 & co. into the bytes: they must not split a record.
    eol = b"\r\n" if crlf else b"\n"
    body = eol.join(json.dumps(r, ensure_ascii=False).encode() for r in records)
    if records and final_newline:
        body += eol
    points = sorted({c % (len(body) + 1) for c in cuts})
    pieces = [body[a:b] for a, b in zip([0] + points, points + [len(body)])]
    splitter = LineSplitter()
    lines = [line for piece in pieces for line in splitter.feed(piece)]
    tail = splitter.close()
    if tail:
        lines.append(tail)
    got = [check_line(line, parse=True) for line in lines if line]
    assert got == records


def test_terminated_early_and_truncation_are_failures():
    with pytest.raises(StreamBroken, match="terminated early"):
        check_line(b"terminated early")
    with pytest.raises(StreamBroken, match="last line"):
        check_line(b'{"event":"a","properties":{"x":1}', last=True)  # cut after an inner }
    with pytest.raises(StreamBroken):
        check_line(b'"just a string"', parse=True)
    assert check_line(b'{"a":1}') is None  # cheap path for a terminated line
    assert check_line(b'{"a":1}', last=True) == {"a": 1}


def test_dedupe_key_uses_mixpanel_identity():
    a = {"event": "x", "properties": {"distinct_id": "u", "time": 1, "$insert_id": "i", "p": 1}}
    b = {"event": "x", "properties": {"distinct_id": "u", "time": 1, "$insert_id": "i", "p": 2}}
    c = {"event": "x", "properties": {"distinct_id": "u", "time": 1, "$insert_id": "j"}}
    assert dedupe_key(a) == dedupe_key(b) != dedupe_key(c)


# -- parameters and credentials ---------------------------------------------------------------

def test_params_use_percent20_and_never_a_raw_plus():
    q = encode_params({"where": 'properties["a"] + 1 == 2', "project_id": 5})
    assert "%20" in q and "+" not in q and "%2B" in q and "%3D%3D" in q


def test_credentials_never_show_the_secret():
    creds = Credentials.from_env({"MP_USERNAME": "sa.user", "MP_SECRET": "s3cr3t-XYZ",
                                  "MP_PROJECT_ID": "42"})
    for text in (repr(creds), str(creds)):
        assert "s3cr3t-XYZ" not in text and "***" in text
    assert creds.kind == "service_account" and creds.project_id == "42"
    header = creds.authorization()
    assert redact(f"x {header} y s3cr3t-XYZ", creds.secrets()).count("***") == 2


def test_credentials_from_env_errors_and_absence():
    assert Credentials.from_env({}) is None
    with pytest.raises(ConfigError, match="MP_PROJECT_ID"):
        Credentials.from_env({"MP_USERNAME": "u", "MP_SECRET": "s"})
    with pytest.raises(ConfigError, match="MP_SECRET"):
        Credentials.from_env({"MP_USERNAME": "u"})
    assert Credentials.from_env({"MP_SECRET": "s"}).kind == "project_secret"


# -- the resumable sink -----------------------------------------------------------------------

def _spool(lines):
    return io.BytesIO(b"".join(l + b"\n" for l in lines))


def test_file_sink_resume_truncates_a_half_written_unit(tmp_path):
    out = str(tmp_path / "out.jsonl")
    sink = FileSink(out, "fp")
    sink.commit("u1", _spool([b'{"a":1}', b'{"a":2}']), 2)
    sink.abort()
    with open(out, "ab") as fh:  # the process died while appending unit 2
        fh.write(b'{"a":3}\n{"a"')
    again = FileSink(out, "fp", resume=True)
    assert again.resumed_units == ("u1",) and again.records == 2
    again.commit("u2", _spool([b'{"a":3}', b'{"a":4}']), 2)
    again.finish()
    assert open(out, "rb").read() == b'{"a":1}\n{"a":2}\n{"a":3}\n{"a":4}\n'
    assert not (tmp_path / "out.jsonl.mpql-state").exists()


def test_file_sink_refuses_a_foreign_state(tmp_path):
    out = str(tmp_path / "out.jsonl")
    FileSink(out, "fp-1").abort()
    assert (tmp_path / "out.jsonl.mpql-state").exists() and state_path(out).endswith("state")
    with pytest.raises(ConfigError, match="different query"):
        FileSink(out, "fp-2", resume=True)


def test_gzip_cut_exactly_at_a_line_boundary_is_detected():
    """The sandbox cannot cut a gzip body exactly after a newline; this is the one case the
    JSONL check cannot see, so the gzip trailer check must (a stand-in response object)."""
    import gzip
    import zlib

    from mpql.executor._transport import body_chunks

    body = b'{"event":"a"}\n' * 2000
    z = zlib.compressobj(wbits=31)
    cut = z.compress(body) + z.flush(zlib.Z_SYNC_FLUSH)  # everything, but no final block

    class Raw:
        def __init__(self, data):
            self.data = data

        def stream(self, n, decode_content):
            for i in range(0, len(self.data), 1000):
                yield self.data[i:i + 1000]

    class Resp:
        headers = {"Content-Encoding": "gzip"}

        def __init__(self, data):
            self.raw = Raw(data)

    assert b"".join(body_chunks(Resp(gzip.compress(body)))) == body
    with pytest.raises(StreamBroken, match="trailer"):
        b"".join(body_chunks(Resp(cut)))
    assert zlib.decompressobj(wbits=31).decompress(cut) == body  # the cut really is at a line end


def test_decoded_pieces_are_bounded_whatever_the_compression_ratio():
    """Memory flatness: one 64 KiB gzip read of very compressible data must not be inflated
    into one huge bytes object (it was: RSS grew with chunk size until this bound)."""
    import gzip

    from mpql.executor._transport import PIECE, body_chunks

    body = b'{"event":"a","properties":{"x":"' + b"y" * 100 + b'"}}\n'
    body *= 200_000  # ~27 MB, compresses ~100x

    class Raw:
        def stream(self, n, decode_content):
            data = gzip.compress(body)
            for i in range(0, len(data), n):
                yield data[i:i + n]

    class Resp:
        headers = {"Content-Encoding": "gzip"}
        raw = Raw()

    total = 0
    for piece in body_chunks(Resp()):
        assert len(piece) <= PIECE
        total += len(piece)
    assert total == len(body)


@given(records=st.lists(record, min_size=1, max_size=15), cuts=st.lists(st.integers(0, 5000),
       max_size=20), crlf=st.booleans(), blanks=st.booleans(), filtered=st.booleans())
def test_export_reader_fast_and_slow_paths_agree(records, cuts, crlf, blanks, filtered):
    """Whatever the framing (CRLF, blank lines, chunk boundaries), the spool holds exactly
    one `\\n`-terminated line per record, byte for byte as sent (minus the `\\r`)."""
    import tempfile

    from mpql.executor import Client
    from mpql.executor._client import _Run
    from mpql.planner import Plan

    lines = [json.dumps(r, ensure_ascii=False).encode() for r in records]
    eol = b"\r\n" if crlf else b"\n"
    body = b"".join(l + eol + (eol if blanks else b"") for l in lines)
    points = sorted({c % (len(body) + 1) for c in cuts})
    pieces = [body[a:b] for a, b in zip([0] + points, points + [len(body)])]

    class Raw:
        def stream(self, n, decode_content):
            yield from pieces

    class Resp:
        headers: dict = {}
        raw = Raw()

    run = _Run(Client(base_url="http://127.0.0.1:9"), Plan([]), dedupe=False)
    make = (lambda: (lambda rec: True)) if filtered else None
    with tempfile.TemporaryFile() as spool:
        unit = run._read_export(Resp(), spool, "k", make)
        spool.seek(0)
        assert spool.read() == b"".join(l + b"\n" for l in lines)
    assert unit.records == len(records)


@given(units=st.lists(st.lists(st.binary(min_size=1, max_size=30).map(
           lambda b: b.replace(b"\n", b" ")), min_size=1, max_size=4), min_size=1, max_size=6),
       crash_after=st.integers(0, 6), partial=st.integers(0, 200), lag=st.integers(0, 2))
def test_resume_after_any_crash_point_gives_identical_output(tmp_path_factory, units,
                                                             crash_after, partial, lag):
    """Crash anywhere: after any number of committed units, with any prefix of the next unit
    already appended, and with the state file lagging behind the output by up to `lag`
    commits (the state is replaced after the output is fsynced). Resume -> identical bytes."""
    import shutil

    tmp = tmp_path_factory.mktemp("resume")
    out = str(tmp / "o.jsonl")
    blobs = [b"".join(line + b"\n" for line in unit) for unit in units]
    done = min(crash_after, len(blobs))
    sink = FileSink(out, "fp", checkpoint_every=0)  # a state per commit, to pick a lagging one
    states = [open(state_path(out), "rb").read()]
    for i in range(done):
        sink.commit(f"u{i}", io.BytesIO(blobs[i]), len(units[i]))
        states.append(open(state_path(out), "rb").read())
    sink.abort()
    if done < len(blobs):
        with open(out, "ab") as fh:
            fh.write(blobs[done][:partial % (len(blobs[done]) + 1)])
    with open(state_path(out), "wb") as fh:  # a state that lags the output
        fh.write(states[max(0, done - lag)])
    resumed = FileSink(out, "fp", resume=True)
    for i in range(len(resumed.resumed_units), len(blobs)):
        resumed.commit(f"u{i}", io.BytesIO(blobs[i]), len(units[i]))
    resumed.finish()
    assert open(out, "rb").read() == b"".join(blobs)
    shutil.rmtree(tmp)


def test_file_sink_checkpoints_lag_the_output_and_a_stop_records_everything(tmp_path):
    """Between checkpoints the state lags the output (safe: resume truncates to it); a stopped
    run (error, Ctrl-C) checkpoints what it committed, so --resume skips all of it."""
    out = str(tmp_path / "out.jsonl")
    sink = FileSink(out, "fp", checkpoint_every=3600)
    sink.commit("u1", _spool([b'{"a":1}']), 1)
    sink.commit("u2", _spool([b'{"a":2}']), 1)
    assert json.loads(open(state_path(out), "rb").read())["units"] == []  # lagging
    sink.abort()
    state = json.loads(open(state_path(out), "rb").read())
    assert state["units"] == ["u1", "u2"] and state["offset"] == 16
    again = FileSink(out, "fp", resume=True)
    assert again.resumed_units == ("u1", "u2") and again.records == 2
    again.finish()
    assert open(out, "rb").read() == b'{"a":1}\n{"a":2}\n'


def test_progress_eta_ignores_units_a_resume_skipped():
    """Units committed by an earlier run finish instantly; counting them in the rate would
    promise an ETA far too short."""
    import time as _time

    from mpql.executor._progress import Progress
    from mpql.executor._transport import Stats

    stats = Stats(units_done=6, units_skipped=5, units_total=11)
    stats.started = _time.monotonic() - 10  # 10 s for the one fetched unit
    line = Progress(io.StringIO(), enabled=True).render(stats)
    eta = int(line.rsplit("ETA ", 1)[1].rstrip("s"))
    assert 45 <= eta <= 55, line  # 5 units left at ~10 s each


@pytest.mark.parametrize("nth_line", range(1, 12))
def test_ctrl_c_at_any_line_of_a_commit_then_resume_gives_identical_output(tmp_path, nth_line):
    """KeyboardInterrupt raised before the n-th traced line of `FileSink.commit` (a stand-in
    for Ctrl-C arriving between any two statements); the stopped run's checkpoint must never
    count a unit's bytes without the unit — resume then gives the exact output."""
    import sys as _sys

    out = str(tmp_path / "o.jsonl")
    blobs = [b'{"a":1}\n', b'{"a":2}\n{"a":3}\n', b'{"a":4}\n']
    sink = FileSink(out, "fp", checkpoint_every=3600)
    sink.commit("u0", io.BytesIO(blobs[0]), 1)
    code = FileSink.commit.__code__
    seen = 0

    def tracer(frame, event, arg):
        nonlocal seen
        if frame.f_code is not code:
            return None
        if event == "line":
            seen += 1
            if seen == nth_line:
                raise KeyboardInterrupt
        return tracer

    _sys.settrace(tracer)
    try:
        sink.commit("u1", io.BytesIO(blobs[1]), 2)
    except KeyboardInterrupt:
        pass
    finally:
        _sys.settrace(None)
    sink.abort()
    again = FileSink(out, "fp", resume=True)
    for i in range(len(again.resumed_units), len(blobs)):
        again.commit(f"u{i}", io.BytesIO(blobs[i]), blobs[i].count(b"\n"))
    again.finish()
    assert open(out, "rb").read() == b"".join(blobs)


@given(st.dictionaries(st.sampled_from(["project_id", "workspace_id", "session_id", "page",
                                        "where"]),
                       st.one_of(st.integers(0, 10**12), st.text(max_size=20)), min_size=1))
def test_the_executor_encodes_parameters_with_the_planners_encoder(params):
    """One percent-encoder: what the executor appends to a planned request (project_id,
    workspace_id, paging) is encoded byte for byte like the plan itself."""
    from mpql.executor import _client
    from mpql.planner import encode

    assert _client.encode_params(params) == encode.encode_params(params)

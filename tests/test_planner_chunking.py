"""Export date chunking: the default ("auto") rule and the "Nd" chunk sizes (docs/planner.md,
*Date chunks*). Mixpanel allows 60 export requests an hour; one request per day spent half of
that on a 30-day window."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mpql import Query
from mpql.errors import PlanError
from mpql.planner import auto_chunking, date_chunks, expand

TODAY = dt.date(2030, 1, 1)


def _window(days: int, start: dt.date = dt.date(2024, 1, 1)) -> tuple[str, str]:
    return start.isoformat(), (start + dt.timedelta(days=days - 1)).isoformat()


def _lengths(chunks) -> list[int]:
    return [(dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days + 1 for a, b in chunks]


@pytest.mark.parametrize("days, chunking, requests", [
    (1, None, 1), (7, None, 1), (13, None, 1),   # up to 13 days: one request
    (14, "7d", 2), (30, "8d", 4), (31, "8d", 4),  # a month: 4 requests, not 31
    (84, "7d", 12), (90, "8d", 12), (180, "15d", 12),
    (365, "31d", 12),                              # a year: 12 requests of a month
    (400, "31d", 13), (730, "31d", 24),            # never more than 31 days in one chunk
])
def test_auto_chunking_examples(days, chunking, requests):
    a, b = _window(days)
    assert auto_chunking(a, b) == chunking
    assert len(date_chunks(a, b, chunking)) == requests
    assert len(date_chunks(a, b, "auto")) == requests


@given(st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)), st.integers(1, 3000))
def test_auto_chunks_partition_the_window_within_the_budget(start, days):
    a, b = _window(days, start)
    chunks = date_chunks(a, b, auto_chunking(a, b))
    # exactly the window, in order, no gap and no overlap
    assert chunks[0][0] == a and chunks[-1][1] == b
    for (_, end), (nxt, _) in zip(chunks, chunks[1:]):
        assert dt.date.fromisoformat(nxt) == dt.date.fromisoformat(end) + dt.timedelta(days=1)
    lengths = _lengths(chunks)
    assert sum(lengths) == days
    assert max(lengths) <= 31                            # a failed chunk is cheap to retry
    assert len(chunks) <= max(12, -(-days // 31))         # a fifth of the hourly budget
    if days <= 13:
        assert len(chunks) == 1
    else:
        assert min(lengths[:-1] or lengths) >= 7          # no day-sized requests
        assert len(chunks) >= 2                           # resume and parallelism stay useful


def test_plan_defaults_to_auto_chunking():
    a, b = _window(30)
    plan = Query.events('properties["a"] == 1', from_date=a, to_date=b, today=TODAY).plan()
    (step,) = plan.steps
    assert step.chunking == "8d"
    assert len(expand(step).requests) == 4
    assert "4 requests (8-day chunks)" in plan.explain()
    assert type(plan).from_json(plan.to_json()) == plan


def test_profiles_plans_are_not_chunked():
    (step,) = Query.profiles('properties["a"] == 1').plan().steps
    assert step.chunking is None


@pytest.mark.parametrize("chunk, lengths", [
    ("day", [1] * 10), ("week", [7, 3]), ("3d", [3, 3, 3, 1]), ("10d", [10]),
    ("none", [10]),
])
def test_explicit_chunks(chunk, lengths):
    a, b = _window(10)
    plan = Query.events(None, from_date=a, to_date=b, today=TODAY).plan(chunk=chunk)
    assert _lengths(r.chunk for r in expand(plan.steps[0]).requests) == lengths


@pytest.mark.parametrize("chunk", ["hour", "0d", "367d", "-1d", "d", "7 d", 7, None])
def test_bad_chunks_are_plan_errors(chunk):
    with pytest.raises(PlanError, match="unknown chunk"):
        Query.events(None, from_date="2024-01-01", to_date="2024-01-02",
                     today=TODAY).plan(chunk=chunk)


@pytest.mark.parametrize("chunking", ["auto", "0d", "367d", "7days"])
def test_a_plan_file_with_a_bad_chunking_is_refused(chunking):
    import json

    from mpql.errors import InputError
    from mpql.planner import Plan

    plan = Query.events(None, from_date="2024-01-01", to_date="2024-01-30", today=TODAY).plan()
    data = json.loads(plan.to_json())
    data["steps"][0]["chunking"] = chunking
    with pytest.raises(InputError, match="chunking must be one of"):
        Plan.from_json(json.dumps(data))

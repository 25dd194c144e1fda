"""Invariants of the local aggregates on random events (hypothesis)."""

from __future__ import annotations

import datetime as dt

import hypothesis.strategies as st
from hypothesis import given

import mpql
import mpql.aggregates as agg
from mpql import Query
from mpql.evaluator import Semantics

D0 = 1704067200  # 2024-01-01T00:00:00Z
DAY = 86400
RANGE = dict(from_date="2024-01-01", to_date="2024-01-04")
TODAY = dt.date(2024, 6, 1)

# Times cluster around day boundaries (UTC and the test timezones' midnights), where bucket,
# timezone and range-extension mistakes show.
_near_midnight = st.builds(lambda day, offset: D0 + day * DAY + offset,
                           st.integers(-1, 7),
                           st.sampled_from([0, -1, 1, 3600, -3600, 5 * 3600, -5 * 3600,
                                            19800, -19800, 30 * 60]))
_props = st.fixed_dictionaries(
    {"time": st.one_of(st.integers(D0 - DAY, D0 + 8 * DAY), _near_midnight)},
    optional={"distinct_id": st.sampled_from([f"u{i}" for i in range(6)]),
              "plan": st.sampled_from(["free", "pro", None, 3]),
              "n": st.one_of(st.integers(-50, 5000), st.floats(-10, 10, allow_nan=False),
                             st.just("7"))},
)
events_st = st.lists(st.builds(lambda name, props: {"event": name, "properties": props},
                               st.sampled_from(["A", "B", "C"]), _props), max_size=80)
WHERES = [None, 'properties["plan"] == "pro"', 'properties["n"] > 100',
          'not defined(properties["plan"])']
ONS = [None, 'properties["plan"]', 'properties["n"] % 3']
TZ = ["UTC", "America/New_York", "Asia/Kolkata"]


def _local_day(t, tz):
    return dt.datetime.fromtimestamp(t, mpql.evaluator.semantics.resolve_timezone(tz)).date()


@given(events_st, st.sampled_from(WHERES), st.sampled_from(ONS), st.sampled_from(TZ))
def test_segmentation_total_is_the_number_of_matching_events(events, where, on, tz):
    out = agg.segmentation(events, event="A", where=where, on=on, timezone=tz, limit=10_000,
                           **RANGE)
    keep = mpql.compile_predicate(where) if where else (lambda r: True)
    first, last = dt.date(2024, 1, 1), dt.date(2024, 1, 4)
    expected = sum(1 for e in events if e["event"] == "A" and keep(e)
                   and first <= _local_day(e["properties"]["time"], tz) <= last)
    got = sum(sum(v.values()) for v in out["data"]["values"].values())
    assert got == expected
    assert out["legend_size"] == len(out["data"]["values"])


@given(events_st, st.sampled_from(WHERES), st.sampled_from(ONS))
def test_unique_never_exceeds_general(events, where, on):
    general = agg.segmentation(events, event="A", where=where, on=on, **RANGE)
    unique = agg.segmentation(events, event="A", where=where, on=on, type="unique", **RANGE)
    for key, dates in unique["data"]["values"].items():
        for date, n in dates.items():
            assert n <= general["data"]["values"].get(key, {}).get(date, 0)


@given(events_st, st.sampled_from(WHERES), st.sampled_from(ONS), st.randoms())
def test_answers_do_not_depend_on_event_order(events, where, on, rnd):
    # /export output is unsorted: every aggregate must sort what it needs itself
    shuffled = list(events)
    rnd.shuffle(shuffled)
    calls = [
        lambda e: agg.segmentation(e, event="A", where=where, on=on, type="unique", **RANGE),
        lambda e: agg.funnel(e, steps=["A", "B", "C"], where=where, on=on, **RANGE),
        lambda e: agg.retention(e, born_event="A", event="B", where=where, on=on,
                                interval_count=2, **RANGE),
        lambda e: agg.frequency(e, unit="day", addiction_unit="hour", where=where, **RANGE),
    ]
    for call in calls:
        assert call(shuffled) == call(events)


@given(events_st, st.sampled_from(WHERES), st.sampled_from(ONS),
       st.sampled_from(["first", "best"]), st.sampled_from(["day", "week"]))
def test_funnel_counts_never_increase_and_ratios_are_fractions(events, where, on, start, unit):
    out = agg.funnel(events, steps=["A", "B", "A"], where=where, on=on, unit=unit, **RANGE,
                     semantics=Semantics(funnel_start=start))
    blocks = [b for d in out["data"].values()
              for b in (d.values() if on is not None else [d])]
    for block in blocks:
        counts = [s["count"] for s in block["steps"]]
        assert counts == sorted(counts, reverse=True)
        assert block["analysis"]["completion"] == counts[-1]
        assert block["analysis"]["starting_amount"] == counts[0]
        for s in block["steps"]:
            assert 0 <= s["step_conv_ratio"] <= 1 and 0 <= s["overall_conv_ratio"] <= 1
    if on is not None:  # $overall is the sum over segments when no segment is cut off
        for day in out["data"].values():
            segs = [b for k, b in day.items() if k != "$overall"]
            total = [sum(b["steps"][j]["count"] for b in segs) for j in range(3)]
            assert total == [s["count"] for s in day["$overall"]["steps"]]


@given(events_st, st.sampled_from(WHERES), st.sampled_from(["elapsed", "calendar"]),
       st.sampled_from(["birth", "compounded"]))
def test_retention_counts_bounded_by_cohort_and_unbounded_dominates(events, where, mode, rtype):
    kw = dict(event="B", where=where, interval_count=3, retention_type=rtype, **RANGE,
              semantics=Semantics(retention_intervals=mode))
    if rtype == "birth":
        kw["born_event"] = "A"
    bounded = agg.retention(events, **kw)
    unbounded = agg.retention(events, unbounded_retention=True, **kw)
    for date, row in bounded.items():
        up = unbounded[date]
        assert up["first"] == row["first"]
        assert all(c <= row["first"] for c in row["counts"])
        assert up["counts"] == sorted(up["counts"], reverse=True)
        assert all(u >= b for u, b in zip(up["counts"], row["counts"]))


@given(events_st, st.sampled_from(WHERES))
def test_frequency_first_entry_is_the_unique_count(events, where):
    freq = agg.frequency(events, event="A", unit="day", addiction_unit="hour", where=where,
                         **RANGE)
    unique = agg.segmentation(events, event="A", type="unique", where=where, **RANGE)
    for date, row in freq["data"].items():
        assert row == sorted(row, reverse=True)
        assert row[0] == unique["data"]["values"]["A"][date]


# -- the export + local plan computes what the local function computes ------------------------

QUERIES = [
    lambda w, o: Query.segmentation("A", where=w, on=o, unit="week", **RANGE, today=TODAY),
    lambda w, o: Query.segmentation("A", where=w, on=o, type="unique", unit="hour",
                                    **RANGE, today=TODAY),
    lambda w, o: Query.segmentation_sum("A", where=w, on='properties["n"]', unit="month",
                                        **RANGE, today=TODAY),
    lambda w, o: Query.segmentation_numeric("A", where=w, on='properties["n"]',
                                            strategy="export", **RANGE, today=TODAY),
    lambda w, o: Query.funnel(steps=["A", "B"], where=w, on=o, length=2, **RANGE,
                              today=TODAY),
    lambda w, o: Query.retention("A", "B", where=w, on=o, interval_count=2, strategy="export",
                                 **RANGE, today=TODAY),
    lambda w, o: Query.frequency("A", where=w, on=o, unit="day", addiction_unit="hour",
                                 strategy="export", **RANGE, today=TODAY),
]


def run_export_plan(plan, events):
    """What an executor does with an export + local plan, on events held in memory: each
    export step returns the events of its names and UTC dates that pass its where."""
    got = []
    for i in plan.local_aggregate.events_steps:
        p = plan.steps[i].params
        first = dt.date.fromisoformat(p["from_date"])
        last = dt.date.fromisoformat(p["to_date"])
        keep = mpql.compile_predicate(p["where"]) if "where" in p else (lambda r: True)
        for e in events:
            day = dt.datetime.fromtimestamp(e["properties"]["time"], dt.timezone.utc).date()
            if ("event" not in p or e["event"] in p["event"]) and first <= day <= last \
                    and keep(e):
                got.append(e)
    return plan.local_aggregate.run(got, **_pinned(plan.local_aggregate.function))


def _pinned(function) -> dict:
    return {"computed_at": "2024-06-01T00:00:00+00:00"} if function == "segmentation/sum" else {}


@given(events_st, st.sampled_from(WHERES), st.sampled_from(ONS),
       st.sampled_from(range(len(QUERIES))), st.sampled_from(TZ))
def test_export_plan_equals_local_computation(events, where, on, which, tz):
    query = QUERIES[which](where, on)
    plan = query.plan(project_id=1, timezone=tz, today=TODAY)
    assert plan.local_aggregate is not None
    local = plan.local_aggregate
    params = dict(local.params)
    if query.where is not None:
        params["where"] = where  # the plan pushed it into /export
    direct = agg.FUNCTIONS[local.function](events, timezone=tz, **params,
                                           **_pinned(local.function))
    assert run_export_plan(plan, events) == direct


def _dense_events():
    """An event of each name every 50 minutes from Dec 31 to Jan 8, users and properties
    cycling: every bucket boundary of every timezone above has events on both sides."""
    out = []
    for i, t in enumerate(range(D0 - DAY, D0 + 8 * DAY, 3000)):
        for j, name in enumerate("ABC"):
            out.append({"event": name, "properties": {
                # users join over time (user k from day k // 3 on) and stay: every day has
                # new cohorts and funnel starts, with returns and conversions days later
                "time": t + j, "distinct_id": f"u{(i * 7 + j) % (3 * ((t - D0) // DAY + 2))}",
                "plan": ["free", "pro", None][(i + j) % 3], "n": (i * 37 + j) % 300}})
    # slow users: step 1 late on the last day, step 2 almost two days later
    for k in range(3):
        start = D0 + 3 * DAY + 22 * 3600 + k
        for name, t in (("A", start), ("B", start + 2 * DAY - 7200)):
            out.append({"event": name, "properties": {"time": t, "distinct_id": f"slow{k}",
                                                      "plan": "pro", "n": 200}})
    return out


def test_export_plan_equals_local_computation_on_dense_data():
    events = _dense_events()
    for which in range(len(QUERIES)):
        for tz in TZ:
            for where, on in ((None, None), (WHERES[1], ONS[1]), (WHERES[2], ONS[2])):
                query = QUERIES[which](where, on)
                plan = query.plan(project_id=1, timezone=tz, today=TODAY)
                local = plan.local_aggregate
                params = dict(local.params)
                if query.where is not None:
                    params["where"] = where
                direct = agg.FUNCTIONS[local.function](events, timezone=tz, **params,
                                                       **_pinned(local.function))
                assert run_export_plan(plan, events) == direct, (which, tz, where, on)


@given(events_st, st.sampled_from(WHERES), st.sampled_from(ONS),
       st.sampled_from(["day", "hour", "month"]), st.sampled_from(["general", "unique"]))
def test_http_parameters_give_the_same_answer_as_keywords(events, where, on, unit, kind):
    query = {"event": "A", "from_date": RANGE["from_date"], "to_date": RANGE["to_date"],
             "unit": unit, "type": kind}
    if kind == "unique" and unit == "hour":
        query["unit"] = "day"  # Mixpanel has no hourly uniques
    if where:
        query["where"] = where
    if on:
        query.update(on=on, limit="5")
    kw = {k: v for k, v in query.items() if k != "limit"}
    direct = agg.segmentation(events, **kw, limit=5 if on else None)
    assert agg.compute("segmentation", events, query) == direct

"""mpql.aggregates on small hand-made event sets whose answers are worked out by hand."""

from __future__ import annotations

import pytest

import mpql.aggregates as agg
from mpql.aggregates._segmentation import nice_width, range_label
from mpql.errors import InputError, QueryError
from mpql.evaluator import Semantics

D0 = 1704067200  # 2024-01-01T00:00:00Z, a Monday
H, DAY = 3600, 86400
JAN = dict(from_date="2024-01-01", to_date="2024-01-03")


def ev(name, t, user="u1", **props):
    return {"event": name, "properties": {"time": t, "distinct_id": user, **props}}


# -- segmentation ----------------------------------------------------------------------------


def test_segmentation_counts_per_day_and_drops_other_events_and_days():
    events = [ev("A", D0 + 10), ev("A", D0 + 20), ev("A", D0 + DAY + 5), ev("B", D0 + 30),
              ev("A", D0 - 1), ev("A", D0 + 3 * DAY)]
    out = agg.segmentation(events, event="A", **JAN)
    assert out == {"data": {"series": ["2024-01-01", "2024-01-02", "2024-01-03"],
                            "values": {"A": {"2024-01-01": 2, "2024-01-02": 1,
                                             "2024-01-03": 0}}},
                   "legend_size": 1}


def test_segmentation_where_on_undefined_and_limit():
    events = [ev("A", D0, b="x", plan="pro"), ev("A", D0 + 1, b="x", plan="pro"),
              ev("A", D0 + 2, b="y", plan="pro"), ev("A", D0 + 3, plan="pro"),
              ev("A", D0 + 4, b="z", plan="free"), ev("A", D0 + 5, b=7, plan="pro")]
    out = agg.segmentation(events, event="A", on='properties["b"]',
                           where='properties["plan"] == "pro"', **JAN)
    values = out["data"]["values"]
    assert values["x"]["2024-01-01"] == 2
    assert values["undefined"]["2024-01-01"] == 1
    assert values["7"]["2024-01-01"] == 1  # numbers become keys via string()
    assert "z" not in values
    assert out["legend_size"] == 4
    top = agg.segmentation(events, event="A", on='properties["b"]', limit=1,
                           where='properties["plan"] == "pro"', **JAN)
    assert list(top["data"]["values"]) == ["x"]
    named = agg.segmentation(events, event="A", on='properties["b"]',
                             semantics=Semantics(undefined_segment="(not set)"), **JAN)
    assert "(not set)" in named["data"]["values"]


def test_segmentation_ties_ranked_by_key():
    events = [ev("A", D0, b="m"), ev("A", D0, b="c"), ev("A", D0, b="k")]
    out = agg.segmentation(events, event="A", on='properties["b"]', limit=2, **JAN)
    assert list(out["data"]["values"]) == ["c", "k"]


def test_unique_counts_distinct_users_and_skips_events_without_one():
    events = [ev("A", D0, "u1"), ev("A", D0 + 1, "u1"), ev("A", D0 + 2, "u2"),
              {"event": "A", "properties": {"time": D0 + 3}}]
    general = agg.segmentation(events, event="A", **JAN)["data"]["values"]["A"]
    unique = agg.segmentation(events, event="A", type="unique", **JAN)["data"]["values"]["A"]
    assert general["2024-01-01"] == 4 and unique["2024-01-01"] == 2
    average = agg.segmentation(events, event="A", type="average", **JAN)["data"]["values"]["A"]
    assert average["2024-01-01"] == 4 / 2


def test_buckets_follow_the_project_timezone():
    events = [ev("A", D0 + DAY + 3 * H)]  # 2024-01-02 03:00 UTC = 2024-01-01 22:00 in New York
    utc = agg.segmentation(events, event="A", **JAN)["data"]["values"]["A"]
    ny = agg.segmentation(events, event="A", timezone="America/New_York",
                          **JAN)["data"]["values"]["A"]
    assert utc["2024-01-02"] == 1 and ny["2024-01-01"] == 1 and ny["2024-01-02"] == 0
    # the series starts at local midnight: 2024-01-01 02:00 UTC is still Dec 31 in New York
    early = agg.segmentation([ev("A", D0 + 2 * H)], event="A", timezone="America/New_York",
                             **JAN)["data"]["values"]["A"]
    assert sum(early.values()) == 0


def test_hour_minute_week_month_labels():
    events = [ev("A", D0 + 13 * H + 125)]
    hour = agg.segmentation(events, event="A", unit="hour", from_date="2024-01-01",
                            to_date="2024-01-01")
    assert len(hour["data"]["series"]) == 24
    assert hour["data"]["values"]["A"]["2024-01-01 13:00:00"] == 1
    iso = agg.segmentation(events, event="A", unit="hour", from_date="2024-01-01",
                           to_date="2024-01-01", semantics=Semantics(bucket_label="iso"))
    assert iso["data"]["values"]["A"]["2024-01-01T13:00:00"] == 1
    minute = agg.segmentation(events, event="A", unit="minute", from_date="2024-01-01",
                              to_date="2024-01-01")
    assert minute["data"]["values"]["A"]["2024-01-01 13:02:00"] == 1
    week = agg.segmentation([ev("A", D0 + 2 * DAY), ev("A", D0 + 8 * DAY)], event="A",
                            unit="week", from_date="2024-01-03", to_date="2024-01-10")
    assert week["data"]["values"]["A"] == {"2024-01-01": 1, "2024-01-08": 1}
    sunday = agg.segmentation([ev("A", D0 + 2 * DAY)], event="A", unit="week",
                              from_date="2024-01-03", to_date="2024-01-03",
                              semantics=Semantics(week_start="sunday"))
    assert sunday["data"]["series"] == ["2023-12-31"]
    month = agg.segmentation([ev("A", D0 + 40 * DAY)], event="A", unit="month",
                             from_date="2024-01-15", to_date="2024-02-20")
    assert month["data"]["values"]["A"] == {"2024-01-01": 0, "2024-02-01": 1}


def test_dst_day_has_23_hour_buckets():
    out = agg.segmentation([], event="A", unit="hour", from_date="2024-03-10",
                           to_date="2024-03-10", timezone="America/New_York")
    assert len(out["data"]["series"]) == 23


def test_interval_buckets_of_n_days():
    events = [ev("A", D0 + i * DAY, f"u{i}") for i in range(5)]
    out = agg.segmentation(events, event="A", type="unique", interval=2,
                           from_date="2024-01-01", to_date="2024-01-05")
    assert out["data"]["values"]["A"] == {"2024-01-01": 2, "2024-01-03": 2, "2024-01-05": 1}


def test_time_in_milliseconds_is_read_as_such():
    out = agg.segmentation([ev("A", (D0 + DAY) * 1000 + 5)], event="A", **JAN)
    assert out["data"]["values"]["A"]["2024-01-02"] == 1


def test_zero_fill_switch():
    out = agg.segmentation([ev("A", D0)], event="A", **JAN,
                           semantics=Semantics(segmentation_zero_fill=False))
    assert out["data"]["values"]["A"] == {"2024-01-01": 1}


# -- numeric / sum / average -----------------------------------------------------------------


@pytest.mark.parametrize("lo,hi,target,width", [
    (2000, 2499, 5, 100), (2000, 2499, 10, 50), (0, 9, 10, 1), (0, 0.9, 5, 0.2),
    (-5, 5, 5, 5), (7, 7, 5, 1),
])
def test_nice_width(lo, hi, target, width):
    assert nice_width(lo, hi, target) == pytest.approx(width)


def test_range_labels():
    assert range_label(20, 100) == "2,000 - 2,100"
    assert range_label(1, 0.5) == "0.5 - 1.0"
    assert range_label(-1, 5) == "-5 - 0"


def test_numeric_buckets_like_the_documented_example():
    values = [2000, 2050, 2150, 2499, 2300]
    events = [ev("A", D0 + i, price=v) for i, v in enumerate(values)]
    events.append(ev("A", D0 + 9, price="n/a"))
    out = agg.segmentation_numeric(events, event="A", on='properties["price"]', **JAN)
    got = out["data"]["values"]
    assert list(got) == ["2,000 - 2,100", "2,100 - 2,200", "2,300 - 2,400", "2,400 - 2,500",
                         "undefined"]
    assert got["2,000 - 2,100"] == {"2024-01-01": 2}  # empty days left out, as documented
    assert out["legend_size"] == 5


def test_sum_and_average():
    events = [ev("A", D0, n=2), ev("A", D0 + 1, n=5), ev("A", D0 + 2, n="x"),
              ev("A", D0 + DAY, n=1.5)]
    s = agg.segmentation_sum(events, event="A", on='properties["n"]', computed_at="T", **JAN)
    assert s == {"status": "ok", "computed_at": "T",
                 "results": {"2024-01-01": 7, "2024-01-02": 1.5, "2024-01-03": 0}}
    a = agg.segmentation_average(events, event="A", on='properties["n"]', **JAN)
    assert a == {"results": {"2024-01-01": 7 / 3, "2024-01-02": 1.5}, "status": "ok"}


# -- retention -------------------------------------------------------------------------------


def test_birth_retention_elapsed_intervals():
    events = [
        ev("Sign", D0 + 23 * H, "u1"), ev("Use", D0 + 25 * H, "u1"),   # 2 h later: interval 0
        ev("Use", D0 + 48 * H, "u1"),                                     # 25 h later: interval 1
        ev("Sign", D0 + 2 * H, "u2"), ev("Use", D0 + 80 * H, "u2"),      # 78 h: beyond count
        ev("Sign", D0 + 2 * DAY, "u2"),                                   # not a second birth
        ev("Sign", D0 + DAY + H, "u3"),
    ]
    out = agg.retention(events, born_event="Sign", event="Use", interval_count=2, **JAN)
    assert out["2024-01-01"] == {"counts": [1, 1, 0], "first": 2}
    assert out["2024-01-02"] == {"counts": [0, 0, 0], "first": 1}
    assert out["2024-01-03"] == {"counts": [0, 0, 0], "first": 0}
    cal = agg.retention(events, born_event="Sign", event="Use", interval_count=2,
                        semantics=Semantics(retention_intervals="calendar"), **JAN)
    # calendar days: u1's 01:00 next-day return is day 1, the one at 00:00 two days on day 2
    assert cal["2024-01-01"] == {"counts": [0, 1, 1], "first": 2}


def test_birth_event_itself_is_not_a_return_but_a_repeat_is():
    events = [ev("A", D0, "u1"), ev("A", D0 + H, "u1")]
    out = agg.retention(events, born_event="A", event="A", **JAN)
    assert out["2024-01-01"] == {"counts": [1, 0], "first": 1}
    alone = agg.retention([ev("A", D0, "u1")], born_event="A", event="A", **JAN)
    assert alone["2024-01-01"] == {"counts": [0, 0], "first": 1}


def test_unbounded_retention_accumulates_right_to_left():
    events = [ev("S", D0, "u1"), ev("R", D0 + 2 * DAY + H, "u1")]  # returns in interval 2 only
    bounded = agg.retention(events, born_event="S", event="R", interval_count=3, **JAN)
    unbounded = agg.retention(events, born_event="S", event="R", interval_count=3,
                              unbounded_retention=True, **JAN)
    assert bounded["2024-01-01"]["counts"] == [0, 0, 1, 0]
    assert unbounded["2024-01-01"]["counts"] == [1, 1, 1, 0]


def test_retention_where_switch_and_born_where():
    events = [ev("S", D0, "u1", os="Linux"), ev("R", D0 + H, "u1", os="Mac"),
              ev("S", D0, "u2", os="Mac"), ev("R", D0 + H, "u2", os="Linux")]
    by_return = agg.retention(events, born_event="S", event="R",
                              where='properties["os"] == "Linux"', **JAN)
    assert by_return["2024-01-01"] == {"counts": [1, 0], "first": 2}
    by_born = agg.retention(events, born_event="S", event="R",
                            where='properties["os"] == "Linux"',
                            semantics=Semantics(retention_where="born"), **JAN)
    assert by_born["2024-01-01"] == {"counts": [1, 0], "first": 1}
    born_where = agg.retention(events, born_event="S", event="R",
                               born_where='properties["os"] == "Mac"', **JAN)
    assert born_where["2024-01-01"] == {"counts": [1, 0], "first": 1}


def test_compounded_retention_cohort_per_bucket():
    events = [ev("R", D0 + H, "u1"), ev("R", D0 + DAY + 2 * H, "u1"),
              ev("R", D0 + DAY + 3 * H, "u1")]
    out = agg.retention(events, retention_type="compounded", event="R", **JAN)
    # day 1 cohort: born 01:00, returns 25 h later (interval 1) and 26 h later (interval 1)
    assert out["2024-01-01"] == {"counts": [0, 1], "first": 1}
    # day 2 cohort: born 02:00 on day 2, returns an hour later (interval 0)
    assert out["2024-01-02"] == {"counts": [1, 0], "first": 1}


def test_retention_on_segments_by_the_birth_event():
    events = [ev("S", D0, "u1", src="ad"), ev("R", D0 + H, "u1", src="mail"),
              ev("S", D0, "u2", src="mail")]
    out = agg.retention(events, born_event="S", event="R", on='properties["src"]', **JAN)
    assert out["ad"]["2024-01-01"] == {"counts": [1, 0], "first": 1}
    assert out["mail"]["2024-01-01"] == {"counts": [0, 0], "first": 1}


def test_retention_first_seen_birth():
    events = [ev("S", D0 - DAY, "u1"), ev("S", D0 + H, "u1")]
    in_range = agg.retention(events, born_event="S", **JAN)
    first_seen = agg.retention(events, born_event="S", **JAN,
                               semantics=Semantics(retention_birth="first-seen"))
    assert in_range["2024-01-01"]["first"] == 1
    assert first_seen["2024-01-01"]["first"] == 0


# -- frequency -------------------------------------------------------------------------------


def test_frequency_counts_users_by_active_hours():
    events = [ev("A", D0 + 1, "u1"), ev("A", D0 + H + 1, "u1"), ev("A", D0 + H + 2, "u1"),
              ev("A", D0 + 5 * H, "u1"), ev("A", D0 + 2, "u2"), ev("B", D0 + 9 * H, "u2")]
    out = agg.frequency(events, event="A", unit="day", addiction_unit="hour", **JAN)
    day = out["data"]["2024-01-01"]
    assert len(day) == 24
    assert day[:4] == [2, 1, 1, 0]
    exactly = agg.frequency(events, event="A", unit="day", addiction_unit="hour", **JAN,
                            semantics=Semantics(frequency_counts="exactly"))
    assert exactly["data"]["2024-01-01"][:4] == [1, 0, 1, 0]
    anything = agg.frequency(events, unit="day", addiction_unit="hour", **JAN)
    assert anything["data"]["2024-01-01"][:3] == [2, 2, 1]


def test_frequency_week_by_day():
    events = [ev("A", D0 + i * DAY, "u1") for i in (0, 2, 3)]
    out = agg.frequency(events, unit="week", addiction_unit="day", from_date="2024-01-01",
                        to_date="2024-01-07")
    assert out["data"]["2024-01-01"] == [1, 1, 1, 0, 0, 0, 0]


# -- funnels ---------------------------------------------------------------------------------


def test_funnel_steps_in_order_within_the_window():
    events = [
        ev("A", D0, "u1"), ev("B", D0 + 100, "u1"), ev("C", D0 + 300, "u1"),   # completes
        ev("B", D0, "u2"), ev("A", D0 + 10, "u2"),                              # B before A
        ev("A", D0 + 5, "u3"), ev("B", D0 + 40 * DAY, "u3"),                   # outside 30 d
        ev("C", D0, "u4"),                                                       # never starts
    ]
    out = agg.funnel(events, steps=["A", "B", "C"], **JAN)
    day = out["data"]["2024-01-01"]
    counts = [s["count"] for s in day["steps"]]
    assert counts == [3, 1, 1]
    assert day["steps"][1]["avg_time"] == 100 and day["steps"][2]["avg_time"] == 200
    assert day["steps"][2]["avg_time_from_start"] == 300
    assert day["steps"][0]["avg_time"] is None
    assert day["steps"][1]["step_conv_ratio"] == pytest.approx(1 / 3)
    assert day["steps"][2]["step_conv_ratio"] == 1.0
    assert day["steps"][2]["overall_conv_ratio"] == pytest.approx(1 / 3)
    assert day["analysis"] == {"completion": 1, "starting_amount": 3, "steps": 3, "worst": 1}
    assert out["meta"]["dates"] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert out["data"]["2024-01-02"]["analysis"]["starting_amount"] == 0


def test_funnel_conversions_after_to_date_count_and_length_bounds_them():
    events = [ev("A", D0 + 2 * DAY, "u1"), ev("B", D0 + 5 * DAY, "u1")]
    assert agg.funnel(events, steps=["A", "B"], **JAN)["data"]["2024-01-03"]["steps"][1][
        "count"] == 1
    short = agg.funnel(events, steps=["A", "B"], length=2, length_unit="day", **JAN)
    assert short["data"]["2024-01-03"]["steps"][1]["count"] == 0


def test_funnel_start_first_vs_best():
    events = [ev("A", D0, "u1"), ev("A", D0 + 2 * DAY - 100, "u1"),
              ev("B", D0 + 2 * DAY, "u1")]
    common = dict(steps=["A", "B"], length=1, length_unit="day", unit="week",
                  from_date="2024-01-01", to_date="2024-01-07")
    first = agg.funnel(events, **common)["data"]["2024-01-01"]["steps"][1]["count"]
    best = agg.funnel(events, semantics=Semantics(funnel_start="best"),
                      **common)["data"]["2024-01-01"]["steps"][1]["count"]
    assert (first, best) == (0, 1)


def test_funnel_step_where_labels_same_second_and_one_event_per_step():
    events = [ev("A", D0, "u1", x=1), ev("A", D0, "u1", x=2)]
    steps = ["A", {"event": "A", "where": 'properties["x"] == 2', "label": "second A"}]
    out = agg.funnel(events, steps=steps, **JAN)["data"]["2024-01-01"]["steps"]
    assert [s["count"] for s in out] == [1, 1] and out[1]["step_label"] == "second A"
    strict = agg.funnel(events, steps=steps, semantics=Semantics(funnel_same_second=False),
                        **JAN)["data"]["2024-01-01"]["steps"]
    assert strict[1]["count"] == 0
    single = agg.funnel([ev("A", D0, "u1")], steps=["A", "A"], **JAN)
    assert [s["count"] for s in single["data"]["2024-01-01"]["steps"]] == [1, 0]


def test_funnel_on_segments_with_overall_and_limit():
    events = [ev("A", D0, "u1", b="x"), ev("B", D0 + 1, "u1"), ev("A", D0, "u2", b="y"),
              ev("A", D0, "u3", b="y")]
    out = agg.funnel(events, steps=["A", "B"], on='properties["b"]', **JAN)
    day = out["data"]["2024-01-01"]
    assert list(day) == ["$overall", "y", "x"]
    assert day["$overall"]["analysis"]["starting_amount"] == 3
    assert day["x"]["analysis"]["completion"] == 1
    top = agg.funnel(events, steps=["A", "B"], on='properties["b"]', limit=1, **JAN)
    assert list(top["data"]["2024-01-01"]) == ["$overall", "y"]


def test_funnel_worst_rule():
    events = ([ev("A", D0, f"u{i}") for i in range(10)]
              + [ev("B", D0 + 1, f"u{i}") for i in range(8)]
              + [ev("C", D0 + 2, f"u{i}") for i in range(3)]
              + [ev("D", D0 + 3, f"u{i}") for i in range(1)])
    by_ratio = agg.funnel(events, steps=list("ABCD"), **JAN)["data"]["2024-01-01"]["analysis"]
    by_drop = agg.funnel(events, steps=list("ABCD"), semantics=Semantics(funnel_worst="absolute"),
                         **JAN)["data"]["2024-01-01"]["analysis"]
    assert by_ratio["worst"] == 3  # 3 → 1 is the lowest ratio (1/3 < 3/8)
    assert by_drop["worst"] == 2   # 8 → 3 loses most users


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("record,fragment", [
    ({"event": "A", "properties": {"distinct_id": "u"}}, "properties.time"),
    ({"event": "A", "properties": {"time": "yesterday"}}, "properties.time"),
    ({"event": "A", "properties": []}, "properties"),
    ({"properties": {"time": D0}}, "no \"event\""),
    (["A"], "export line"),
])
def test_malformed_lines_are_input_errors_naming_the_line(record, fragment):
    for fn in (lambda e: agg.segmentation(e, event="A", **JAN),
               lambda e: agg.funnel(e, steps=["A", "B"], **JAN),
               lambda e: agg.retention(e, born_event="A", **JAN)):
        with pytest.raises(InputError) as info:
            fn([ev("A", D0), record])
        assert "event #2" in str(info.value) and fragment in str(info.value)


@pytest.mark.parametrize("call,fragment", [
    (lambda: agg.segmentation([], event="A", unit="fortnight", **JAN), "unit"),
    (lambda: agg.segmentation([], event="A", type="median", **JAN), "type"),
    (lambda: agg.segmentation([], event="", **JAN), "event"),
    (lambda: agg.segmentation([], event="A", from_date="2024-01-05", to_date="2024-01-01"),
     "after"),
    (lambda: agg.segmentation_numeric([], event="A", on=None, **JAN), "on="),
    (lambda: agg.retention([], **JAN), "born_event"),
    (lambda: agg.retention([], born_event="A", interval=91, **JAN), "interval"),
    (lambda: agg.frequency([], unit="day", addiction_unit="minute", **JAN), "addiction_unit"),
    (lambda: agg.funnel([], steps=["A"], **JAN), "2 steps"),
    (lambda: agg.funnel([], steps=["A", "B"], length=91, **JAN), "90 days"),
    (lambda: agg.funnel([], steps=["A", "B"], length=3, length_unit="week", **JAN),
     "length_unit"),
    (lambda: agg.funnel([], steps=["A", {"evnt": "B"}], **JAN), "unknown keys"),
])
def test_bad_parameters_are_query_errors(call, fragment):
    with pytest.raises(QueryError) as info:
        call()
    assert fragment in str(info.value)


# -- HTTP parameters (what the sandbox passes through) ---------------------------------------

FUNNELS = [{"funnel_id": 7, "name": "Signup", "steps": ["A", "B"], "length": 1,
            "length_unit": "day"}]


def test_compute_takes_text_parameters():
    events = [ev("A", D0), ev("A", D0 + 1, b="x")]
    out = agg.compute("segmentation", events, {"event": "A", "from_date": "2024-01-01",
                                               "to_date": "2024-01-01", "on": 'properties["b"]',
                                               "limit": "1", "project_id": "3"})
    assert out["data"]["values"] == {"undefined": {"2024-01-01": 1}}


def test_compute_treats_empty_expressions_as_absent():
    q = {"event": "A", "from_date": "2024-01-01", "to_date": "2024-01-01", "where": "",
         "on": " "}
    out = agg.compute("segmentation", [ev("A", D0)], q)
    assert out["data"]["values"] == {"A": {"2024-01-01": 1}}


def test_compute_resolves_saved_funnels_with_their_window():
    events = [ev("A", D0, "u1"), ev("B", D0 + 2 * DAY, "u1")]
    q = {"funnel_id": "7", "from_date": "2024-01-01", "to_date": "2024-01-01"}
    out = agg.compute("funnels", events, q, funnels=FUNNELS)
    assert [s["count"] for s in out["data"]["2024-01-01"]["steps"]] == [1, 0]
    wider = agg.compute("funnels", events, {**q, "length": "3"}, funnels=FUNNELS)
    assert [s["count"] for s in wider["data"]["2024-01-01"]["steps"]] == [1, 1]
    assert agg.saved_funnels_list(FUNNELS) == [{"funnel_id": 7, "name": "Signup"}]
    with pytest.raises(QueryError, match="known: 7"):
        agg.compute("funnels", events, {**q, "funnel_id": "8"}, funnels=FUNNELS)


@pytest.mark.parametrize("endpoint,query,fragment", [
    ("segmentation", {"event": "A", "from_date": "2024-01-01", "to_date": "2024-01-01",
                      "unit": "week"}, "no week unit"),
    ("segmentation", {"event": "A", "from_date": "2024-01-01", "to_date": "2024-01-01",
                      "unit": "hour", "type": "unique"}, "hourly uniques"),
    ("segmentation", {"from_date": "2024-01-01", "to_date": "2024-01-01"}, "event"),
    ("segmentation", {"event": "A", "from_date": "2024-01-01", "to_date": "2024-01-01",
                      "bucket": "x"}, "no parameter 'bucket'"),
    ("segmentation/sum", {"event": "A", "from_date": "2024-01-01", "to_date": "2024-01-01",
                          "on": "properties[\"n\"]", "unit": "minute"}, "unit"),
    ("retention", {"from_date": "2024-01-01", "to_date": "2024-01-01",
                   "interval_count": "two"}, "interval_count"),
    ("nope", {}, "unknown aggregate endpoint"),
])
def test_compute_rejects_what_the_endpoint_rejects(endpoint, query, fragment):
    with pytest.raises(QueryError) as info:
        agg.compute(endpoint, [], query)
    assert fragment in str(info.value)


def test_user_properties_come_from_profiles():
    profiles = [{"$distinct_id": "u1", "$properties": {"tier": "gold"}}]
    events = [ev("A", D0, "u1"), ev("A", D0, "u2")]
    out = agg.segmentation(events, event="A", on='user["tier"]', profiles=profiles, **JAN)
    assert out["data"]["values"]["gold"]["2024-01-01"] == 1
    assert out["data"]["values"]["undefined"]["2024-01-01"] == 1


def test_frequency_on_segments_by_the_first_event_in_the_bucket():
    events = [ev("A", D0 + 5, "u1", src="ad"), ev("A", D0 + 2 * H, "u1", src="mail"),
              ev("A", D0 + 1, "u2", src="mail")]
    out = agg.frequency(events, unit="day", addiction_unit="hour", on='properties["src"]',
                        **JAN)
    day = out["data"]["2024-01-01"]
    assert day["ad"][:3] == [1, 1, 0] and day["mail"][:3] == [1, 0, 0]
    top = agg.frequency(events, unit="day", addiction_unit="hour", on='properties["src"]',
                        limit=1, **JAN)
    assert list(top["data"]["2024-01-01"]) == ["ad"]  # tie on users, broken by key


def test_semantics_timezone_is_the_default_bucket_timezone():
    events = [ev("A", D0 + DAY + 3 * H)]
    sem = Semantics(timezone="America/New_York")
    out = agg.segmentation(events, event="A", semantics=sem, **JAN)["data"]["values"]["A"]
    assert out["2024-01-01"] == 1


def test_same_second_events_do_not_depend_on_input_order():
    a, b = ev("A", D0, "u1", s="x"), ev("B", D0, "u1", s="y")
    for events in ([a, b], [b, a]):
        out = agg.funnel(events, steps=["A", "B"], **JAN)["data"]["2024-01-01"]["steps"]
        assert [s["count"] for s in out] == [1, 1]
    r1, r2 = ev("S", D0, "u1", s="y"), ev("S", D0, "u1", s="x")
    answers = [agg.retention(events, born_event="S", on='properties["s"]', **JAN)
               for events in ([r1, r2], [r2, r1])]
    assert answers[0] == answers[1] and "x" in answers[0]
    freq = [agg.frequency(events, unit="day", addiction_unit="hour", on='properties["s"]',
                          **JAN) for events in ([r1, r2], [r2, r1])]
    assert freq[0] == freq[1]

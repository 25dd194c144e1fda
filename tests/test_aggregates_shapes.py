"""Every aggregate answer has the structure of Mixpanel's documented example.

The examples are the response examples of Mixpanel's Query API reference
(docs.mixpanel.com/reference/segmentation-query, -numeric-query, -sum-query,
-query-average, retention-query, retention-frequency-query, funnels-query, funnels-list-saved),
copied verbatim (shortened where a list repeats). ``shape()`` reduces a document to its
structure: fixed keys stay, keys that are data (dates, segment names) collapse to ``*``,
numbers are "number" (Mixpanel's examples mix ints and floats freely), lists collapse to their
item shape. The local answers must reduce to exactly the same structure.
"""

from __future__ import annotations

import pytest
from _helpers import json_kind

import mpql.aggregates as agg
from mpql.evaluator import Semantics

SEGMENTATION = {"data": {"series": ["2011-08-08", "2011-08-09", "2011-08-06", "2011-08-07"],
                         "values": {"Signed up": {"2011-08-06": 147, "2011-08-07": 146,
                                                  "2011-08-08": 776, "2011-08-09": 1376}}},
                "legend_size": 1}
NUMERIC = {"data": {"series": ["2011-08-08", "2011-08-09", "2011-08-06", "2011-08-07"],
                    "values": {"2,000 - 2,100": {"2011-08-06": 1, "2011-08-07": 5,
                                                 "2011-08-08": 4, "2011-08-09": 15},
                               "2,100 - 2,200": {"2011-08-07": 2, "2011-08-08": 7,
                                                 "2011-08-09": 15},
                               "2,200 - 2,300": {"2011-08-06": 1, "2011-08-08": 6,
                                                 "2011-08-09": 5},
                               "2,300 - 2,400": {"2011-08-06": 4, "2011-08-08": 1,
                                                 "2011-08-09": 12},
                               "2,400 - 2,500": {"2011-08-08": 2, "2011-08-09": 5}}},
           "legend_size": 5}
SUM = {"status": "ok", "computed_at": "2019-10-07T23:02:11.666218+00:00",
       "results": {"2019-10-07": 4, "2019-10-06": 7}}
AVERAGE = {"results": {"2011-08-06": 8.64705882352939, "2011-08-07": 4.640625,
                       "2011-08-08": 3.6230899830221, "2011-08-09": 7.3353658536585},
           "status": "ok"}
RETENTION = {"2012-01-01": {"counts": [2, 1, 2], "first": 2},
             "2012-01-02": {"counts": [9, 7, 6], "first": 10},
             "2012-01-03": {"counts": [9, 6, 4], "first": 10}}
FREQUENCY = {"data": {"2012-01-01": [305, 107, 60, 41, 32, 20, 12, 7, 4, 3, 3, 3, 2, 2, 2, 1, 1,
                                     1, 1, 1, 1, 1, 1, 1],
                      "2012-01-02": [495, 204, 117, 77, 53, 36, 26, 20, 12, 7, 4, 3, 3, 1, 1, 1,
                                     1, 0, 0, 0, 0, 0, 0, 0]}}
_STEP0 = {"count": 32688, "avg_time": 2, "avg_time_from_start": 5, "step_conv_ratio": 1,
          "goal": "App Open", "overall_conv_ratio": 1, "event": "App Open"}
_STEP1 = {"count": 20524, "avg_time": 133, "avg_time_from_start": 133,
          "step_conv_ratio": 0.627875673029858, "goal": "$custom_event:12345",
          "step_label": "Game Played", "custom_event": True, "custom_event_id": 12345,
          "overall_conv_ratio": 0.627875673029858, "event": "$custom_event:12345"}
FUNNELS = {"meta": {"dates": ["2016-09-12", "2016-09-19", "2016-09-26"]},
           "data": {d: {"steps": [_STEP0, _STEP1],
                        "analysis": {"completion": 20524, "starting_amount": 32688,
                                     "steps": 2, "worst": 1}}
                    for d in ("2016-09-12", "2016-09-19", "2016-09-26")}}
FUNNELS_LIST = [{"funnel_id": 7509, "name": "Signup funnel"},
                {"funnel_id": 9070, "name": "Funnel tutorial"}]

# Paths (key sequences, "*" for any data key) whose dict keys are data, not field names.
DATA_KEYS = {
    "segmentation": [("data", "values"), ("data", "values", "*")],
    "sum": [("results",)],
    "average": [("results",)],
    "retention": [()],
    "frequency": [("data",)],
    "funnels": [("data",)],
}


def shape(doc, maps, path=()):
    if isinstance(doc, dict):
        if path in maps:
            merged = {}
            for v in doc.values():
                merged = _merge(merged, shape(v, maps, path + ("*",)))
            return {"*": merged} if doc else {}
        return {k: shape(v, maps, path + (k,)) for k, v in doc.items()}
    if isinstance(doc, list):
        merged = {}
        for v in doc:
            merged = _merge(merged, shape(v, maps, path))
        return [merged] if doc else []
    return json_kind(doc) or type(doc).__name__


def _merge(a, b):
    if a == {} or a == b:
        return b
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _merge(a.get(k, {}), b.get(k, {})) for k in {**a, **b}}
    raise AssertionError(f"items of different shapes: {a!r} vs {b!r}")


D0 = 1704067200


def _events():
    out = []
    for i in range(60):
        user = f"u{i % 7}"
        t = D0 + i * 3600 * 5
        out.append({"event": "A", "properties": {"time": t, "distinct_id": user,
                                                 "price": 2000 + 9 * i}})
        out.append({"event": "B", "properties": {"time": t + 600, "distinct_id": user}})
    return out


JAN = dict(from_date="2024-01-01", to_date="2024-01-10")


def test_shape_helper_sees_a_difference():
    maps = DATA_KEYS["segmentation"]
    assert shape(SEGMENTATION, maps) != shape({"data": {"series": [], "values": {}}}, maps)
    assert shape({**SEGMENTATION, "legend_size": "1"}, maps) != shape(SEGMENTATION, maps)


@pytest.mark.parametrize("name,documented,compute", [
    ("segmentation", SEGMENTATION,
     lambda e: agg.segmentation(e, event="A", **JAN)),
    ("segmentation", SEGMENTATION,
     lambda e: agg.segmentation(e, event="A", on='properties["distinct_id"]', type="unique",
                                **JAN)),
    ("segmentation", NUMERIC,
     lambda e: agg.segmentation_numeric(e, event="A", on='properties["price"]', **JAN)),
    ("sum", SUM, lambda e: agg.segmentation_sum(e, event="A", on='properties["price"]', **JAN)),
    ("average", AVERAGE,
     lambda e: agg.segmentation_average(e, event="A", on='properties["price"]', **JAN)),
    ("retention", RETENTION,
     lambda e: agg.retention(e, born_event="A", event="B", interval_count=2, **JAN)),
    ("frequency", FREQUENCY,
     lambda e: agg.frequency(e, unit="day", addiction_unit="hour", **JAN)),
])
def test_answer_has_the_documented_structure(name, documented, compute):
    maps = DATA_KEYS[name]
    assert shape(compute(_events()), maps) == shape(documented, maps)


def test_numeric_example_reproduced_exactly_in_its_ranges():
    values = [2000, 2150, 2250, 2350, 2499]
    events = [{"event": "A", "properties": {"time": D0 + i, "price": v}}
              for i, v in enumerate(values)]
    out = agg.segmentation_numeric(events, event="A", on='properties["price"]', **JAN)
    assert list(out["data"]["values"]) == list(NUMERIC["data"]["values"])


def test_funnel_steps_have_the_documented_fields():
    maps = DATA_KEYS["funnels"]
    steps = ["A", {"event": "B", "label": "Game Played"}]
    out = agg.funnel(_events(), steps=steps, unit="week", **JAN,
                     semantics=Semantics(funnel_first_avg_time=0))
    got, want = shape(out, maps), shape(FUNNELS, maps)
    assert got["meta"] == want["meta"]
    day_got, day_want = got["data"]["*"], want["data"]["*"]
    assert day_got["analysis"] == day_want["analysis"]
    # a plain step has exactly the example's first step's fields; a labelled step the second
    # step's, without the custom-event fields (mpql has no custom events)
    step0 = shape(out["data"]["2024-01-01"]["steps"][0], [])
    step1 = shape(out["data"]["2024-01-01"]["steps"][1], [])
    assert step0 == shape(_STEP0, [])
    custom = shape(_STEP1, [])
    del custom["custom_event"], custom["custom_event_id"]
    assert step1 == custom
    # the default (schema: "null for step 0") differs only in avg_time's type on step 0
    default = agg.funnel(_events(), steps=steps, unit="week", **JAN)
    assert default["data"]["2024-01-01"]["steps"][0]["avg_time"] is None


def test_funnels_list_shape():
    saved = [{"funnel_id": 7509, "name": "Signup funnel", "steps": ["A", "B"]},
             {"funnel_id": 9070, "name": "Funnel tutorial", "steps": ["A", "B", "C"]}]
    assert agg.saved_funnels_list(saved) == FUNNELS_LIST

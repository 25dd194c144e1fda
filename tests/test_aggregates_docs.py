"""docs/aggregates.md stays true: every Semantics switch is documented, the saved-funnel
example is valid, the documented LocalAggregate fields are the real ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import attrs

import mpql.aggregates as agg
from mpql.evaluator import Semantics
from mpql.planner import LocalAggregate

ROOT = Path(__file__).resolve().parent.parent
AGG = (ROOT / "docs" / "aggregates.md").read_text(encoding="utf-8")
SEM = (ROOT / "docs" / "semantics.md").read_text(encoding="utf-8")


def test_every_semantics_field_is_documented():
    missing = [f.name for f in attrs.fields(Semantics)
               if f"| `{f.name}` |" not in AGG and f"| `{f.name}` |" not in SEM]
    assert missing == []


def test_documented_defaults_are_the_real_ones():
    default = Semantics()
    for name, shown in re.findall(r"^\| `(\w+)` \| ([^|]+) \|", AGG, re.M):
        if not hasattr(default, name) or name == "timezone":
            continue
        value = getattr(default, name)
        text = json.dumps(value) if not isinstance(value, str) else f'`"{value}"`'
        if isinstance(value, bool):
            text = str(value)
        assert shown.strip().startswith(text) or shown.strip().startswith(str(value)), name


def test_saved_funnel_example_is_valid():
    block = re.search(r'```json\n"funnels": (\[.*?\])\n```', AGG, re.S).group(1)
    funnels = json.loads(block)
    saved = agg.find_saved_funnel(funnels, 7509)
    assert [s["event"] for s in saved["steps"]] == ["Viewed landing", "Signed up"]
    assert saved["length"] == 14


def test_local_aggregate_table_lists_the_fields():
    rows = set(re.findall(r"^\| `(\w+)` \| ", AGG.split("`LocalAggregate` (")[1], re.M))
    assert {f.name for f in attrs.fields(LocalAggregate)} <= rows


def test_example_script_runs_and_prints_the_answers():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "examples" / "aggregates_offline.py")],
                          capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    assert lines[0] == ('sign-ups by browser: {"Chrome": {"2024-03-01": 1, "2024-03-02": 1}, '
                        '"Firefox": {"2024-03-01": 1, "2024-03-02": 0}}')
    assert "funnel 2024-03-02: [1, 1], converted 100%" in lines
    assert lines[-1].endswith("export + local")


def test_local_aggregates_count_duplicates_and_the_docs_say_what_to_do():
    # Mixpanel's reports deduplicate at query time, /export does not; the sandbox and the
    # executor's export + local plans drop duplicates before aggregating, mpql.aggregates not.
    section = AGG.split("## Semantics of the local computation")[1].split("\n## ")[0]
    assert "do not deduplicate" in section
    for path, needle in [("mpql/sandbox/_query.py", "def deduplicated("),
                         ("mpql/executor/_aggregate.py", "dedupe=True")]:
        assert f"`{path}`" in section and needle in (ROOT / path).read_text(encoding="utf-8")
    event = {"event": "E", "properties": {"time": 1704110400, "distinct_id": "u",
                                          "$insert_id": "a1"}}
    retry = json.loads(json.dumps(event))  # an SDK retry: the same event sent twice
    other = {"event": "E", "properties": {**event["properties"], "$insert_id": "a2"}}
    day = dict(event="E", from_date="2024-01-01", to_date="2024-01-01")

    def count(events):
        return agg.segmentation(events, **day)["data"]["values"]["E"]["2024-01-01"]

    assert count([event, retry, other]) == 3  # what the docs warn about
    born = agg.retention([event, retry], born_event="E", event="E", **{
        k: v for k, v in day.items() if k != "event"})
    assert born["2024-01-01"]["counts"][0] == 1  # the copy "returns" (0 without it)
    snippet = re.search(r"```python\n(def deduplicated\(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(snippet, namespace)  # the documented remedy, as printed
    assert count(list(namespace["deduplicated"]([event, retry, other]))) == 2

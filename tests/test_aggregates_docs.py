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

"""Local aggregation speed, side by side with ``mpql filter --count`` on the same JSONL file.

Issue 11's target: local segmentation of 1M events ≤ 1.5 × the time of ``mpql filter --count``
with the same ``where`` (and ``--event``) on the same file. Both run as fresh processes and are
timed as whole commands (wall time), so both pay the same start-up, file reading and JSON
decoding; the difference is what aggregation adds per event (time bucket, ``on`` value,
counters). The segmentation side reads the file with the same one-decoder-per-run JSON
decoding that ``mpql filter`` uses and streams the records into
``mpql.aggregates.segmentation`` (nothing is held in memory).

Also timed, same file: ``type="unique"`` segmentation (a set per segment and day) and a
3-step ad-hoc funnel (which must keep each user's matching events) — for information; no
target.

Run: ``python benchmarks/bench_aggregates.py [--events N] [--runs R]``. Prints the best of R
runs, wall time and CPU time (user + system of each command, which a loaded machine disturbs
less); never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WHERE = 'properties["plan"] == "pro"'
EVENT = "Viewed page"
START = 1704067200  # 2024-01-01T00:00:00Z
DAYS = 30

# The aggregate side: the same reading loop as `mpql filter` (one decoder, utf-8 lines), the
# records streamed into the aggregate function; the answer's size is printed as a check.
_AGG = r"""
import sys
import mpql.aggregates as agg
from mpql.cli.filter import _decoder
decode = _decoder().decode  # the very decoder `mpql filter` uses
def events(path):
    with open(path, "rb") as fh:
        for line in fh:  # as mpql filter reads: decode first, look at blank lines on failure
            try:
                yield decode(line.decode("utf-8"))
            except ValueError:
                if line.strip():
                    raise
kind, path, where, event = sys.argv[1:5]
common = dict(from_date="2024-01-01", to_date="2024-01-30")
if kind == "funnel":
    out = agg.funnel(events(path), steps=["Signed up", event, "Purchase"], where=where, **common)
    print(sum(d["steps"][0]["count"] for d in out["data"].values()))
else:
    out = agg.segmentation(events(path), event=event, where=where, on='properties["$browser"]',
                           type=kind, **common)
    print(sum(sum(v.values()) for v in out["data"]["values"].values()))
"""


def make_file(path: Path, n: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    names = ["Viewed page", "Viewed page", "Signed up", "Purchase", "Logged in"]
    browsers = ["Chrome", "Firefox", "Safari", "Edge", None]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            props = {"time": START + rng.randrange(DAYS * 86400),
                     "distinct_id": f"user-{rng.randrange(20000)}",
                     "$insert_id": f"{i:016x}",
                     "plan": rng.choice(("free", "pro", "team")),
                     "n": rng.randrange(1000)}
            b = rng.choice(browsers)
            if b is not None:
                props["$browser"] = b
            fh.write(json.dumps({"event": rng.choice(names), "properties": props},
                                separators=(",", ":")) + "\n")


def _timed(cmd) -> tuple[float, float, str]:
    """Wall time and CPU time (user + system of the child) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout.strip()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    mpql_cmd = [sys.executable, "-m", "mpql"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        make_file(path, args.events)
        size = os.path.getsize(path) / 1e6
        print(f"{args.events:,} events, {size:.0f} MB, where {WHERE}, event {EVENT!r}")
        cases = {
            "filter --count (reference)": mpql_cmd + ["filter", "--count", "--event", EVENT,
                                                      "--where", WHERE, str(path)],
            "segmentation general": [sys.executable, "-c", _AGG, "general", str(path), WHERE, EVENT],
            "segmentation unique": [sys.executable, "-c", _AGG, "unique", str(path), WHERE, EVENT],
            "funnel, 3 steps": [sys.executable, "-c", _AGG, "funnel", str(path), WHERE, EVENT],
        }
        best = {k: float("inf") for k in cases}
        cpu = {k: float("inf") for k in cases}
        outputs = {}
        for _ in range(args.runs):
            for name, cmd in cases.items():  # interleaved: load changes hit every case alike
                t, c, out = _timed(cmd)
                best[name] = min(best[name], t)
                cpu[name] = min(cpu[name], c)
                outputs[name] = out
        ref = best["filter --count (reference)"]
        ref_cpu = cpu["filter --count (reference)"]
        if outputs["filter --count (reference)"] != outputs["segmentation general"]:
            print(f"MISMATCH: filter counted {outputs['filter --count (reference)']}, "
                  f"segmentation summed {outputs['segmentation general']}")
            return 1
        print(f"{'case':<28} {'wall s':>8} {'× filter':>9} {'cpu s':>8} {'× filter':>9}   output")
        for name in cases:
            print(f"{name:<28} {best[name]:8.2f} {best[name] / ref:9.2f} {cpu[name]:8.2f} "
                  f"{cpu[name] / ref_cpu:9.2f}   {outputs[name]}")
        print("target: segmentation general ≤ 1.5 × filter --count")
    return 0


if __name__ == "__main__":
    sys.exit(main())

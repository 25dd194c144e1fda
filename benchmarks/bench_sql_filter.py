"""``mpql filter --count`` on ≥ 400 MB of export JSONL: DuckDB engine vs Python engine vs jq.

    python benchmarks/bench_sql_filter.py            # generates benchmarks/data/ once (not in git)
    python benchmarks/bench_sql_filter.py --mb 100   # a smaller file for a quick look
    python benchmarks/bench_sql_filter.py --runs 5   # more interleaved rounds (median)

The data is the sandbox generator's Raw Export lines (``mpql sandbox generate``), concatenated
into one file of at least ``--mb`` MB. Each filter is run by the three tools in turn,
``--runs`` rounds (interleaved, so a change in machine load hits all three alike), and the
median of each is reported; their counts must agree (the run fails if not). jq counts inside
jq (``reduce`` over ``inputs``), as ``mpql filter --count`` does: no lines written and
re-read by ``wc``. jq comes from Debian (``apt-get install jq``);
without it that column is skipped. Targets (issue 12): DuckDB ≥ 3× faster than the Python
engine and ≥ 5× faster than jq on the 2-core machine. The machine's load average is printed,
since other work on it slows every column.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

#: (mpql filter, the same in jq). Typical export filters: a string equality, a numeric range
#: with a missing-property test, and a substring.
FILTERS = [
    ('properties["$os"] == "Windows"', 'select(.properties["$os"] == "Windows")'),
    ('properties["price"] > 10 and not defined(properties["$referrer"])',
     'select((.properties.price | type == "number" and . > 10) and (.properties | has("$referrer") | not))'),
    ('"San" in properties["$city"]',
     'select(.properties["$city"] | type == "string" and contains("San"))'),
]


def dataset(mb: int) -> Path:
    target = DATA / f"events-{mb}mb.jsonl"
    if target.exists() and target.stat().st_size >= mb * 1_000_000:
        return target
    DATA.mkdir(exist_ok=True)
    gen = DATA / "gen"
    users = max(50, mb * 5 // 2)
    print(f"generating ≥ {mb} MB of events ({users} users × 30 days) …", flush=True)
    subprocess.run([sys.executable, "-m", "mpql", "sandbox", "generate", "--users", str(users),
                    "--days", "30", "--events-per-user-day", "10", "--seed", "12",
                    "--end-date", "2024-06-30", "--out", str(gen), "--force"], check=True)
    parts = sorted((gen / "events").glob("*.jsonl"))
    with open(target, "wb") as out:
        while out.tell() < mb * 1_000_000:
            for p in parts:
                out.write(p.read_bytes())
    shutil.rmtree(gen)
    return target


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def timed(cmd) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, check=True)
    elapsed = time.perf_counter() - start
    text = done.stdout.decode().strip()
    return elapsed, int(text.splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=400)
    ap.add_argument("--runs", type=int, default=3, help="interleaved rounds per filter (median)")
    args = ap.parse_args()
    path = dataset(args.mb)
    size = path.stat().st_size / 1e6
    jq = shutil.which("jq")
    print(f"input {path.name}: {size:.0f} MB; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores; jq: {jq or 'not installed (apt-get install jq)'}; "
          f"median of {args.runs} interleaved runs")
    mpql = [sys.executable, "-m", "mpql", "filter", "--count", "--now", "1719800000"]
    print(f"{'filter':58} {'count':>9} {'duckdb':>8} {'python':>8} {'jq':>8} {'py/duck':>8} {'jq/duck':>8}")
    ok = True
    for where, jq_filter in FILTERS:
        tools = {"duckdb": mpql + ["--engine", "duckdb", "--where", where, str(path)],
                 "python": mpql + ["--engine", "python", "--where", where, str(path)]}
        if jq:
            # Counted inside jq, as mpql counts: no output lines written and re-read by wc.
            tools["jq"] = [jq, "-n", f"reduce (inputs | {jq_filter}) as $r (0; . + 1)", str(path)]
        times = {name: [] for name in tools}
        counts = {}
        for _ in range(args.runs):
            for name, cmd in tools.items():
                elapsed, n = timed(cmd)
                times[name].append(elapsed)
                ok &= counts.setdefault(name, n) == n
        d, p = median(times["duckdb"]), median(times["python"])
        nd = counts["duckdb"]
        row = f"{where[:58]:58} {nd:>9} {d:>7.2f}s {p:>7.2f}s"
        if jq:
            j = median(times["jq"])
            row += f" {j:>7.2f}s {p / d:>7.1f}× {j / d:>7.1f}×"
        else:
            row += f" {'-':>8} {p / d:>7.1f}× {'-':>8}"
        ok &= len(set(counts.values())) == 1
        print(row, flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if not ok:
        print("COUNTS DIFFER between the engines", file=sys.stderr)
        return 1
    print("targets: py/duck ≥ 3×, jq/duck ≥ 5×")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Planner speed, side by side with hand-written references in the same run.

1. ``expand`` of the HubSpot-style export step for N distinct ids (default 100,000) into
   URL-length-packed batches × 7 daily chunks, vs a naive hand-built loop (fixed-size batches
   of ids, ``json.dumps`` for the list, ``urllib.parse.urlencode`` with ``quote``) that makes
   the same number of requests but neither escapes through the printer nor checks URL length.
2. ``mpql plan`` start-up (subprocess) vs ``python -c pass``.

(``Query.plan`` itself is not compared here: its only "reference" used to be two constant
dicts built by hand, which do none of the work — parsing, scope split, checks — so the ratio
said nothing.)

Run: ``python benchmarks/bench_plan.py [--ids N]``. Prints ratios; never asserts timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from urllib.parse import quote, urlencode

from mpql import Query, prop, user

TODAY = dt.date(2025, 1, 1)


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", type=int, default=100_000)
    n = ap.parse_args().ids
    ids = [f"user-{i:08d}" for i in range(n)]
    query = Query.events((user("plan") == "pro") & (prop("$os") == "iOS"),
                         from_date="2024-01-01", to_date="2024-01-07", today=TODAY)
    plan = query.plan(project_id=1, check=False)
    t_mpql, exp = best(lambda: plan.expand(1, {0: ids}), repeat=2)
    per_batch = max(1, n // max(1, len(exp.requests) // 7))

    def naive():
        urls = []
        for day in range(1, 8):
            for i in range(0, n, per_batch):
                where = (f'(properties["$distinct_id"] in {json.dumps(ids[i:i + per_batch])}) '
                         'and (properties["$os"] == "iOS")')
                params = {"project_id": 1, "from_date": f"2024-01-0{day}",
                          "to_date": f"2024-01-0{day}", "where": where}
                urls.append("https://data.mixpanel.com/api/2.0/export?"
                            + urlencode(params, quote_via=quote))
        return urls

    t_naive, urls = best(naive, repeat=2)
    print(f"expand {n} ids -> {len(exp.requests)} requests ({exp.strategy}):")
    print(f"  mpql expand        {t_mpql * 1000:8.1f} ms")
    print(f"  naive urlencode    {t_naive * 1000:8.1f} ms  ({len(urls)} requests)")
    print(f"  ratio mpql/naive   {t_mpql / t_naive:8.2f} x")

    def run(args):
        return best(lambda: subprocess.run(args, capture_output=True, check=True), repeat=3)[0]

    t_cli = run([sys.executable, "-m", "mpql", "plan", "--events", "--from", "2024-01-01",
                 "--to", "2024-01-02", "--where", 'user["a"] == 1', "--no-check"])
    t_py = run([sys.executable, "-c", "pass"])
    print(f"mpql plan start-up  {t_cli * 1000:8.1f} ms   python -c pass {t_py * 1000:.1f} ms  "
          f"ratio {t_cli / t_py:.1f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Serving aggregates: the sandbox's endpoint and an export + local plan, side by side with
the local computation they both wrap, on one generated dataset.

Rows (best of R runs, wall time, in one process against a sandbox on loopback):

* reference — ``mpql.aggregates.segmentation`` over the dataset's events, read from its day
  files (lines of other events skipped unparsed, the rest ``json.loads``-ed and
  deduplicated): exactly the sandbox handler's scan, minus HTTP;
* sandbox ``/api/query/segmentation`` through ``Client.run`` of the server plan (request,
  the server's scan + dedup + aggregation, JSON over HTTP);
* the same query as an export + local plan through ``Client.run`` (per-day export chunks
  over HTTP, dedup, local aggregation);
* reference 2 — the same export as a records plan (``Client.run`` of ``Query.events``,
  records parsed, nothing aggregated): what the export + local plan costs before it
  aggregates;
* ``events/properties/values`` for one property (the metadata scan behind ``mpql schema
  pull``), first call and cached call.

Run: ``python benchmarks/bench_aggregate_serving.py [--users N] [--days D] [--runs R]``.
Prints a table; never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import attrs

import mpql
from mpql import Query
from mpql import aggregates as agg
from mpql.executor import Limits as ClientLimits
from mpql.sandbox import Limits, Sandbox, generate


def best(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ds = generate(Path(tmp) / "d", users=args.users, days=args.days, seed=3,
                      end_date="2026-03-01")
        now = 1772539200.0  # 2026-03-03T12:00:00Z: the data ends two days before
        first, last = str(ds.first_date), str(ds.last_date)
        with Sandbox(ds, limits=Limits.unlimited(), now=now) as sb:
            client = mpql.Client(sb.credentials.service_account(), base_url=sb.url,
                                 limits=ClientLimits(export_per_second=10_000,
                                                     export_per_hour=10 ** 6,
                                                     query_per_hour=10 ** 6, workers=4))
            auth, today = sb.credentials.service_account(), sb.today()
            q = Query.segmentation("Page Viewed", from_date=first, to_date=last,
                                   on='properties["$browser"]', type="unique", today=today)
            server_plan = q.plan(auth=auth, today=today)
            export_plan = attrs.evolve(q, strategy="export").plan(auth=auth, today=today)
            records_plan = Query.events(from_date=first, to_date=last, events=["Page Viewed"],
                                        today=today).plan(auth=auth)

            def local():
                from mpql.sandbox._query import deduplicated, iter_events

                return agg.segmentation(deduplicated(iter_events(ds, ds.first_date, ds.last_date,
                                                                 {"Page Viewed"})),
                                        event="Page Viewed", from_date=first, to_date=last,
                                        on='properties["$browser"]', type="unique")

            rows = []
            t_ref, ref = best(local, args.runs)
            rows.append(("reference: mpql.aggregates on the day files", t_ref, None))
            t, answer = best(lambda: client.run(server_plan), args.runs)
            assert answer == ref, "the sandbox disagrees with the local computation"
            rows.append(("sandbox /segmentation via Client.run", t, t / t_ref))
            t, answer = best(lambda: client.run(export_plan), args.runs)
            assert answer == ref, "the export + local plan disagrees"
            rows.append(("export + local plan via Client.run", t, t / t_ref))
            t_exp, n = best(lambda: sum(1 for _ in client.run(records_plan)), args.runs)
            rows.append(("reference 2: the same export, records only", t_exp, t_exp / t_ref))
            sb.__dict__.pop("_values_cache", None)
            t0 = time.perf_counter()
            sb.query("events/properties/values", event="Page Viewed", name="page")
            cold = time.perf_counter() - t0
            t_warm, _ = best(lambda: (sb.query("events/properties/values",
                                               event="Page Viewed", name="$browser"),
                                      sb.query("events/properties/values",
                                               event="Page Viewed", name="$os")), 1)
            rows.append(("events/properties/values, first call (scan)", cold, cold / t_ref))
    events = ds.manifest["events"]
    print(f"{events:,} events ({args.users} users × {args.days} days), segmentation of "
          f"'Page Viewed' by $browser, type unique; best of {args.runs}; {n:,} exported events")
    print(f"{'what':52} {'time':>9} {'× reference':>12}")
    for what, t, ratio in rows:
        print(f"{what:52} {t:8.3f}s {'' if ratio is None else f'{ratio:11.2f}'}")
    print(f"{'events/properties/values, two cached calls':52} {t_warm:8.4f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

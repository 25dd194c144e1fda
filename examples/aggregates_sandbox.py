"""Mixpanel reports over HTTP, on the embedded sandbox: list the saved funnels, ask
/funnels for one, and compute the same funnel from exported events — same answer.

    python examples/aggregates_sandbox.py

The sandbox serves Mixpanel's Query API on 127.0.0.1 with sample data; point the same code at
Mixpanel by dropping ``base_url`` and passing your service account.
"""

from __future__ import annotations

import datetime as dt

import mpql
from mpql import Query
from mpql.sandbox import Limits, Sandbox


def main() -> int:
    with Sandbox(limits=Limits.unlimited()) as sb:  # its own server: no hourly budget
        auth = sb.credentials.service_account()
        client = mpql.Client(auth, base_url=sb.url,
                             limits=mpql.executor.Limits(export_per_second=100,
                                                         query_per_hour=10_000))
        funnels = client.query("funnels/list")
        print("saved funnels:", ", ".join(f"{f['funnel_id']} {f['name']!r}" for f in funnels))
        saved = next(f for f in sb.dataset.manifest["funnels"] if f["funnel_id"] == 7001)
        last = sb.dataset.last_date
        dates = dict(from_date=str(last - dt.timedelta(days=13)), to_date=str(last),
                     today=sb.today())

        # 1. Mixpanel's /funnels computes the saved funnel (one Query API call)
        server_plan = Query.funnel(funnel_id=7001, unit="week", **dates).plan(
            auth=auth, today=sb.today())
        answer = client.run(server_plan)

        # 2. the same steps, computed locally from /export (an ad-hoc funnel has no endpoint)
        steps = [s["event"] for s in saved["steps"]]
        local_plan = Query.funnel(steps=steps, unit="week", length=saved["length"],
                                  length_unit=saved["length_unit"], **dates).plan(
            auth=auth, today=sb.today())
        local = client.run(local_plan)
        assert local == answer, "the export + local plan disagrees with /funnels"

        for date, body in answer["data"].items():
            counts = " → ".join(f"{s['event']} {s['count']}" for s in body["steps"])
            print(f"week of {date}: {counts} ({body['analysis']['completion']} converted)")
        print(f"{client.last_stats.requests} export requests (one per day) gave the same "
              f"answer as 1 /funnels call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

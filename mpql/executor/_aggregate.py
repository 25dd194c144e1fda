"""Running an aggregate plan: Mixpanel's JSON answer, whichever way the plan gets it.

* **Server plan** (``plan.local_aggregate is None``): the single step is a GET to
  ``/api/query/<endpoint>``; it is sent through the client's ``Transport`` (Query API pacing,
  retries on 429/5xx/connection errors and on a body that is not complete JSON, typed
  ``ApiError``s), and its JSON body is the answer.
* **Export plan**: the plan's export steps (and the engage step for ``user[...]``, if any)
  run like any plan — date chunks in parallel, committed in order, retried whole — and
  ``plan.local_aggregate.run(events, profiles)`` computes the answer. Exported events are
  deduplicated on Mixpanel's four-part key (event, distinct_id, time, ``$insert_id``) first:
  Mixpanel's reports deduplicate at query time while ``/export`` does not
  (https://docs.mixpanel.com/reference/event-deduplication), so without it an export plan
  would count SDK retries twice where the endpoint counts them once.

Completed export units stay in their spools (memory up to 1 MiB each, then a temporary file)
until the profiles are in, then are read once, in plan order: memory stays bounded by the
aggregation's own state, not the export's size.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable, Iterator

from mpql.errors import PlanError

from ._query import json_body

__all__ = ["run_aggregate"]


def run_aggregate(client, plan, on_progress: Callable | None = None) -> Any:
    """The plan's answer. ``on_progress(stats)`` is called after each export chunk / engage
    page of an export plan (and every 0.25 s while one downloads), for a progress line."""
    from ._client import _Run

    client._require_credentials(plan)
    run = _Run(client, plan, dedupe=True)
    client.last_stats = run.stats
    ticking = threading.Event()
    if on_progress is not None:
        def tick() -> None:
            while not ticking.wait(0.25):
                on_progress(run.stats)

        threading.Thread(target=tick, name="mpql-progress", daemon=True).start()
    try:
        if plan.local_aggregate is None:
            return _server(run, plan)
        return _local(run, plan, on_progress)
    finally:
        ticking.set()
        run.stop.set()
        run.transport.close()


def _server(run, plan) -> Any:
    if len(plan.steps) != 1:
        raise PlanError(f"a server aggregate plan has one step (GET /api/query/{plan.aggregate}), "
                        f"this one has {len(plan.steps)}")
    step = plan.steps[0]
    requests = plan.expand(0, {}).requests
    if len(requests) != 1:
        raise PlanError(f"/{plan.aggregate} expanded into {len(requests)} requests, expected 1")
    call = run.call(step, requests[0], label=plan.aggregate)

    answer = run.transport.send(call, json_body(call.describe(run.transport.secrets)))
    run.stats.add(units_done=1, records=1)
    return answer


def _local(run, plan, on_progress: Callable | None = None) -> Any:
    local = plan.local_aggregate
    events_steps = set(local.events_steps)
    wanted = events_steps | ({local.profiles_step} if local.profiles_step is not None else set())
    run.emit = wanted
    event_units, profile_units = [], []
    gen = run.units()
    try:
        for index, unit in gen:
            if index in events_steps:
                event_units.append(unit)
            elif index == local.profiles_step:
                profile_units.append(unit)
            else:  # an output step of an aggregate plan: not part of its answer
                unit.close()
            run.stats.add(units_done=1, records=unit.records)
            if on_progress is not None:
                on_progress(run.stats)
        profiles = [json.loads(line) for u in profile_units for line in u.lines()] \
            if local.profiles_step is not None else None
        return local.run(_events(event_units), profiles)
    finally:
        gen.close()
        for unit in event_units + profile_units:
            unit.close()


def _events(units) -> Iterator[dict]:
    """The exported events in plan order. Duplicates were already dropped per unit (the
    ``_Run`` is made with ``dedupe=True``): duplicates share their ``time``, hence their
    date chunk, so no key set over the whole export is needed."""
    for unit in units:
        for line in unit.lines():
            yield json.loads(line)
        unit.close()

"""The query planner: queries in, plans of Mixpanel HTTP steps out — no network, no secrets.

Public API::

    Query.events(where, from_date=, to_date=, events=, limit=, time_in_ms=)
    Query.profiles(where, output_properties=, distinct_ids=, cohort_id=, group_key=, …)
    Query.segmentation / segmentation_numeric / _sum / _average / retention / frequency /
        funnel(...) -> AggregateQuery             (aggregate.py; docs/aggregates.md)
    query.plan(region=, auth=, chunk=, …) -> Plan      (model.py: Plan, Step, Consumes)
    plan.explain() / plan.to_json() / plan.to_curl() / plan.expand(i, ids)
    expand(step, ids) -> Expansion                      (concrete requests for the executor)
    ServiceAccount, ProjectSecret                       (auth.py; secrets never shown)

How it fits: the builder (mpql.builder) or the parser gives the `where` AST; rewrite.py splits
profile-only conditions off an events filter; query.py validates and builds the steps;
encode.py owns hosts and percent-encoding; expand.py turns a step plus upstream ids into
requests; render.py prints plans. The executor (mpql.executor) runs them. This package never
imports requests, so `mpql plan` starts fast. Reasoning and guarantees: docs/planner.md.
"""

from __future__ import annotations

from .auth import RETIREMENT_DATE, ProjectSecret, ServiceAccount
from .encode import REGIONS
from .expand import Expansion, Request, expand, id_test, record_distinct_id
from .aggregate import AggregateQuery
from .model import Consumes, LocalAggregate, Plan, Step
from .query import CHUNKS, MAX_EXPORT_LIMIT, Query, date_chunks

__all__ = [
    "Query",
    "Plan",
    "Step",
    "Consumes",
    "AggregateQuery",
    "LocalAggregate",
    "ServiceAccount",
    "ProjectSecret",
    "RETIREMENT_DATE",
    "REGIONS",
    "CHUNKS",
    "MAX_EXPORT_LIMIT",
    "expand",
    "Expansion",
    "Request",
    "id_test",
    "record_distinct_id",
    "date_chunks",
]

"""Plan the HubSpot → Mixpanel workflow: find the user by customer_id, export their events.

One query says what is wanted; the planner works out that /export cannot see profiles, adds an
/engage step for the profile condition and feeds its distinct ids into the export. Nothing is
sent: this prints the plan and the curl commands. Run: python examples/plan_hubspot.py
"""

import datetime as dt

from mpql import Query, ServiceAccount, prop, user

customer_id = "hubspot-user-12345"  # from the HubSpot trigger

query = Query.events(
    (user("customer_id") == customer_id) & (prop("$os") != "Android"),
    from_date="2024-01-01",
    to_date="2024-01-31",
    events=["Purchase", "Sign up"],
    today=dt.date(2025, 1, 1),  # injectable clock; omit it to use today's date (UTC)
)
auth = ServiceAccount("svc-user.mp-service-account", "never-printed", project_id=1234567)
plan = query.plan(region="eu", auth=auth, chunk="week")

print(plan.explain())
print()
print(plan.to_curl(ids={0: ["MIXPANEL_DISTINCT_ID_FROM_PREVIOUS_STEP"]}))

# What the executor will send once step 1 has found the ids:
expansion = plan.expand(1, {0: ["0b1c2d3e"]})
print(expansion.strategy, "-", len(expansion.requests), "export requests")
assert "never-printed" not in plan.to_json() + plan.to_curl() + plan.explain()

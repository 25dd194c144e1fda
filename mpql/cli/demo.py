"""``mpql demo``: the HubSpot → Mixpanel workflow, end to end, on the sandbox.

The workflow: a HubSpot contact carries a customer ID; find the Mixpanel
profile whose ``customer_id`` matches it via ``/engage``, take its ``$distinct_id``, then export
that user's events via ``/export``. For each step the demo prints the plan (what mpql will
send and why), the equivalent curl command (credentials as ``$MP_USERNAME:$MP_SECRET``
placeholders), runs it against the embedded sandbox through the real executor, and prints the
counts; then the events. Finally it runs the same question as ONE mixed-scope query
(``user["customer_id"] == … `` on events), which the planner turns into the same two steps, and
checks that both routes return the same events.
"""

from __future__ import annotations

import json
import sys

from .common import make_parser

EXIT_OK, EXIT_ERROR = 0, 2


def build_parser(prog):
    p = make_parser(prog, "Run the HubSpot customer-ID → /engage → /export workflow on the "
                          "embedded sandbox, showing each step's plan, curl and counts.")
    p.add_argument("--customer-id", metavar="ID",
                   help="the HubSpot customer ID to look up (default: one from the sample data)")
    p.add_argument("--from", dest="from_date", metavar="DATE",
                   help="export from this day (default: the sample data's first day)")
    p.add_argument("--to", dest="to_date", metavar="DATE",
                   help="export to this day (default: the sample data's last day)")
    p.add_argument("--show", type=int, default=10, metavar="N",
                   help="print at most N events (default 10; 0 for all)")
    return p


def _rule(title: str) -> None:
    print()
    print(f"== {title} " + "=" * max(0, 76 - len(title)))


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _pick_customer(sandbox, from_date, to_date) -> str:
    """A customer ID from the sample data whose user has events in the window."""
    from mpql.errors import SandboxError

    active = {e["properties"].get("distinct_id") for e in sandbox.events(from_date, to_date)}
    for profile in sandbox.profiles():
        cid = (profile.get("$properties") or {}).get("customer_id")
        if cid and profile.get("$distinct_id") in active:
            return str(cid)
    raise SandboxError("the sandbox's sample data has no profile with a customer_id and "
                       "events; pass --customer-id")


def run(args) -> int:
    from mpql.builder import prop, user
    from mpql.cli.run import sandbox_dates
    from mpql.executor import Client, Credentials
    from mpql.planner import Query
    from mpql.sandbox import Sandbox

    from mpql.errors import InputError

    if args.show < 0:
        raise InputError(f"--show: expected a number >= 0 (0 shows all), found {args.show}")
    with Sandbox() as sandbox:
        creds = Credentials.from_auth(sandbox.credentials)
        auth = creds.planner_auth()
        client = Client(creds, base_url=sandbox.url)
        first, last = sandbox_dates(sandbox)
        from_date = args.from_date or first
        to_date = args.to_date or last
        if args.from_date or args.to_date:  # fail on the dates, not later on "no customer"
            q = Query.events(from_date=from_date, to_date=to_date)
            if q.to_date < str(first) or q.from_date > str(last):
                raise InputError(f"--from/--to: {from_date} .. {to_date} is outside the sample "
                                 f"data ({first} .. {last}); pick days inside it")
        customer = args.customer_id or _pick_customer(sandbox, from_date, to_date)
        print(f"mpql demo: the HubSpot -> Mixpanel workflow against the "
              f"embedded sandbox at {sandbox.url}")
        print(f"HubSpot contact's customer ID: {customer!r}; export window {from_date} .. "
              f"{to_date}")
        print("(plans and curl show Mixpanel's real hosts; the executor sends the same "
              "requests to the sandbox)")

        # Step 1: /engage, find the profile.
        _rule("step 1: find the Mixpanel user by customer_id (/engage)")
        q1 = Query.profiles(where=user("customer_id") == customer,
                            output_properties=["$distinct_id"])
        plan1 = q1.plan(region=client.region, auth=auth)
        print(_indent(plan1.explain()))
        print("\n  curl equivalent:")
        print(_indent(plan1.to_curl()))
        profiles = list(client.run(plan1))
        s = client.last_stats
        print(f"\n  -> {len(profiles)} profile(s), {s.requests} request(s), {s.retries} retries")
        if not profiles:
            print("  no Mixpanel user has this customer_id: the workflow stops here "
                  "(there is no canonical distinct_id to export)")
            return EXIT_OK
        distinct_id = profiles[0]["$distinct_id"]
        print(f"  distinct_id: {distinct_id!r}")

        # Step 2: /export, that user's events.
        _rule("step 2: export that user's events (/export)")
        q2 = Query.events(where=prop("$distinct_id") == distinct_id, from_date=from_date,
                          to_date=to_date)
        plan2 = q2.plan(region=client.region, auth=auth, chunk="week")
        print(_indent(plan2.explain()))
        print("\n  curl equivalent:")
        print(_indent(plan2.to_curl()))
        events = list(client.run(plan2))
        s = client.last_stats
        print(f"\n  -> {len(events)} event(s), {s.requests} request(s), {s.retries} retries, "
              f"{s.bytes} bytes")

        # The same question as one query: the planner derives both steps.
        _rule("the same as ONE query: events where user[\"customer_id\"] == ID")
        q3 = Query.events(where=user("customer_id") == customer, from_date=from_date,
                          to_date=to_date)
        plan3 = q3.plan(region=client.region, auth=auth, chunk="week")
        print(_indent(plan3.explain()))
        combined = list(client.run(plan3))
        key = lambda e: json.dumps(e, sort_keys=True)  # noqa: E731
        same = sorted(map(key, combined)) == sorted(map(key, events))
        print(f"\n  -> {len(combined)} event(s); identical to the two-step result: "
              f"{'yes' if same else 'NO'}")

        _rule(f"the events ({len(events)})")
        shown = events if args.show == 0 else events[:args.show]
        for event in shown:
            print(json.dumps(event, ensure_ascii=False, sort_keys=True))
        if len(shown) < len(events):
            print(f"... {len(events) - len(shown)} more (use --show 0 for all)")
        if not same:
            print("mpql demo: error: the one-query route disagreed with the two-step route",
                  file=sys.stderr)
            return EXIT_ERROR
    return EXIT_OK

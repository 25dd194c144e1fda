"""The query-parameter flags ``mpql run`` and ``mpql plan`` share, and their checks.

One place defines the flags for engage's ``distinct_ids`` / ``filter_by_cohort`` /
``include_all_users`` / ``behaviors`` / ``as_of_timestamp`` / ``data_group_id`` and export's
``time_in_ms``, so both commands spell and validate them the same way; the values are handed to
``Query.events`` / ``Query.profiles``, which do the rest of the validation (QueryError → exit 2).
"""

from __future__ import annotations

import argparse
import json

__all__ = ["add_query_arguments", "misplaced", "profile_options", "event_options"]

#: flag → args attribute, per kind of query the flag belongs to
EVENT_ONLY = (("--time-in-ms", "time_in_ms"),)
PROFILE_ONLY = (("--distinct-id", "distinct_id"), ("--cohort-id", "cohort_id"),
                ("--include-all-users", "include_all_users"), ("--group-key", "group_key"),
                ("--behaviors", "behaviors"), ("--as-of-timestamp", "as_of_timestamp"))


def add_query_arguments(p) -> None:
    """Add the shared engage/export parameter flags to parser ``p``."""
    p.add_argument("--time-in-ms", action="store_true",
                   help="events: millisecond timestamps (export's time_in_ms)")
    p.add_argument("--distinct-id", action="append", default=[], metavar="ID",
                   help="profiles: fetch these profiles (repeatable; engage's distinct_ids)")
    p.add_argument("--cohort-id", type=int, metavar="N",
                   help="profiles: only members of this cohort (engage's filter_by_cohort)")
    p.add_argument("--include-all-users", action=argparse.BooleanOptionalAction,
                   default=None,
                   help="profiles, with --cohort-id: also cohort members without a profile "
                        "(default: --no-include-all-users, only those with one)")
    p.add_argument("--group-key", metavar="ID",
                   help="profiles: query this group key's group profiles (engage's "
                        "data_group_id)")
    p.add_argument("--behaviors", metavar="JSON|@FILE",
                   help='profiles: behavior definitions as JSON (a list, or one object), or '
                        '@FILE to read them; the where uses them as behaviors["name"]')
    p.add_argument("--as-of-timestamp", type=int, metavar="UNIX",
                   help="profiles, with --behaviors: count behaviors as of this Unix time "
                        "(seconds)")


def misplaced(args, kind: str) -> list[str]:
    """The shared flags given that do not apply to ``kind`` ("events" or "profiles")."""
    wrong = PROFILE_ONLY if kind == "events" else EVENT_ONLY
    # only --time-in-ms is a plain switch (False = not given); --no-include-all-users counts
    return [flag for flag, attr in wrong
            if getattr(args, attr) not in ((False,) if attr == "time_in_ms" else (None, []))]


def event_options(args) -> dict:
    return {"time_in_ms": True} if args.time_in_ms else {}


def profile_options(args) -> dict:
    """Keyword arguments for ``Query.profiles`` from the shared flags (unset ones left out)."""
    from mpql.errors import InputError, QueryError

    options = {}
    if args.distinct_id:
        options["distinct_ids"] = list(args.distinct_id)
    if args.cohort_id is not None:
        options["cohort_id"] = args.cohort_id
    if args.include_all_users is not None:
        options["include_all_users"] = args.include_all_users
    if args.group_key is not None:
        options["group_key"] = args.group_key
    if args.behaviors is not None:
        text, source = args.behaviors, "--behaviors"
        if text.startswith("@"):
            source = text[1:]
            try:
                with open(source, encoding="utf-8") as f:
                    text = f.read()
            except OSError as exc:
                raise InputError(f"--behaviors: cannot read {source} "
                                 f"({exc.strerror or exc})") from None
        try:
            options["behaviors"] = json.loads(text)
        except ValueError as exc:
            raise QueryError(f"{source}: expected JSON behavior definitions (a list of "
                             f'objects like {{"name": "bought", "window": "30d", '
                             f'"event_selectors": [{{"event": "Purchase"}}]}}), found invalid '
                             f"JSON ({exc})") from None
    if args.as_of_timestamp is not None:
        options["as_of_timestamp"] = args.as_of_timestamp
    return options

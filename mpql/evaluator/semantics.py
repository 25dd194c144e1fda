"""Every semantic choice the evaluator makes that Mixpanel does not document — in one place.

Mixpanel's reference (docs/mixpanel-reference.md §1.5–1.8, §8) leaves a number of behaviours UNCONFIRMED. The
evaluator never hides such a choice inside an operator: each one is a field of ``Semantics``
below, read once when an expression is compiled (so a choice costs nothing per record), and
each is listed with its evidence in docs/semantics.md. ``DEFAULT`` is what ``mpql.evaluate``,
``mpql.compile_predicate``, ``mpql filter`` and the sandbox use unless told otherwise.

Documented behaviour (S1, S13, S24) is *not* configurable: ``==`` across types is false,
ordering needs two numbers (or two datetimes), ``%`` takes the dividend's sign, ``/ 0`` is
undefined, ``not undefined`` is true, ``datetime(n)`` reads seconds up to 4294967295 and
milliseconds above, and so on.

Undocumented points where one answer is clearly more likely are fixed rather than fields;
they are listed here so this module stays the one inventory (details in docs/semantics.md):

* ``x in [literals]`` compares like ``==`` (``"1" in [1]`` is false) — values.Ops.in_
* ``"v" in properties["list"]`` is membership on events as on Engage [S25] — values.Ops.in_
* ``string(1.0)`` is ``"1"``; ``string(datetime)`` is ``YYYY-MM-DDTHH:MM:SS`` UTC;
  ``number(datetime)`` is Unix seconds; ``number("…")`` takes ASCII decimals with optional
  surrounding whitespace — values.Ops.to_string / to_number
* ``boolean()`` follows S13 (lists and objects are true) — values.Ops.to_boolean
* ``list(x)``: lists unchanged, anything else undefined — values.Ops.to_list
* ``has_prefix`` works everywhere, not only in JQL — values.Ops.has_prefix
* record aliases: ``$time`` from the export line's ``time``, ``$distinct_id``/``distinct_id``
  both ways, ``user[…]`` on events via ``profiles=``, ``user[…]`` ≡ ``properties[…]`` on
  profiles, ``behaviors[…]`` via ``behaviors=`` — records.py
* ``and``/``or`` evaluate left to right and stop at the deciding operand, so a later
  non-boolean operand does not raise — interpreter.py / compiler.py
* lists compare element-wise in order; integers compare exactly (Mixpanel's doubles do not
  above 2**53)
"""

from __future__ import annotations

from datetime import timezone, tzinfo
from typing import Literal

import attrs

from ..errors import ArgumentError

__all__ = ["Semantics", "DEFAULT", "resolve_timezone"]


def resolve_timezone(tz) -> tzinfo:
    """``"UTC"``, an IANA name such as ``"America/New_York"``, or a ``tzinfo``."""
    if isinstance(tz, tzinfo):
        return tz
    if not isinstance(tz, str) or not tz:
        raise ArgumentError(f"timezone must be an IANA name or a tzinfo, got {tz!r}")
    if tz.upper() in ("UTC", "Z", "ETC/UTC", "GMT"):
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ArgumentError(
            f"unknown timezone {tz!r}: expected an IANA name such as 'UTC' or 'Europe/Paris'"
        ) from None


_BOOL = attrs.validators.instance_of(bool)


def _check_tz(_instance, _attribute, value) -> None:
    resolve_timezone(value)


@attrs.frozen
class Semantics:
    """The evaluator's answers to Mixpanel's open questions (see docs/semantics.md).

    Every field is UNCONFIRMED against a live Mixpanel project; the default is the reading of
    the sources (docs/mixpanel-reference.md) that this project found most likely.
    """

    #: Timezone of ``datetime("…")`` *string literals* (Mixpanel: the project timezone on
    #: Engage [S24, S25]; elsewhere unknown). Property values holding ISO strings are UTC [S13].
    timezone: object = attrs.field(default="UTC", validator=_check_tz)

    #: ``and``/``or`` with an operand that is neither boolean nor undefined is an *error* in
    #: Mixpanel [S1]. "raise": raise ``mpql.EvaluationError`` (the query would fail);
    #: "undefined": treat the operand as undefined, i.e. false (lenient, never raises).
    logic_operand: Literal["raise", "undefined"] = "raise"

    #: The whole filter evaluates to something other than a boolean or undefined (e.g.
    #: ``properties["plan"]``). "false": the record is not selected; "raise": EvaluationError.
    non_boolean_filter: Literal["false", "raise"] = "false"

    #: ISO-8601 strings in property values (``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS``) are
    #: datetimes, as Mixpanel types them at ingestion [S13]. False: they stay strings.
    iso_strings_are_datetimes: bool = True

    #: Result of ``a != b`` when an operand is undefined: True (exact negation of ``==``,
    #: matching the UI's "does not equal" which includes unset) or "undefined".
    ne_with_undefined: Literal[True, "undefined"] = True

    #: ``undefined == undefined`` (two missing properties). False: undefined equals nothing.
    undefined_equals_undefined: bool = False

    #: ``defined(x)`` when x is present with JSON ``null``. True: the property is set (to null).
    null_is_defined: bool = True

    #: ``<``/``>``/``<=``/``>=`` on two strings: "undefined" (S1: ordering needs numbers) or
    #: "lexicographic" (code-point order).
    string_ordering: Literal["undefined", "lexicographic"] = "undefined"

    #: ``round(x)`` at .5: "half-away" (C ``round``) or "half-even" (banker's).
    round_half: Literal["half-away", "half-even"] = "half-away"

    #: ``NOW`` is available on event filters too (Mixpanel documents it on Engage only [S24]).
    now_on_events: bool = True

    #: ``any(X, v, condition)`` when ``v`` is defined but not a list. "undefined": no element,
    #: so undefined (false as a filter) — Mixpanel's hot-shard selector pairs ``any(X, p, …)``
    #: with ``string(p, "undefined") == …`` for scalar values, which suggests ``any`` does not
    #: match them; "singleton": a scalar counts as a one-element list.
    any_non_list: Literal["undefined", "singleton"] = "undefined"

    #: ``string(x, default)`` returns ``default`` when ``string(x)`` is undefined (missing
    #: property, list, object). "undefined": only then (``string(null)`` stays null, as S1's
    #: cast table says); "undefined-or-null": for null too.
    string_default: Literal["undefined", "undefined-or-null"] = "undefined"

    # -- aggregates (mpql.aggregates; docs/aggregates.md has the evidence for each) -----------

    #: The segment key of events whose ``on`` value is undefined (property not set, failed
    #: cast). Mixpanel's reports show "(not set)"; its legacy API answered "undefined".
    undefined_segment: str = attrs.field(default="undefined",
                                         validator=attrs.validators.instance_of(str))

    #: How a non-string ``on`` value becomes a segment key: "string" (Mixpanel's ``string()``
    #: cast: ``1`` → "1", ``true`` → "true", lists as JSON) or "json" (JSON text, so the
    #: string "1" and the number 1 stay apart).
    segment_key: Literal["string", "json"] = "string"

    #: Whether every segment's date map lists every bucket of the series (0 where nothing
    #: happened) in /segmentation answers. Mixpanel's documented example has every date.
    segmentation_zero_fill: bool = attrs.field(default=True, validator=_BOOL)

    #: The same for /segmentation/numeric: its documented example leaves empty buckets out.
    numeric_zero_fill: bool = attrs.field(default=False, validator=_BOOL)

    #: How many ranges /segmentation/numeric aims for: the width is the smallest "nice" number
    #: (1, 2 or 5 × 10^k) giving at most this many ranges over [min, max]. The documented
    #: example has 5 ranges of width 100 (values 2,000–2,499 give exactly that).
    numeric_buckets: int = attrs.field(default=5, validator=[attrs.validators.instance_of(int),
                                                             attrs.validators.ge(1)])

    #: Labels of time buckets: "mixpanel" (``2024-01-31``, hours ``2024-01-31 13:00:00``) or
    #: "iso" (``2024-01-31T13:00:00``).
    bucket_label: Literal["mixpanel", "iso"] = "mixpanel"

    #: First day of a ``week`` bucket. Mixpanel's funnels example has weeks starting Monday.
    week_start: Literal["monday", "sunday"] = "monday"

    #: ``type="average"`` segmentation: events per distinct user in the bucket ("per-user"),
    #: UNCONFIRMED reading of "we return the average count".
    average_type: Literal["per-user"] = "per-user"

    #: Which step-1 event starts a user's funnel attempt in a date bucket: "first" (the
    #: earliest step 1 in the bucket) or "best" (the step 1 that gets furthest; ties: earliest).
    funnel_start: Literal["first", "best"] = "first"

    #: Whether a later step may have the same timestamp as the step before it.
    funnel_same_second: bool = attrs.field(default=True, validator=_BOOL)

    #: ``avg_time`` of the first step: None (the schema says "null for step 0") or 0.
    funnel_first_avg_time: Literal[None, 0] = None

    #: ``analysis.worst``: the step with the lowest conversion from the step before
    #: ("ratio") or the largest absolute drop ("absolute").
    funnel_worst: Literal["ratio", "absolute"] = "ratio"

    #: Which event's ``on`` value segments a funnel user: the step-1 event ("first") or the
    #: last step the user reached ("last").
    funnel_on_step: Literal["first", "last"] = "first"

    #: Retention intervals: "elapsed" (interval n is [birth + n·unit, birth + (n+1)·unit) in
    #: elapsed time, the API doc's "less than one interval after the initial event") or
    #: "calendar" (calendar buckets in the project timezone counted from the birth bucket).
    retention_intervals: Literal["elapsed", "calendar"] = "elapsed"

    #: What retention's ``where`` filters: the returning events ("return"), the born events
    #: ("born", the API reference's text, a copy of born_where's) or both ("both").
    retention_where: Literal["return", "born", "both"] = "return"

    #: Birth retention: a user's birth is their first born event among the events given
    #: ("first-seen": a user whose first born event precedes from_date is not born in range)
    #: or their first born event within from_date..to_date ("first-in-range").
    retention_birth: Literal["first-in-range", "first-seen"] = "first-in-range"

    #: Retention ``on``: segment users by the ``on`` value of their birth (cohort) event.
    retention_on: Literal["born"] = "born"

    #: /retention/addiction counts: entry k is the number of users active in at least k+1
    #: addiction units ("at-least", the documented example decreases) or exactly k+1 ("exactly").
    frequency_counts: Literal["at-least", "exactly"] = "at-least"

    def __attrs_post_init__(self) -> None:
        for name, allowed in (
            ("logic_operand", ("raise", "undefined")),
            ("non_boolean_filter", ("false", "raise")),
            ("ne_with_undefined", (True, "undefined")),
            ("string_ordering", ("undefined", "lexicographic")),
            ("round_half", ("half-away", "half-even")),
            ("any_non_list", ("undefined", "singleton")),
            ("string_default", ("undefined", "undefined-or-null")),
            ("segment_key", ("string", "json")),
            ("bucket_label", ("mixpanel", "iso")),
            ("week_start", ("monday", "sunday")),
            ("average_type", ("per-user",)),
            ("funnel_start", ("first", "best")),
            ("funnel_first_avg_time", (None, 0)),
            ("funnel_worst", ("ratio", "absolute")),
            ("funnel_on_step", ("first", "last")),
            ("retention_intervals", ("elapsed", "calendar")),
            ("retention_where", ("return", "born", "both")),
            ("retention_birth", ("first-in-range", "first-seen")),
            ("retention_on", ("born",)),
            ("frequency_counts", ("at-least", "exactly")),
        ):
            value = getattr(self, name)
            if not any(type(value) is type(a) and value == a for a in allowed):
                raise ArgumentError(f"Semantics.{name} must be one of {allowed!r}, got {value!r}")

    @property
    def tz(self) -> tzinfo:
        return resolve_timezone(self.timezone)


DEFAULT = Semantics()

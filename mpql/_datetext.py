"""The one statement of which strings are dates, shared by the checker and the evaluator.

Two questions, each answered once here so that the linter's verdict and the evaluator's
value can never disagree (tests/test_datetext.py checks both directions by property):

* **a ``datetime("…")`` literal** (or a string given to ``datetime()`` at run time): what
  :func:`parse_datetime_literal` accepts. The checker's D001 *error* is raised exactly when it
  returns None, which is exactly when the evaluator's ``datetime("…")`` is undefined. Accepted,
  after trimming surrounding whitespace: ``YYYY-MM-DD``; one-digit month or day
  (``datetime("2014-09-9")`` worked in 2014, docs/mixpanel-reference.md [S35]); a ``T`` or a space
  before ``H:MM`` or ``HH:MM``, optional ``:SS`` and a fraction of a second (dropped: Mixpanel
  compares whole seconds [S24]); an optional ``Z`` or ``±HH:MM``/``±HHMM`` offset. The date
  must exist (no 2024-02-30). Text without an offset is read in the given timezone (the
  project's, for a literal [S24]). Only ``YYYY-MM-DD`` and ``YYYY-MM-DDTHH:MM:SS`` are
  documented (:data:`DOCUMENTED_LITERAL`); the checker warns (D001, warning) on the rest.

* **a property value typed as a date at ingestion** ([S13]): ``2022-10-29`` and
  ``2022-10-30T13:30:25``, with a fraction of a second and a trailing ``Z`` tolerated
  (:data:`DATE_PROPERTY`, :func:`is_date_property`). Schema inference (``mpql schema infer``),
  the REPL's catalog and the evaluator's typing of data all use it.
"""

from __future__ import annotations

import re

from ._lazyre import LazyRegex

__all__ = [
    "DATETIME_LITERAL", "DOCUMENTED_LITERAL", "DATE_PROPERTY",
    "parse_datetime_literal", "is_date_property",
]

#: What ``datetime("…")`` accepts (after trimming whitespace); groups: year, month, day,
#: hour, minute, second, offset.
DATETIME_LITERAL = LazyRegex(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d\d)(?::(\d\d)(?:\.\d{1,9})?)?)?"
    r"(Z|[+-]\d\d:?\d\d)?\Z",
    re.ASCII,
)

#: The two literal forms Mixpanel documents.
DOCUMENTED_LITERAL = LazyRegex(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2})?\Z", re.ASCII)

#: Property strings Mixpanel types as dates at ingestion [S13] (the calendar is checked by
#: is_date_property, not by the pattern).
DATE_PROPERTY = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z?)?\Z"
)


def parse_datetime_literal(text: str, tz=None):
    """The instant a ``datetime("…")`` string means (an aware ``datetime`` in UTC), or None
    when Mixpanel's ``datetime()`` of it is undefined. Naive text is read in ``tz`` (UTC when
    None)."""
    m = DATETIME_LITERAL.match(text.strip())
    if m is None:
        return None
    # Imported here: `mpql lint -e` on an expression without dates never loads datetime.
    from datetime import datetime, timedelta, timezone

    _UTC = timezone.utc
    year, month, day, hour, minute, second, offset = m.groups()
    try:
        dt = datetime(int(year), int(month), int(day),
                      int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:  # 2024-02-30, hour 25 …
        return None
    if offset is None:
        zone = tz or _UTC
    elif offset == "Z":
        zone = _UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        try:
            zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        except ValueError:  # an offset of 24 hours or more
            return None
    try:
        return dt.replace(tzinfo=zone).astimezone(_UTC)
    except (OverflowError, ValueError):
        return None


def is_date_property(value: str) -> bool:
    """Whether a property's string value is one Mixpanel types as a date at ingestion."""
    if not DATE_PROPERTY.match(value):
        return False
    from datetime import datetime

    try:  # the calendar and the clock: no 2024-02-30, no 24:00:00
        datetime(int(value[:4]), int(value[5:7]), int(value[8:10]),
                 *((int(value[11:13]), int(value[14:16]), int(value[17:19]))
                   if len(value) > 10 else ()))
    except ValueError:
        return False
    return True

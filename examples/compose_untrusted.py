"""Compose a Mixpanel filter from values you do not control — safely.

The values below could come from a CRM, a web form or a spreadsheet. The builder turns each one
into a literal (never into expression text), so quotes, backslashes, `or true`, newlines or
non-ASCII cannot change the meaning of the filter. Run: python examples/compose_untrusted.py
"""

import datetime as dt

import mpql
from mpql import and_, or_, prop, user

# Untrusted input, including an injection attempt and awkward characters.
customer_id = 'hubspot-123" or true or "'
plans = ["Premium", "Pro \"annual\"", "Ünïcode\\plan"]
signed_up_after = dt.date(2024, 1, 1)
search = "50% off + free shipping"

where = and_(
    user("customer_id") == customer_id,
    prop("plan").is_in(plans),
    prop("signup_date").datetime() >= signed_up_after,
    or_(prop("$referrer").contains(search), ~prop("$referrer").defined()),
)

print("pretty:", where)
print("wire:  ", where.text("wire"))

# The printed text parses back to exactly the tree that was built: nothing was injected.
assert mpql.parse(where.text("wire")) == where.expr
assert mpql.parse(str(where)) == where.expr
customer_test = where.expr.left.left.left  # the first condition
assert customer_test.right == mpql.ast.String(customer_id)

# Mistakes fail loudly instead of silently dropping a condition.
try:
    (prop("a") == 1) and (prop("b") == 2)
except TypeError as exc:
    print("refused:", str(exc).split(":")[0])
try:
    prop("plan") == None  # noqa: E711 - a missing value from the CRM
except mpql.BuildError as exc:
    print("refused:", exc)

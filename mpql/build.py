"""``mpql.build``: the builder DSL as a namespace (``from mpql import build as b; b.prop("x")``).

The same names as the top-level ``mpql.prop``, ``mpql.user``, … — see mpql/builder/ and
docs/builder.md.
"""

from .builder import *  # noqa: F401,F403
from .builder import __all__  # noqa: F401

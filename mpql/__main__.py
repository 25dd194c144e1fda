"""``python -m mpql`` is the ``mpql`` command."""

from mpql.cli import main

raise SystemExit(main())

"""``python -m mpql`` is the ``mpql`` command."""

from mpql.cli import console_main

raise SystemExit(console_main())

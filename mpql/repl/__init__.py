"""``mpql repl``: test filters interactively against loaded data, instantly and explained.

Layout:

    engine.py      Session: state and the report for each expression (no terminal code)
    commands.py    the :command table and handlers, incl. :plan/:curl/:run
    textfmt.py     aligned columns, counts, values and times in reports
    completion.py  pure completion and the incomplete-vs-invalid decision (lark interactive parser)
    catalog.py     property names, types, counts and common values, from data and schemas
    explain.py     why an expression matched nothing, from the data
    data.py        loading export/engage JSONL
    lexer.py       Pygments lexers (`mpql`, `mpql-repl`), also usable in docs
    script.py      non-interactive mode (stdin → transcript on stdout)
    app.py         the prompt_toolkit front end (the only module importing prompt_toolkit)

Only names in ``__all__`` are public. Importing this package imports neither prompt_toolkit nor
Pygments.
"""

from __future__ import annotations

from .completion import Suggestion, complete, input_status
from .engine import COMMANDS, PlainOutput, Session
from .script import run_script

__all__ = ["Session", "PlainOutput", "COMMANDS", "Suggestion", "complete", "input_status",
           "run_script"]

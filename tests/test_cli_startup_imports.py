"""What ``mpql parse|fmt|lint -e EXPR`` imports: start-up time is mostly imports
(docs/performance.md, *Start-up: fewer imports*), so the modules these commands stopped
importing must stay out.

No timing here (timing belongs to benchmarks/bench_parse.py): the commands run in a fresh
interpreter under ``python -X importtime``, and the test reads the names of the modules
imported from its report. Each name below was imported by ``mpql lint -e`` before the
start-up work, or is a heavy optional part that never belongs on this path.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

EXPR = 'properties["$city"] == "Chicago" and not defined(user["churned"])'

#: Never on the -e path: the error-path parser, the SQL and HTTP stacks, JSON.
HEAVY = {"lark", "sqlglot", "duckdb", "requests", "urllib3", "http", "email", "json",
         "socket", "ssl"}
#: Imported before the start-up work and no longer: pathlib (and through it urllib.parse and
#: ipaddress), shutil (argparse's help formatter), tomllib (a pyproject.toml with no
#: [tool.mpql] table), the Python/JSON call-site finder.
REMOVED = {"pathlib", "urllib", "ipaddress", "shutil", "tomllib", "tomli",
           "mpql.checker.pysites"}


def imported_by(args, cwd) -> set[str]:
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "mpql", *args], cwd=cwd,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in r.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    assert "mpql.cli" in names  # the report was read (and is the one of this command)
    return names


@pytest.fixture
def project(tmp_path):
    # A pyproject.toml that mentions the table only in a comment, like mpql's own: reading
    # it must not mean parsing it.
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent('''\
        [project]
        name = "app"
        dependencies = ["mpql"]  # lint settings would go in [tool.mpql]
    '''), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("command", ["lint", "parse", "fmt"])
def test_expression_commands_skip_heavy_modules(command, project):
    names = imported_by([command, "-e", EXPR], project)
    assert names & HEAVY == set()
    assert names & REMOVED == set()


def test_lint_with_a_config_still_reads_it(project):
    # The other side of the cheap scan: a real [tool.mpql] table is parsed (and applied).
    (project / "pyproject.toml").write_text('[tool.mpql]\nselect = ["S001"]\n',
                                            encoding="utf-8")
    assert imported_by(["lint", "-e", EXPR], project) & {"tomllib", "tomli"}


def test_only_the_program_pauses_and_freezes_the_gc(capsys):
    """console_main (the `mpql` script, `python -m mpql`) turns the collector off while the
    command imports and freezes what was imported; it is back on when the command runs.
    main(), the library entry (tests, embedding programs), leaves the collector alone."""
    import gc

    from mpql.cli import main

    frozen = gc.get_freeze_count()
    assert main(["lint", "--isolated", "-e", EXPR]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    capsys.readouterr()

    probe = textwrap.dedent('''\
        import gc, sys
        import mpql.cli, mpql.cli.lint
        seen = []
        real_run = mpql.cli.lint.run
        def run(args):
            seen.append(gc.isenabled())
            status = real_run(args)
            seen.append(gc.isenabled())
            return status
        mpql.cli.lint.run = run
        sys.argv = ["mpql", "lint", "--isolated", "-e", sys.argv[1]]
        status = mpql.cli.console_main()
        print(status, seen, gc.isenabled(), gc.get_freeze_count() > 0)
    ''')
    r = subprocess.run([sys.executable, "-c", probe, EXPR], capture_output=True, text=True,
                       timeout=60)
    # off when run() starts (it imports the checker first), on when it is done, frozen
    assert r.stdout.split("\n")[0] == "0 [False, True] True True", r.stdout + r.stderr

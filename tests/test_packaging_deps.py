"""Runtime dependencies declared in pyproject.toml: what the installed package needs to run
must be in ``[project] dependencies``, not only in a test extra."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10: tomli is a runtime dependency there (the point of this file)
    import tomli as tomllib


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_tomli_is_a_runtime_dependency_on_python_310():
    # mpql.checker.config reads `[tool.mpql]` / mpql.toml with tomllib, which Python 3.10 lacks:
    # without tomli installed, `mpql lint` in a project with a config file stops with exit 2.
    deps = [d.replace(" ", "").replace('"', "'") for d in _project()["dependencies"]]
    tomli = [d for d in deps if d.startswith("tomli")]
    assert tomli, f"tomli missing from [project] dependencies: {deps}"
    assert all("python_version<'3.11'" in d for d in tomli), tomli


"""A non-editable install works: build the wheel offline (hatchling, no build isolation),
install it with --no-deps into a fresh venv, and run the installed `mpql` from outside the
source tree. The dependencies (lark, attrs) come from the test environment through a path
entry, so the test needs no network and stays fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*cmd, **kw):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=180, **kw)
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_wheel_installs_and_finds_its_grammar(tmp_path):
    pytest.importorskip("hatchling")
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--no-index", "--quiet", "-w", str(dist), str(ROOT))
    (wheel,) = dist.glob("mpql-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "mpql/grammar/mpql.lark" in names
    assert "mpql/py.typed" in names
    assert not [n for n in names if n.startswith("tests/")]

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
        "--no-index", "--quiet", str(wheel))
    # lark and attrs from this environment; a plain path entry (not a site dir), so the
    # editable install's .pth hook there is not processed and cannot shadow the wheel.
    site = run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    deps = Path(sysconfig.get_paths()["purelib"])
    Path(site.stdout.strip(), "test-deps.pth").write_text(f"{deps}\n", encoding="utf-8")

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = run(str(python), "-c",
                "import mpql.language.parser as p; print(p.grammar_path()); print(p.__file__)",
                cwd=outside)
    grammar, module = where.stdout.split()
    assert Path(grammar).is_relative_to(venv) and Path(module).is_relative_to(venv)

    result = run(str(bindir / "mpql"), "parse", "--json", "-e", 'properties["a"] == 1',
                 cwd=outside)
    assert json.loads(result.stdout)["type"] == "Compare"
    bad = subprocess.run([str(bindir / "mpql"), "fmt", "-e", 'properties["a"] === 1'],
                         capture_output=True, text=True, cwd=outside, timeout=60)
    assert bad.returncode == 2 and "E101" in bad.stderr

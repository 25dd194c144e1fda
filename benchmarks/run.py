"""Run the benchmarks: every benchmarks/bench_*.py, or the ones named on the command line.

    python benchmarks/run.py                 # all of them
    python benchmarks/run.py parse lint      # bench_parse.py and bench_lint.py
    make bench

Each benchmark is a script that prints its own table (side-by-side ratios against a reference
measured in the same run); this runner only finds them, runs each in a fresh interpreter and
reports which ones failed. Benchmarks are measurements, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if argv:
        scripts = []
        for name in argv:
            stem = name.removeprefix("bench_").removesuffix(".py")
            path = HERE / f"bench_{stem}.py"
            if not path.is_file():
                known = ", ".join(p.stem.removeprefix("bench_") for p in sorted(HERE.glob("bench_*.py")))
                print(f"run.py: no benchmark `{name}` (known: {known})", file=sys.stderr)
                return 2
            scripts.append(path)
    else:
        scripts = sorted(HERE.glob("bench_*.py"))
    failed = []
    for script in scripts:
        print(f"=== {script.name}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        print(f"=== {script.name}: {'ok' if result.returncode == 0 else 'FAILED'} "
              f"in {time.perf_counter() - started:.1f} s\n", flush=True)
        if result.returncode:
            failed.append(script.name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

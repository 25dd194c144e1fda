"""Linting Python hosts: what finding only clearly-Mixpanel expressions costs.

Side by side, in the same run, on the same files (each timing is the best of ``REPEAT``):

* reference — ``ast.parse`` of every file (the least any extractor of Python literals does);
* ``lint_text`` on every ``.py`` file of this repository (``mpql/``, ``tests/``,
  ``benchmarks/``, ``examples/``): mostly code that is not Mixpanel, which the linter skips
  without parsing unless it mentions mixpanel, mpql or a Mixpanel API path;
* ``lint_text`` on a generated Mixpanel-heavy file: ``N`` functions each sending a request to
  a Mixpanel URL through a params variable (name resolution, URL constants, endpoints), against
  ``ast.parse`` of that file.

Run: ``python benchmarks/bench_lint_python.py [N]`` (default 2 000).
"""

from __future__ import annotations

import ast
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mpql.checker.lint import LintOptions, lint_text  # noqa: E402

REPEAT = 3


def _best(fn) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _generated(n: int) -> str:
    lines = ["import requests", 'API = "https://data-eu.mixpanel.com/api/2.0"',
             'ENGAGE = "https://eu.mixpanel.com/api/query/engage"', ""]
    for i in range(n):
        if i % 2:
            lines += [f"def export_{i}(day):",
                      '    params = {"from_date": day, "to_date": day}',
                      f"    params[\"where\"] = 'properties[\"plan\"] == \"p{i}\"'",
                      '    return requests.get(f"{API}/export", params=params)', ""]
        else:
            lines += [f"def engage_{i}():",
                      f"    return requests.post(ENGAGE, data={{\"where\": "
                      f"'properties[\"age\"] > {i}'}})", ""]
    return "\n".join(lines)


def main(n: int) -> None:
    options = LintOptions()
    files = [p for folder in ("mpql", "tests", "benchmarks", "examples")
             for p in sorted((ROOT / folder).rglob("*.py"))]
    texts = [(str(p), p.read_text(encoding="utf-8")) for p in files]
    lines = sum(t.count("\n") for _, t in texts)
    parse = _best(lambda: [ast.parse(t) for _, t in texts])
    lint = _best(lambda: [lint_text(t, name, options) for name, t in texts])
    print(f"repository: {len(texts)} files, {lines} lines")
    print(f"  ast.parse (reference)      {parse * 1000:8.1f} ms   1.00 x")
    print(f"  lint_text                  {lint * 1000:8.1f} ms   {lint / parse:.2f} x")
    text = _generated(n)
    units = len(lint_text(text, "gen.py", LintOptions(select=("ALL",), extend_select=())))
    parse = _best(lambda: ast.parse(text))
    lint = _best(lambda: lint_text(text, "gen.py", options))
    print(f"generated: {n} Mixpanel requests, {text.count(chr(10))} lines "
          f"({units} findings with ALL)")
    print(f"  ast.parse (reference)      {parse * 1000:8.1f} ms   1.00 x")
    print(f"  lint_text                  {lint * 1000:8.1f} ms   {lint / parse:.2f} x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)

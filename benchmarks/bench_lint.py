"""Lint throughput: expressions per second on a generated file of 10 000 expressions.

Side by side, in the same run and on the same corpus:

* reference — ``mpql.parse`` alone (the lark LALR parser the checker sits on);
* ``mpql.check`` — parse + type/scope inference + every default rule;
* ``lint_text`` — the linter on the whole ``.mpql`` file (splitting, directives, noqa,
  mapping to file positions);
* ``mpql lint FILE`` — the CLI in a subprocess (includes interpreter start-up);
* ``mpql lint --baseline B FILE`` — the same with a baseline of every finding (fingerprinting
  re-parses each expression that has a finding).

Run: ``python benchmarks/bench_lint.py [N]`` (default 10 000). Prints one line per measure
and the ratio to the reference; the corpus is deterministic (seeded).
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mpql  # noqa: E402
from mpql.checker.lint import LintOptions, lint_text  # noqa: E402

PROPS = ['properties["$os"]', 'properties["$browser"]', 'properties["plan"]',
         'properties["age"]', 'user["$email"]', 'properties["$time"]',
         'properties["distinct_id"]', "properties['$city']", 'properties["$screen_width"]']
VALUES = ['"iOS"', '"Chrome"', '"pro"', "42", "1e3", "true", '"2024-01-01T00:00:00"',
          'datetime("2024-01-31")', "datetime(NOW - 604800)", "[1, 2, 3]", '"18"']


def _cond(rng: random.Random, depth: int = 0) -> str:
    kind = rng.randrange(6 if depth < 2 else 3)
    if kind == 0:
        return f"{rng.choice(PROPS)} {rng.choice(['==', '!=', '>', '<='])} {rng.choice(VALUES)}"
    if kind == 1:
        return f"defined({rng.choice(PROPS)})"
    if kind == 2:
        return f'"{rng.choice(["a", "yahoo", ""])}" in {rng.choice(PROPS)}'
    if kind == 3:
        return "not " + _cond(rng, depth + 1)
    word = rng.choice(["and", "or"])
    return f"({_cond(rng, depth + 1)}) {word} {_cond(rng, depth + 1)}"


def corpus(n: int, seed: int = 20261127) -> list[str]:
    rng = random.Random(seed)
    return [_cond(rng) for _ in range(n)]


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(n: int = 10_000) -> None:
    exprs = corpus(n)
    text = "# mpql: endpoint=export\n\n" + "\n\n".join(exprs) + "\n"
    mpql.parse(exprs[0])  # build the parser outside the timings
    results = []
    t_parse = _time(lambda: [mpql.parse(e) for e in exprs])
    results.append(("reference: mpql.parse", t_parse))
    findings = []
    t_check = _time(lambda: findings.extend(d for e in exprs
                                            for d in mpql.check(e, endpoint="export")))
    results.append(("mpql.check (parse + rules)", t_check))
    t_lint = _time(lambda: lint_text(text, "bench.mpql", LintOptions()))
    results.append(("lint_text on the .mpql file", t_lint))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.mpql"
        path.write_text(text, encoding="utf-8")
        t_cli = _time(lambda: subprocess.run(
            [sys.executable, "-m", "mpql", "lint", "--isolated", "--statistics", str(path)],
            capture_output=True, check=False))
        base = Path(tmp) / "baseline.json"
        subprocess.run([sys.executable, "-m", "mpql", "lint", "--isolated",
                        "--write-baseline", str(base), str(path)], capture_output=True,
                       check=True)
        t_base = _time(lambda: subprocess.run(
            [sys.executable, "-m", "mpql", "lint", "--isolated", "--statistics",
             "--baseline", str(base), str(path)], capture_output=True, check=True))
    results.append(("mpql lint FILE (subprocess)", t_cli))
    results.append(("mpql lint --baseline (subproc.)", t_base))
    print(f"lint throughput, {n} expressions ({len(findings)} findings from mpql.check)")
    for label, seconds in results:
        print(f"  {label:32} {n / seconds:10,.0f} expr/s   {seconds:7.3f} s   "
              f"{seconds / t_parse:5.2f}x reference time")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)

"""Compiled ``any(...)`` and ``string(x, default)`` filters against hand-written lambdas.

    python benchmarks/bench_any.py [--records N] [--rounds N]

The filters are the forms Mixpanel's hot-shard docs write (docs/language.md, "Mixpanel's own
spellings"), over events whose ``tags`` is a list (70 %), a single string (15 %) or missing.
Each lambda is the plain Python a person would write for the same meaning (a scalar does not
match ``any``: the default ``Semantics.any_non_list``); results are checked equal first.
CPU time (``time.process_time``) of one pass, best of interleaved rounds, so machine load
affects both sides alike. ``"vip" in properties["tags"]`` (an older fast path) is a reference.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mpql.evaluator import compile_predicate  # noqa: E402

TAGS = ["vip", "beta", "partner", "newsletter", "webinar", "churn-risk", "trial"]


def records(n: int) -> list[dict]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        p = {"plan": rng.choice(["pro", "free"]), "n": i % 50}
        k = rng.random()
        if k < 0.7:
            p["tags"] = rng.sample(TAGS, rng.randint(0, 4))
        elif k < 0.85:
            p["tags"] = rng.choice(TAGS)
        out.append({"event": "e", "properties": p})
    return out


def lam_any(r):
    t = r["properties"].get("tags")
    return type(t) is list and any(x == "vip" for x in t)


def lam_in(r):
    t = r["properties"].get("tags")
    return (type(t) is list and "vip" in t) or (type(t) is str and "vip" in t)


def lam_hot(r):
    t = r["properties"].get("tags")
    if t is None:
        return False
    return (type(t) is list and any(x == "vip" for x in t)) or (type(t) is str and t == "vip")


CASES = [
    ('any(X, properties["tags"], X == "vip")', lam_any),
    ('"vip" in properties["tags"]', lam_in),
    ('(defined (properties["tags"])) AND ((any(X, properties["tags"], X="vip")) OR '
     '(string(properties["tags"], "undefined") == "vip"))', lam_hot),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    recs = records(args.records)
    print(f"{len(recs):,} records, best of {args.rounds} rounds (CPU time)")
    print(f"{'filter':<70} {'mpql ns':>8} {'lambda ns':>9} {'ratio':>6}")
    for text, lam in CASES:
        f = compile_predicate(text)
        assert [f(r) for r in recs] == [lam(r) for r in recs], text
        best = {"mpql": float("inf"), "lambda": float("inf")}
        for _ in range(args.rounds):
            for label, fn in (("mpql", f), ("lambda", lam)):
                start = time.process_time()
                for r in recs:
                    fn(r)
                best[label] = min(best[label], time.process_time() - start)
        shown = text if len(text) <= 70 else text[:67] + "..."
        print(f"{shown:<70} {best['mpql'] * 1e9 / len(recs):8.0f} "
              f"{best['lambda'] * 1e9 / len(recs):9.0f} {best['mpql'] / best['lambda']:6.2f}")


if __name__ == "__main__":
    main()

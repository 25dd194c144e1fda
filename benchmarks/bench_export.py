"""Export throughput and peak memory: `mpql run` side by side with `curl` on the same requests.

    python benchmarks/bench_export.py [--sizes 30,120,300] [--workers 4] [--keep DIR]

For each target size (MB of uncompressed JSONL) a deterministic dataset is generated, served by
the sandbox in a separate process (so the server's CPU is not charged to the client; limits off,
because the benchmark measures transfer, not pacing), and downloaded twice:

* curl: one process, the same day-chunk URLs, ``--compressed`` (gzip like mpql), 4 in parallel
  (``--parallel-max`` = mpql's ``--workers``), bodies written to a file;
* mpql: ``python -m mpql run --events -o FILE`` (with interpreter start-up, credentials from the
  environment, chunk validation, fsync per chunk and the resume state file).

Reported: seconds, MB/s, the ratio mpql/curl throughput (target >= 0.8), and mpql's peak RSS
(``ru_maxrss`` of the child; target <= 100 MB and flat in the export size). Both downloads are
checked to have the same number of lines. Not a test: nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER = r"""
import sys, time
from mpql.sandbox import Sandbox
from mpql.sandbox._limits import Limits
sb = Sandbox(sys.argv[1], limits=Limits.unlimited()).start()
print(sb.url, flush=True)
while True:
    time.sleep(3600)
"""


def run_measured(cmd, env=None, stdin=None) -> tuple[float, int, float]:
    """(wall seconds, peak RSS in KB, CPU seconds user+sys) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE if stdin else None,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if stdin:
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            n += block.count(b"\n")
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="30,120,300", help="target sizes in MB, comma-separated")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--days", type=int, default=12)
    ap.add_argument("--keep", metavar="DIR", help="keep datasets here (reused across runs)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="alternate curl and mpql this many times; medians are reported")
    args = ap.parse_args()
    if not shutil.which("curl"):
        raise SystemExit("curl is not installed (apt-get install curl)")

    from mpql.sandbox._data import FORMAT, generate

    root = Path(args.keep or tempfile.mkdtemp(prefix="mpql-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        data = root / f"data-{size}mb"
        end = dt.date(2024, 6, 30)
        manifest_file = data / "manifest.json"
        if not manifest_file.exists() or json.loads(manifest_file.read_text()).get(
                "format") != FORMAT:
            # ~0.45 KB per event in the generated data; calibrated from the first day file.
            per_event_kb = 0.45
            epud = 10.0
            users = max(1, int(size * 1024 / per_event_kb / args.days / epud))
            generate(data, users=users, days=args.days, events_per_user_day=epud,
                     end_date=end, overwrite=True)
        manifest = json.loads((data / "manifest.json").read_text())
        first, last = manifest["first_date"], manifest["last_date"]
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(data)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            url = server.stdout.readline().strip()
            if not url.startswith("http"):
                raise SystemExit(f"the sandbox server did not start for {data}")
            from mpql.sandbox._server import DEFAULT_PROJECT_ID, DEFAULT_SECRET, DEFAULT_USERNAME

            days = []
            d = dt.date.fromisoformat(first)
            while d <= dt.date.fromisoformat(last):
                days.append(d.isoformat())
                d += dt.timedelta(days=1)
            work = Path(tempfile.mkdtemp(prefix="out-", dir=root))
            # curl: credentials via a config on stdin (never argv), one output file per chunk
            config = [f'user = "{DEFAULT_USERNAME}:{DEFAULT_SECRET}"', "compressed", "silent",
                      "fail"]
            for day in days:
                config.append(f'url = "{url}/api/2.0/export?project_id={DEFAULT_PROJECT_ID}'
                              f'&from_date={day}&to_date={day}"')
                config.append(f'output = "{work}/curl-{day}.jsonl"')
            env = dict(os.environ, MP_USERNAME=DEFAULT_USERNAME, MP_SECRET=DEFAULT_SECRET,
                       MP_PROJECT_ID=str(DEFAULT_PROJECT_ID))
            out = work / "mpql.jsonl"
            curl_runs, mpql_runs = [], []
            for _ in range(args.repeat):  # alternate, so load changes hit both alike
                curl_runs.append(run_measured(
                    ["curl", "--parallel", "--parallel-max", str(args.workers), "-K", "-"],
                    stdin="\n".join(config) + "\n"))
                curl_lines = sum(count_lines(work / f"curl-{day}.jsonl") for day in days)
                nbytes = sum((work / f"curl-{day}.jsonl").stat().st_size for day in days)
                for day in days:
                    (work / f"curl-{day}.jsonl").unlink()
                mpql_runs.append(run_measured(
                    [sys.executable, "-m", "mpql", "run", "--events", "--from", first, "--to",
                     last, "--chunk", "day", "-o", str(out), "--quiet", "--base-url", url,
                     "--workers", str(args.workers), "--export-per-second", "1000",
                     "--export-per-hour", "100000"], env=env))
                mpql_lines = count_lines(out)
                out.unlink()
            shutil.rmtree(work, ignore_errors=True)
        finally:
            server.terminate()
            server.wait()
        if mpql_lines != curl_lines:
            raise SystemExit(f"line counts differ: mpql {mpql_lines}, curl {curl_lines}")
        mb = nbytes / 1e6
        print(f"  {size} MB runs: curl s {[round(r[0], 2) for r in curl_runs]}, mpql s "
              f"{[round(r[0], 2) for r in mpql_runs]}, mpql RSS MB "
              f"{[round(r[1] / 1024, 1) for r in mpql_runs]}", flush=True)
        med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        rows.append((size, mb, curl_lines, med([r[0] for r in curl_runs]),
                     med([r[0] for r in mpql_runs]), max(r[1] for r in mpql_runs) / 1024,
                     med([r[2] for r in curl_runs]), med([r[2] for r in mpql_runs])))
    print(f"{'target':>6} {'MB':>6} {'events':>8} {'curl s':>7} {'mpql s':>7} {'curl MB/s':>9} "
          f"{'mpql MB/s':>9} {'ratio':>6} {'curl cpu':>8} {'mpql cpu':>8} {'mpql RSS MB':>11}")
    for size, mb, lines, cs, ms, rss, ccpu, mcpu in rows:
        print(f"{size:>6} {mb:>6.1f} {lines:>8} {cs:>7.2f} {ms:>7.2f} {mb / cs:>9.1f} "
              f"{mb / ms:>9.1f} {cs / ms:>6.2f} {ccpu:>8.2f} {mcpu:>8.2f} {rss:>11.1f}")
    print(f"medians of {args.repeat} alternating runs; ratio = mpql throughput / curl "
          "throughput (target >= 0.8); cpu = client CPU seconds (user+sys); RSS = peak of "
          "the mpql process (target <= 100 MB, flat in size)")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Sandbox export throughput, side by side with references measured in the same run.

    python benchmarks/bench_sandbox.py [--mb 100] [--repeat 3]

A deterministic dataset of about ``--mb`` MB of JSONL is generated (cached under the temp dir),
then ``curl`` downloads the whole range:

* from the sandbox (`mpql sandbox serve --no-limits`, a separate process): plain, gzip,
  ``time_in_ms=true``, and with a ``where``;
* the same bytes as one static file from Python's own ``http.server`` (reference: the stdlib
  serving a file, no parsing at all);
* ``gzip -1`` compressing the same bytes (reference for the gzip row: compression alone).

Each row is the median of ``--repeat`` runs. Nothing here asserts a time; it prints a table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listening on port {port} after {timeout} s")


def curl(url: str, *extra: str) -> tuple[float, int]:
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{time_total} %{size_download}", *extra, url],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def median_run(fn, repeat: int) -> tuple[float, int]:
    runs = [fn() for _ in range(repeat)]
    return statistics.median(t for t, _ in runs), runs[0][1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not shutil.which("curl"):
        print("bench_sandbox: curl not found; skipping (it is the client of every row)")
        return 0
    from mpql.sandbox import generate
    from mpql.sandbox._server import DEFAULT_PROJECT_ID, DEFAULT_SECRET, DEFAULT_USERNAME

    # ~0.5 KB per event: users × days × events-per-user-day ≈ MB × 2000
    days, epud = 10, 10
    users = max(10, int(args.mb * 2000 / (days * epud)))
    data = Path(tempfile.gettempdir()) / f"mpql-bench-sandbox-{users}u"
    if not (data / "manifest.json").exists():
        t0 = time.perf_counter()
        ds = generate(data, users=users, days=days, events_per_user_day=epud, seed=1,
                      end_date="2026-10-31", overwrite=True)
        print(f"generated {ds.manifest['events']} events in {time.perf_counter() - t0:.1f} s")
    from mpql.sandbox import Dataset

    ds = Dataset(data)
    static_dir = Path(tempfile.mkdtemp(prefix="mpql-bench-static-"))
    flat = static_dir / "export.jsonl"
    with flat.open("wb") as out:
        for f in ds.day_files(ds.first_date, ds.last_date):
            out.write(f.read_bytes())
    size_mb = flat.stat().st_size / 1e6

    sb_port, st_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-m", "mpql", "sandbox", "serve", "--data", str(data),
                          "--port", str(sb_port), "--no-limits", "-q"],
                         stdout=subprocess.DEVNULL, env=env),
        subprocess.Popen([sys.executable, "-m", "http.server", str(st_port), "--bind", "127.0.0.1",
                          "--directory", str(static_dir)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        wait_port(sb_port)
        wait_port(st_port)
        base = (f"http://127.0.0.1:{sb_port}/api/2.0/export?project_id={DEFAULT_PROJECT_ID}"
                f"&from_date={ds.first_date}&to_date={ds.last_date}")
        auth = ("-u", f"{DEFAULT_USERNAME}:{DEFAULT_SECRET}")
        static = median_run(lambda: curl(f"http://127.0.0.1:{st_port}/export.jsonl"), args.repeat)
        rows = [
            ("static file, stdlib http.server (reference)", static, static[0]),
            ("sandbox export, plain", median_run(lambda: curl(base, *auth), args.repeat), static[0]),
            ("sandbox export, time_in_ms=true", median_run(lambda: curl(base + "&time_in_ms=true", *auth), args.repeat), static[0]),
        ]

        def gzip_cli():
            t0 = time.perf_counter()
            with flat.open("rb") as fh:
                subprocess.run(["gzip", "-1", "-c"], stdin=fh, stdout=subprocess.DEVNULL, check=True)
            return time.perf_counter() - t0, 0

        gz_ref = median_run(gzip_cli, args.repeat) if shutil.which("gzip") else None
        gz = median_run(lambda: curl(base, *auth, "-H", "Accept-Encoding: gzip"), args.repeat)
        if gz_ref:
            rows.append(("gzip -1 of the same bytes (reference)", gz_ref, gz_ref[0]))
        rows.append(("sandbox export, gzip", gz, gz_ref[0] if gz_ref else None))
        where = "&where=" + "properties%5B%22%24os%22%5D%20%3D%3D%20%22iOS%22"
        rows.append(("sandbox export, where $os == \"iOS\"", median_run(lambda: curl(base + where, *auth), args.repeat), None))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(static_dir, ignore_errors=True)

    print(f"\n{ds.manifest['events']} events, {size_mb:.0f} MB of JSONL; median of {args.repeat} runs; client: curl\n")
    print(f"{'what':<46} {'time':>8} {'JSONL MB/s':>11} {'on wire':>10} {'time / ref':>11}")
    for name, (t, wire), ref in rows:
        ratio = f"{t / ref:.2f}x" if ref else "-"
        print(f"{name:<46} {t:>7.2f}s {size_mb / t:>11.0f} {wire / 1e6 if wire else size_mb:>8.1f}MB {ratio:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

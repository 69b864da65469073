"""200 requests at once to ``forecast app`` on 127.0.0.1 (a benchmark, not a test).

Starts ``forecast app`` (a process of its own), has it compute one state once (what a page
asks for first), then sends ``--requests`` requests at the same moment from as many threads: the
forecast JSON, the fan chart and summary.csv of that cached state, in turn. Prints how many
were answered, answered "busy" (503), reset or failed; whether every answer equals the
CLI's (the headline computed from ``forecast run``'s own ``result_from_settings``, its
summary.csv, one PNG for all fan charts); and the median, 95th percentile and slowest time
of each kind.

    PYTHONPATH=. python bench/app_load.py [--requests 200] [--samples 20000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from outputs.cli import build_parser
from outputs.commands.common import forecast_settings, result_from_settings
from outputs.tables import write_tables


def _get(port: int, path: str) -> tuple[int, bytes, float]:
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read(), time.perf_counter() - start
    finally:
        connection.close()


def _cli_answers(samples: int) -> tuple[str, bytes]:
    """The headline line and summary.csv of ``forecast run --samples N`` (the page's state)."""
    result = result_from_settings(forecast_settings(build_parser().parse_args(["run", "--samples", str(samples)])))
    cell = result.timeline.sel(threshold=1e28, year=2028)
    p, mcse = float(cell["probability"]), float(cell["mcse"])
    headline = f"P(≥1e28 FLOP by 2028) = {100 * p:.1f}% ± {100 * mcse:.1f}%"
    with tempfile.TemporaryDirectory() as folder:
        write_tables(result, folder)
        return headline, Path(folder, "summary.csv").read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--samples", type=int, default=20_000)
    args = parser.parse_args()

    # the app as a user starts it, in a process of its own (this one only sends requests)
    repo = Path(__file__).resolve().parents[1]
    app = subprocess.Popen([sys.executable, "-m", "outputs.cli", "app", "--port", "0", "--no-browser"],
                           cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           env={**os.environ, "PYTHONPATH": str(repo)})
    port = int(app.stdout.readline().split("127.0.0.1:")[1].split("/")[0])
    query = f"samples={args.samples}"
    paths = {"forecast": f"/api/forecast?{query}", "fan.png": f"/api/plot/fan.png?{query}",
             "summary.csv": f"/download/summary.csv?{query}"}
    start = time.perf_counter()
    fan = _get(port, paths["fan.png"])[1]  # computes and draws the state once
    _get(port, paths["summary.csv"])
    print(f"first answers (compile, {args.samples:,} worlds, fan chart, summary.csv): "
          f"{time.perf_counter() - start:.1f} s")
    headline, summary = _cli_answers(args.samples)
    expected = {"fan.png": fan, "summary.csv": summary}

    kinds = [list(paths)[i % len(paths)] for i in range(args.requests)]
    results: list = [None] * args.requests
    barrier = threading.Barrier(args.requests)

    def one(i: int) -> None:
        barrier.wait()
        try:
            results[i] = _get(port, paths[kinds[i]])
        except (ConnectionResetError, BrokenPipeError) as err:
            results[i] = ("reset", repr(err), 0.0)
        except Exception as err:  # noqa: BLE001 -- counted and shown
            results[i] = ("failed", repr(err), 0.0)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(args.requests)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start

    counts = {"ok": 0, "busy (503)": 0, "reset": 0, "failed": 0, "other status": 0}
    unequal = 0
    times: dict[str, list[float]] = {kind: [] for kind in paths}
    for kind, (status, body, seconds) in zip(kinds, results):
        if status in ("reset", "failed"):
            counts[status] += 1
            continue
        if status == 503:
            counts["busy (503)"] += 1
            continue
        if status != 200:
            counts["other status"] += 1
            continue
        counts["ok"] += 1
        times[kind].append(seconds)
        if kind == "forecast":
            equal = json.loads(body)["headline"]["text"] == headline
        else:
            equal = body == expected[kind]
        unequal += not equal
    print(f"{args.requests} requests at once, all answered in {wall:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"answers equal to the CLI: {counts['ok'] - unequal} of {counts['ok']}")
    for kind, seconds in times.items():
        if seconds:
            seconds.sort()
            p95 = seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))]
            print(f"  {kind:12s} n={len(seconds):3d}  median {statistics.median(seconds):.2f} s  "
                  f"p95 {p95:.2f} s  slowest {seconds[-1]:.2f} s")
    app.send_signal(signal.SIGINT)
    app.wait(timeout=60)


if __name__ == "__main__":
    main()

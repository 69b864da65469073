"""Benchmark: what six labs cost against one, as a user waits for ``forecast run``.

Three prior sets, each run as a user runs it (a fresh process, default outputs: conditioned
on the record, samples.nc, tables and plots, into a new folder), with a shared compile
cache filled by one run of each first:

- ``v3``: the default priors (six labs),
- ``v3 --labs 1``: the same priors as one lab,
- ``v2``: ``priors/scenarios/v2.toml``, the default before labs.

Repeats alternate between them and each keeps its fastest wall time and its peak memory,
so load from other processes hits all alike. Printed: the times, the ratio of six labs to
one and of v3 to v2, both measured in this run; then the same at a larger world count,
where the marginal cost per world (the slope between the two counts) compares the model's
own cost per world, without the fixed start-up, writing and plotting.

    python -m bench.labs [--samples 100000] [--more 400000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench.end_to_end import timed_run

CASES = {
    "v3 (6 labs)": [],
    "v3 --labs 1": ["--labs", "1"],
    "v2": ["--priors", "priors/scenarios/v2.toml"],
}


def best_times(samples: int, repeats: int, tmp: Path, cache: Path) -> dict[str, tuple[float, float, float]]:
    """``{case: (fastest wall s, least CPU s, peak GB)}`` over ``repeats`` alternating runs."""
    best: dict[str, tuple[float, float, float]] = {}
    for r in range(repeats):
        for name, extra in CASES.items():
            out = tmp / f"{name.split()[0]}-{len(extra)}-{samples}-{r}"
            wall, rss, cpu = timed_run(samples, out, cache, extra=extra)
            old = best.get(name, (wall, cpu, rss))
            best[name] = (min(wall, old[0]), min(cpu, old[1]), max(rss, old[2]))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=float, default=1e5)
    parser.add_argument("--more", type=float, default=4e5, help="a larger count for the marginal cost (0: skip)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n1, n2 = int(args.samples), int(args.more)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache = tmp / "cache"
        for name, extra in CASES.items():  # fill the compile cache: every later run is warm
            timed_run(1000, tmp / f"warm-{len(extra)}-{name.split()[0]}", cache, extra=extra)
        small = best_times(n1, args.repeats, tmp, cache)
        large = best_times(n2, args.repeats, tmp, cache) if n2 > n1 else {}
    print(f"load average after the runs: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} cores; the wall times "
          "mean little where it is above the cores, the CPU times less so)")
    print(f"{'prior set':<14}  {'worlds':>9}  {'wall s':>7}  {'CPU s':>7}  {'peak GB':>7}")
    for times, n in ((small, n1), (large, n2)):
        for name, (wall, cpu, rss) in times.items():
            print(f"{name:<14}  {n:>9,}  {wall:>7.1f}  {cpu:>7.1f}  {rss:>7.2f}")
    for i, what in ((0, "wall"), (1, "CPU")):
        six, one, v2 = (small[k][i] for k in CASES)
        print(f"forecast run, {n1:,} worlds, {what}: 6 labs / 1 lab = {six / one:.2f}x; v3 / v2 = {six / v2:.2f}x")
    if large:
        for i, what in ((0, "wall"), (1, "CPU")):
            slope = {k: (large[k][i] - small[k][i]) / ((n2 - n1) / 1e6) for k in CASES}
            s6, s1, s2 = (slope[k] for k in CASES)
            print(f"marginal {what} s per million worlds: " + ", ".join(f"{k} {v:.1f}" for k, v in slope.items())
                  + f"; per world 6 labs / 1 lab = {s6 / s1:.2f}x (6 labs), v3 / v2 = {s6 / s2:.2f}x")


if __name__ == "__main__":
    main()

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
import tempfile
from pathlib import Path

from bench.end_to_end import timed_run

CASES = {
    "v3 (6 labs)": [],
    "v3 --labs 1": ["--labs", "1"],
    "v2": ["--priors", "priors/scenarios/v2.toml"],
}


def best_times(samples: int, repeats: int, tmp: Path, cache: Path) -> dict[str, tuple[float, float]]:
    """``{case: (fastest wall s, peak GB)}`` over ``repeats`` alternating runs."""
    best: dict[str, tuple[float, float]] = {}
    for r in range(repeats):
        for name, extra in CASES.items():
            out = tmp / f"{name.split()[0]}-{len(extra)}-{samples}-{r}"
            wall, rss = timed_run(samples, out, cache, extra=extra)
            if name not in best or wall < best[name][0]:
                best[name] = (wall, max(rss, best.get(name, (0, 0))[1]))
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
    print(f"{'prior set':<14}  {'worlds':>9}  {'wall s':>7}  {'peak GB':>7}")
    for times, n in ((small, n1), (large, n2)):
        for name, (wall, rss) in times.items():
            print(f"{name:<14}  {n:>9,}  {wall:>7.1f}  {rss:>7.2f}")
    six, one, v2 = (small[k][0] for k in CASES)
    print(f"\nforecast run, {n1:,} worlds: 6 labs / 1 lab = {six / one:.2f}x; v3 / v2 = {six / v2:.2f}x")
    if large:
        slope = {k: (large[k][0] - small[k][0]) / ((n2 - n1) / 1e6) for k in CASES}
        s6, s1, s2 = (slope[k] for k in CASES)
        print(f"marginal cost per million worlds: " + ", ".join(f"{k} {v:.1f} s" for k, v in slope.items()))
        print(f"per world: 6 labs / 1 lab = {s6 / s1:.2f}x (the number of labs: 6); v3 / v2 = {s6 / s2:.2f}x")


if __name__ == "__main__":
    main()

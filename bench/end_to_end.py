"""Benchmark: ``forecast run`` as a user runs it, against NumPy computing the same worlds.

Each size runs ``forecast run --samples N`` in a fresh process with the default outputs
(conditioned on the record, samples.nc with the default --keep, tables and plots) into a
new folder, and records its wall time and peak resident memory. The first run uses an
empty JAX compile cache, the second the cache the first filled (the start-up a user sees
on a second run). The independent NumPy model (tests/numpy_model.py) computes 1e6 worlds
of the same priors and years in the same session: compute only, no summaries, no files.

Printed: start-up cost (the 1e4 run), marginal cost per million worlds (slope between the
two largest sizes), and its ratio to NumPy's compute-only cost per million worlds.

    python -m bench.end_to_end [--sizes 1e4,1e5,1e6,1e7]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.engine import time_numpy
from bench.timing import Timing, timed_command
from priors import load_prior_set


def timed_run(samples: int, out: Path, cache: Path, *, extra=()) -> Timing:
    """``forecast run --samples samples --out out [extra]``, timed (:func:`bench.timing.timed_command`)."""
    return timed_command(["run", "--samples", str(samples), "--out", str(out), *extra], cache=cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6,1e7")
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache = tmp / "cache"
        cold = timed_run(sizes[0], tmp / "cold", cache)
        rows = [(sizes[0], *cold[:2], "empty compile cache")]
        for n in sizes:
            rows.append((n, *timed_run(n, tmp / f"run-{n}", cache)[:2], "warm compile cache"))
    print(f"{'worlds':>12}  {'wall s':>8}  {'peak GB':>8}")
    for n, wall, rss, note in rows:
        print(f"{n:>12,}  {wall:>8.1f}  {rss:>8.2f}  {note}", flush=True)
    # the NumPy model is one lab's (tests/numpy_model.py): the default priors as one lab
    numpy_1e6 = time_numpy(load_prior_set(labs=1), 1_000_000, seed=0)
    warm = {n: wall for n, wall, _, note in rows if note.startswith("warm")}
    (n1, t1), (n2, t2) = sorted(warm.items())[-2:]
    marginal = (t2 - t1) / ((n2 - n1) / 1e6)
    print(f"\nstart-up (the {sizes[0]:,} run): {cold[0]:.1f} s with an empty compile cache, "
          f"{warm[sizes[0]]:.1f} s with the cache")
    print(f"marginal end-to-end cost: {marginal:.2f} s per million worlds ({n1:,} -> {n2:,})")
    print(f"NumPy, compute only, one lab: {numpy_1e6:.2f} s per million worlds")
    print(f"ratio (end to end / NumPy compute): {marginal / numpy_1e6:.2f}x")


if __name__ == "__main__":
    main()

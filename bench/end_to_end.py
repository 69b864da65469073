"""Benchmark: ``forecast run`` as a user runs it, against NumPy computing the same worlds.

Each size runs ``forecast run --samples N`` in a fresh process with the default outputs
(conditioned on the record, samples.nc with the default --keep, tables and plots) into a
new folder, and records its wall time and peak resident memory. The first run uses an
empty JAX compile cache; every other is a user's second run of its size: one run of the
same size before it, untimed, compiled the programs it calls. (A size's first run compiles
what a smaller one did not call: the pass's own model above 65,536 worlds, where the
10,000-world run keeps every world; the draws of the kept worlds, whose compiled width
follows how many fall in each chunk. Timing those runs put a compile into the 100,000-world
run, 6.1 s where it took 2.9 s warm, and made the marginal cost 1.18 s per million worlds,
one lab, where it was 2.34 when this was found.)

The independent NumPy model (tests/numpy_model.py, one lab) computes 1e6 worlds of the same
priors and years in the same session: compute only, no summaries, no files; and
:func:`bench.floor.floor` says what the same worlds cost at least on this machine.

Printed: start-up cost (the 1e4 run), marginal cost per million worlds (slope between the
two largest sizes), and its ratios to NumPy's compute-only cost and to the floor, per million
worlds. ``--labs 1`` runs the forecast with one lab (``forecast run --labs 1``), the worlds
the NumPy model computes; by default the runs have the prior file's six labs, and the ratio
to NumPy compares six labs with one.

    python -m bench.end_to_end [--sizes 1e4,1e5,1e6,1e7] [--labs 1]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.engine import time_numpy
from bench.floor import floor
from bench.timing import Timing, bytecode_note, timed_command
from priors import load_prior_set


def timed_run(samples: int, out: Path, cache: Path, *, extra=()) -> Timing:
    """``forecast run --samples samples --out out [extra]``, timed (:func:`bench.timing.timed_command`)."""
    return timed_command(["run", "--samples", str(samples), "--out", str(out), *extra], cache=cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6,1e7")
    parser.add_argument("--labs", type=int, default=None, help="N identical labs (default: the prior file's)")
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    extra = ("--labs", str(args.labs)) if args.labs else ()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache = tmp / "cache"
        cold = timed_run(sizes[0], tmp / "cold", cache, extra=extra)
        rows = [(sizes[0], *cold[:2], "empty compile cache")]
        for n in sizes:
            timed_run(n, tmp / f"warm-up-{n}", cache, extra=extra)  # its programs compiled
            rows.append((n, *timed_run(n, tmp / f"run-{n}", cache, extra=extra)[:2], "warm compile cache"))
    print(f"{'worlds':>12}  {'wall s':>8}  {'peak GB':>8}")
    for n, wall, rss, note in rows:
        print(f"{n:>12,}  {wall:>8.1f}  {rss:>8.2f}  {note}", flush=True)
    # the NumPy model is one lab's (tests/numpy_model.py): the default priors as one lab
    numpy_1e6 = time_numpy(load_prior_set(labs=1), 1_000_000, seed=0)
    priors = load_prior_set(labs=args.labs) if args.labs else load_prior_set()
    floor_1e6, _ = floor(priors, 1_000_000)
    warm = {n: wall for n, wall, _, note in rows if note.startswith("warm")}
    (n1, t1), (n2, t2) = sorted(warm.items())[-2:]
    marginal = (t2 - t1) / ((n2 - n1) / 1e6)
    print(f"\nstart-up (the {sizes[0]:,} run): {cold[0]:.1f} s with an empty compile cache, "
          f"{warm[sizes[0]]:.1f} s with the cache")
    print(f"marginal end-to-end cost: {marginal:.2f} s per million worlds ({n1:,} -> {n2:,}), "
          f"{len(priors.labs)} lab(s)")
    print(f"NumPy, compute only, one lab: {numpy_1e6:.2f} s per million worlds")
    print(f"ratio (end to end / NumPy compute): {marginal / numpy_1e6:.2f}x")
    print(f"floor (bench.floor), {len(priors.labs)} lab(s): {floor_1e6:.2f} s per million worlds")
    print(f"ratio (end to end / floor): {marginal / floor_1e6:.2f}x")
    print(bytecode_note())


if __name__ == "__main__":
    main()

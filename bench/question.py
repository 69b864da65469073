"""Benchmark: ``forecast question`` against ``forecast run`` at the same worlds.

Each command runs in a fresh process with the same compile cache (warmed by a first small
run), conditioned on the record as by default; ``run`` writes its folder, ``question``
writes nothing and keeps no worlds. Printed: wall seconds and peak resident memory of each,
at each size. ``question`` must answer in less time than ``run`` (issue 24).

    python -m bench.question [--sizes 1e5,3e5]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.timing import timed_command


def timed(args: list[str], cache: Path, cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of ``forecast ARGS`` in a new process."""
    return timed_command(args, cache=cache, cwd=cwd)[:2]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1e5,3e5")
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        timed(["question", "--threshold", "1e27", "--by", "2027-06-01", "--samples", "1000"], tmp / "cache", tmp)
        print(f"{'worlds':>10}  {'run s':>8}  {'question s':>10}  {'run GB':>7}  {'question GB':>11}")
        for n in sizes:
            run_s, run_gb = timed(["run", "--samples", str(n), "--out", str(tmp / f"run{n}")], tmp / "cache", tmp)
            q_s, q_gb = timed(["question", "--threshold", "1e27", "--by", "2027-06-01", "--samples", str(n)],
                              tmp / "cache", tmp)
            print(f"{n:>10,}  {run_s:>8.1f}  {q_s:>10.1f}  {run_gb:>7.2f}  {q_gb:>11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

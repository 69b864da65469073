"""Benchmark: ``forecast backtest`` as a user runs it, every method and default cutoff.

Runs the command in a fresh process (imports, JAX compilation, the four NUTS fits and the
two bottom-up hindcasts included), with its default settings (4 chains x 1000 draws per fit,
20,000 worlds per hindcast), and prints the wall
seconds and the peak resident memory. It must finish in under 10 minutes on 2 cores
(issue 26). Run it when nothing else shares the cores:

    python -m bench.backtest [--cores 2] [--args "--cutoffs 2016,2018,2020,2022"]
"""

from __future__ import annotations

import argparse
import shlex
import tempfile
from pathlib import Path

from bench.timing import timed_command

LIMIT_S = 600.0


def timed(args: list[str], cwd: Path, cores: int | None) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of ``forecast ARGS`` in a new process."""
    return timed_command(args, cwd=cwd, cores=cores)[:2]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", type=int, default=2, help="pin to this many cores (0: no pinning)")
    parser.add_argument("--args", default="", help="extra arguments of forecast backtest")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wall, gb = timed(["backtest", *shlex.split(args.args), "--out", str(Path(tmp) / "bt")], Path(tmp),
                         args.cores or None)
    verdict = "within" if wall < LIMIT_S else "OVER"
    print(f"forecast backtest {args.args}: {wall:.1f} s wall, {gb:.2f} GB peak ({verdict} the {LIMIT_S:.0f} s limit)")
    return 0 if wall < LIMIT_S else 1


if __name__ == "__main__":
    raise SystemExit(main())

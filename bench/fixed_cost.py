"""Benchmark: what a user waits for a ``forecast run``, against an earlier checkout, paired.

Issue 25's targets: the default run (100,000 worlds, conditioned, every file and plot)
under 4 s warm, ``forecast run --samples 1000`` under 3 s. Each case runs as a whole
process (:func:`bench.timing.timed_command`), this checkout and the ``--baseline`` one
alternately in the same session, each with a compile cache of its own that one run of each
case filled first (a user's second run: warm). Kept: each one's fastest of ``--repeats``
by CPU time (user + system; the steadier number on a shared machine). Printed: wall, CPU,
peak memory, and the ratios this / baseline.

    git worktree add --detach /tmp/forecast-base REF   # the code to compare with
    python -m bench.fixed_cost --baseline /tmp/forecast-base [--repeats 3] [--plots-here]

``--plots-here`` also times this checkout with ``FORECAST_PLOT_PROCESS=0`` (the plots drawn
in the command's own process, not beside the engine: :mod:`outputs.write.plot_process`).
The median wall time of the repeats is printed beside the fastest run's: a second process
spends CPU to save wall time, which the fastest by CPU time alone would not show.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from bench.timing import ROOT, bytecode_note, timed_command

#: The cases: a name and the arguments of ``forecast run`` (besides ``--out``).
CASES = {"default run (100,000 worlds)": [], "--samples 1000": ["--samples", "1000"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the code to compare with")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--plots-here", action="store_true", help="also this checkout, plots in its own process")
    args = parser.parse_args()
    codes = {"baseline": args.baseline.resolve(), "this": ROOT}
    envs = {"baseline": {}, "this": {}}
    if args.plots_here:
        codes["plots here"], envs["plots here"] = ROOT, {"FORECAST_PLOT_PROCESS": "0"}
    best: dict = {}
    walls: dict = {}
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def run(code, case, i):
            return timed_command(["run", *CASES[case], "--out", str(tmp / f"{code}-{i}"), "--force"],
                                 cache=tmp / f"cache-{code}", cwd=tmp, root=codes[code], env=envs[code])

        for case in CASES:
            for code in codes:
                run(code, case, "warm-up")
        for i in range(args.repeats):
            for case in CASES:
                for code in codes:
                    timing = run(code, case, i)
                    walls.setdefault((code, case), []).append(timing.wall)
                    if (code, case) not in best or timing.cpu < best[code, case].cpu:
                        best[code, case] = timing
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(f"{'case':<30}{'code':>11}{'wall s':>9}{'CPU s':>8}{'peak GB':>9}{'wall / base':>13}{'CPU / base':>12}"
          f"{'median wall':>13}{'/ base':>8}")
    for case in CASES:
        base = best["baseline", case]
        base_median = statistics.median(walls["baseline", case])
        for code in codes:
            t = best[code, case]
            median = statistics.median(walls[code, case])
            print(f"{case:<30}{code:>11}{t.wall:>9.2f}{t.cpu:>8.2f}{t.peak_gb:>9.2f}"
                  f"{t.wall / base.wall:>12.2f}x{t.cpu / base.cpu:>11.2f}x{median:>13.2f}{median / base_median:>7.2f}x")
    print(f"\nfastest of {args.repeats} by CPU time (and the median wall time), whole processes, "
          f"each code's compile cache warm; {bytecode_note()}")


if __name__ == "__main__":
    main()

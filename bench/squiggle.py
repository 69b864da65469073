"""Benchmark: ``forecast run`` against the same model written by hand in squigglepy.

The comparison of issue 25: a user who writes the bottom-up model themselves in
`squigglepy <https://github.com/rethinkpriorities/squigglepy>`_ (0.30), vectorised as its
documentation recommends (each input sampled as an array of n worlds, then NumPy
arithmetic over worlds x years), against ``forecast run --labs 1 --keep 0`` (one lab, no
world kept; its tables and plots written as usual). The hand-written model below has the
inputs of the default priors with one lab (36 uncertain inputs and the per-year
``run_share``, written as a squigglepy user would write them, the same 90% intervals and
correlations), 11 years, the same caps (chip supply, power, money), the soft data wall and
the latency wall, and prints the same summaries: P(>= 1e28 FLOP by each year) and the
median per year. It is the prior only: the forecast's conditioning on the record has no
counterpart in it, so ``forecast run --as-of none`` is timed too, the like-for-like row for
the arithmetic; and the script writes no file and draws no plot, so ``forecast run --format
none`` (the samples and tables written, no plot) is timed too, the like-for-like row for
what the command produces.

Each case runs as a whole process, as a user runs it, alternating between the cases and
keeping each one's fastest of ``--repeats`` (:mod:`bench.timing`); the forecast's compile
cache is filled by one run of each size first (a user's second run). Printed: the times,
peak memory, and the ratios forecast / squigglepy at each size, of wall time and of CPU time
(user + system: the steadier of the two on a shared machine).

    python -m bench.squiggle [--sizes 1e4,1e5,1e6] [--huge] [--repeats 3]
    python -m bench.squiggle --model 100000 [--seed 0]   # the squigglepy model alone

squigglepy is not a dependency of the package: ``pip install squigglepy``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

YEARS = np.arange(2025, 2036)
BASE_YEAR = 2024.0
THRESHOLD_LOG10 = 28.0
#: The compute scale the data wall's tokens-per-parameter ratio refers to, FLOP.
C_REF = 4e25
#: Llama 3 405B, the latency wall's reference model: parameters and layers.
N_REF, LAYERS_REF = 4.05e11, 126.0
#: Worlds sampled at a time (what keeps 1e7 worlds in memory).
BLOCK = 1_000_000


def _squigglepy():
    try:
        import squigglepy
    except ImportError:
        raise SystemExit("bench.squiggle needs squigglepy: pip install squigglepy") from None
    return squigglepy


def squiggle_inputs():
    """The default priors with one lab, as a squigglepy user writes them (``sq.lognorm(a, b)``
    is a 90% interval, as ``lognormal a to b`` is in a prior file)."""
    sq = _squigglepy()
    inputs = dict(
        lag_years=sq.uniform(0.4444, 1.5556),  # "uniform 0.5 to 1.5": a 90% interval
        chips_base=sq.lognorm(5e4, 2e5),
        chip_growth=sq.lognorm(1.4, 3.0),
        chip_flops_growth=sq.lognorm(1.25, 1.55),
        low_precision_year=sq.mixture([sq.uniform(2023, 2025), sq.uniform(2025, 2032)], [0.7, 0.3]),
        low_precision_gain=sq.uniform(1.3, 2.0),
        mfu=sq.beta(9.16, 17.01),  # mean 0.35, 90% in 0.20 to 0.50
        duration_days_base=sq.lognorm(50, 150),
        duration_growth=sq.lognorm(1.0, 1.25),
        duration_days_max=sq.uniform(180, 365),
        watts_per_chip_base=sq.lognorm(1200, 1800),
        watts_per_chip_growth=sq.lognorm(1.0, 1.2),
        power_limit_gw_base=sq.lognorm(0.1, 0.4),
        power_limit_growth=sq.lognorm(1.8, 4.0),
        power_limit_gw_max=sq.lognorm(2.5, 25),
        capex_per_chip_base=sq.lognorm(3.5e4, 7e4),
        capex_per_chip_growth=sq.lognorm(1.0, 1.3),
        capex_limit_usd_base=sq.lognorm(3e9, 1.5e10),
        capex_limit_growth=sq.lognorm(1.5, 3.5),
        capex_limit_usd_max=sq.lognorm(8e10, 1e12),
        text_tokens_base=sq.lognorm(4e13, 2e14),
        text_tokens_growth=sq.lognorm(1.0, 1.15),
        other_tokens_base=sq.lognorm(1e13, 1e14),
        other_tokens_growth=sq.lognorm(1.2, 2.2),
        epoch_worth_floor=sq.uniform(0.3, 0.8),
        repetition_decay=sq.lognorm(8, 30),
        tokens_per_param_ref=sq.lognorm(15, 45),
        tokens_per_param_slope=sq.norm(mean=0.0607, sd=0.03),
        tokens_per_param_scale=sq.lognorm(0.3, 1.0),
        layer_latency_s=sq.lognorm(1e-4, 1e-3),
        critical_batch_tokens_ref=sq.lognorm(8e6, 3.2e7),
        critical_batch_exponent=sq.uniform(0.15, 0.33),
        post_training_fraction_base=sq.lognorm(0.05, 0.5),
        post_training_fraction_growth=sq.lognorm(1.1, 2.0),
        post_training_fraction_max=sq.lognorm(0.3, 3),
        data_wall_softness=sq.uniform(0.2, 0.6),
    )
    # the prior file's rank correlations (Iman-Conover in squigglepy)
    group = ("chip_growth", "capex_limit_growth", "power_limit_growth", "power_limit_gw_max", "capex_limit_usd_max")
    ranks = [[1.0, 0.6, 0.5, 0.0, 0.0],
             [0.6, 1.0, 0.6, 0.0, 0.3],
             [0.5, 0.6, 1.0, 0.3, 0.0],
             [0.0, 0.0, 0.3, 1.0, 0.6],
             [0.0, 0.3, 0.0, 0.6, 1.0]]
    inputs.update(zip(group, sq.correlate(tuple(inputs[name] for name in group), ranks)))
    pair = ("chip_flops_growth", "duration_days_max")
    inputs.update(zip(pair, sq.correlate(tuple(inputs[name] for name in pair), -0.7)))
    run_share = sq.beta(1.78, 2.67)  # mean 0.4, 90% in 0.1 to 0.8; drawn afresh each year
    return inputs, run_share


def squiggle_log10_compute(n: int) -> np.ndarray:
    """log10 training compute (n, years) of ``n`` worlds of the hand-written model."""
    sq = _squigglepy()
    inputs, run_share = squiggle_inputs()
    v = {name: sq.sample(dist, n=n)[:, None] for name, dist in inputs.items()}  # (n, 1): broadcast on years
    share = sq.sample(run_share, n=n * len(YEARS)).reshape(n, len(YEARS))
    t = YEARS - BASE_YEAR - v["lag_years"]

    def grown(base, growth):
        return v[base] * v[growth] ** t

    supply = grown("chips_base", "chip_growth")
    power_cap = np.minimum(grown("power_limit_gw_base", "power_limit_growth"), v["power_limit_gw_max"]) * 1e9 \
        / grown("watts_per_chip_base", "watts_per_chip_growth")
    funding_cap = np.minimum(grown("capex_limit_usd_base", "capex_limit_growth"), v["capex_limit_usd_max"]) \
        / grown("capex_per_chip_base", "capex_per_chip_growth")
    chips = np.minimum(np.minimum(supply, power_cap), funding_cap)
    flops = 1e15 * v["chip_flops_growth"] ** t * np.where(YEARS >= v["low_precision_year"], v["low_precision_gain"], 1.0)
    days = np.minimum(grown("duration_days_base", "duration_growth"), v["duration_days_max"])
    hardware = chips * share * flops * v["mfu"] * days * 86400.0

    # data wall: the model sized for the effective data, trained on every raw token
    unique = grown("text_tokens_base", "text_tokens_growth") + grown("other_tokens_base", "other_tokens_growth")
    decay = v["repetition_decay"]
    epochs = 1.0 + decay * np.log(1.0 / v["epoch_worth_floor"])
    effective = unique * (1.0 - decay * np.expm1(-(epochs - 1.0) / decay))
    one_plus_slope = np.maximum(1.0 + v["tokens_per_param_slope"], 0.05)
    slope = one_plus_slope - 1.0
    ratio_ref = v["tokens_per_param_scale"] * v["tokens_per_param_ref"]
    data = (6.0 * effective * unique * epochs * C_REF**slope / ratio_ref) ** (1.0 / one_plus_slope)

    # latency wall: (D / B) L tau = duration
    b = v["critical_batch_exponent"]
    exponent = 2.0 / 3.0 + slope / 3.0 - b
    k = ((ratio_ref / C_REF**slope) ** (1.0 / 3.0) * 6.0 ** (-2.0 / 3.0) / v["critical_batch_tokens_ref"]
         * C_REF**b * LAYERS_REF / N_REF ** (1.0 / 3.0) * v["layer_latency_s"])
    with np.errstate(over="ignore"):
        wall = (days * 86400.0 / k) ** (1.0 / np.where(exponent > 0, exponent, 1.0))
    latency = np.minimum(np.where(exponent > 0, wall, np.inf), 1e100)

    available = np.minimum(hardware, latency)  # past the data wall: W (A / W)^softness
    pretraining = np.where(available > data, data * (available / data) ** v["data_wall_softness"], available)
    post = np.minimum(grown("post_training_fraction_base", "post_training_fraction_growth"),
                      v["post_training_fraction_max"])
    return np.log10(pretraining * (1.0 + post))


def squiggle_main(n: int, seed: int) -> None:
    """The user's whole script: sample, compute, summarise, print."""
    _squigglepy().set_seed(seed)
    log10 = np.concatenate([squiggle_log10_compute(min(BLOCK, n - first)) for first in range(0, n, BLOCK)])
    reached = np.maximum.accumulate(log10, axis=1) >= THRESHOLD_LOG10
    print(f"{n:,} worlds (squigglepy)\nyear  P(>=1e28 by year)  median log10 FLOP")
    for year, p, median in zip(YEARS, reached.mean(axis=0), np.median(log10, axis=0)):
        print(f"{year}  {p:17.3f}  {median:17.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e4,1e5,1e6")
    parser.add_argument("--huge", action="store_true", help="also 1e7 worlds")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", type=float, default=None, metavar="N",
                        help="run the squigglepy model alone on N worlds and print its summaries")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.model is not None:
        return squiggle_main(int(args.model), args.seed)
    _squigglepy()  # a clear message before any timing
    from bench.timing import bytecode_note, timed_command, timed_process

    sizes = [int(float(s)) for s in args.sizes.split(",")] + ([10**7] if args.huge else [])
    cases = {
        "squigglepy": lambda n, out: timed_process(["-m", "bench.squiggle", "--model", str(n)]),
        "forecast --as-of none": lambda n, out: timed_command(
            ["run", "--labs", "1", "--keep", "0", "--as-of", "none", "--samples", str(n), "--out", str(out)],
            cache=cache),
        "forecast": lambda n, out: timed_command(
            ["run", "--labs", "1", "--keep", "0", "--samples", str(n), "--out", str(out)], cache=cache),
        "forecast --format none": lambda n, out: timed_command(
            ["run", "--labs", "1", "--keep", "0", "--format", "none", "--samples", str(n), "--out", str(out)],
            cache=cache),
    }
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)",
          flush=True)
    best: dict[tuple[str, int], tuple[float, float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp, runs = Path(tmp), iter(range(10**9))
        cache = tmp / "cache"
        for n in sizes:  # fill the compile cache: a user's second run
            cases["forecast"](n, tmp / f"warm-{next(runs)}")
        for _ in range(args.repeats):
            for n in sizes:
                for name, case in cases.items():
                    wall, peak, cpu = case(n, tmp / f"run-{next(runs)}")
                    old = best.get((name, n), (np.inf, 0.0, np.inf))
                    best[name, n] = (min(old[0], wall), max(old[1], peak), min(old[2], cpu))
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(f"{'case':<24}{'worlds':>12}{'wall s':>9}{'CPU s':>8}{'peak GB':>9}"
          f"{'wall / squigglepy':>19}{'CPU / squigglepy':>18}")
    for n in sizes:
        base_wall, _, base_cpu = best["squigglepy", n]
        for name in cases:
            wall, peak, cpu = best[name, n]
            print(f"{name:<24}{n:>12,}{wall:>9.2f}{cpu:>8.2f}{peak:>9.2f}{wall / base_wall:>18.2f}x"
                  f"{cpu / base_cpu:>17.2f}x")
    print(f"\nfastest of {args.repeats}, whole processes; forecast's compile cache warm; {bytecode_note()}")


if __name__ == "__main__":
    sys.exit(main())

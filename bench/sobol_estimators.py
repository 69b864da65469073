"""Timings of the Sobol' estimators in forecast.sobol, with SALib for comparison.

Run: ``.venv/bin/python bench/sobol_estimators.py [--n-base 8192] [--k 25] [--years 11]``.

The model here is a cheap synthetic one (a weighted sum with an interaction and a
year-dependent weight), so the timings are those of the design and the estimators alone.
SALib's ``sobol.analyze`` handles one scalar output at a time; it is timed on one output
(``--salib-outputs`` of them) and its time per output is reported.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from forecast.sensitivity.sobol import saltelli_design, sobol_analyze


def synthetic_model(u: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Outputs of shape (n, len(years)): coordinates matter more or less as years pass."""
    k = u.shape[1]
    c = np.linspace(1.0, 0.1, k)
    t = (years - years[0])[None, :] / max(len(years) - 1, 1)
    base = (u * c).sum(axis=1)[:, None]
    return base * (1 + t) + 2.0 * t * u[:, [0]] * u[:, [1]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-base", type=int, default=8192)
    parser.add_argument("--k", type=int, default=25)
    parser.add_argument("--years", type=int, default=11)
    parser.add_argument("--n-bootstrap", type=int, default=500)
    parser.add_argument("--salib-outputs", type=int, default=1)
    args = parser.parse_args()

    years = np.arange(2025, 2025 + args.years)
    names = [f"p{i}" for i in range(args.k)]

    t0 = time.perf_counter()
    design = saltelli_design(args.k, args.n_base, seed=0)
    t1 = time.perf_counter()
    y = synthetic_model(design.u, years)
    t2 = time.perf_counter()
    ds = sobol_analyze(
        design, y, names, n_bootstrap=args.n_bootstrap, output_dims=["year"],
        output_coords={"year": years},
    )
    t3 = time.perf_counter()
    print(
        f"n_base={args.n_base} k={args.k} years={args.years} n_bootstrap={args.n_bootstrap} "
        f"({design.n_evaluations} evaluations)"
    )
    print(f"  design       {t1 - t0:7.3f} s")
    print(f"  model        {t2 - t1:7.3f} s (synthetic)")
    print(f"  estimators   {t3 - t2:7.3f} s for {args.k * args.years} (prior, year) pairs")
    print(f"  sum_S1 first/last year: {float(ds.sum_S1[0]):.3f} / {float(ds.sum_S1[-1]):.3f}")

    if args.salib_outputs < 1:
        return
    try:
        from SALib.analyze import sobol as salib_sobol
    except ImportError:
        print("  SALib not installed; skipped")
        return
    problem = {"num_vars": args.k, "names": names, "bounds": [[0.0, 1.0]] * args.k}
    # SALib's layout without second order is, per base row, [A, AB_1..AB_k, B].
    f_a, f_b, f_ab = design.split(y)
    t4 = time.perf_counter()
    for j in range(args.salib_outputs):
        rows = np.concatenate(
            [f_a[:, None, j], np.moveaxis(f_ab[..., j], 0, 1), f_b[:, None, j]], axis=1
        ).ravel()
        res = salib_sobol.analyze(
            problem, rows, calc_second_order=False, num_resamples=args.n_bootstrap,
            conf_level=0.9,
        )
    t5 = time.perf_counter()
    per = (t5 - t4) / args.salib_outputs
    print(
        f"  SALib        {per:7.3f} s per output -> ~{per * args.years:.1f} s for {args.years} "
        f"outputs (max |S1 diff| from forecast.sobol: "
        f"{np.abs(res['S1'] - ds.S1.isel(year=args.salib_outputs - 1).values).max():.1e})"
    )


if __name__ == "__main__":
    main()

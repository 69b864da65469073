"""Sobol' indices over every uncertain default prior at N = 8192 base samples, compile included.

Run: ``.venv/bin/python bench/sobol.py [--n-base 8192] [--priors default]``; on a larger
machine, ``taskset -c 0,1 .venv/bin/python bench/sobol.py`` measures the 2-core figure.

Times :func:`forecast.sensitivity.sobol_analysis` in a fresh process (so the JAX compile of
the bottom-up model is inside the figure): the Saltelli design, one vectorized evaluation of
its (k + 2) * N worlds, the three headline outputs and the per-year indices with bootstrap
intervals. A second, warm call shows how much of it was compilation. Goal: under 30 s on
2 cores including compile (issue 5).
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-base", type=int, default=8192)
    parser.add_argument("--priors", default="default")
    parser.add_argument("--years", default="2025:2035")
    parser.add_argument("--n-bootstrap", type=int, default=500)
    args = parser.parse_args()

    t0 = time.perf_counter()
    from forecast.sensitivity.analysis import sobol_analysis
    from forecast.settings import parse_years
    from priors import load_prior_set

    priors = load_prior_set(args.priors)
    years = parse_years(args.years)
    t1 = time.perf_counter()
    options = dict(years=years, target_year=2030, threshold=1e28, n_base=args.n_base,
                   n_bootstrap=args.n_bootstrap)
    headline, by_year = sobol_analysis(priors, **options)
    t2 = time.perf_counter()
    sobol_analysis(priors, **options)
    t3 = time.perf_counter()

    k = len(priors.latent_names)
    print(f"priors={priors.name} k={k} n_base={args.n_base} years={len(years)} "
          f"n_bootstrap={args.n_bootstrap} worlds={(k + 2) * args.n_base:,} cpus={os.cpu_count()} "
          f"cores={len(os.sched_getaffinity(0))}")
    print(f"  imports            {t1 - t0:7.2f} s")
    print(f"  sobol, cold        {t2 - t1:7.2f} s  (compile + model + estimators)")
    print(f"  sobol, warm        {t3 - t2:7.2f} s")
    print(f"  total incl. import {t2 - t0:7.2f} s  (goal < 30 s on 2 cores)")
    compute = headline.sel(output="log10_compute")
    top = compute["ST"].to_series().sort_values(ascending=False).head(3)
    print("  top ST on log10 C in 2030: " + ", ".join(f"{n} {v:.2f}" for n, v in top.items()))
    print("  1 - sum S1 per output: " + ", ".join(
        f"{o} {1 - float(v):.2f}" for o, v in zip(headline["output"].values, headline["sum_S1"].values)
    ))


if __name__ == "__main__":
    main()

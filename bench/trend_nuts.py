"""Time one NUTS fit of the trend model on the full record.

4 chains x 1000 draws (+1000 warmup) by default. Prints, in seconds: the first run (JAX
compilation included), a second run of the same compiled sampler with a new seed (sampling
only; compile = first - second), the conversion to ArviZ and its diagnostics, and the whole
:func:`forecast.evaluation.trend_fit.fit_trend` call as users see it; then the diagnostics.

    python bench/trend_nuts.py [--chains 4] [--draws 1000] [--warmup 1000]
                               [--chain-method vectorized|sequential] [--hinge]

Goal: the full fit_trend call under 20 s on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import arviz as az  # noqa: E402
import jax  # noqa: E402
from numpyro.infer import MCMC, NUTS  # noqa: E402

from forecast.record.frontier import frontier_series  # noqa: E402
from forecast.record.runs import load_runs  # noqa: E402
from forecast.evaluation.trend_fit import fit_trend  # noqa: E402
from models.trend import HingePriors, TrendPriors, hinge_trend_model, trend_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument(
        "--chain-method", default="vectorized", choices=("vectorized", "sequential")
    )
    parser.add_argument("--hinge", action="store_true")
    args = parser.parse_args(argv)

    runs = load_runs()
    series = frontier_series(runs)
    t = series["year_frac"].to_numpy(dtype=float)
    y = series["log10_compute"].to_numpy(dtype=float)
    model = hinge_trend_model if args.hinge else trend_model
    priors = HingePriors() if args.hinge else TrendPriors()
    print(
        f"trend NUTS bench: {'hinge' if args.hinge else 'straight'} model, {len(series)} "
        f"frontier runs, {args.chains} chains x {args.draws} draws (+{args.warmup} warmup), "
        f"chain_method={args.chain_method}, cpus={os.cpu_count()}, "
        f"x64={jax.config.jax_enable_x64}"
    )

    mcmc = MCMC(
        NUTS(model, target_accept_prob=0.9),
        num_warmup=args.warmup,
        num_samples=args.draws,
        num_chains=args.chains,
        chain_method=args.chain_method,
        progress_bar=False,
    )
    start = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(0), t, y, priors=priors)
    jax.block_until_ready(mcmc.get_samples())
    first = time.perf_counter() - start

    start = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(1), t, y, priors=priors)
    jax.block_until_ready(mcmc.get_samples())
    second = time.perf_counter() - start

    start = time.perf_counter()
    idata = az.from_numpyro(mcmc)
    az.summary(idata, var_names=["intercept", "slope", "sigma", "nu"])
    convert = time.perf_counter() - start

    start = time.perf_counter()
    fit = fit_trend(
        runs,
        chains=args.chains,
        draws=args.draws,
        warmup=args.warmup,
        seed=0,
        hinge=args.hinge,
        chain_method=args.chain_method,
    )
    total = time.perf_counter() - start

    print(f"first MCMC run (compile + sample): {first:8.2f} s")
    print(f"second MCMC run (sample only):     {second:8.2f} s")
    print(f"compile (first - second):          {first - second:8.2f} s")
    print(f"ArviZ conversion + summary:        {convert:8.2f} s")
    print(f"fit_trend end to end (fresh):      {total:8.2f} s   (goal < 20 s)")
    d = fit.diagnostics
    print(
        f"diagnostics: max r_hat {d.max_rhat:.4f}, min ESS bulk {d.min_ess_bulk:.0f}, "
        f"min ESS tail {d.min_ess_tail:.0f}, divergences {d.divergences}"
    )
    print(d.summary[["mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk", "ess_tail", "r_hat"]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

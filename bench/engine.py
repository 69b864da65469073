"""Benchmark: the JAX engine against the NumPy implementation of the same model.

Both draw the same number of worlds from the default priors (normal scores -> quantile
functions) and compute every output of the model for every year, the same outputs (log10
for the multiplicative ones): the JAX engine as the compiled chunked calls that ``forecast
run`` uses, NumPy vectorized over the worlds of a chunk, in log space like the engine.
Repeats alternate between the two and each keeps its fastest, so load from other processes
hits both alike.

    python -m bench.engine [--worlds 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import time

import jax
import numpy as np

from forecast._normal import root_key
from forecast.engine import CHUNK_SIZE, _chunk_calls, chunk_plan
from models import OUTPUT_UNITS
from priors import load_prior_set
from priors.families import BETA_Z_GRID, Beta, Fixed, LogNormal, Mixture, Normal, Uniform
from tests.numpy_model import numpy_log_world_compute

YEARS = tuple(range(2025, 2036))


def numpy_draw(priors, n: int, rng: np.random.Generator) -> dict:
    """The default priors' quantile functions, in NumPy (the same families as the engine)."""
    scores = iter(rng.standard_normal((len(priors), n)))  # one contiguous row per prior
    return {prior.name: _numpy_value(prior.family, scores, n) for prior in priors}


def _numpy_value(family, scores, n: int) -> np.ndarray:
    """Values of ``family`` from the next row of ``scores``. A mixture draws each component
    from one score and picks by a uniform of the same score: the arithmetic of a mixture's
    draw, for timing, not its distribution."""
    from scipy.special import ndtr

    if isinstance(family, Fixed):
        return np.full(n, family.value)
    if isinstance(family, LogNormal):
        return np.exp(family.mu + family.sigma * next(scores))
    if isinstance(family, Normal):
        return family.mu + family.sigma * next(scores)
    if isinstance(family, Uniform):
        return family.low + (family.high - family.low) * ndtr(next(scores))
    if isinstance(family, Beta):
        return np.interp(next(scores), BETA_Z_GRID, family.leaves()[0])
    if isinstance(family, Mixture):
        score = next(scores)
        parts = [_numpy_value(component, itertools.repeat(score), n) for component in family.components]
        pick = np.searchsorted(np.cumsum(family.weights), ndtr(score) * sum(family.weights))
        return np.choose(np.minimum(pick, len(parts) - 1), parts)
    raise TypeError(f"no NumPy quantile for {family}")


def time_numpy(priors, n: int, seed: int) -> float:
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    for first in range(0, n, CHUNK_SIZE):  # same chunking as the engine, to bound memory
        numpy_log_world_compute(numpy_draw(priors, min(CHUNK_SIZE, n - first), rng), YEARS)
    return time.perf_counter() - start


def time_jax(priors, n: int, seed: int) -> float:
    """The engine's chunks as :func:`forecast.engine.simulate` runs them, less the copy out:
    each chunk is waited for once the next one is dispatched."""
    transform = jax.device_put(priors.transform())
    root = root_key(seed)
    plan = chunk_plan(n)
    start = time.perf_counter()
    previous = None
    for index in range(plan.chunks):
        first, last = plan.bounds(index, n)
        out = _chunk_calls(transform, root, index, plan=plan, worlds=last - first, years=YEARS, base_year=2024.0,
                           wanted=None)
        jax.block_until_ready(previous)
        previous = out
    jax.block_until_ready(previous)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    priors = load_prior_set()

    compile_start = time.perf_counter()
    time_jax(priors, min(args.worlds, CHUNK_SIZE), seed=0)  # first call compiles
    compile_s = time.perf_counter() - compile_start

    jax_times, numpy_times = [], []
    for repeat in range(args.repeats):
        jax_times.append(time_jax(priors, args.worlds, seed=repeat))
        numpy_times.append(time_numpy(priors, args.worlds, seed=repeat))
    jax_s, numpy_s = min(jax_times), min(numpy_times)
    print(f"{args.worlds:,} worlds x {len(YEARS)} years, all {len(priors)} priors and {len(OUTPUT_UNITS)} outputs, "
          f"{jax.device_count()} {jax.default_backend()} device(s)")
    print(f"  compile (first chunk, incl. its run): {compile_s:7.2f} s")
    print(f"  JAX engine (after compile):           {jax_s:7.2f} s   ({args.worlds / jax_s:,.0f} worlds/s)")
    print(f"  NumPy, same model:                    {numpy_s:7.2f} s   ({args.worlds / numpy_s:,.0f} worlds/s)")
    print(f"  speed-up of JAX over NumPy:           {numpy_s / jax_s:7.1f} x")


if __name__ == "__main__":
    main()

"""Benchmark: the floor of the model's cost on this machine, beside what the engine takes.

The floor of a world is its draws and its arithmetic at NumPy's elementwise speed, nothing
else: the normal scores it reads (NumPy's fastest normal generator per value), and each
elementwise operation of the compiled model (its jaxpr, traced at one chunk shape; the
elements each operation writes per world, counted) at the time per element NumPy takes for
an addition, or, for a transcendental function (exp, log, erf, ...), for ``exp``, on
arrays of a few million elements (their memory traffic included, as NumPy has it); spread
over every core. No summaries, no files. A fused program that keeps its data in cache can
go below it; the issue's target is to be within 3x of it, end to end. It moves by 10-20%
from one run to the next on a shared machine (the times per element are printed).

    python -m bench.floor [--worlds 1000000] [--labs 1]
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import numpy as np

from bench.engine import YEARS, time_jax
from forecast.engine import _push, _years_array
from priors import load_prior_set

#: Primitives that move or reshape data, or whose cost XLA folds away: not counted.
_FREE = {"broadcast_in_dim", "reshape", "squeeze", "expand_dims", "transpose", "convert_element_type",
         "slice", "dynamic_slice", "concatenate", "gather", "iota", "copy", "stop_gradient", "pad", "rev",
         "sort", "argmax", "argmin", "scatter", "scatter-add", "dynamic_update_slice", "device_put", "split"}
#: Transcendental primitives: timed as NumPy's ``exp``.
_TRANSCENDENTAL = {"exp", "exp2", "log", "log1p", "expm1", "erf", "erfc", "erf_inv", "pow", "tanh", "logistic",
                   "sin", "cos", "atan2", "lgamma", "digamma", "igamma", "igammac", "sqrt", "rsqrt", "cbrt",
                   "random_gamma_grad", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh"}


def count_elements(jaxpr, worlds: int) -> dict[str, float]:
    """Elements written per world by the elementwise operations of ``jaxpr`` and of the
    programs it runs, ``{"plain": ..., "transcendental": ...}``: a call's body once, a
    ``scan``'s once per step, every branch of a ``cond`` (batched over worlds, each is
    computed), a ``while`` loop's body once (its trip count is not in the program)."""
    counts = {"plain": 0.0, "transcendental": 0.0}

    def walk(inner, times: int) -> None:
        for eqn in inner.eqns:
            bodies = [body for value in eqn.params.values() for body in _programs(value)]
            if bodies:
                steps = eqn.params.get("length", 1) if eqn.primitive.name == "scan" else 1
                for body in bodies:
                    walk(body, times * steps)
                continue
            name = eqn.primitive.name
            if name in _FREE:
                continue
            size = sum(int(np.prod(v.aval.shape)) for v in eqn.outvars if hasattr(v.aval, "shape"))
            counts["transcendental" if name in _TRANSCENDENTAL else "plain"] += times * size / worlds

    walk(jaxpr.jaxpr, 1)
    return counts


def _programs(value):
    """The jaxprs a parameter of an equation holds (one, or a tuple of branches)."""
    for item in value if isinstance(value, (list, tuple)) else (value,):
        body = getattr(item, "jaxpr", item)  # a ClosedJaxpr's jaxpr
        if hasattr(body, "eqns"):
            yield body


def per_element(function, n: int = 4_000_000, repeats: int = 5) -> float:
    """Seconds per element of ``function(a, b, out)`` on float64 arrays of ``n``, fastest of ``repeats``."""
    a, b = np.random.default_rng(0).uniform(0.5, 1.5, (2, n))
    out = np.empty(n)
    best = min(_timed(function, a, b, out) for _ in range(repeats))
    return best / n


def _timed(function, a, b, out) -> float:
    start = time.perf_counter()
    function(a, b, out)
    return time.perf_counter() - start


def per_normal(n: int = 4_000_000, repeats: int = 5) -> float:
    rng = np.random.default_rng(0)
    out = np.empty(n)
    best = min(_timed(lambda *_: rng.standard_normal(out=out), None, None, None) for _ in range(repeats))
    return best / n


def floor(priors, worlds: int, *, width: int = 1024) -> tuple[float, dict]:
    """The floor for ``worlds`` worlds of ``priors`` in seconds, spread over every core, and its parts."""
    transform = priors.transform()
    z = np.zeros((transform.n_latent, width))
    z_lab_year = np.zeros((transform.n_lab_year, len(YEARS), width)) if transform.n_lab_year else None
    with jax.enable_x64(True):
        jaxpr = _push.trace(transform, z, z_lab_year, _years_array(YEARS), base_year=2024.0).jaxpr
    elements = count_elements(jaxpr, width)
    scores = transform.n_latent + transform.n_lab_year * len(YEARS)
    parts = {
        "scores per world": scores,
        "plain elements per world": elements["plain"],
        "transcendental elements per world": elements["transcendental"],
        "ns per normal": per_normal() * 1e9,
        "ns per add": per_element(lambda a, b, out: np.add(a, b, out=out)) * 1e9,
        "ns per exp": per_element(lambda a, b, out: np.exp(a, out=out)) * 1e9,
    }
    one_core = worlds * 1e-9 * (scores * parts["ns per normal"] + elements["plain"] * parts["ns per add"]
                                + elements["transcendental"] * parts["ns per exp"])
    return one_core / (os.cpu_count() or 1), parts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=1_000_000)
    parser.add_argument("--labs", type=int, default=None, help="N identical labs (default: the prior file's)")
    args = parser.parse_args(argv)
    priors = load_prior_set(labs=args.labs) if args.labs else load_prior_set()
    seconds, parts = floor(priors, args.worlds)
    for name, value in parts.items():
        print(f"{name:>36}: {value:,.1f}")
    print(f"floor for {args.worlds:,} worlds on {os.cpu_count()} cores: {seconds:.2f} s")
    with jax.enable_x64(True):
        time_jax(priors, min(args.worlds, 65_536), seed=0)  # compiled first
        engine = time_jax(priors, args.worlds, seed=0)
    print(f"the engine's compiled chunks (draws and model, no summaries): {engine:.2f} s, "
          f"{engine / seconds:.1f}x the floor")


if __name__ == "__main__":
    main()

"""Neutral worlds for exact sensitivity tests (see test_analysis.py's docstring): every prior
fixed at tests/worlds.py's neutral world except those given a spec, so that log10 compute is a
plain sum of the logs of the uncertain priors plus a constant."""

from __future__ import annotations

from priors import Fixed, Prior, PriorSet, parse_spec
from tests.worlds import NEUTRAL_WORLD

#: The neutral world of tests/worlds.py with growing chips (so years differ), shorter runs and
#: more text (so data never binds).
NEUTRAL = {**NEUTRAL_WORLD, "chip_growth": 2.0, "duration_days_base": 60.0, "text_tokens_base": 1e25}


def neutral_priors(*, correlate=(), **specs: str) -> PriorSet:
    """Every prior fixed at the neutral world, except those given a spec; ``correlate``:
    rank correlations as ``--correlate`` writes them (``["a,b=0.5"]``)."""
    priors = []
    for name, value in NEUTRAL.items():
        spec = specs.get(name, repr(value))
        family = parse_spec(spec) if name in specs else Fixed(float(value))
        priors.append(Prior(name=name, spec=spec, family=family, origin="test"))
    prior_set = PriorSet(name="neutral", priors=tuple(priors), source="test")
    return prior_set.with_correlations(list(correlate)) if correlate else prior_set


def tiny_spread(value: float) -> str:
    return f"lognormal {value:.10g} to {value * (1 + 1e-6):.10g}"

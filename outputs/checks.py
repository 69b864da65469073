"""Checks of a forecast before the command line or the app shows it."""

from __future__ import annotations

import math

import numpy as np

from priors import InputError

__all__ = ["check_finite"]


def check_finite(result):
    """Refuse a forecast whose numbers are not numbers: conditioned on a record that the
    priors make all but impossible (``--set power_limit_gw_max=1e-300``: every world's
    likelihood underflows, and the weights are 0/0), the run would print ``nan%``."""
    probability = np.asarray(result.timeline["probability"].values, dtype=float)
    ess = result.metadata.get("ess")
    if not np.isfinite(probability).all() or (ess is not None and not math.isfinite(float(ess))):
        raise InputError(
            "as_of: the record cannot be weighed in these worlds: the priors make the known runs "
            "all but impossible (every world's likelihood of the record underflows); change the "
            "priors, or use --as-of none for the prior forecast")
    return result

"""Which prior decides the forecast: Sobol' indices, tornado, per-year shift, prior swaps."""

from forecast.sensitivity.analysis import SensitivityResult, sensitivity

__all__ = ["SensitivityResult", "sensitivity"]

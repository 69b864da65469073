"""Distribution families of priors, each defined through its quantile function (``base``
says why every family works in normal scores): ``simple`` (the closed forms and beta),
``metalog``, ``truncated`` and ``mixture``; ``numeric`` holds what they share."""

from priors.families.base import Family
from priors.families.metalog import Metalog, metalog_coefficients, metalog_not_increasing_at
from priors.families.mixture import Mixture
from priors.families.numeric import Z95, Z_MAX
from priors.families.simple import BETA_Z_GRID, Beta, Fixed, LogNormal, LogUniform, Normal, Uniform
from priors.families.truncated import Truncated, truncation_window

FAMILIES: dict[str, type[Family]] = {
    cls.kind: cls
    for cls in (Fixed, Normal, LogNormal, Uniform, LogUniform, Beta, Metalog, Mixture, Truncated)
}

__all__ = ["BETA_Z_GRID", "FAMILIES", "Z95", "Z_MAX", "Beta", "Family", "Fixed", "LogNormal", "LogUniform", "Metalog",
           "Mixture", "Normal", "Truncated", "Uniform", "metalog_coefficients", "metalog_not_increasing_at",
           "truncation_window"]

"""Priors: the prior language, validated prior sets, and the prior files shipped with it."""

from priors.domains import FRACTION, NON_NEGATIVE, POSITIVE, REAL, UNIT_INTERVAL, Domain
from priors.errors import InputError, PriorError
from priors.families import (
    FAMILIES,
    Beta,
    Family,
    Fixed,
    LogNormal,
    LogUniform,
    Metalog,
    Mixture,
    Normal,
    Truncated,
    Uniform,
)
from priors.files import builtin_prior_files, load_prior_set
from priors.prior_set import DomainWarning, Prior, PriorSet
from priors.spec import parse_spec

__all__ = [
    "FAMILIES", "FRACTION", "NON_NEGATIVE", "POSITIVE", "REAL", "Beta", "Domain", "DomainWarning", "Family", "Fixed",
    "InputError", "LogNormal", "LogUniform", "Metalog", "Mixture", "Normal", "Prior", "PriorError",
    "PriorSet", "Truncated", "UNIT_INTERVAL", "Uniform", "builtin_prior_files", "load_prior_set", "parse_spec",
]

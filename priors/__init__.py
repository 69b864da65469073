"""Priors: the prior language, validated prior sets, and the prior files shipped with it."""

from __future__ import annotations

from priors.lazy import lazy_exports

from priors.domains import FRACTION, NON_NEGATIVE, POSITIVE, REAL, UNIT_INTERVAL, Domain
from priors.errors import InputError, PriorError

#: Each public name that needs JAX or SciPy and the module it comes from: imported on first
#: use (PEP 562), so that ``from priors import InputError`` (every command line, before it
#: parses its options) and ``priors.builtin_prior_files`` load neither.
_LAZY = {
    **dict.fromkeys(("FAMILIES", "Beta", "Family", "Fixed", "LogNormal", "LogUniform", "Metalog", "Mixture",
                     "Normal", "Truncated", "Uniform"), "priors.families"),
    "builtin_prior_files": "priors.files",
    "load_prior_set": "priors.files",
    "DomainWarning": "priors.prior_set",
    "Prior": "priors.prior_set",
    "PriorSet": "priors.prior_set",
    "parse_spec": "priors.spec",
}

__all__ = [
    "FAMILIES", "FRACTION", "NON_NEGATIVE", "POSITIVE", "REAL", "Beta", "Domain", "DomainWarning", "Family", "Fixed",
    "InputError", "LogNormal", "LogUniform", "Metalog", "Mixture", "Normal", "Prior", "PriorError",
    "PriorSet", "Truncated", "UNIT_INTERVAL", "Uniform", "builtin_prior_files", "load_prior_set", "parse_spec",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

"""The bottom-up model (docs/model.md, v3): ``compute`` is the arithmetic (pure JAX, the
constraints as a named registry), ``model`` the NumPyro model that wraps it."""

from __future__ import annotations

from priors.lazy import lazy_exports

from models.bottom_up.compute import (
    BASE_YEAR,
    CODED_OUTPUTS,
    CONSTRAINTS,
    LAB_OUTPUT_UNITS,
    OUTPUT_UNITS,
    PARAMETERS,
    Constraints,
    lab_world_compute,
    world_compute,
    world_sites,
)

__all__ = ["BASE_YEAR", "CODED_OUTPUTS", "CONSTRAINTS", "LAB_OUTPUT_UNITS", "OUTPUT_UNITS", "PARAMETERS", "Constraints",
           "bottom_up_model", "lab_world_compute", "latent_scores", "world_compute", "world_sites"]

#: The NumPyro model (models.bottom_up.model), imported on first use (PEP 562): the
#: arithmetic needs no NumPyro.
_LAZY = {"bottom_up_model": "models.bottom_up.model", "latent_scores": "models.bottom_up.model"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

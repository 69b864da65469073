"""Models: pure JAX arithmetic of the forecast and the NumPyro models that wrap it."""

from __future__ import annotations

from priors.lazy import lazy_exports

from models.bottom_up import (
    BASE_YEAR,
    CODED_OUTPUTS,
    CONSTRAINTS,
    LAB_OUTPUT_UNITS,
    OUTPUT_UNITS,
    PARAMETERS,
    lab_world_compute,
    world_compute,
)

__all__ = ["BASE_YEAR", "CODED_OUTPUTS", "CONSTRAINTS", "LAB_OUTPUT_UNITS", "OUTPUT_UNITS", "PARAMETERS", "bottom_up_model",
           "lab_world_compute", "world_compute"]

#: The NumPyro model, imported on first use (PEP 562): a run whose traced programs are kept
#: on disk (priors.exported) never traces it, and needs no NumPyro.
_LAZY = {"bottom_up_model": "models.bottom_up.model"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

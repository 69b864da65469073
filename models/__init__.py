"""Models: pure JAX arithmetic of the forecast and the NumPyro models that wrap it."""

from __future__ import annotations

import importlib

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
#: on disk (forecast.exported) never traces it, and needs no NumPyro.
_LAZY = {"bottom_up_model": "models.bottom_up.model"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY})

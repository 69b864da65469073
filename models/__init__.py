"""Models: pure JAX arithmetic of the forecast and the NumPyro models that wrap it."""

from models.bottom_up import (
    BASE_YEAR,
    CONSTRAINTS,
    OUTPUT_UNITS,
    PARAMETERS,
    bottom_up_model,
    world_compute,
)

__all__ = ["BASE_YEAR", "CONSTRAINTS", "OUTPUT_UNITS", "PARAMETERS", "bottom_up_model", "world_compute"]

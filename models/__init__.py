"""Models: pure JAX arithmetic of the forecast and the NumPyro models that wrap it."""

from models.bottom_up import (
    BASE_YEAR,
    CODED_OUTPUTS,
    CONSTRAINTS,
    LAB_OUTPUT_UNITS,
    OUTPUT_UNITS,
    PARAMETERS,
    bottom_up_model,
    lab_world_compute,
    world_compute,
)

__all__ = ["BASE_YEAR", "CODED_OUTPUTS", "CONSTRAINTS", "LAB_OUTPUT_UNITS", "OUTPUT_UNITS", "PARAMETERS", "bottom_up_model",
           "lab_world_compute", "world_compute"]

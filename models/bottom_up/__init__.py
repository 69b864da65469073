"""The bottom-up model (docs/model.md, v3): ``compute`` is the arithmetic (pure JAX, the
constraints as a named registry), ``model`` the NumPyro model that wraps it."""

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
from models.bottom_up.model import bottom_up_model, latent_scores

__all__ = ["BASE_YEAR", "CODED_OUTPUTS", "CONSTRAINTS", "LAB_OUTPUT_UNITS", "OUTPUT_UNITS", "PARAMETERS", "Constraints",
           "bottom_up_model", "lab_world_compute", "latent_scores", "world_compute", "world_sites"]

"""The bottom-up model conditioned on the record: the likelihood ``forecast run`` weighs
worlds by, sampled with NUTS.

:func:`calibration_model` samples the same standard-normal scores as
:func:`models.bottom_up.model.bottom_up_model` (``z`` and, where a lab-year prior is uncertain,
``z_lab_year``: :func:`models.bottom_up.model.latent_scores`; MODEL.md, "How worlds are drawn":
NUTS samples the well-conditioned scores, not the raw priors), turns them into a world with
the same arithmetic (:func:`models.bottom_up.world_sites`: every lab's largest run and the
frontier in each year), and adds the record's log likelihood of MODEL.md v3
(:func:`models.evidence.record_log_likelihood`, the function importance sampling weighs
worlds by) as a factor. Its posterior scores go through the unchanged bottom-up model to
give the calibrated forecast. No I/O here.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpyro

from models.bottom_up import BASE_YEAR, latent_scores, world_sites
from models.evidence import LAB_TARGET, TARGET, Evidence, record_log_likelihood

__all__ = ["calibration_model", "labs_of"]


def labs_of(transform) -> tuple[str, ...]:
    """The names of a transform's labs, in the order of its lab axis."""
    return tuple(transform.layout[0])


def calibration_model(priors, years, evidence: Evidence, *, base_year: float = BASE_YEAR):
    """NumPyro model: prior scores -> each lab's compute and the frontier -> the record.

    Parameters
    ----------
    priors
        A :class:`~priors.PriorSet` or its ``transform()``.
    years
        The forecast years, shape ``(n,)``: the axis ``evidence`` indexes.
    evidence
        The record as published by a date (:class:`models.evidence.Evidence`, built for the
        transform's labs and ``years``).

    Sites
    -----
    ``z`` and ``z_lab_year`` (as :func:`models.bottom_up.model.bottom_up_model`), deterministic
    ``log10_training_compute`` (the frontier, ``(years,)``) and, with several labs,
    ``log10_lab_training_compute`` (``(labs, years)``), and the factor ``record``.
    """
    transform = priors.transform() if hasattr(priors, "priors") else priors
    years = jnp.asarray(years, dtype=float)
    z, z_lab_year = latent_scores(transform, years.shape[0])
    world = functools.partial(_world, evidence=evidence, base_year=base_year)
    if not isinstance(z, jax.core.Tracer):
        # a run of the model on numbers, not traced: NumPyro's first, which finds its sites.
        # Compiled as one program: run op by op, each of the world's few hundred operations
        # would be compiled on its own (about 20 CPU-s for the default priors). Traced runs
        # (NUTS, the initial values) trace the arithmetic itself, as ever.
        world = jax.jit(world)
    frontier, lab_compute, record = world(transform, z, z_lab_year, years)
    numpyro.deterministic(TARGET, frontier)
    if lab_compute is not None:
        numpyro.deterministic(LAB_TARGET, lab_compute)
    numpyro.factor("record", record)


def _world(transform, z, z_lab_year, years, *, evidence: Evidence, base_year: float):
    """The frontier, each lab's compute (None with one lab) and the record's log likelihood
    of the world of scores ``z`` and ``z_lab_year``."""
    values, _, outputs = world_sites(transform, z, z_lab_year, years, base_year=base_year)
    record = record_log_likelihood({**values, **outputs}, labs_of(transform), evidence)
    return outputs[TARGET], outputs.get(LAB_TARGET), record

"""The map from standard-normal scores to prior values, as a JAX pytree: static structure
(names, families, which priors are fixed) and traced numbers, so a compiled model serves
every prior set of the same shape."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from priors.families import Z_MAX

@jax.tree_util.register_pytree_node_class
@dataclass(frozen=True)
class WorldTransform:
    """Normal scores -> prior values, split into static structure and traced numbers.

    The structure (names, families, which priors are fixed) is static; the numbers are
    pytree leaves. A jitted model taking a transform therefore compiles once per structure:
    changing an interval, pinning a value or swapping a scenario that keeps the families
    reuses the compiled code (tornado runs, scenario comparisons, live prior tweaking).
    """

    names: tuple[str, ...]
    kernels: tuple
    latent: tuple[bool, ...]
    leaves: tuple[tuple, ...]
    #: Cholesky factor ``L`` of the scores' correlation matrix, or None for independent priors.
    mixing: object = None

    #: ``(lab names, ((prior name, lab index or -1) per column))``: how columns make the
    #: model's parameters (:meth:`model_params`).
    layout: tuple = ((), ())
    #: Lab-year priors, lab by lab within each prior: ``(name, kernel, uncertain)``.
    lab_year_static: tuple = ()
    lab_year_leaves: tuple = ()

    @property
    def n_latent(self) -> int:
        return sum(self.latent)

    @property
    def n_labs(self) -> int:
        return max(len(self.layout[0]), 1)

    @property
    def n_lab_year(self) -> int:
        """Rows of lab-year scores a world draws per year (uncertain lab-year columns)."""
        return sum(uncertain for _, _, uncertain in self.lab_year_static)

    def tree_flatten(self):
        return ((self.leaves, self.mixing, self.lab_year_leaves),
                (self.names, self.kernels, self.latent, self.layout, self.lab_year_static))

    @classmethod
    def tree_unflatten(cls, static, children):
        names, kernels, latent, layout, lab_year_static = static
        leaves, mixing, lab_year_leaves = children
        return cls(names=names, kernels=kernels, latent=latent, leaves=leaves, mixing=mixing, layout=layout,
                   lab_year_static=lab_year_static, lab_year_leaves=lab_year_leaves)

    def correlate(self, e):
        """Independent scores ``e`` -> the priors' scores ``z = L e`` (the Gaussian copula).

        ``e`` is clipped to +/- Z_MAX first, as ``z`` is afterwards: an infinite score would
        otherwise meet a zero of ``L`` (0 * inf = NaN).
        """
        e = jnp.asarray(e, dtype=float)
        if self.mixing is None:
            return e
        return jnp.clip(e, -Z_MAX, Z_MAX) @ jnp.asarray(self.mixing).T

    def values_from_normal(self, e) -> dict:
        """Prior values from independent scores ``e``: :meth:`correlate`, then each family.

        The priors of an elementwise family (:func:`priors.families.base.elementwise`: the
        lognormals, normals, uniforms, log-uniforms) whose numbers are scalars of one type
        go through its kernel as one block, their leaves stacked a row a prior: the same
        arithmetic for each value, one operation of the compiled model a family instead of
        one a prior (the six-lab default has 101 lognormals). Its optimized program is a
        third shorter (17,552 lines of HLO to 11,846 for the kept worlds'), and XLA loads a
        program from its cache in time that grows with its length: 0.53-0.66 s to
        0.40-0.52 s."""
        e = jnp.asarray(e, dtype=float)
        if e.shape[-1:] != (self.n_latent,):
            raise ValueError(f"z needs a last axis of {self.n_latent} scores, got {e.shape}")
        z = self.correlate(e)
        columns = jnp.moveaxis(z, -1, 0)  # one row of scores a prior
        at_median = jnp.zeros(z.shape[:-1])  # fixed priors take the batch shape
        values, blocks = {}, {}
        rows = itertools.accumulate(self.latent, initial=0)  # each prior's row of scores
        for name, kernel, latent, leaves, row in zip(self.names, self.kernels, self.latent, self.leaves, rows):
            if latent and getattr(kernel, "elementwise", False) and all(jnp.ndim(x) == 0 for x in leaves):
                # below, with the family's others whose numbers have these types: the same promotions
                types = tuple(jax.typeof(x) for x in leaves)
                blocks.setdefault((kernel, types), []).append((name, row, leaves))
            else:  # one prior, clipped on its own: XLA fuses the clip into the kernel
                score = jnp.clip(columns[row], -Z_MAX, Z_MAX) if latent else at_median
                values[name] = kernel(leaves, score)
        shape = (-1,) + (1,) * (columns.ndim - 1)  # a row a prior, broadcast over the batch
        for (kernel, _), priors in blocks.items():  # one operation (priors.families.base.elementwise)
            names, rows, leaves = zip(*priors)
            stacked = tuple(jnp.stack(leaf).reshape(shape) for leaf in zip(*leaves))
            values.update(zip(names, kernel(stacked, jnp.clip(columns[np.asarray(rows)], -Z_MAX, Z_MAX))))
        return {name: values[name] for name in self.names}

    def lab_year_values(self, e_lab_year, batch_shape, n_years: int) -> dict:
        """Lab-year priors from their own independent scores ``e_lab_year`` (``batch +
        (n_lab_year, n_years)``; None when none is uncertain): name -> ``batch + (labs, years)``."""
        rows = iter(()) if e_lab_year is None else iter(jnp.moveaxis(jnp.asarray(e_lab_year), -2, 0))
        at_median = jnp.zeros(tuple(batch_shape) + (n_years,))
        per_lab: dict[str, list] = {}
        for (name, kernel, uncertain), leaves in zip(self.lab_year_static, self.lab_year_leaves):
            score = jnp.clip(next(rows), -Z_MAX, Z_MAX) if uncertain else at_median
            per_lab.setdefault(name, []).append(kernel(leaves, score))
        return {name: jnp.stack(values, axis=-2) for name, values in per_lab.items()}

    def model_params(self, values: Mapping, lab_year: Mapping) -> dict:
        """The model's parameters from the columns' ``values`` (:meth:`values_from_normal`) and
        :meth:`lab_year_values`: a shared prior ``batch``, a lab-scoped one ``batch + (labs,)``,
        a lab-year one ``batch + (labs, years)``."""
        columns: dict[str, list] = {}
        for column_name, (name, lab) in zip(self.names, self.layout[1]):
            columns.setdefault(name, []).append((lab, values[column_name]))
        params = {}
        for name, items in columns.items():
            if items[0][0] < 0:
                params[name] = items[0][1]
            else:
                params[name] = jnp.stack([jnp.broadcast_to(v, jnp.shape(items[0][1])) for _, v in items], axis=-1)
        params.update(lab_year)
        return params

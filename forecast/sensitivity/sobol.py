"""Model-agnostic variance-based (Sobol') global sensitivity analysis.

A world is a point ``u`` in the unit cube, one coordinate per uncertain prior (MODEL.md, "How
worlds are drawn"); the caller's function maps a batch ``u`` of shape ``(n, k)`` to outputs of
shape ``(n, ...)``. This module knows nothing of priors or models: it draws a Saltelli design,
lets the caller evaluate it in one vectorized call, and estimates first- and total-order indices
with bootstrap intervals, returned as an ``xarray.Dataset`` with a ``prior`` dimension.

Design (Saltelli et al. 2010): ``A`` and ``B`` are the two halves of one scrambled Sobol'
sequence of dimension ``2k``; ``AB_i`` is ``A`` with column ``i`` taken from ``B``. That is
``(k + 2) * n_base`` model evaluations.

Groups (Jacques et al. 2006): inputs may be partitioned into groups, each sampled jointly;
``AB_g`` is then ``A`` with *all* columns of group ``g`` taken from ``B``, and the estimators
below give the first- and total-order index of each group (the variance of
``E[f | x_g]``, and the expected variance left when everything but ``x_g`` is known). The
inputs of different groups must be independent; inside a group they may be anything the
caller makes of its columns (the sensitivity analysis maps a group's independent normal
scores through the Cholesky factor of a correlated block). ``G`` groups cost
``(G + 2) * n_base`` evaluations; with every group a single input the design, and every
number, is the per-input one.

Estimators, with ``V`` the variance of ``f_A`` and ``f_B`` pooled:

- first order, Saltelli et al. (2010), table 2 (b): ``S_i = mean(f_B (f_ABi - f_A)) / V``
- total order, Jansen (1999): ``S_Ti = mean((f_A - f_ABi)^2) / (2 V)``

Why own NumPy code and not ``SALib.analyze.sobol``: SALib computes the same two estimators but
loops in Python over parameters and bootstrap resamples, takes one scalar output at a time, and
builds Gaussian (``z * std``) intervals. Here every index and every resample comes from one
matrix product: a bootstrap resample of the ``n_base`` rows is a vector of multiplicities
``w`` (how often each row was drawn), so every resampled mean is ``w @ g / n`` for per-row
terms ``g`` of every prior and every trailing output element at once. With ``W`` of shape
``(n_bootstrap, n_base)``, all resampled numerators and variances are a single BLAS call, no
``(n_bootstrap, n_base, k, ...)`` gather is materialised, and intervals are percentile
intervals, which stay inside sensible bounds for skewed index distributions. NumPy, not JAX:
the work is one float64 GEMM that BLAS already does near peak, the model output usually
arrives as NumPy, and JAX would add a compile per output shape and float32 by default
(bench/sobol_estimators.py has timings, with SALib for comparison).

Bootstrap intervals treat the ``n_base`` rows as independent draws; for a scrambled Sobol'
design the true error is usually smaller, so the intervals are conservative.

References
----------
Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S. (2010).
Variance based sensitivity analysis of model output. Design and estimator for the total
sensitivity index. Computer Physics Communications 181, 259-270.

Jansen, M. J. W. (1999). Analysis of variance designs for model output. Computer Physics
Communications 117, 35-43.

Jacques, J., Lavergne, C., Devictor, N. (2006). Sensitivity analysis in presence of model
uncertainty and correlated inputs. Reliability Engineering & System Safety 91, 1126-1134.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy.stats import qmc

__all__ = [
    "SaltelliDesign",
    "ZeroVarianceWarning",
    "saltelli_design",
    "sobol_analyze",
    "sobol_indices",
]

# Sobol' points are multiples of 2**-bits (scipy's default 30 bits), so 0 itself can occur.
# Shifting each point to the middle of its cell keeps the design exactly as balanced and
# never touches 0 or 1; the clip keeps u strictly inside (0, 1) even after a cast to float32
# (1 - 2**-24 is the largest float32 below 1), where a quantile function would return +-inf.
_SOBOL_BITS = 30
_U_EPS = 2.0**-24

# An output whose standard deviation is below this fraction of its magnitude is constant up to
# float64 rounding: its indices are reported as 0 and flagged.
_ZERO_VARIANCE_RTOL = 64 * np.finfo(np.float64).eps

_BOUNDS = ("lower", "upper")

# Working-memory budget of one estimator call; wider outputs are processed in column blocks.
_KERNEL_BYTES = 256 * 2**20


class ZeroVarianceWarning(UserWarning):
    """An output had no variance; its Sobol' indices are reported as 0."""


@dataclass(frozen=True)
class SaltelliDesign:
    """A Saltelli design: base matrices ``A``, ``B`` and the radial matrices ``AB_g``.

    Attributes
    ----------
    points : numpy.ndarray
        Shape ``(G + 2, n_base, k)``: ``A``, ``B``, ``AB_1``, ..., ``AB_G`` in this order,
        with ``G`` the number of groups (``G = k`` when every input is its own group).
    n_base : int
        Rows of each matrix (a power of two).
    k : int
        Number of inputs (unit-cube coordinates).
    seed : int
        Seed of the scrambling.
    scramble : bool
        Whether the Sobol' sequence was scrambled (Owen-type LMS plus digital shift).
    groups : tuple of tuple of int, or None
        The columns of each group, sampled jointly; None when every input is its own group.
    """

    points: np.ndarray
    n_base: int
    k: int
    seed: int
    scramble: bool
    groups: tuple[tuple[int, ...], ...] | None = None

    @property
    def n_groups(self) -> int:
        """Number of groups ``G``, one index each (``k`` when ungrouped)."""
        return self.k if self.groups is None else len(self.groups)

    @property
    def group_columns(self) -> tuple[tuple[int, ...], ...]:
        """The columns of each group (``((0,), (1,), ...)`` when ungrouped)."""
        return tuple((i,) for i in range(self.k)) if self.groups is None else self.groups

    @property
    def u(self) -> np.ndarray:
        """All points stacked for one vectorized call, shape ``((G + 2) * n_base, k)``."""
        return self.points.reshape((self.n_groups + 2) * self.n_base, self.k)

    @property
    def A(self) -> np.ndarray:  # the literature's name
        """Base matrix ``A``, shape ``(n_base, k)``."""
        return self.points[0]

    @property
    def B(self) -> np.ndarray:
        """Base matrix ``B``, shape ``(n_base, k)``."""
        return self.points[1]

    @property
    def AB(self) -> np.ndarray:
        """Radial matrices ``(G, n_base, k)``: ``AB[g]`` is ``A`` with the columns of group
        ``g`` (column ``g`` when ungrouped) from ``B``."""
        return self.points[2:]

    @property
    def n_evaluations(self) -> int:
        """Model evaluations the design needs: ``(G + 2) * n_base``."""
        return (self.n_groups + 2) * self.n_base

    def split(self, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Split outputs of the stacked points back into ``f_A``, ``f_B`` and ``f_AB``.

        Parameters
        ----------
        y : array_like
            Model outputs for ``self.u``, shape ``((G + 2) * n_base, ...)``; trailing
            dimensions (years, thresholds) are carried along.

        Returns
        -------
        f_A, f_B : numpy.ndarray
            Shape ``(n_base, ...)``.
        f_AB : numpy.ndarray
            Shape ``(G, n_base, ...)``; ``f_AB[g]`` are the outputs at ``AB_g``.

        Raises
        ------
        ValueError
            If the leading length of ``y`` is not ``(G + 2) * n_base``.
        """
        y = np.asarray(y)
        g = self.n_groups
        if y.ndim == 0 or y.shape[0] != self.n_evaluations:
            size = "(k + 2)" if self.groups is None else "(G + 2)"
            raise ValueError(
                f"outputs must have leading length {size} * n_base = {self.n_evaluations} "
                f"(k={self.k}, {'' if self.groups is None else f'G={g}, '}n_base={self.n_base}), "
                f"one per row of design.u; got shape {y.shape}"
            )
        y = y.reshape(g + 2, self.n_base, *y.shape[1:])
        return y[0], y[1], y[2:]


def saltelli_design(
    k: int,
    n_base: int,
    *,
    seed: int,
    scramble: bool = True,
    groups: Sequence[Sequence[int]] | None = None,
) -> SaltelliDesign:
    """Draw a Saltelli design from a Sobol' sequence of dimension ``2k``.

    Parameters
    ----------
    k : int
        Number of inputs, at least 1 (at most 10600, the limit of scipy's direction numbers).
    n_base : int
        Rows of ``A`` and ``B``; a power of two, at least 2, so the Sobol' sequence keeps its
        balance properties.
    seed : int
        Seed of the scrambling (ignored when ``scramble=False``).
    scramble : bool, optional
        Scramble the sequence (default). Unscrambled points are deterministic and their
        bootstrap intervals meaningless; use only for debugging.
    groups : sequence of sequences of int, optional
        A partition of the columns ``0..k-1`` into groups sampled jointly: ``AB_g`` takes
        all columns of group ``g`` from ``B`` at once, so the indices are those of groups.
        None (default), or every group a single column in order, is the per-input design.

    Returns
    -------
    SaltelliDesign
        Points strictly inside ``(0, 1)``; evaluate the model once on ``design.u`` and pass
        the outputs to :func:`sobol_analyze`.

    Raises
    ------
    ValueError
        If ``k`` < 1, ``n_base`` is not a power of two >= 2, or ``groups`` is not a partition
        of the columns.
    """
    _check_k(k)
    _check_n_base(n_base)
    seed = _check_seed(seed)
    groups = _check_groups(groups, k)
    design_seed, _ = np.random.SeedSequence(seed).spawn(2)
    sampler = qmc.Sobol(
        d=2 * k, scramble=scramble, bits=_SOBOL_BITS, rng=np.random.default_rng(design_seed)
    )
    x = sampler.random_base2(int(np.log2(n_base)))
    x = np.clip(x + 2.0 ** -(_SOBOL_BITS + 1), _U_EPS, 1.0 - _U_EPS)
    a, b = x[:, :k], x[:, k:]
    n_groups = k if groups is None else len(groups)
    points = np.empty((n_groups + 2, n_base, k))
    points[0] = a
    points[1] = b
    points[2:] = a
    if groups is None:
        idx = np.arange(k)
        points[2 + idx, :, idx] = b.T
    else:
        for g, columns in enumerate(groups):
            points[2 + g][:, list(columns)] = b[:, list(columns)]
    points.setflags(write=False)
    return SaltelliDesign(
        points=points, n_base=n_base, k=k, seed=seed, scramble=scramble, groups=groups
    )


def sobol_analyze(
    design: SaltelliDesign,
    y: Any,
    names: Sequence[str],
    *,
    n_bootstrap: int = 500,
    confidence: float = 0.9,
    output_dims: Sequence[str] | None = None,
    output_coords: Mapping[Hashable, Any] | None = None,
) -> xr.Dataset:
    """Estimate first- and total-order Sobol' indices from outputs on a Saltelli design.

    Parameters
    ----------
    design : SaltelliDesign
        The design the outputs were computed on.
    y : array_like or xarray.DataArray
        Outputs for ``design.u``, shape ``((k + 2) * n_base, ...)``, finite. A DataArray's
        first dimension is taken as the sample dimension and its others name the trailing
        dimensions (unless ``output_dims`` is given).
    names : sequence of str
        One distinct name per input (per group of a grouped design), the ``prior``
        coordinate.
    n_bootstrap : int, optional
        Bootstrap resamples of the ``n_base`` rows for the intervals.
    confidence : float, optional
        Probability of the central percentile intervals, in ``(0, 1)``.
    output_dims : sequence of str, optional
        Names of the trailing output dimensions, e.g. ``["year"]``; required when a plain array
        has trailing dimensions.
    output_coords : mapping, optional
        Coordinates for the trailing dimensions, e.g. ``{"year": years}``.

    Returns
    -------
    xarray.Dataset
        See :func:`sobol_indices`.

    Raises
    ------
    ValueError
        On a bad option, a shape mismatch, unnamed trailing dimensions or non-finite outputs.

    Warns
    -----
    ZeroVarianceWarning
        If some output element is constant; its indices are 0 and ``zero_variance`` is True.
    """
    names = _check_names(names, design.k, design.groups)
    _check_n_bootstrap(n_bootstrap)
    _check_confidence(confidence)
    values, dims, coords = _label_outputs(y, output_dims, output_coords)
    f_a, f_b, f_ab = design.split(values)
    n_bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
    if n_bad:
        raise ValueError(
            f"model outputs must be finite; {n_bad} of {np.size(values)} are NaN or infinite "
            "(check that the quantile transform and the model are defined on all of (0, 1))"
        )

    trailing = f_a.shape[1:]
    n, k = design.n_base, design.n_groups
    _, boot_seed = np.random.SeedSequence(design.seed).spawn(2)
    weights = _bootstrap_weights(n, n_bootstrap, np.random.default_rng(boot_seed))
    est = _sobol_chunked(
        f_a.reshape(n, -1).astype(np.float64),
        f_b.reshape(n, -1).astype(np.float64),
        f_ab.reshape(k, n, -1).astype(np.float64),
        weights,
    )

    alpha = (1.0 - confidence) / 2.0

    def interval(boot: np.ndarray) -> np.ndarray:
        # boot: (n_bootstrap, ...) -> (..., bound)
        return np.moveaxis(np.quantile(boot, [alpha, 1.0 - alpha], axis=0), 0, -1)

    shape_pk = (k, *trailing)
    s1, st = est["S1"].reshape(shape_pk), est["ST"].reshape(shape_pk)
    s1_boot = est["S1_boot"].reshape(n_bootstrap, *shape_pk)
    st_boot = est["ST_boot"].reshape(n_bootstrap, *shape_pk)
    zero_var = est["zero_variance"].reshape(trailing)
    if zero_var.any():
        warnings.warn(
            f"{int(zero_var.sum())} of {zero_var.size} output elements have zero variance; "
            "their Sobol' indices are reported as 0 (see the 'zero_variance' variable)",
            ZeroVarianceWarning,
            stacklevel=2,
        )

    pk_dims = ("prior", *dims)
    ds = xr.Dataset(
        {
            "S1": (pk_dims, s1, {"long_name": "first-order Sobol' index (Saltelli 2010)"}),
            "ST": (pk_dims, st, {"long_name": "total-order Sobol' index (Jansen 1999)"}),
            "S1_ci": ((*pk_dims, "bound"), interval(s1_boot)),
            "ST_ci": ((*pk_dims, "bound"), interval(st_boot)),
            "sum_S1": (
                dims,
                s1.sum(axis=0),
                {"long_name": "sum of first-order indices; 1 - sum_S1 is the interaction share"},
            ),
            "sum_S1_ci": ((*dims, "bound"), interval(s1_boot.sum(axis=1))),
            "variance": (dims, est["variance"].reshape(trailing), {"long_name": "output variance"}),
            "zero_variance": (dims, zero_var),
        },
        coords={"prior": list(names), "bound": list(_BOUNDS), **coords},
        attrs={
            "n_base": n,
            "n_evaluations": design.n_evaluations,
            "n_bootstrap": n_bootstrap,
            "confidence": confidence,
            "seed": design.seed,
            "scramble": int(design.scramble),
            "interval": "bootstrap percentile over the n_base rows",
        },
    )
    if design.groups is not None:
        ds.attrs.update(n_inputs=design.k, grouped=1)
    return ds


def sobol_indices(
    f: Callable[[np.ndarray], Any],
    names: Sequence[str],
    *,
    n_base: int = 8192,
    seed: int = 0,
    n_bootstrap: int = 500,
    confidence: float = 0.9,
    output_dims: Sequence[str] | None = None,
    output_coords: Mapping[Hashable, Any] | None = None,
    groups: Sequence[Sequence[int]] | None = None,
) -> xr.Dataset:
    """First- and total-order Sobol' indices of ``f`` over the unit cube, in one call.

    Draws a Saltelli design (:func:`saltelli_design`), evaluates ``f`` once on all
    ``(len(names) + 2) * n_base`` points, and estimates the indices (:func:`sobol_analyze`).
    With ``groups``, the indices are those of groups of coordinates, one name per group.

    Parameters
    ----------
    f : callable
        Maps ``u`` of shape ``(n, k)``, strictly inside ``(0, 1)``, to outputs of shape
        ``(n, ...)`` (NumPy, JAX or an ``xarray.DataArray`` whose first dimension is the
        sample). The caller does the quantile transform from ``u`` to prior values.
    names : sequence of str
        One distinct name per coordinate of ``u``, e.g. the prior names; ``k = len(names)``.
        With ``groups``: one name per group.
    n_base : int, optional
        Rows of the base matrices, a power of two.
    seed : int, optional
        Seeds the scrambling and the bootstrap.
    n_bootstrap : int, optional
        Bootstrap resamples for the intervals.
    confidence : float, optional
        Probability of the intervals, in ``(0, 1)``.
    output_dims : sequence of str, optional
        Names of the trailing output dimensions, e.g. ``["year"]``.
    output_coords : mapping, optional
        Coordinates of the trailing dimensions, e.g. ``{"year": [2025, 2026]}``.
    groups : sequence of sequences of int, optional
        A partition of the coordinates of ``u`` into groups sampled jointly (see
        :func:`saltelli_design`); the design then has as many columns as there are
        coordinates in all groups, ``sum(len(g) for g in groups)``.

    Returns
    -------
    xarray.Dataset
        Dimensions ``prior``, the trailing output dimensions and ``bound``
        (``["lower", "upper"]``), with variables

        - ``S1``, ``ST`` (prior, ...): first- and total-order indices;
        - ``S1_ci``, ``ST_ci`` (prior, ..., bound): bootstrap percentile intervals;
        - ``sum_S1`` (...) and ``sum_S1_ci`` (..., bound): the sum of first-order indices over
          priors; ``1 - sum_S1`` is the share of variance due to interactions;
        - ``variance`` (...): the output variance;
        - ``zero_variance`` (...): True where the output was constant (indices set to 0).

        attrs: ``n_base``, ``n_evaluations``, ``n_bootstrap``, ``confidence``, ``seed``,
        ``scramble``, ``interval``.

    Raises
    ------
    ValueError
        If ``n_base`` is not a power of two, ``names`` is empty or has duplicates,
        ``confidence`` is outside ``(0, 1)``, or the outputs are malformed or non-finite.

    Examples
    --------
    >>> import numpy as np
    >>> ds = sobol_indices(lambda u: u[:, 0] + 2 * u[:, 1], ["a", "b"], n_base=1024)
    >>> ds.S1.round(1).values.tolist()
    [0.2, 0.8]
    """
    names = _check_names(names, None)
    _check_n_bootstrap(n_bootstrap)
    _check_confidence(confidence)
    k = len(names) if groups is None else sum(len(g) for g in groups)
    design = saltelli_design(k, n_base, seed=seed, groups=groups)
    y = f(design.u)
    return sobol_analyze(
        design,
        y,
        names,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        output_dims=output_dims,
        output_coords=output_coords,
    )


# --------------------------------------------------------------------------- kernels


def _bootstrap_weights(n: int, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplicities of each row in each resample, shape ``(n_bootstrap, n)``, float64."""
    idx = rng.integers(0, n, size=(n_bootstrap, n))
    idx += np.arange(n_bootstrap)[:, None] * n
    return np.bincount(idx.ravel(), minlength=n_bootstrap * n).reshape(n_bootstrap, n).astype(
        np.float64
    )


def _sobol_chunked(
    f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray, weights: np.ndarray
) -> dict[str, np.ndarray]:
    """:func:`_sobol_kernel` over blocks of output elements, to bound its working memory.

    Output elements are independent, so blocks of columns give the same result as one call.
    """
    k, n, m = f_ab.shape
    per_column = 8 * n * (2 * k + 2)  # bytes of the kernel's per-row term matrix per element
    block = max(1, _KERNEL_BYTES // per_column)
    if m <= block:
        return _sobol_kernel(f_a, f_b, f_ab, weights)
    parts = [
        _sobol_kernel(f_a[:, cols], f_b[:, cols], f_ab[..., cols], weights)
        for cols in (slice(j, j + block) for j in range(0, m, block))
    ]
    return {key: np.concatenate([p[key] for p in parts], axis=-1) for key in parts[0]}


def _sobol_kernel(
    f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray, weights: np.ndarray
) -> dict[str, np.ndarray]:
    """Sobol' estimators on flat arrays, for the full sample and every bootstrap resample.

    Parameters
    ----------
    f_a, f_b : numpy.ndarray
        Shape ``(n, m)``: ``m`` output elements.
    f_ab : numpy.ndarray
        Shape ``(k, n, m)``.
    weights : numpy.ndarray
        Shape ``(R, n)``: row multiplicities of each resample (each row sums to ``n``).

    Returns
    -------
    dict
        ``S1``, ``ST`` of shape ``(k, m)``; ``S1_boot``, ``ST_boot`` of shape ``(R, k, m)``;
        ``variance`` and ``zero_variance`` of shape ``(m,)``.
    """
    k, n, m = f_ab.shape
    pooled = np.concatenate([f_a, f_b], axis=0)
    mean = pooled.mean(axis=0)
    std = pooled.std(axis=0)
    scale = np.abs(pooled).max(axis=0)
    zero_var = std <= _ZERO_VARIANCE_RTOL * scale
    # Standardise per output element (as SALib does): the indices are scale-free, the
    # products below stay O(1), and a constant element becomes exactly 0 everywhere.
    inv = np.where(zero_var, 0.0, 1.0 / np.where(zero_var, 1.0, std))
    a = (f_a - mean) * inv
    b = (f_b - mean) * inv
    ab = (f_ab - mean) * inv

    # Per-row terms whose (weighted) means give every estimator: columns are
    # [first-order numerators (k*m) | total-order numerators (k*m) | a + b (m) | a^2 + b^2 (m)].
    g = np.empty((n, 2 * k * m + 2 * m))
    km = k * m
    g[:, :km] = (b[None] * (ab - a[None])).transpose(1, 0, 2).reshape(n, km)
    g[:, km : 2 * km] = (0.5 * (a[None] - ab) ** 2).transpose(1, 0, 2).reshape(n, km)
    g[:, 2 * km : 2 * km + m] = a + b
    g[:, 2 * km + m :] = a * a + b * b

    def estimate(means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # means: (r, columns of g) -> S1, ST of shape (r, k, m)
        r = means.shape[0]
        mu = means[:, 2 * km : 2 * km + m] / 2.0
        var = means[:, 2 * km + m :] / 2.0 - mu * mu
        var = np.maximum(var, 0.0)[:, None, :]
        num1 = means[:, :km].reshape(r, k, m)
        numt = means[:, km : 2 * km].reshape(r, k, m)
        pos = var > 0.0
        s1 = np.divide(num1, var, out=np.zeros_like(num1), where=pos)
        st = np.divide(numt, var, out=np.zeros_like(numt), where=pos)
        return s1, st

    s1, st = estimate(g.mean(axis=0, keepdims=True))
    s1_boot, st_boot = estimate(weights @ g / n)
    return {
        "S1": s1[0],
        "ST": st[0],
        "S1_boot": s1_boot,
        "ST_boot": st_boot,
        "variance": std * std,
        "zero_variance": zero_var,
    }


# --------------------------------------------------------------------------- validation


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k, the number of inputs, must be an integer >= 1; got {k!r}")


def _check_n_base(n_base: int) -> None:
    if (
        isinstance(n_base, bool)
        or not isinstance(n_base, (int, np.integer))
        or n_base < 2
        or n_base & (n_base - 1)
    ):
        raise ValueError(
            f"n_base must be a power of two >= 2 (Sobol' sequences are balanced only at powers "
            f"of two), e.g. 1024, 4096 or 8192; got {n_base!r}"
        )


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    return int(seed)


def _check_n_bootstrap(n_bootstrap: int) -> None:
    if (
        isinstance(n_bootstrap, bool)
        or not isinstance(n_bootstrap, (int, np.integer))
        or n_bootstrap < 1
    ):
        raise ValueError(f"n_bootstrap must be a positive integer; got {n_bootstrap!r}")


def _check_confidence(confidence: float) -> None:
    if not isinstance(confidence, (float, int, np.floating)) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1; got {confidence!r}")


def _check_groups(groups: Sequence[Sequence[int]] | None, k: int) -> tuple[tuple[int, ...], ...] | None:
    """A partition of ``0..k-1``, as tuples; None for no groups or all singletons in order."""
    if groups is None:
        return None
    # ValueError for every malformed argument, as for the other options of this module
    if isinstance(groups, (str, bytes)):
        raise ValueError(f"groups must be a sequence of column-index sequences; got {groups!r}")  # noqa: TRY004
    parts = []
    for group in groups:
        if isinstance(group, (int, np.integer, str, bytes)):
            raise ValueError(f"each group must be a sequence of column indices; got {group!r}")  # noqa: TRY004
        columns = tuple(int(c) for c in group)
        if not columns:
            raise ValueError("groups must not be empty")
        parts.append(columns)
    flat = sorted(c for g in parts for c in g)
    if flat != list(range(k)):
        raise ValueError(
            f"groups must hold every column 0..{k - 1} exactly once (a partition of the "
            f"inputs); got {[list(g) for g in parts]}"
        )
    if all(len(g) == 1 for g in parts) and [g[0] for g in parts] == list(range(k)):
        return None
    return tuple(parts)


def _check_names(
    names: Sequence[str], k: int | None, groups: tuple[tuple[int, ...], ...] | None = None
) -> list[str]:
    if isinstance(names, str):
        raise ValueError(f"names must be a sequence of names, not the string {names!r}")  # noqa: TRY004
    names = list(names)
    if not names:
        raise ValueError("names must name at least one input (k >= 1); got an empty sequence")
    if len(set(names)) != len(names):
        dup = sorted({x for x in names if names.count(x) > 1})
        raise ValueError(f"names must be distinct; repeated: {dup}")
    if k is not None and groups is None and len(names) != k:
        raise ValueError(f"got {len(names)} names for a design with k={k} inputs")
    if k is not None and groups is not None and len(names) != len(groups):
        raise ValueError(
            f"got {len(names)} names for a design with {len(groups)} groups of its k={k} "
            "inputs; give one name per group"
        )
    return names


def _label_outputs(
    y: Any,
    output_dims: Sequence[str] | None,
    output_coords: Mapping[Hashable, Any] | None,
) -> tuple[np.ndarray, tuple[str, ...], dict[Hashable, Any]]:
    """Name the trailing dimensions of the outputs; refuse unnamed ones."""
    coords: dict[Hashable, Any] = {}
    if isinstance(y, xr.DataArray):
        if output_dims is None:
            output_dims = [str(d) for d in y.dims[1:]]
            coords = {d: y.coords[d].values for d in y.dims[1:] if d in y.coords}
        values = np.asarray(y.values)
    else:
        values = np.asarray(y)
    if values.ndim == 0:
        raise ValueError("model outputs must have a leading sample dimension; got a scalar")
    dims = tuple(output_dims) if output_dims is not None else ()
    if len(dims) != values.ndim - 1:
        raise ValueError(
            f"outputs of shape {values.shape} have {values.ndim - 1} trailing dimension(s); "
            f"output_dims must name each of them, got {list(dims)}"
        )
    reserved = {"prior", "bound"} & set(dims)
    if reserved:
        raise ValueError(f"output_dims may not use the reserved names {sorted(reserved)}")
    if not np.issubdtype(values.dtype, np.number) and values.dtype != np.bool_:
        raise ValueError(f"model outputs must be numeric; got dtype {values.dtype}")
    coords.update(dict(output_coords or {}))
    unknown = set(coords) - set(dims)
    if unknown:
        raise ValueError(f"output_coords names {sorted(map(str, unknown))} not in {list(dims)}")
    return values, dims, coords

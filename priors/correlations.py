"""Correlated priors: rank correlations between pairs of priors, joined by a Gaussian copula.

A forecaster writes Spearman rank correlations between pairs of priors, in a prior file::

    [correlations]
    chip_growth.power_limit_growth = 0.6

or on the command line (``--correlate chip_growth,power_limit_growth=0.6``). Every prior is
drawn through its standard-normal score (MODEL.md, "How worlds are drawn"), so the copula
is linear: the scores are ``z = L e`` with ``e`` independent standard normals and ``L`` the
Cholesky factor of the scores' correlation matrix ``R``. For normal scores, a rank
correlation ``rho_s`` is a Pearson correlation ``rho = 2 sin(pi rho_s / 6)`` (Kruskal 1958),
and a monotone map of each score keeps its rank correlations: the drawn *values* have the
rank correlations written, whatever each prior's family, and each prior keeps its marginal.

This module is the arithmetic on the pairs (parsing, checking, the matrix and its blocks,
the nearest valid matrix); :class:`priors.PriorSet` holds the pairs.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from priors.errors import PriorError
from priors.linalg import serial_blas

__all__ = [
    "Correlation", "CorrelationWarning", "blocks", "check_valid", "merge", "nearest_valid",
    "parse_flags", "parse_table", "pearson_from_rank", "rank_from_pearson", "score_matrix",
]

#: Smallest eigenvalue a score correlation matrix may have: below it the copula is
#: (numerically) degenerate, one prior a deterministic function of others.
MIN_EIGENVALUE = 1e-6


class CorrelationWarning(UserWarning):
    """Correlations were dropped (a prior pinned to a value) or repaired (``repair=True``)."""


@dataclass(frozen=True)
class Correlation:
    """A Spearman rank correlation between two priors, and where it was written."""

    first: str
    second: str
    rank: float
    origin: str = ""

    @property
    def pair(self) -> frozenset[str]:
        return frozenset((self.first, self.second))

    @property
    def key(self) -> str:
        """The pair as a prior file writes it: ``first.second``."""
        return f"{self.first}.{self.second}"

    @property
    def pearson(self) -> float:
        return pearson_from_rank(self.rank)

    def describe(self) -> str:
        return f"{self.key} = {self.rank:g}"


def pearson_from_rank(rank):
    """Pearson correlation of two normal scores whose Spearman rank correlation is ``rank``."""
    return 2.0 * np.sin(np.pi * np.asarray(rank, dtype=float) / 6.0)


def rank_from_pearson(pearson):
    """The inverse of :func:`pearson_from_rank`: ``(6 / pi) arcsin(rho / 2)``."""
    return 6.0 / np.pi * np.arcsin(np.asarray(pearson, dtype=float) / 2.0)


# --------------------------------------------------------------------------- parsing


def _number(value, *, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PriorError(f"a rank correlation must be a number in (-1, 1), got {value!r}",
                         source=source, key=key)
    value = float(value)
    if not math.isfinite(value) or not -1.0 < value < 1.0:
        raise PriorError(f"a rank correlation must lie strictly between -1 and 1, got {value:g}",
                         source=source, key=key)
    return value


def _checked_pairs(pairs: Iterable[Correlation], source: str) -> list[Correlation]:
    """The pairs of one source, refusing a prior paired with itself and a pair given twice."""
    seen: dict[frozenset, Correlation] = {}
    for item in pairs:
        if item.first == item.second:
            raise PriorError("a prior cannot be correlated with itself", source=source, key=item.key)
        if item.pair in seen:
            raise PriorError(f"this pair is given twice (also as {seen[item.pair].key})",
                             source=source, key=item.key)
        seen[item.pair] = item
    return list(seen.values())


def parse_table(table, source: str) -> list[Correlation]:
    """The ``[correlations]`` table of a prior file: ``first.second = rank`` (TOML dotted keys)."""
    if not isinstance(table, Mapping):
        raise PriorError("'correlations' must be a table of pairs: first.second = 0.5", source=source)
    pairs = []
    for first, inner in table.items():
        if not isinstance(inner, Mapping):
            raise PriorError("write a pair as first.second = 0.5 (two prior names)",
                             source=source, key=f"correlations.{first}")
        for second, value in inner.items():
            key = f"correlations.{first}.{second}"
            if isinstance(value, Mapping):
                raise PriorError("a pair names two priors, not more", source=source, key=key)
            pairs.append(Correlation(first, second, _number(value, source=source, key=key), source))
    return _checked_pairs(pairs, source)


def parse_flags(items: Iterable[str] | Mapping | None, source: str = "--correlate") -> list[Correlation]:
    """Command-line pairs: ``["chip_growth,power_limit_growth=0.6"]`` (or a mapping of
    ``"first,second"`` or ``(first, second)`` to a number)."""
    if not items:
        return []
    entries = items.items() if isinstance(items, Mapping) else (_split_flag(item, source) for item in items)
    pairs = []
    for names, value in entries:
        if isinstance(names, str):
            names = [n.strip() for n in names.replace(".", ",").split(",")]
        names = list(names)
        if len(names) != 2 or not all(names):
            raise PriorError(f"expected FIRST,SECOND=RANK, got {names!r}", source=source)
        key = f"{names[0]},{names[1]}"
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise PriorError(f"expected a number after '=', got {value!r}", source=source, key=key) from None
        pairs.append(Correlation(names[0], names[1], _number(value, source=source, key=key), source))
    return _checked_pairs(pairs, source)


def _split_flag(item: str, source: str) -> tuple[str, str]:
    names, sep, value = str(item).partition("=")
    if not sep or not value.strip() or names.count(",") != 1:
        raise PriorError(f"expected FIRST,SECOND=RANK (e.g. chip_growth,power_limit_growth=0.6), got {item!r}",
                         source=source)
    return names, value.strip()


def merge(inherited: Sequence[Correlation], own: Sequence[Correlation]) -> tuple[Correlation, ...]:
    """``inherited`` with ``own``'s pairs replacing those of the same pair (0 removes one)."""
    replaced = {c.pair: c for c in own}
    kept = [replaced.pop(c.pair, c) for c in inherited]
    return tuple(c for c in kept + list(replaced.values()) if c.rank != 0.0)


def check_names(pairs: Iterable[Correlation], names: Sequence[str]) -> None:
    """Every pair must name priors of the set (a close name is suggested)."""
    for item in pairs:
        for name in (item.first, item.second):
            if name not in names:
                close = difflib.get_close_matches(name, list(names), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                flag = item.origin.startswith("--")
                key = f"{item.first},{item.second}" if flag else f"correlations.{item.key}"
                raise PriorError(f"unknown prior name {name!r}{hint}", source=item.origin, key=key)


# --------------------------------------------------------------------------- the matrix


def score_matrix(names: Sequence[str], pairs: Iterable[Correlation]) -> np.ndarray:
    """The correlation matrix of the normal scores of ``names`` (identity where no pair)."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.eye(len(names))
    for item in pairs:
        i, j = index[item.first], index[item.second]
        matrix[i, j] = matrix[j, i] = item.pearson
    return matrix


@serial_blas
def smallest_eigenvalue(matrix: np.ndarray) -> float:
    return float(np.linalg.eigvalsh(matrix)[0]) if len(matrix) else 1.0


@serial_blas
def check_valid(names: Sequence[str], pairs: Sequence[Correlation], *, source: str = "") -> None:
    """Refuse pairs whose matrix is not positive definite, naming the pairs involved.

    The pairs named are those between the priors that carry the direction of the smallest
    eigenvalue (the combination of priors the pairs make impossible).
    """
    if not pairs:
        return
    matrix = score_matrix(names, pairs)
    values, vectors = np.linalg.eigh(matrix)
    if values[0] >= MIN_EIGENVALUE:
        return
    direction = np.abs(vectors[:, 0])
    involved = {names[i] for i in np.flatnonzero(direction >= 0.25 * direction.max())}
    culprits = [c for c in pairs if c.first in involved and c.second in involved] or list(pairs)
    where = sorted({c.origin for c in culprits if c.origin}) or ([source] if source else [])
    raise PriorError(
        f"these rank correlations cannot hold together (their matrix is not positive definite, "
        f"smallest eigenvalue {values[0]:.3g}): {', '.join(c.describe() for c in culprits)}; "
        "weaken some of them, or pass --repair-correlations to use the nearest valid matrix",
        source=", ".join(where) or None,
    )


@serial_blas
def nearest_valid(matrix: np.ndarray, *, iterations: int = 200) -> np.ndarray:
    """The nearest correlation matrix with eigenvalues >= ``10 * MIN_EIGENVALUE``.

    Higham's (2002) alternating projections with Dykstra's correction, in the Frobenius
    norm: onto the positive semi-definite cone (eigenvalues clipped), then onto unit
    diagonals, until neither moves.
    """
    floor = 10 * MIN_EIGENVALUE
    y = np.array(matrix, dtype=float)
    correction = np.zeros_like(y)
    for _ in range(iterations):
        r = y - correction
        values, vectors = np.linalg.eigh(r)
        x = (vectors * np.maximum(values, floor)) @ vectors.T
        correction = x - r
        previous, y = y, x.copy()
        np.fill_diagonal(y, 1.0)
        if np.max(np.abs(y - previous)) < 1e-12:
            break
    # a last projection keeps the floor after the unit diagonal is restored
    values, vectors = np.linalg.eigh(y)
    y = (vectors * np.maximum(values, floor)) @ vectors.T
    scale = 1.0 / np.sqrt(np.diag(y))
    return (y * scale[:, None]) * scale[None, :]


def blocks(names: Sequence[str], pairs: Iterable[Correlation]) -> tuple[tuple[str, ...], ...]:
    """Groups of priors joined by correlations (connected components), in ``names`` order;
    a prior correlated with none is a group of its own."""
    parent = {name: name for name in names}

    def root(name):
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for item in pairs:
        parent[root(item.first)] = root(item.second)
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(root(name), []).append(name)
    return tuple(tuple(group) for group in groups.values())

"""Prior sets: the named priors of one forecast (:class:`Prior`, :class:`PriorSet`), their
correlations and labs, validated; read from TOML files by :mod:`priors.files`."""

from __future__ import annotations

import difflib
import hashlib
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtri

from priors import correlations as corr
from priors import labs as lab_scope
from priors.linalg import serial_blas
from priors.precision import float64
from priors.correlations import Correlation, CorrelationWarning
from priors.domains import Domain
from priors.errors import PriorError
from priors.families import Family
from priors.labs import ALTERNATIVES, LAB, LAB_YEAR, SHARED, Labs
from priors.spec import parse_spec
from priors.transform import WorldTransform

_PRIOR_KEYS = {"spec", "unit", "source", "description"}


class DomainWarning(UserWarning):
    """A prior was refitted to stay inside its parameter's domain."""


@dataclass(frozen=True)
class Prior:
    """One named uncertain input with its distribution, unit and evidence."""

    name: str
    spec: str
    family: Family
    unit: str = ""
    source: str = ""
    description: str = ""
    origin: str = ""  # the file (or "--set") this prior was last written in

    @property
    def is_fixed(self) -> bool:
        return self.family.is_fixed


@dataclass(frozen=True)
class PriorSet:
    """An ordered, validated collection of priors; hashable so it can key a compile cache.

    ``correlations`` are the rank correlations between uncertain priors (a pair with a
    fixed prior is dropped when the prior is pinned); :meth:`check_correlations` refuses a
    set of pairs that cannot hold together.
    """

    name: str
    priors: tuple[Prior, ...]
    description: str = ""
    source: str = ""
    correlations: tuple[Correlation, ...] = ()
    #: The labs whose runs the frontier is the largest of (:mod:`priors.labs`).
    labs: Labs = Labs()

    def __post_init__(self):
        seen = set()
        for prior in self.priors:
            if prior.name in seen:
                raise PriorError("defined twice", source=self.source, key=prior.name)
            seen.add(prior.name)
        corr.check_names(self.correlations, self.names)
        for item in self.correlations:
            for name in item.first, item.second:
                if lab_scope.scope(name) == LAB_YEAR:
                    raise PriorError(f"{name} is drawn afresh for every lab and year, so it has no rank "
                                     "correlations", source=item.origin or self.source, key=item.key)

    # -- access ------------------------------------------------------------------------
    def __iter__(self):
        return iter(self.priors)

    def __len__(self):
        return len(self.priors)

    def __contains__(self, name) -> bool:
        return any(p.name == name for p in self.priors)

    def __getitem__(self, name: str) -> Prior:
        for prior in self.priors:
            if prior.name == name:
                return prior
        raise self.unknown_name_error(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.priors)

    def scope(self, name: str) -> str:
        """``shared``, ``lab`` or ``lab-year`` (:mod:`priors.labs`)."""
        return lab_scope.scope(name)

    def for_lab(self, name: str, lab: str) -> Prior:
        """Prior ``name`` as lab ``lab`` draws it: its own override, or the common prior."""
        return self.labs.override(name, lab) or self[name]

    @cached_property
    def columns(self) -> tuple[tuple[str, str, int | None, Prior], ...]:
        """One entry per drawn column of a world, in prior order: ``(column name, prior
        name, lab index or None, Prior)``. A shared prior is one column; a lab-scoped prior
        one per lab (``chips_base[xai]``; its own name where there is one lab); lab-year
        priors are drawn apart (:attr:`lab_year_priors`)."""
        out = []
        n_labs = len(self.labs)
        for prior in self.priors:
            scope = lab_scope.scope(prior.name)
            if scope == SHARED:
                out.append((prior.name, prior.name, None, prior))
            elif scope == LAB:
                for k, lab in enumerate(self.labs.names):
                    out.append((lab_scope.column(prior.name, lab, n_labs), prior.name, k,
                                self.for_lab(prior.name, lab)))
        return tuple(out)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Every column of a world, fixed ones too (:attr:`columns`' names)."""
        return tuple(c[0] for c in self.columns)

    def prior_columns(self, name: str) -> tuple[str, ...]:
        """The uncertain columns of prior ``name`` (one per lab for a lab-scoped prior)."""
        return tuple(column for column, base, _, prior in self.columns if base == name and not prior.is_fixed)

    @property
    def latent_priors(self) -> tuple[str, ...]:
        """The priors with at least one uncertain column, in order (one per lab-scoped prior)."""
        return self.base_latent_names()

    @property
    def lab_year_priors(self) -> tuple[str, ...]:
        """Names of the priors drawn once per lab, year and world (independently)."""
        return tuple(p.name for p in self.priors if lab_scope.scope(p.name) == LAB_YEAR)

    @property
    def latent_names(self) -> tuple[str, ...]:
        """Names of the uncertain (non-fixed) columns: the coordinates of a world."""
        return tuple(name for name, _, _, prior in self.columns if not prior.is_fixed)

    @property
    def n_latent(self) -> int:
        return len(self.latent_names)

    def base_latent_names(self) -> tuple[str, ...]:
        """The priors with at least one uncertain column (the v2 copula's coordinates)."""
        names = {base for _, base, _, prior in self.columns if not prior.is_fixed}
        return tuple(p.name for p in self.priors if p.name in names)

    def unknown_name_error(self, name: str, *, source: str | None = None) -> PriorError:
        close = difflib.get_close_matches(name, self.names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; known: {', '.join(self.names)}"
        return PriorError(f"unknown prior name{hint}", source=source or self.source, key=name)

    # -- correlations ------------------------------------------------------------------
    def score_correlation(self) -> np.ndarray:
        """Correlation matrix of the normal scores of :attr:`latent_names` (the copula's;
        between labs, :func:`priors.labs.expanded_score_matrix`)."""
        if len(self.labs) == 1:
            return corr.score_matrix(self.latent_names, self.correlations)
        base = self.base_latent_names()
        index = {name: i for i, name in enumerate(base)}
        pairs = [c for c in self.correlations if c.first in index and c.second in index]
        latent = [(index[b], k) for _, b, k, prior in self.columns if not prior.is_fixed]
        return lab_scope.expanded_score_matrix(
            corr.score_matrix(base, pairs), [lab_scope.scope(n) == LAB for n in base], latent,
            self.labs.score_correlation)

    def rank_correlation(self) -> np.ndarray:
        """Spearman rank correlations of :attr:`latent_names`, as written (identity elsewhere)."""
        return corr.rank_from_pearson(self.score_correlation())

    def correlation_blocks(self) -> tuple[tuple[str, ...], ...]:
        """The uncertain priors in groups joined by correlations; an independent prior is a
        group of its own. Groups are independent of each other. With several labs, a
        lab-scoped prior's columns are one group (one input across its labs)."""
        if len(self.labs) == 1:
            return corr.blocks(self.latent_names, self.correlations)
        names = self.latent_names
        matrix = self.score_correlation()
        links = [Correlation(names[i], names[j], 0.0) for i, j in zip(*np.nonzero(np.triu(matrix, 1)))]
        first = {}
        for name in names:
            base = lab_scope.base_name(name)
            if base in first:
                links.append(Correlation(first[base], name, 0.0))
            first.setdefault(base, name)
        return corr.blocks(names, links)

    def check_correlations(self) -> PriorSet:
        """Refuse correlations whose matrix is not positive definite; returns self. (Between
        labs the copula is positive definite whenever the within-lab one is.)"""
        base = self.base_latent_names()
        pairs = [c for c in self.correlations if c.first in base and c.second in base]
        corr.check_valid(base, pairs, source=self.source)
        return self

    def with_correlations(self, pairs, *, repair: bool = False, source: str = "--correlate") -> PriorSet:
        """A copy with rank correlations added or replaced (``0`` removes a pair).

        ``pairs``: :class:`~priors.correlations.Correlation` objects, or command-line pairs
        (``["chip_growth,power_limit_growth=0.6"]``). With ``repair``, a matrix that is not
        positive definite is replaced by the nearest valid one, and a
        :class:`~priors.correlations.CorrelationWarning` lists what changed.
        """
        pairs = list(pairs or ())
        if pairs and not all(isinstance(p, Correlation) for p in pairs):
            pairs = corr.parse_flags(pairs, source)
        merged = replace(self, correlations=corr.merge(self.correlations, pairs))
        merged = merged._without_fixed_pairs()
        return merged._repaired() if repair else merged.check_correlations()

    def _without_fixed_pairs(self) -> PriorSet:
        """Drop the pairs of fixed priors, saying once which were dropped."""
        fixed = {p.name for p in self.priors if p.is_fixed}
        dropped = [c for c in self.correlations if c.first in fixed or c.second in fixed]
        if not dropped:
            return self
        for name in sorted(fixed & {n for c in dropped for n in (c.first, c.second)}):
            partners = [c.second if c.first == name else c.first for c in dropped if name in c.pair]
            warnings.warn(
                f"{name} is pinned to a value, so its rank correlations with "
                f"{', '.join(partners)} are dropped", CorrelationWarning, stacklevel=3,
            )
        return replace(self, correlations=tuple(c for c in self.correlations if c not in dropped))

    def _repaired(self) -> PriorSet:
        names = self.base_latent_names()
        matrix = corr.score_matrix(names, [c for c in self.correlations if c.first in names and c.second in names])
        if corr.smallest_eigenvalue(matrix) >= corr.MIN_EIGENVALUE:
            return self
        ranks = corr.rank_from_pearson(corr.nearest_valid(matrix))
        written = {c.pair: c for c in self.correlations}
        pairs, changes = [], []
        for i, j in zip(*np.triu_indices(len(names), 1)):
            old = written.get(frozenset((names[i], names[j])))
            new = float(np.round(ranks[i, j], 6))
            if abs(new) >= 5e-4 or old is not None:
                pairs.append(Correlation(names[i], names[j], new, "--repair-correlations"))
            before = old.rank if old is not None else 0.0
            if abs(new - before) >= 5e-3:
                changes.append(f"{names[i]}.{names[j]} {before:g} -> {new:.2f}")
        warnings.warn("rank correlations repaired to the nearest valid matrix: " + ", ".join(changes),
                      CorrelationWarning, stacklevel=3)
        return replace(self, correlations=tuple(pairs)).check_correlations()

    # -- worlds ------------------------------------------------------------------------
    def transform(self) -> WorldTransform:
        """The map from normal scores to prior values, as a JAX pytree (see WorldTransform)."""
        mixing = None
        between_labs = len(self.labs) > 1 and self.labs.correlation != 0
        if self.correlations or between_labs:
            self.check_correlations()
            mixing = serial_blas(np.linalg.cholesky)(self.score_correlation())
        columns = self.columns
        lab_year = [(name, lab, self.for_lab(name, lab)) for name in self.lab_year_priors
                    for lab in self.labs.names]
        return WorldTransform(
            names=tuple(c[0] for c in columns),
            kernels=tuple(c[3].family.static_kernel for c in columns),
            latent=tuple(not c[3].is_fixed for c in columns),
            leaves=tuple(c[3].family.leaves() for c in columns),
            mixing=mixing,
            layout=(self.labs.names, tuple((c[1], -1 if c[2] is None else c[2]) for c in columns)),
            lab_year_static=tuple((name, p.family.static_kernel, not p.is_fixed) for name, _, p in lab_year),
            lab_year_leaves=tuple(p.family.leaves() for _, _, p in lab_year),
        )

    @float64
    def values_from_normal(self, e) -> dict:
        """Every prior's value in the worlds given by independent standard-normal scores.

        ``e`` has shape ``(..., len(latent_names))``; each returned array has shape ``(...)``.
        Correlated priors are joined through the copula (``z = L e``).
        """
        return self.transform().values_from_normal(e)

    @float64
    def values_from_uniform(self, u) -> dict:
        """Every prior's value in the worlds given by unit-cube points ``u`` (Sobol, LHS)."""
        tiny = jnp.finfo(float).tiny
        return self.values_from_normal(ndtri(jnp.clip(jnp.asarray(u, dtype=float), tiny, 1.0 - 1e-16)))

    # -- derived sets ------------------------------------------------------------------
    def with_priors(self, priors: Iterable[Prior], *, name: str | None = None) -> PriorSet:
        """A copy with some priors replaced; names must already exist in this set."""
        replaced = {}
        for prior in priors:
            if prior.name not in self:
                if ALTERNATIVES.get(prior.name) in self:  # max_epochs in place of epoch_worth_floor
                    replaced[ALTERNATIVES[prior.name]] = prior
                    continue
                raise self.unknown_name_error(prior.name, source=prior.origin)
            replaced[prior.name] = prior
        merged = tuple(
            replace(replaced[p.name], unit=replaced[p.name].unit or p.unit)
            if p.name in replaced and replaced[p.name].name == p.name
            else replaced.get(p.name, p)
            for p in self.priors
        )
        gone = {p.name for p in self.priors} - {p.name for p in merged}
        correlations = tuple(c for c in self.correlations if not (c.pair & gone))
        # a prior written for every lab replaces each lab's own
        set_for_all = {p.name for p in replaced.values()}
        labs = replace(self.labs, overrides=tuple(item for item in self.labs.overrides
                                                   if item[1].name not in set_for_all))
        return replace(self, priors=merged, name=name or self.name, labs=labs,
                       correlations=correlations)._without_fixed_pairs()

    def with_labs(self, labs: int | str | Iterable[str] | None = None, *,
                  correlation: float | str | None = None) -> PriorSet:
        """A copy with other labs (``--labs N``: N identical labs, no lab's own priors; or a
        list of names, keeping the overrides of labs that remain) and/or another rank
        correlation between labs (``--lab-correlation R``)."""
        current = self.labs
        if labs is not None:
            if isinstance(labs, (int, str)):
                names = lab_scope.labs_of_count(labs)
                overrides = ()
            else:
                names = lab_scope.check_names(list(labs), source="--labs", key=None)
                overrides = tuple(item for item in current.overrides if item[0] in names)
            current = replace(current, names=names, overrides=overrides)
        if correlation is not None:
            current = replace(current, correlation=lab_scope.check_correlation(
                correlation, source="--lab-correlation", key=None))
        return replace(self, labs=current)

    def with_overrides(self, overrides: Mapping[str, str] | Iterable[str] | None) -> PriorSet:
        """Apply command-line style overrides: ``{"mfu": "0.45"}`` or ``["mfu=0.45"]``."""
        if not overrides:
            return self
        pairs = override_pairs(overrides)
        common = [(name, spec) for name, spec in pairs if "[" not in name]
        changed = [make_prior(name, {"spec": spec}, "--set") for name, spec in common]
        result = self.with_priors(changed, name=f"{self.name} (+{len(pairs)} set)")
        own = []
        for key, spec in pairs:
            if "[" not in key:
                continue
            name, _, lab = key.partition("[")
            lab = lab.rstrip("]")
            if name not in result:
                raise result.unknown_name_error(name, source="--set")
            if lab_scope.scope(name) == SHARED:
                raise PriorError("is a shared prior (one draw per world), so no lab can have its own",
                                 source="--set", key=key)
            if lab not in result.labs.names:
                raise PriorError(f"unknown lab {lab!r}; the labs are {', '.join(result.labs.names)}",
                                 source="--set", key=key)
            own.append((lab, make_prior(name, {"spec": spec}, "--set")))
        if not own:
            return result
        kept = tuple(item for item in result.labs.overrides
                     if (item[0], item[1].name) not in {(lab, p.name) for lab, p in own})
        return replace(result, labs=replace(result.labs, overrides=kept + tuple(own)))

    def fitted_to(self, domains: Mapping[str, Domain]) -> PriorSet:
        """The set with each unbounded metalog whose tails leave its parameter's domain
        refitted on the domain: ``metalog 5%: 1.5, 50%: 2, 95%: 3.5`` on a positive prior
        becomes the log-metalog ``..., lower 0``, which passes through the same quantiles
        (a :class:`DomainWarning` says so). Other priors, and a metalog that does not fit
        on the domain, are left for :meth:`validate` to judge."""
        def fitted(prior: Prior) -> Prior:
            domain = domains.get(prior.name)
            family = prior.family
            if domain is None or getattr(family, "kind", "") != "metalog":
                return prior
            low, high = family.value_range()
            if domain.contains(low, high):
                return prior
            bounds = []
            if family.lower is None and math.isfinite(domain.low) and not low > domain.low:
                bounds.append(f"lower {domain.low:g}")
            if family.upper is None and math.isfinite(domain.high) and not high < domain.high:
                bounds.append(f"upper {domain.high:g}")
            if not bounds:
                return prior
            spec = ", ".join([prior.spec.rstrip().rstrip(","), *bounds])
            try:
                refit = parse_spec(spec)
            except PriorError:
                return prior
            if not domain.contains(*refit.value_range()):
                return prior
            warnings.warn(
                f"{prior.origin + ': ' if prior.origin else ''}{prior.name}: {prior.spec!r} has tails reaching "
                f"[{low:.3g}, {high:.3g}], outside {domain}; fitted on the domain instead as {spec!r} "
                "(the same quantiles)", DomainWarning, stacklevel=3)
            return replace(prior, spec=spec, family=refit)

        priors = tuple(fitted(p) for p in self.priors)
        overrides = tuple((lab, fitted(p)) for lab, p in self.labs.overrides)
        if priors == self.priors and overrides == self.labs.overrides:
            return self
        return replace(self, priors=priors, labs=replace(self.labs, overrides=overrides))

    def validate(self, domains: Mapping[str, Domain]) -> PriorSet:
        """Check names and supports against a model's parameter domains; returns self."""
        for prior in self.priors + tuple(p for _, p in self.labs.overrides):
            if prior.name not in domains:
                close = difflib.get_close_matches(prior.name, list(domains), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise PriorError(f"the model has no such prior{hint}", source=prior.origin, key=prior.name)
            low, high = prior.family.value_range()
            if not domains[prior.name].contains(low, high):
                hint = ""
                if getattr(prior.family, "kind", "") == "metalog":
                    domain = domains[prior.name]
                    edges = [f"lower {domain.low:g}"] if math.isfinite(domain.low) else []
                    edges += [f"upper {domain.high:g}"] if math.isfinite(domain.high) else []
                    if edges:
                        hint = f" (a metalog stays inside with ', {', '.join(edges)}')"
                raise PriorError(
                    f"{prior.spec!r} reaches values in [{low:.3g}, {high:.3g}], "
                    f"but this prior must be {domains[prior.name]}{hint}",
                    source=prior.origin,
                    key=prior.name,
                )
        missing = [name for name in domains if name not in self and ALTERNATIVES.get(name) not in self]
        if missing:
            raise PriorError(f"missing priors: {', '.join(missing)}", source=self.source)
        return self

    def fingerprint(self) -> str:
        """SHA-256 of the resolved priors (name, distribution): equal sets, equal hashes."""
        lines = [f"{p.name}={p.family!r}" for p in self.priors]
        lines += [f"correlation {'.'.join(sorted(c.pair))}={c.rank!r}"
                  for c in sorted(self.correlations, key=lambda c: sorted(c.pair))]
        if self.labs != Labs():  # a set of one lab hashes as before labs existed
            lines += [f"labs {','.join(self.labs.names)} correlation={self.labs.correlation!r}"]
            lines += [f"lab {lab} {p.name}={p.family!r}" for lab, p in self.labs.overrides]
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def override_pairs(overrides) -> list[tuple[str, str]]:
    if isinstance(overrides, Mapping):
        return [(str(k), str(v)) for k, v in overrides.items()]
    pairs = []
    for item in overrides:
        name, sep, spec = str(item).partition("=")
        if not sep or not name.strip() or not spec.strip():
            raise PriorError(f"expected NAME=SPEC, got {item!r}", source="--set")
        pairs.append((name.strip(), spec.strip().strip("'\"")))
    return pairs


def make_prior(name: str, entry, origin: str) -> Prior:
    if isinstance(entry, (str, int, float)) and not isinstance(entry, bool):
        entry = {"spec": entry}
    if not isinstance(entry, dict):
        raise PriorError("expected a spec string or a table with 'spec'", source=origin, key=name)
    unknown = set(entry) - _PRIOR_KEYS
    if unknown:
        raise PriorError(
            f"unknown field(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(_PRIOR_KEYS))}",
            source=origin,
            key=name,
        )
    if "spec" not in entry:
        raise PriorError("missing 'spec' (for example spec = \"lognormal 1 to 10\")", source=origin, key=name)
    try:
        family = parse_spec(entry["spec"])
    except PriorError as err:
        raise err.located(source=origin, key=name) from None
    fields = {k: str(entry.get(k, "")) for k in ("unit", "source", "description")}
    return Prior(name=name, spec=str(entry["spec"]), family=family, origin=origin, **fields)

"""Labs: the frontier is the largest of several labs' runs (docs/model.md, v3).

Every prior has a *scope*: **shared** (one draw per world), **lab** (one draw per lab per
world) or **lab-year** (one draw per lab, year and world). A prior file names its labs and
how closely a lab-scoped prior moves between two labs, and may override any lab-scoped
prior for one lab::

    [labs]
    names = ["openai", "google_deepmind", "xai"]
    correlation = 0.5              # rank correlation of a lab-scoped prior between two labs

    [labs.xai.priors.chips_base]
    spec = "lognormal 1e5 to 2.5e5"
    source = "..."

A file without ``[labs]`` that inherits nothing is one lab (:data:`SINGLE_LAB`), whose
draws are exactly those of the v2 model.

Between labs the normal scores follow MODEL.md v3's one-factor copula on the part of each
lab-scoped score that the shared priors do not explain: with ``R`` the within-lab copula
(shared ``s`` and lab-scoped ``l`` priors) and ``S = R_ll - R_ls R_ss^-1 R_sl`` its Schur
complement, lab ``k`` draws ``z_k = A z_s + sqrt(rho) c + sqrt(1 - rho) d_k`` with
``A = R_ls R_ss^-1`` and ``c``, ``d_k`` independent ``N(0, S)``. Within a lab the v2 copula
holds exactly; between two labs ``cov(z_k, z_j) = R_ll - (1 - rho) S``, which is
``rho R_ll`` (the Kronecker form ``(rho J + (1 - rho) I) (x) R``) wherever the shared priors
explain nothing; the whole matrix is positive definite for every ``rho`` in [0, 1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from priors.correlations import pearson_from_rank
from priors.errors import PriorError
from priors.linalg import serial_blas

SHARED, LAB, LAB_YEAR = "shared", "lab", "lab-year"

#: Every prior that is not shared (MODEL.md v3, "Labs"); any other prior is shared.
SCOPES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "chips_base", "chip_growth",
            "power_limit_gw_base", "power_limit_growth", "power_limit_gw_max",
            "capex_limit_usd_base", "capex_limit_growth", "capex_limit_usd_max",
            "duration_days_base", "duration_growth", "duration_days_max",
            "mfu", "lag_years",
            "post_training_fraction_base", "post_training_fraction_growth", "post_training_fraction_max",
            "disclosure_probability", "disclosure_delay_months",
        ),
        LAB,
    ),
    "run_share": LAB_YEAR,
}

#: Priors a file may leave out, and the neutral value each then takes: a v2 prior file
#: (none of these) gives v2's numbers.
NEUTRAL: Mapping[str, dict] = {
    "run_share": {"spec": "fixed 1", "unit": "fraction",
                  "description": "Fraction of its system a lab's largest run of a year uses",
                  "source": "neutral value: the whole system (v2)"},
    "data_wall_softness": {"spec": "fixed 0", "unit": "exponent",
                           "description": "Worth of compute past the data wall: 0 a hard wall, 1 no wall",
                           "source": "neutral value: a hard wall (v2)"},
    "disclosure_probability": {"spec": "fixed 1", "unit": "probability",
                               "description": "Probability a lab's largest run of a year ever gets a public compute estimate",
                               "source": "neutral value: every run is estimated"},
    "disclosure_delay_months": {"spec": "fixed 0", "unit": "months",
                                "description": "Median months from a run's end to its public estimate",
                                "source": "neutral value: at once"},
    "estimate_sd_dex": {"spec": "fixed 0.15", "unit": "dex",
                        "description": "Error of a public estimate that states no interval (sd of log10)",
                        "source": "neutral value (judgement)"},
}

#: Priors of which a file names one: the epochs a lab repeats its data, drawn directly (v2)
#: or derived from the worth of the last epoch (v3). Setting either replaces the other.
ALTERNATIVES: Mapping[str, str] = {"max_epochs": "epoch_worth_floor", "epoch_worth_floor": "max_epochs"}

#: The one lab of a file without ``[labs]``.
SINGLE_LAB = "frontier"
_LAB_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def scope(name: str) -> str:
    """The scope of prior ``name``: :data:`SHARED`, :data:`LAB` or :data:`LAB_YEAR`."""
    return SCOPES.get(name, SHARED)


def column(name: str, lab: str, n_labs: int) -> str:
    """The name of lab ``lab``'s copy of a lab-scoped prior (the prior's own name for one lab)."""
    return name if n_labs == 1 else f"{name}[{lab}]"


def base_name(column_name: str) -> str:
    """The prior a column belongs to: ``chips_base[xai]`` -> ``chips_base``."""
    return column_name.split("[", 1)[0]


@dataclass(frozen=True)
class Labs:
    """The labs of a prior set: their names, the rank correlation of a lab-scoped prior
    between two labs, and each lab's own priors (``(lab, Prior)`` pairs)."""

    names: tuple[str, ...] = (SINGLE_LAB,)
    correlation: float = 0.0
    overrides: tuple = ()

    def __len__(self) -> int:
        return len(self.names)

    @property
    def score_correlation(self) -> float:
        """The correlation of the normal scores (``2 sin(pi rho_s / 6)``)."""
        return float(pearson_from_rank(self.correlation))

    def override(self, name: str, lab: str):
        """Lab ``lab``'s own prior ``name``, or None."""
        for item_lab, prior in self.overrides:
            if item_lab == lab and prior.name == name:
                return prior
        return None


def check_names(names, *, source: str, key: str = "labs.names") -> tuple[str, ...]:
    """Lab names: a non-empty list of distinct lower-case identifiers."""
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise PriorError("expected a non-empty list of lab names, e.g. [\"openai\", \"xai\"]",
                         source=source, key=key)
    seen = set()
    for name in names:
        if not isinstance(name, str) or not _LAB_NAME.match(name):
            raise PriorError(f"lab name {name!r} must be lower-case letters, digits and _ "
                             "(starting with a letter)", source=source, key=key)
        if name in seen:
            raise PriorError(f"lab {name!r} is named twice", source=source, key=key)
        seen.add(name)
    return tuple(names)


def check_correlation(value, *, source: str, key: str = "labs.correlation") -> float:
    """A rank correlation between labs: a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(str(value))
        except ValueError:
            raise PriorError(f"expected a number in [0, 1), got {value!r}", source=source, key=key) from None
    value = float(value)
    if not (0.0 <= value < 1.0):
        raise PriorError(f"the correlation between labs must be in [0, 1), got {value:g}",
                         source=source, key=key)
    return value


def labs_of_count(count, *, source: str = "--labs") -> tuple[str, ...]:
    """``--labs N``: N identical labs named lab1 .. labN."""
    try:
        n = int(str(count))
    except ValueError:
        raise PriorError(f"expected a whole number of labs, got {count!r}", source=source) from None
    if not 1 <= n <= 64:
        raise PriorError(f"the number of labs must be 1 to 64, got {n}", source=source)
    return (SINGLE_LAB,) if n == 1 else tuple(f"lab{i + 1}" for i in range(n))


def parse_table(table, where: str, make_prior: Callable, known: Callable[[str], bool]):
    """``[labs]`` of a file: ``(names or None, correlation or None, [(lab, Prior), ...])``.

    ``make_prior(name, entry, origin)`` builds a prior; ``known(name)`` says whether the
    prior set has a prior of that name (checked again once inheritance is resolved)."""
    if not isinstance(table, dict):
        raise PriorError("'labs' must be a table: [labs] names = [...]", source=where, key="labs")
    names = check_names(table["names"], source=where) if "names" in table else None
    correlation = (check_correlation(table["correlation"], source=where)
                   if "correlation" in table else None)
    overrides = []
    for lab, entry in table.items():
        if lab in ("names", "correlation"):
            continue
        key = f"labs.{lab}"
        if not isinstance(entry, dict) or set(entry) != {"priors"} or not isinstance(entry["priors"], dict):
            raise PriorError("a lab's table holds only its priors: [labs.LAB.priors.NAME]",
                             source=where, key=key)
        for name, spec in entry["priors"].items():
            prior_key = f"{key}.priors.{name}"
            if not known(name):
                raise PriorError("unknown prior name", source=where, key=prior_key)
            if scope(name) == SHARED:
                raise PriorError("is a shared prior (one draw per world), so no lab can have its own; "
                                 f"lab-scoped priors: {', '.join(sorted(SCOPES))}", source=where, key=prior_key)
            try:
                prior = make_prior(name, spec, where)
            except PriorError as err:
                raise err.located(source=where, key=prior_key) from None
            overrides.append((lab, prior))
    return names, correlation, overrides


def check_override_labs(labs: Labs, own_overrides, where: str) -> None:
    """Refuse a file's override for a lab the prior set does not have."""
    for lab, prior in own_overrides:
        if lab not in labs.names:
            raise PriorError(f"unknown lab {lab!r}; the labs are {', '.join(labs.names)}",
                             source=where, key=f"labs.{lab}.priors.{prior.name}")


# --------------------------------------------------------------------------- the copula


@serial_blas
def expanded_score_matrix(within: np.ndarray, is_lab: Sequence[bool], columns: Sequence[tuple[int, int | None]],
                          rho: float) -> np.ndarray:
    """The normal-score correlation of the expanded columns (module docstring).

    ``within``: the v2 copula over the base latent priors; ``is_lab``: which of them are
    lab-scoped; ``columns``: ``(base index, lab index or None)`` per expanded column.
    """
    within = np.asarray(within, dtype=float)
    lab = np.asarray(is_lab, dtype=bool)
    shared = ~lab
    schur = np.zeros_like(within)
    r_ll = within[np.ix_(lab, lab)]
    if shared.any() and lab.any():
        r_ls = within[np.ix_(lab, shared)]
        r_ss = within[np.ix_(shared, shared)]
        schur_ll = r_ll - r_ls @ np.linalg.solve(r_ss, r_ls.T)
    else:
        schur_ll = r_ll
    schur[np.ix_(lab, lab)] = schur_ll
    base = np.array([b for b, _ in columns], dtype=int)
    labs = np.array([-1 if k is None else k for _, k in columns], dtype=int)
    matrix = within[np.ix_(base, base)].copy()
    other_lab = (labs[:, None] >= 0) & (labs[None, :] >= 0) & (labs[:, None] != labs[None, :])
    matrix[other_lab] -= (1.0 - rho) * schur[np.ix_(base, base)][other_lab]
    return matrix

"""Convergence diagnostics of a NUTS fit, one type for every fit (trend and calibration)."""

from __future__ import annotations

import math

from dataclasses import dataclass, field

import pandas as pd

from forecast.arviz_loader import arviz

az = arviz()

__all__ = ["NutsDiagnostics", "nuts_diagnostics"]


@dataclass(frozen=True)
class NutsDiagnostics:
    """Convergence diagnostics of one NUTS fit, over the model's parameters.

    Attributes
    ----------
    max_rhat : float
        Largest rank-normalized split R-hat.
    min_ess_bulk, min_ess_tail : float
        Smallest bulk and tail effective sample sizes.
    divergences : int
        Number of divergent transitions after warmup, all chains.
    summary : pandas.DataFrame
        ``arviz.summary`` of the parameters (mean, sd, hdi, mcse, ess, r_hat).
    """

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    summary: pd.DataFrame = field(repr=False)

    def problems(self, *, rhat_max: float = 1.01, ess_min: float = 400.0) -> list[str]:
        """Plain-language list of what fails the thresholds (empty when all pass)."""
        found = []
        if not self.max_rhat <= rhat_max:  # also catches NaN
            found.append(f"max r_hat {self.max_rhat:.4f} > {rhat_max}")
        if not self.min_ess_bulk >= ess_min:
            found.append(f"min bulk ESS {_below(self.min_ess_bulk)} < {ess_min:.0f}")
        if not self.min_ess_tail >= ess_min:
            found.append(f"min tail ESS {_below(self.min_ess_tail)} < {ess_min:.0f}")
        if self.divergences > 0:
            found.append(f"{self.divergences} divergent transition(s)")
        return found


def _below(ess: float) -> str:
    """An ESS under its threshold, rounded down (399.6 is "399", never "400 < 400")."""
    return str(math.floor(ess)) if math.isfinite(ess) else str(ess)



def nuts_diagnostics(idata: az.InferenceData, names) -> NutsDiagnostics:
    """r_hat, bulk/tail ESS and divergences of the variables ``names`` of a NUTS fit."""
    summary = az.summary(idata, var_names=list(names), round_to="none")
    divergences = int(idata.sample_stats["diverging"].sum())
    return NutsDiagnostics(
        max_rhat=float(summary["r_hat"].max()),
        min_ess_bulk=float(summary["ess_bulk"].min()),
        min_ess_tail=float(summary["ess_tail"].min()),
        divergences=divergences,
        summary=summary,
    )

"""The saved small runs that prove a refactor changed no number (``tests/test_golden.py``).

``python -m tests.golden`` writes ``tests/data/golden.nc`` from the code as it stands. It was
written once, before the redesign of issue 9, and must only be written again for a change
that is *meant* to move numbers (say which in the commit message).
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

PATH = Path(__file__).parent / "data" / "golden.nc"

#: (group, prior set, overrides, samples, seed, years): small runs that touch every output.
RUNS = (
    # model v2's default (priors/scenarios/v2.toml) and its power_wall scenario: v3 must give v2's numbers
    ("default", "v2", None, 200, 20241, "2025:2035"),
    ("power_wall", "v2", {"power_limit_gw_max": "lognormal 1 to 2", "mfu": "beta 0.3 to 0.5", "max_epochs": "3"},
     120, 5, "2024:2040"),
)
SOBOL = dict(priors="v2", years="2025:2032", target_year=2030, threshold=1e28, n_base=64,
             seed=3, n_bootstrap=20, with_tornado=False)


def runs() -> dict[str, xr.Dataset]:
    """Each run's worlds (group ``NAME``) and its per-year summary (group ``NAME/summary``)."""
    import forecast

    out = {}
    for group, priors, overrides, samples, seed, years in RUNS:
        result = forecast.run(priors, overrides=overrides, samples=samples, seed=seed, years=years)
        out[group] = result.samples.drop_attrs()
        out[f"{group}/summary"] = result.summary().drop_attrs()
    return out


def sobol() -> xr.Dataset:
    """Sobol' indices of the default priors made independent: the per-prior estimators,
    which must not move when correlated priors are attributed as groups."""
    from dataclasses import replace

    from forecast.sensitivity.analysis import sensitivity
    from forecast.settings import RunSettings
    from priors import load_prior_set

    question = {k: v for k, v in SOBOL.items() if k not in ("priors", "years", "seed")}
    settings = RunSettings(priors=SOBOL["priors"], years=SOBOL["years"], seed=SOBOL["seed"], as_of=None)
    independent = replace(load_prior_set(SOBOL["priors"]), correlations=())
    return sensitivity(settings, prior_set=independent, **question).sobol.drop_attrs()


def main() -> None:
    mode = "w"
    for group, ds in {**runs(), "sobol": sobol()}.items():
        ds.to_netcdf(PATH, group=group, mode=mode, engine="h5netcdf",
                     encoding={v: {"zlib": True} for v in ds.data_vars if ds[v].dtype.kind in "fiu"})
        mode = "a"
    print(f"wrote {PATH} ({PATH.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()

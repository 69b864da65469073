"""Tests of forecast.sensitivity and ``forecast sensitivity`` against values worked out by hand.

Worlds here are "neutral": nothing grows, supply is the only binding cap (power, money and
data are made huge), so log10 compute in any year is a plain sum of the logs of the
uncertain priors plus a constant. Then:

- one uncertain prior: it carries all the variance (total index 1), priors with a spread of
  one part in a million carry none;
- chips_base ~ lognormal 5e4 to 2e5 and duration_days_base ~ lognormal 40 to 80: log compute
  is a sum of two independent normals with sigma ln(4)/(2 z95) and ln(2)/(2 z95), so
  S_chips = ln(4)^2 / (ln(4)^2 + ln(2)^2) = 4/5 and S_duration = 1/5, first order equal to
  total order (no interaction). The duration stays below the 365-day cap for every design
  point (u >= 2^-24, z <= 5.3: 56.6 * exp(5.3 * 0.21) = 171 days);
- pinning chips_base at its 5th and 95th percentiles moves every world by log10(5e4) and
  log10(2e5), so the median moves by exactly log10(4) between the two pins.

Tolerances: 0.02 for indices at n_base = 2048 (QMC error ~0.01), 1e-9 for shifts that are
exact in arithmetic.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import xarray as xr

import forecast.summaries
from forecast.sensitivity.analysis import sensitivity, sobol_analysis
from forecast.sensitivity.local import prior_swaps, tornado
from forecast.sensitivity.worlds import OUTPUTS, crossing_year_or_after, headline_numbers
from forecast.settings import RunSettings
from outputs import cli
from priors import InputError
from tests.forecast.sensitivity.neutral import NEUTRAL, neutral_priors, tiny_spread
from tests.figures import check_figures

YEARS = tuple(range(2025, 2031))
N_BASE = 2048
TOL = 0.02

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def product_of_lognormals():
    priors = neutral_priors(chips_base="lognormal 5e4 to 2e5", duration_days_base="lognormal 40 to 80")
    return sobol_analysis(priors, years=YEARS, target_year=2028, threshold=1e26, n_base=N_BASE, seed=3)


@pytest.fixture(scope="module")
def small_default():
    """The default priors through the whole pipeline at tiny sizes (shared by plots and dims)."""
    return sensitivity(
        RunSettings(years=YEARS, samples=500, seed=1, as_of=None), target_year=2028, threshold=1e28, n_base=64,
        swaps=["max_epochs=lognormal 1 to 5"], n_bootstrap=50,
    )


# --------------------------------------------------------------------------- Sobol'


@pytest.mark.parametrize(
    "name, spec",
    [("mfu", "beta mean 0.40, 0.30 to 0.50"), ("chips_base", "lognormal 5e4 to 2e5"),
     ("lag_years", "uniform 0.5 to 1.5")],
    ids=["mfu-beta", "chips-lognormal", "lag-uniform"],
)
def test_single_uncertain_prior_gets_everything(name, spec):
    others = {n: tiny_spread(NEUTRAL[n]) for n in ("chip_flops_growth", "watts_per_chip_base", "max_epochs")}
    priors = neutral_priors(**{name: spec}, **others)
    headline, by_year = sobol_analysis(
        priors, years=YEARS, target_year=2030, threshold=1e27, n_base=512, seed=0, n_bootstrap=100
    )
    compute = headline.sel(output="log10_compute")
    assert compute["ST"].sel(prior=name) == pytest.approx(1.0, abs=TOL)
    assert compute["S1"].sel(prior=name) == pytest.approx(1.0, abs=TOL)
    rest = compute.drop_sel(prior=name)
    np.testing.assert_allclose(rest["ST"], 0.0, atol=1e-3)
    np.testing.assert_allclose(rest["S1"], 0.0, atol=1e-3)
    np.testing.assert_allclose(by_year["ST"].sel(prior=name), 1.0, atol=TOL)
    np.testing.assert_allclose(by_year["ST"].drop_sel(prior=name), 0.0, atol=1e-3)


def test_product_of_lognormals_matches_hand_values(product_of_lognormals):
    headline, by_year = product_of_lognormals
    expected = xr.DataArray([0.8, 0.2], dims="prior", coords={"prior": ["chips_base", "duration_days_base"]})
    compute = headline.sel(output="log10_compute", drop=True)
    for index in ("S1", "ST"):
        xr.testing.assert_allclose(compute[index], expected, atol=TOL)
        # and the truth lies inside the bootstrap intervals
        ci = compute[f"{index}_ci"]
        assert bool(((ci.sel(bound="lower") <= expected) & (expected <= ci.sel(bound="upper"))).all())
    assert float(compute["sum_S1"]) == pytest.approx(1.0, abs=TOL)  # no interaction
    # Nothing grows: every year decomposes the same way.
    xr.testing.assert_allclose(by_year["ST"], expected.broadcast_like(by_year["ST"]), atol=TOL)
    # Variance of log10 C: (sigma_chips^2 + sigma_duration^2) / ln(10)^2, sigma = ln(ratio) / (2 z95).
    z95 = 1.6448536269514722
    variance = (math.log(4) ** 2 + math.log(2) ** 2) / (2 * z95 * math.log(10)) ** 2
    assert float(compute["variance"]) == pytest.approx(variance, rel=0.05)


def test_sobol_dims_and_outputs(small_default):
    sobol, by_year = small_default.sobol, small_default.by_year
    latent = small_default.priors.latent_names
    assert sobol["S1"].dims == ("prior", "output")
    assert sobol["ST_ci"].dims == ("prior", "output", "bound")
    assert list(sobol["output"].values) == list(OUTPUTS)
    # one entry per correlation block of the default priors (a group, or a prior on its own)
    blocks = small_default.priors.correlation_blocks()
    # a lab-scoped prior enters as one input across its six labs, named once
    assert list(sobol["prior"].values) == [" + ".join(dict.fromkeys(n.split("[")[0] for n in b)) for b in blocks]
    assert "chips_base" in sobol["prior"].values and "lag_years" in sobol["prior"].values
    assert list(small_default.groups.values()) == [tuple(dict.fromkeys(n.split("[")[0] for n in b))
                                                   for b in blocks]
    assert sorted(n for b in blocks for n in b) == sorted(latent)
    assert sobol.attrs["n_evaluations"] == (len(blocks) + 2) * 64
    assert by_year["ST"].dims == ("prior", "year")
    assert list(by_year["prior"].values) == list(sobol["prior"].values)
    assert list(by_year["year"].values) == list(YEARS)
    assert 0.0 <= sobol.attrs["never_crossed"] <= 1.0
    assert sobol.attrs["never_crossed_year"] == 2031
    table = small_default.sobol_table()
    labels = list(sobol["prior"].values)
    assert list(table.index) == sorted(labels, key=lambda n: -float(sobol["ST"].sel(prior=n, output="log10_compute")))


def test_first_crossing_year_by_hand():
    log10_c = xr.DataArray([[27.0, 28.5, 27.0], [26.0, 27.0, 27.9], [28.0, 29.0, 30.0]],
                           dims=("sample", "year"), coords={"year": [2025, 2026, 2027]})
    # running max crosses 28 in 2026, never, and 2025; "never" is one past the last year
    crossing = crossing_year_or_after(log10_c, 1e28)
    np.testing.assert_array_equal(crossing, [2026, 2028, 2025])
    # the same kernel as the timeline's, which marks "never" as NaN
    timeline = forecast.summaries.first_crossing_year(log10_c, [1e28]).squeeze("threshold")
    np.testing.assert_array_equal(timeline.fillna(2028), crossing)
    numbers = headline_numbers(log10_c, 1e28)
    np.testing.assert_allclose(numbers["probability"], [1 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(numbers["median"], [27.0, 28.5, 27.9])


# --------------------------------------------------------------------------- tornado and swaps


def test_tornado_pins_shift_by_hand():
    priors = neutral_priors(chips_base="lognormal 5e4 to 2e5", duration_days_base="lognormal 40 to 80")
    ds = tornado(priors, years=YEARS, target_year=2028, threshold=1e26, samples=2000, seed=5)
    assert list(ds["prior"].values) == ["chips_base", "duration_days_base"]  # widest on top
    np.testing.assert_allclose(ds["value"].sel(prior="chips_base"), [5e4, 2e5], rtol=1e-9)
    assert float(ds["median_width"].sel(prior="chips_base")) == pytest.approx(math.log10(4), abs=1e-9)
    assert float(ds["median_width"].sel(prior="duration_days_base")) == pytest.approx(math.log10(2), abs=1e-9)
    # Pinning low lowers the median, pinning high raises it, around the unpinned run.
    shift = ds["median_shift"].sel(prior="chips_base")
    assert float(shift.sel(pin="low")) < 0 < float(shift.sel(pin="high"))


def test_tornado_pin_equals_a_fixed_override(default_priors):
    """Pinning in score space is the same as --set NAME=<5th percentile>, world by world."""
    years, samples, seed = YEARS, 1000, 11
    ds = tornado(default_priors, years=years, target_year=2028, threshold=1e27, samples=samples, seed=seed)
    for name in ("text_tokens_base", "mfu"):
        value = float(default_priors[name].family.ppf(0.05))
        pinned = default_priors.with_overrides({name: repr(value)})
        swaps = prior_swaps(default_priors, {"pin": pinned}, years=years, threshold=1e27,
                            samples=samples, seed=seed)
        assert float(swaps["median"].sel(swap="pin", year=2028)) == pytest.approx(
            float(ds["median"].sel(prior=name, pin="low")), abs=1e-9
        )
        assert float(swaps["probability"].sel(swap="pin", year=2028)) == pytest.approx(
            float(ds["probability"].sel(prior=name, pin="low")), abs=1e-12
        )
    # the unswapped base of the swaps is the unpinned base of the tornado
    assert float(swaps["base_median"].sel(year=2028)) == pytest.approx(float(ds["base_median"]), abs=1e-12)


def test_swap_to_same_spec_changes_nothing(small_default):
    same = small_default.priors.with_overrides({"mfu": small_default.priors["mfu"].spec})
    ds = prior_swaps(small_default.priors, [("same", same)], years=YEARS, threshold=1e28, samples=300)
    np.testing.assert_allclose(ds["delta_median"], 0.0, atol=1e-12)
    np.testing.assert_allclose(ds["delta_probability"], 0.0, atol=1e-12)


def test_swap_fewer_epochs_lowers_the_forecast(small_default):
    swaps = small_default.swaps
    assert swaps["delta_median"].dims == ("swap", "year")
    late = swaps.sel(swap="max_epochs=lognormal 1 to 5", year=2030)
    assert float(late["delta_median"]) < 0
    # v3 derives the epochs from epoch_worth_floor: the swap names what it replaced
    assert "max_epochs: epoch_worth_floor uniform between 0.3 and 0.8 -> lognormal 1 to 5" in str(
        late["changed"].values)


def test_swap_file_takes_only_the_files_own_priors(tmp_path, default_priors):
    path = tmp_path / "wall.toml"
    path.write_text('[priors]\nmax_epochs = "lognormal 1 to 3"\npower_limit_growth = "lognormal 1.2 to 1.8"\n')
    from forecast.sensitivity.local import swap_file_set

    swapped = swap_file_set(default_priors, path)
    changed = {p.name for p in swapped if p.name not in default_priors or p.family != default_priors[p.name].family}
    assert changed == {"max_epochs", "power_limit_growth"}  # max_epochs in place of epoch_worth_floor
    assert "epoch_worth_floor" not in swapped


# --------------------------------------------------------------------------- API errors


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target_year": 2040}, "outside the forecast years"),
        ({"threshold": -1}, "positive number"),
        ({"threshold": "lots"}, "not a number"),
        ({"n_base": 1000}, "power of two"),
        ({"swaps": ["nonsense=0.5"]}, "unknown prior name"),
        ({"swaps": ["mfu"]}, "NAME=SPEC"),
        ({"swaps": ["mfu=gaussian 1 to 2"]}, "unknown distribution"),
        ({"swaps": ["mfu=lognormal 0.3 to 0.6"]}, "must be a fraction"),
    ],
    ids=["year", "negative-threshold", "text-threshold", "n-base", "swap-name", "swap-form", "swap-spec",
         "swap-domain"],
)
def test_bad_input_is_refused(kwargs, match):
    with pytest.raises(InputError, match=match):
        sensitivity(RunSettings(as_of=None), **kwargs)


# --------------------------------------------------------------------------- plots


def test_plots_return_axes(small_default):
    import matplotlib.pyplot as plt

    from outputs.plots.sensitivity import plot_sensitivity_by_year, plot_sobol, plot_tornado

    _, axes = plt.subplots(1, 3)
    assert plot_sobol(small_default, output="reached", ax=axes[0]) is axes[0]
    assert plot_tornado(small_default, metric="probability", ax=axes[1]) is axes[1]
    assert plot_sensitivity_by_year(small_default, ax=axes[2], top=5) is axes[2]
    assert len(axes[2].get_yticklabels()) == 5
    ax = plot_tornado(small_default)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    from outputs.text import prior_label
    widest = small_default.tornado["prior"].values[int(np.argmax(small_default.tornado["median_width"].values))]
    assert labels[0].removesuffix(" *") == prior_label(str(widest))  # widest on top, in prose
    with pytest.raises(ValueError, match="output must be one of"):
        plot_sobol(small_default, output="nope")


def test_plots_say_that_correlated_priors_are_grouped_and_conditioned(small_default):
    from outputs.plots.sensitivity import (
        GROUP_NOTE,
        plot_sensitivity_by_year,
        plot_sobol,
        plot_tornado,
    )

    from outputs.text import prior_label

    def one_line(text):
        return " ".join(text.split())

    ax = plot_sobol(small_default)
    assert GROUP_NOTE in one_line(ax.get_title())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    groups = [label for label in labels if "+" in label]
    assert len(groups) == 2 and all("\n" in g or len(g) <= 40 for g in groups)  # long groups wrapped
    # each prior of a group in prose, as everywhere else
    assert {g.replace(" +\n", " + ") for g in groups} == {
        " + ".join(prior_label(m) for m in members)
        for members in small_default.groups.values() if len(members) > 1
    }
    ax = plot_tornado(small_default)
    starred = {t.get_text().removesuffix(" *") for t in ax.get_yticklabels() if t.get_text().endswith(" *")}
    shown = {t.get_text().removesuffix(" *") for t in ax.get_yticklabels()}
    blocks = [set(n.split("[")[0] for n in b) for b in small_default.priors.correlation_blocks()]
    # a prior whose pin moves others (of those with a visible effect, the rows drawn)
    assert starred == {prior_label(n) for b in blocks if len(b) > 1 for n in b} & shown
    assert "moves its partners as the copula implies" in ax.figure._supxlabel.get_text().replace("\n", " ")
    assert GROUP_NOTE in one_line(plot_sensitivity_by_year(small_default).get_title())


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def forecast_cli(monkeypatch, tmp_path):
    """``forecast sensitivity``, run inside a temporary folder (the command line imports no
    other command)."""
    monkeypatch.chdir(tmp_path)
    return lambda *argv: cli.main(["sensitivity", *argv])


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--swap", "mfuu=0.5"], "unknown prior name"),
        (["--target-year", "2040"], "outside the forecast years"),
        (["--years", "2025:2029", "--target-year", "2030"], "outside the forecast years"),
        (["--threshold=-1e28"], "positive number"),
        (["--threshold", "big"], "not a number"),
        (["--threshold", "0"], "positive number"),
        (["--n-base", "1000"], "power of two"),
        (["--swap-file", "no_such_file.toml"], "no such prior file"),
        (["--format", "gif"], "unknown image format"),
    ],
    ids=["swap-name", "year-late", "year-outside-range", "threshold-negative", "threshold-text",
         "threshold-zero", "n-base", "swap-file", "format"],
)
def test_cli_bad_input_exits_2_with_one_line(forecast_cli, capsys, argv, match):
    assert forecast_cli(*argv) == 2  # refused before any model runs
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("forecast sensitivity: error:")
    assert match in err


def test_cli_smoke(forecast_cli, capsys, tmp_path):
    argv = ["--years", "2025:2030", "--target-year", "2028", "--n-base", "32", "--samples", "200",
            "--bootstrap", "20", "--swap", "max_epochs=lognormal 1 to 5", "--swap-file", "power_wall",
            "--out", "sens"]
    assert forecast_cli(*argv) == 0
    out = capsys.readouterr().out
    assert "Sobol' indices" in out and "interactions carry" in out and "wrote sens/" in out
    folder = tmp_path / "sens"
    names = {p.name for p in folder.iterdir()}
    assert {"sensitivity.md", "sobol.csv", "sobol_by_year.csv", "tornado.csv", "swaps.csv",
            "sensitivity.nc", "sobol_log10_compute.png", "tornado_median.png",
            "sensitivity_by_year.png"} <= names
    check_figures(folder)
    report = (folder / "sensitivity.md").read_text()
    assert re.search(r"^\| prior +\| spec +\|", report, re.MULTILINE)
    assert "file power_wall" in report and "one past the last year" in report
    # the default priors are correlated: say how the Sobol' indices and the tornado treat them
    assert "Correlated priors are attributed as a group" in report
    assert "chip_flops_growth ~ duration_days_max -0.7" in report
    assert "moves its partners as the copula implies (conditional)" in report
    assert "attributed as a group" in out
    assert xr.open_dataset(folder / "sensitivity.nc", group="sobol", engine="h5netcdf").sizes["output"] == 3
    # an existing folder is never replaced without --force
    assert forecast_cli(*argv) == 2
    assert "already exists" in capsys.readouterr().err

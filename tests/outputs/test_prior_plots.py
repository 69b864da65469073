"""``forecast priors --plot`` and the plots of a prior set: the files it writes, its refusals,
and the numbers the plots show (densities against scipy, percentile marks against ``ppf``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import integrate, stats

from outputs.cli import main
from outputs.plots.priors import (
    LOG_AXIS_RATIO,
    plot_correlations,
    plot_prior_densities,
    prior_density,
    uses_log_axis,
)
from outputs.style import plot_style
from priors import load_prior_set, parse_spec
from priors.families import Beta
from tests.figures import check_figures

#: Small forecasts: the tests check files and wiring, not Monte Carlo precision.
FAST = ["--samples", "2000", "--seed", "7"]
#: z of the 95th percentile, from scipy (not from the program).
Z95 = stats.norm.ppf(0.95)


# --- the command -------------------------------------------------------------------------------


def test_a_scenario_in_two_formats_in_a_new_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["priors", "--priors", "power_wall", "--plot", "--format", "png,pdf", *FAST]) == 0
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert folder.name.startswith("priors-power_wall-")  # as run names its folder
    from outputs.plots.priors import prior_pages
    pages = len(prior_pages(load_prior_set("power_wall")))
    assert pages > 1  # the densities of every block would be too tall for one figure
    stems = ("priors", *(f"priors_{n}" for n in range(2, pages + 1)), "correlations", "prior_predictive")
    assert {p.name for p in folder.iterdir()} == {f"{s}.{fmt}" for s in stems for fmt in ("png", "pdf")}
    check_figures(folder)
    printed = capsys.readouterr().out
    assert "chips_base" in printed and "Rank correlations" in printed  # the table, as before
    assert f"wrote {folder.name}/" in printed
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def _independent_prior_file(tmp_path):
    """A prior file that inherits the default priors and removes every one of their pairs."""
    pairs = "\n".join(f"{c.first}.{c.second} = 0" for c in load_prior_set().correlations)
    path = tmp_path / "independent.toml"
    path.write_text(f'name = "independent"\ninherit = "default"\n\n[correlations]\n{pairs}\n')
    return path


def test_no_correlations_no_heat_map_and_force_replaces(tmp_path, capsys):
    prior_file = _independent_prior_file(tmp_path)
    assert not load_prior_set(str(prior_file)).correlations
    out = tmp_path / "independent"
    out.mkdir()
    (out / "old.txt").write_text("an earlier run")
    assert main(["priors", "--priors", str(prior_file), "--plot", "--out", str(out), "--force", *FAST]) == 0
    written = {p.name for p in out.iterdir()}
    assert "correlations.png" not in written and "old.txt" not in written
    assert {"priors.png", "prior_predictive.png"} <= written
    assert "correlations.png is not written" in capsys.readouterr().out
    with pytest.raises(ValueError, match="no rank correlations"):
        plot_correlations(load_prior_set(str(prior_file)))


def test_an_existing_out_is_refused_without_force(tmp_path, capsys):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["priors", "--plot", "--out", str(out), *FAST]) == 2
    assert "already exists" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("flag", [["--out", "x"], ["--force"], ["--samples", "100"], ["--seed", "3"],
                                  ["--format", "svg"]])
def test_plot_options_need_plot(flag, capsys):
    assert main(["priors", *flag]) == 2
    assert "only with --plot" in capsys.readouterr().err


def test_a_bad_format_fails_before_any_work(tmp_path, capsys):
    out = tmp_path / "bad"
    assert main(["priors", "--plot", "--out", str(out), "--format", "gif", *FAST]) == 2
    assert "--format" in capsys.readouterr().err and not out.exists()


# --- densities -----------------------------------------------------------------------------------


def test_lognormal_density_matches_scipy():
    family = parse_spec("lognormal 5e4 to 2e5")
    # the 5th and 95th percentiles are 5e4 and 2e5: scipy's lognormal with that median and sigma
    sigma = math.log(2e5 / 5e4) / (2 * Z95)
    expected = stats.lognorm(s=sigma, scale=math.sqrt(5e4 * 2e5))
    x, density = prior_density(family)
    inside = (x > expected.ppf(0.001)) & (x < expected.ppf(0.999))
    np.testing.assert_allclose(density[inside], expected.pdf(x[inside]), rtol=1e-6)
    assert integrate.trapezoid(density, x) == pytest.approx(1.0, abs=1e-4)


def test_lognormal_density_of_log10_is_scipys_normal():
    family = parse_spec("lognormal 1e-4 to 1e-3")
    expected = stats.norm(loc=-3.5, scale=0.5 / Z95)  # log10 x: 5th percentile -4, 95th -3
    log_x, density = prior_density(family, log10=True)
    np.testing.assert_allclose(density, expected.pdf(log_x), rtol=1e-6, atol=1e-12)
    assert integrate.trapezoid(density, log_x) == pytest.approx(1.0, abs=1e-4)


def test_beta_density_matches_scipy():
    family = Beta(alpha=4.0, beta=6.0)
    expected = stats.beta(4.0, 6.0)
    x, density = prior_density(family)
    inside = (x > expected.ppf(0.001)) & (x < expected.ppf(0.999))
    # the family interpolates a table of its quantile function: close to, not exactly, the pdf
    np.testing.assert_allclose(density[inside], expected.pdf(x[inside]), rtol=1e-2)
    assert integrate.trapezoid(density, x) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("spec", [
    "metalog 5%: 1.5, 50%: 2.2, 95%: 3.5, lower 1",
    "mixture 0.7: lognormal 1.5 to 3; 0.3: lognormal 3 to 6",
    "normal 0.2 to 0.6 truncated to 0..1",
    "uniform between 2024 and 2031",
    "beta mean 0.40, 0.30 to 0.50",
])
def test_every_family_has_a_density_that_integrates_to_one(spec):
    x, density = prior_density(parse_spec(spec))
    assert np.all(np.diff(x) >= 0) and np.all(np.isfinite(density)) and np.all(density >= 0)
    assert integrate.trapezoid(density, x) == pytest.approx(1.0, abs=2e-3)


def test_log_axis_for_wide_positive_priors():
    assert uses_log_axis(parse_spec("lognormal 3 to 50"))
    assert uses_log_axis(parse_spec(f"lognormal 1 to {LOG_AXIS_RATIO}"))
    assert not uses_log_axis(parse_spec("lognormal 1.5 to 3.5"))
    assert not uses_log_axis(parse_spec("normal 1 to 50"))  # reaches below zero


# --- what the panels show ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def drawn_priors():
    """The default priors' panels, drawn once (text positions need a draw)."""
    prior_set = load_prior_set()
    with plot_style():
        figure = plot_prior_densities(prior_set)
        FigureCanvasAgg(figure).draw()
    panels = [ax for sub in figure.subfigs for ax in sub.axes if hasattr(ax, "_forecast_prior")]
    return prior_set, figure, panels


def test_one_panel_per_uncertain_prior_and_fixed_ones_noted(drawn_priors):
    prior_set, figure, panels = drawn_priors
    assert isinstance(figure, Figure)
    assert [ax._forecast_prior for ax in panels] == [p.name for p in prior_set if not p.is_fixed]
    notes = [t.get_text() for sub in figure.subfigs for t in sub.texts if t.get_gid() == "fixed"]
    assert all(p.name in notes[0] for p in prior_set if p.is_fixed)


def test_percentile_marks_are_the_ppf(drawn_priors):
    prior_set, _, panels = drawn_priors
    for ax in panels:
        family = prior_set[ax._forecast_prior].family
        marks = {line.get_gid(): line.get_xdata()[0] for line in ax.lines}
        np.testing.assert_allclose([marks["p05"], marks["p50"], marks["p95"]],
                                   family.ppf(np.array([0.05, 0.5, 0.95])), rtol=1e-12)


def test_units_log_axes_and_sources(drawn_priors):
    prior_set, _, panels = drawn_priors
    for ax in panels:
        prior = prior_set[ax._forecast_prior]
        assert ax.get_xscale() == ("log" if uses_log_axis(prior.family) else "linear")
        assert prior.unit in ax.get_xlabel() or prior.unit == "-"
        (source,) = [t for t in ax.texts if t.get_gid() == "source"]
        assert source.get_text().startswith("source: ") and len(source.get_text()) < 200


def test_the_texts_of_neighbouring_panels_do_not_overlap(drawn_priors):
    _, figure, panels = drawn_priors
    renderer = figure.canvas.get_renderer()
    boxes = []
    for index, ax in enumerate(panels):
        low, high = sorted(ax.get_xlim())
        shown_ticks = [label for loc, label in zip(ax.get_xticks(), ax.get_xticklabels())
                       if low <= loc <= high]
        texts = [ax.title, ax.xaxis.label, *ax.texts, *shown_ticks]
        boxes += [(index, t.get_window_extent(renderer)) for t in texts if t.get_visible() and t.get_text()]
    for i, (panel, box) in enumerate(boxes):
        for other, other_box in boxes[i + 1:]:
            assert panel == other or not box.overlaps(other_box), (panels[panel]._forecast_prior,
                                                                   panels[other]._forecast_prior)


def test_correlation_heat_map_shows_the_correlated_priors_only():
    prior_set = load_prior_set().with_correlations(["chip_growth,mfu=0.3"])
    with plot_style():
        figure = plot_correlations(prior_set)
    ax = figure.axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    correlated = {name for block in prior_set.with_labs(1).correlation_blocks() if len(block) > 1 for name in block}
    assert set(names) == correlated and "mfu" in names and "lag_years" not in names
    image = ax.images[0]
    assert image.norm.vmin == -1 and image.norm.vmax == 1
    cells = {t.get_text() for t in ax.texts}
    assert {"0.30", "0.60", "−0.70"} <= cells
    assert len([p for p in ax.patches if p.get_gid() == "block"]) == 2

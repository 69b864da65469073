"""The bottom-up hindcast: prior files written only from sources dated before the cutoff,
the published-frontier kernels, no look-ahead, its rows in the backtest, and compare."""

import datetime as dt
import math
import re
import tomllib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecast.evaluation.backtest import known_at_cutoff, run_backtest
from forecast.evaluation.hindcast import as_of_of, base_year_of, hindcast_cutoffs, hindcast_files, load_hindcast
from forecast.record.runs import load_runs, record_checked_date
from forecast.evaluation.trend_fit import TrendFitWarning
from models import PARAMETERS
from models.evidence import published_max_cdf, published_max_draws

pytestmark = pytest.mark.filterwarnings(f"ignore::{TrendFitWarning.__module__}.TrendFitWarning")

#: A date as the hindcast files write them: a year, a year-month or a full date, 1900-2099.
DATE = re.compile(r"(?<![\d.e:-])((?:19|20)\d\d)(?:-(\d\d))?(?:-(\d\d))?(?![\d])")


def _dates(text: str) -> list[dt.date]:
    """Every date in a source string, each at its latest day (2019 -> 2019-12-31)."""
    out = []
    for year, month, day in DATE.findall(text):
        y, m = int(year), int(month or 12)
        last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
        out.append(dt.date(y, m, int(day or last)))
    return out


def _sources(table, where=""):
    """``(key, source)`` of every ``source`` in a TOML table, lab overrides included."""
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _sources(value, f"{where}{key}.")
        elif key == "source":
            yield where.rstrip("."), value


def _late_sources(path, cutoff):
    """The sources of a prior file that name no date, or a date after 31 December before the cutoff."""
    as_of = as_of_of(cutoff)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    bad = []
    for key, source in _sources(data):
        dates = _dates(source)
        if not dates or max(dates) > as_of:
            bad.append((key, source))
    return bad, len(list(_sources(data)))


def test_date_reader_reads_years_months_and_days_and_skips_counts():
    assert _dates("Megatron-LM on 512 V100 (NVIDIA ADLR, 2019-08-13); TPU v3 (2018-05); Moore 1975") == [
        dt.date(2019, 8, 13), dt.date(2018, 5, 31), dt.date(1975, 12, 31)]
    assert _dates("2,048 Ascend 910 and 1,536 V100, 1e15 FLOP/s, arXiv:2104.04473") == []


def test_hindcasts_exist_for_2020_and_2022():
    assert {2020, 2022} <= set(hindcast_cutoffs())
    assert base_year_of(2020) == 2019 and as_of_of(2022) == dt.date(2021, 12, 31)


@pytest.mark.parametrize("cutoff", hindcast_cutoffs())
def test_hindcast_prior_file_loads_and_every_source_predates_its_cutoff(cutoff):
    priors = load_hindcast(cutoff)
    priors.validate(PARAMETERS)
    # every prior written, none inherited (max_epochs: the v2 alternative to epoch_worth_floor)
    assert set(PARAMETERS) - {"max_epochs"} <= set(priors.names)
    assert all(p.source for p in priors)
    bad, n = _late_sources(hindcast_files()[cutoff], cutoff)
    assert n >= len(PARAMETERS)
    assert bad == []


def test_a_source_dated_after_the_cutoff_is_caught(tmp_path):
    path = tmp_path / "2020.toml"
    path.write_text('[priors.mfu]\nspec = "0.4"\nsource = "GPT-3 paper (2020-05-28)"\n'
                    '[priors.mfu_b]\nspec = "0.4"\nsource = "judgement"\n'
                    '[priors.mfu_c]\nspec = "0.4"\nsource = "Megatron (2019-08-13), 2,048 GPUs"\n', encoding="utf-8")
    bad, _ = _late_sources(path, 2020)
    assert [key for key, _ in bad] == ["priors.mfu", "priors.mfu_b"]


# --- the published frontier: the largest public estimate among several runs -----------------


def test_published_max_cdf_one_run_by_hand():
    # one run of 1e25, public with probability 0.6, estimate sd 0.2:
    # P(largest public <= x) = 1 - 0.6 Phi((25 - x) / 0.2); density 0.6 phi((25 - x) / 0.2) / 0.2
    cdf, density = published_max_cdf(np.array([[25.0]]), np.array([[0.6]]), np.array([0.2]), np.array([25.1]))
    assert cdf[0] == pytest.approx(1 - 0.6 * stats.norm.cdf(-0.5))
    assert density[0] == pytest.approx(0.6 * stats.norm.pdf(-0.5) / 0.2)


def test_published_max_cdf_two_runs_multiply_and_density_is_the_derivative():
    c, p, s = np.array([[24.0, 25.0]]), np.array([[0.5, 0.9]]), np.array([0.3])
    x = 24.7
    by_hand = (1 - 0.5 * stats.norm.cdf((24 - x) / 0.3)) * (1 - 0.9 * stats.norm.cdf((25 - x) / 0.3))
    cdf, density = published_max_cdf(c, p, s, np.array([x]))
    assert cdf[0] == pytest.approx(by_hand)
    h = 1e-5
    up, _ = published_max_cdf(c, p, s, np.array([x + h]))
    down, _ = published_max_cdf(c, p, s, np.array([x - h]))
    assert density[0] == pytest.approx((up[0] - down[0]) / (2 * h), rel=1e-6)


def test_published_max_draws_follow_the_cdf():
    # Monte Carlo statistic: 200,000 draws of one world; the share at or below x within 5 se
    rng = np.random.default_rng(5)
    n = 200_000
    c, p, s = np.array([24.0, 25.0, 25.5]), np.array([0.5, 0.9, 0.3]), 0.3
    draws = published_max_draws(np.tile(c, (n, 1)), np.tile(p, (n, 1)), np.full(n, s),
                                rng.uniform(size=(n, 3)), rng.standard_normal((n, 3)), -np.inf)
    for x in (24.5, 25.0, 25.6):
        cdf, _ = published_max_cdf(c[None], p[None], np.array([s]), np.array([x]))
        assert np.mean(draws <= x) == pytest.approx(cdf[0], abs=5 * math.sqrt(cdf[0] * (1 - cdf[0]) / n))
    # where no run is public (probability 0.5 * 0.1 * 0.7), the draw is the floor
    floored = published_max_draws(c[None], p[None], np.array([s]), np.array([[0.9, 0.95, 0.8]]),
                                  np.zeros((1, 3)), 23.0)
    assert floored[0] == 23.0


def test_the_floor_is_one_distribution_for_the_cdf_and_the_draws():
    # where no run is public (probability 0.5 * 0.1 = 0.05) the draw is the floor, 24.6; the
    # CDF puts that mass there too: P(x) - 0.05 below the floor, P(x) at and above it
    rng = np.random.default_rng(6)
    n = 200_000
    c, p, s, floor = np.array([24.0, 25.0]), np.array([0.5, 0.9]), 0.3, 24.6
    draws = published_max_draws(np.tile(c, (n, 1)), np.tile(p, (n, 1)), np.full(n, s),
                                rng.uniform(size=(n, 2)), rng.standard_normal((n, 2)), floor)

    def by_hand(x):
        return (1 - 0.5 * stats.norm.cdf((24 - x) / s)) * (1 - 0.9 * stats.norm.cdf((25 - x) / s))

    for x in (24.0, 24.5, floor, 24.8, 25.3):
        cdf, density = published_max_cdf(c[None], p[None], np.array([s]), np.array([x]), floor)
        assert cdf[0] == pytest.approx(by_hand(x) - (0.5 * 0.1 if x < floor else 0.0))
        assert np.mean(draws <= x) == pytest.approx(cdf[0], abs=5 * math.sqrt(cdf[0] * (1 - cdf[0]) / n))
        _, no_floor = published_max_cdf(c[None], p[None], np.array([s]), np.array([x]))
        assert density[0] == no_floor[0]  # the floor is a point mass: the density is the same


# --- the backtest's bottom-up rows, and no look-ahead -------------------------------------------


def _poisoned(runs):
    """The shipped record with what came after 2021 changed wildly: PaLM at 1e30, GPT-4 moved
    to 2 January 2022, a new 1e29 run on 3 January 2022, and Gopher (2021) revised to 1e26
    in 2023 (its 2021 value kept as the value public until then)."""
    runs = runs.copy()
    index = runs.index[runs["model"] == "PaLM 540B"][0]
    runs.loc[index, "training_compute_flop"] = 1e30
    index = runs.index[runs["model"] == "GPT-4"][0]
    runs.loc[index, ["date", "published"]] = [pd.Timestamp("2022-01-02"), pd.Timestamp("2022-01-02")]
    index = runs.index[runs["model"] == "Gopher 280B"][0]
    old = runs.loc[index, "training_compute_flop"]
    runs.loc[index, ["training_compute_flop", "revisions", "published"]] = [
        1e26, f"{old:.4g} from 2021-12-08", pd.Timestamp("2023-01-01")]
    new = runs.loc[[index]].assign(model="Z", organization="OpenAI", lab="openai", training_compute_flop=1e29,
                                   revisions="", date=pd.Timestamp("2022-01-03"),
                                   published=pd.Timestamp("2022-01-03"))
    poisoned = pd.concat([runs, new], ignore_index=True)
    poisoned["log10_compute"] = np.log10(poisoned["training_compute_flop"])
    poisoned.attrs = dict(runs.attrs)
    return poisoned


SETTINGS = dict(cutoffs=(2022,), last_year=2025, seed=0, chains=1, draws=100, warmup=100, samples=2000)


@pytest.fixture(scope="module")
def backtests():
    runs = load_runs()
    poisoned = _poisoned(runs)
    assert record_checked_date(poisoned) == record_checked_date(runs)  # the scoring date stays
    return run_backtest(runs, **SETTINGS), run_backtest(poisoned, **SETTINGS)


def test_backtest_has_bottom_up_rows_with_scores(backtests):
    clean, _ = backtests
    rows = clean.scores[clean.scores["method"] == "bottom_up"]
    assert rows["year"].tolist() == [2022, 2023, 2024, 2025]
    assert rows[["crps", "log_score", "pit"]].notna().all().all()
    assert ((rows["pit"] >= 0) & (rows["pit"] <= 1)).all()
    assert (rows["lo90"] <= rows["median"]).all() and (rows["median"] <= rows["hi90"]).all()
    assert "bottom_up" in set(clean.fans["method"]) and "bottom_up" in clean.ranking["crps"].index
    assert clean.diagnostics.loc[2022, "hindcast_ess"] > 100


def test_bottom_up_forecast_ignores_poisoned_future(backtests):
    clean, poisoned = backtests
    cols = ["method", "cutoff", "year", "median", "lo50", "hi50", "lo90", "hi90"]
    for method in ("bottom_up", "trend", "last_value"):
        a, b = (r.scores.loc[r.scores["method"] == method, cols].reset_index(drop=True) for r in (clean, poisoned))
        pd.testing.assert_frame_equal(a, b)
    # ... while the outcomes did change: PaLM's 1e30 is the frontier of 2022 on
    assert poisoned.scores.loc[poisoned.scores["method"] == "bottom_up", "observed"].iloc[0] == pytest.approx(30.0)


def test_hindcast_sees_the_value_public_at_the_cutoff():
    runs = _poisoned(load_runs())
    known = known_at_cutoff(runs, 2022)
    assert "Z" not in set(known["model"]) and "GPT-4" not in set(known["model"])
    assert known.set_index("model").loc["Gopher 280B", "training_compute_flop"] < 1e24


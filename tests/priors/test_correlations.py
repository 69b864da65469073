"""Correlated priors: the pairs in files and flags, their checks, and the copula's draws."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

import forecast
from outputs.cli import main
from priors import PriorError, load_prior_set
from priors.correlations import (
    CorrelationWarning,
    nearest_valid,
    pearson_from_rank,
    rank_from_pearson,
)

#: The investment block as issue 11 writes it.
BLOCK = """
[correlations]
chip_growth.power_limit_growth = 0.6
chip_growth.capex_limit_growth = 0.6
power_limit_growth.capex_limit_growth = 0.5
"""
WANTED = {("chip_growth", "power_limit_growth"): 0.6, ("chip_growth", "capex_limit_growth"): 0.6,
          ("power_limit_growth", "capex_limit_growth"): 0.5}


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def independent(tmp_path):
    """Model v2's default priors (one lab) with every pair removed (a file that inherits them):
    the within-lab copula, on its own."""
    pairs = "\n".join(f"{c.key} = 0" for c in load_prior_set("v2").correlations)
    return write(tmp_path, f'inherit = "v2"\n[correlations]\n{pairs}\n', "independent.toml")


def test_rank_and_pearson_convert_as_kruskal_says():
    # rho = 2 sin(pi rho_s / 6): 0 -> 0, 1 -> 2 sin(pi/6) = 1, 0.5 -> 2 sin(pi/12)
    assert pearson_from_rank(0.0) == 0.0
    assert pearson_from_rank(1.0) == pytest.approx(1.0, abs=1e-15)
    assert pearson_from_rank(0.5) == pytest.approx(2 * math.sin(math.pi / 12), abs=1e-15)
    assert rank_from_pearson(pearson_from_rank(-0.7)) == pytest.approx(-0.7, abs=1e-14)


def test_file_pairs_make_one_block(tmp_path):
    path = write(tmp_path, f'inherit = "{independent(tmp_path).name}"\n{BLOCK}')
    prior_set = load_prior_set(path)
    assert {(c.first, c.second): c.rank for c in prior_set.correlations} == WANTED
    blocks = [b for b in prior_set.correlation_blocks() if len(b) > 1]
    assert blocks == [("chip_growth", "power_limit_growth", "capex_limit_growth")]
    names = list(prior_set.latent_names)
    i, j = names.index("chip_growth"), names.index("power_limit_growth")
    assert prior_set.score_correlation()[i, j] == pytest.approx(2 * math.sin(math.pi * 0.6 / 6))
    assert prior_set.rank_correlation()[j, i] == pytest.approx(0.6)


def test_a_scenario_inherits_pairs_and_may_change_or_remove_them(tmp_path):
    base = write(tmp_path, BLOCK, "base.toml")
    child = write(tmp_path, 'inherit = "base.toml"\n[correlations]\nchip_growth.capex_limit_growth = 0.2\n'
                            "power_limit_growth.capex_limit_growth = 0\n", "child.toml")
    ranks = {(c.first, c.second): c.rank for c in load_prior_set(child).correlations}
    assert ranks[("chip_growth", "capex_limit_growth")] == 0.2
    assert ("power_limit_growth", "capex_limit_growth") not in ranks
    assert ranks[("chip_growth", "power_limit_growth")] == 0.6
    assert load_prior_set(base).correlations != load_prior_set(child).correlations


@pytest.mark.parametrize(
    "text, key, message",
    [
        ("[correlations]\nchip_growt.mfu = 0.3", "correlations.chip_growt.mfu", "did you mean 'chip_growth'"),
        ("[correlations]\nchip_growth.mfu = 1.0", "correlations.chip_growth.mfu", "strictly between -1 and 1"),
        ("[correlations]\nchip_growth.mfu = -1.5", "correlations.chip_growth.mfu", "strictly between -1 and 1"),
        ('[correlations]\nchip_growth.mfu = "high"', "correlations.chip_growth.mfu", "must be a number"),
        ("[correlations]\nchip_growth.mfu = 0.3\nmfu.chip_growth = 0.2", "mfu.chip_growth", "given twice"),
        ("[correlations]\nmfu.mfu = 0.3", "mfu.mfu", "with itself"),
        ("[correlations]\nmfu = 0.3", "correlations.mfu", "first.second"),
        ("correlations = 3", None, "must be a table"),
    ],
    ids=["unknown-name", "one", "below-minus-one", "not-a-number", "twice", "self", "not-a-pair", "not-a-table"],
)
def test_bad_pairs_get_one_line_naming_file_and_key(tmp_path, text, key, message):
    path = write(tmp_path, text)
    with pytest.raises(PriorError, match=message) as info:
        load_prior_set(path)
    line = str(info.value)
    assert "\n" not in line and line.startswith(str(path))
    if key:
        assert f": {key}: " in line


def test_pairs_that_cannot_hold_together_are_refused_by_name(tmp_path):
    # a and b move together, both with c, yet a against c: no correlation matrix has that
    path = write(tmp_path, "[correlations]\nchip_growth.power_limit_growth = 0.9\n"
                           "chip_growth.capex_limit_growth = 0.9\npower_limit_growth.capex_limit_growth = -0.9\n")
    with pytest.raises(PriorError, match="not positive definite") as info:
        load_prior_set(path)
    line = str(info.value)
    assert line.startswith(str(path)) and "--repair-correlations" in line
    for pair in ("chip_growth.power_limit_growth = 0.9", "power_limit_growth.capex_limit_growth = -0.9"):
        assert pair in line
    assert "duration_days_max" not in line  # a valid default pair is not blamed


def test_repair_gives_the_nearest_valid_matrix_and_says_what_changed(tmp_path):
    plain = independent(tmp_path).name
    path = write(tmp_path, f'inherit = "{plain}"\n[correlations]\nchip_growth.power_limit_growth = 0.9\n'
                           "chip_growth.capex_limit_growth = 0.9\npower_limit_growth.capex_limit_growth = -0.9\n")
    with pytest.warns(CorrelationWarning, match=r"chip_growth.power_limit_growth 0.9 -> "):
        repaired = load_prior_set(path, repair_correlations=True)
    matrix = repaired.score_correlation()
    assert np.linalg.eigvalsh(matrix)[0] > 0
    assert np.allclose(np.diag(matrix), 1.0)
    # by symmetry the nearest matrix keeps |a.b| = |a.c| = |b.c|, weakened from 0.9
    ranks = {(c.first, c.second): c.rank for c in repaired.correlations}
    values = [abs(ranks[p]) for p in WANTED]
    assert max(values) - min(values) < 1e-6 and values[0] < 0.9


def test_nearest_valid_leaves_a_valid_matrix_alone_and_fixes_a_known_one():
    valid = np.array([[1.0, 0.5], [0.5, 1.0]])
    assert np.allclose(nearest_valid(valid), valid, atol=1e-9)
    bad = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=float)  # eigenvalue 1 - sqrt 2 < 0
    fixed = nearest_valid(bad)
    assert np.linalg.eigvalsh(fixed)[0] > 0 and np.allclose(np.diag(fixed), 1.0)
    assert np.allclose(fixed, fixed.T)
    # nearer to ``bad`` than the identity, the valid matrix that drops every pair
    assert np.linalg.norm(fixed - bad) < np.linalg.norm(np.eye(3) - bad)


@pytest.mark.parametrize(
    "flag, message",
    [
        ("chip_growth power_limit_growth=0.5", "expected FIRST,SECOND=RANK"),
        ("chip_growth,power_limit_growth", "expected FIRST,SECOND=RANK"),
        ("chip_growth,power_limit_growth=lots", "expected a number"),
        ("chip_growth,nope=0.5", "unknown prior name 'nope'"),
        ("chip_growth,power_limit_growth=1", "strictly between -1 and 1"),
    ],
)
def test_correlate_flag_errors(flag, message, capsys):
    assert main(["priors", "--correlate", flag]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("forecast priors: error: --correlate") and message in err
    assert "\n" not in err


def test_pinning_a_prior_drops_its_pairs_and_says_so_once(capsys):
    assert main(["priors", "--set", "chip_growth=2.5", "--set", "capex_limit_growth=2"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err  # one line per pinned prior, no more
    assert err[0].startswith("forecast priors: warning: capex_limit_growth is pinned")
    assert "chip_growth is pinned" in err[1] and "power_limit_growth" in err[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorrelationWarning)
        pinned = load_prior_set(overrides=["chip_growth=2.5"])
    assert all("chip_growth" not in c.pair for c in pinned.correlations)
    assert "power_limit_growth" in {n for c in pinned.correlations for n in c.pair}


def test_priors_command_prints_the_matrix(capsys):
    assert main(["priors", "--correlate", "mfu,lag_years=-0.25"]) == 0
    out = capsys.readouterr().out
    assert "Rank correlations (Spearman)" in out
    assert "-0.25" in out and "mfu.lag_years = -0.25  (--correlate)" in out


@pytest.fixture(scope="module")
def correlated_draws(tmp_path_factory):
    """20,000 worlds of the default priors with the issue's block (and without any pair)."""
    tmp = tmp_path_factory.mktemp("corr")
    plain = independent(tmp)
    block = write(tmp, f'inherit = "{plain.name}"\n{BLOCK}', "block.toml")
    out = {}
    for label, path in (("plain", plain), ("block", block)):
        result = forecast.run(path, samples=20_000, seed=11, years="2025:2026")
        result.to_netcdf(tmp / f"{label}.nc")
        out[label] = forecast.load(tmp / f"{label}.nc")
    return out


def test_drawn_values_have_the_rank_correlations_written(correlated_draws):
    samples = correlated_draws["block"].samples
    for (a, b), wanted in WANTED.items():
        rho = stats.spearmanr(samples[a].values, samples[b].values).statistic
        # standard error of a Spearman estimate near rho: about (1 - rho^2) / sqrt(n) < 0.005
        assert rho == pytest.approx(wanted, abs=0.02), (a, b)
    other = stats.spearmanr(samples["chip_growth"].values, samples["mfu"].values).statistic
    assert abs(other) < 0.02


def test_each_marginal_is_unchanged_by_the_block(correlated_draws):
    prior_set = correlated_draws["block"].priors
    for name in ("chip_growth", "power_limit_growth", "capex_limit_growth", "mfu"):
        q = [0.05, 0.5, 0.95]
        drawn = np.quantile(correlated_draws["block"].samples[name].values, q)
        plain = np.quantile(correlated_draws["plain"].samples[name].values, q)
        exact = prior_set[name].family.ppf(q)
        # quantile standard error: sqrt(q(1-q)/n)/density; 3% of the value is generous at n=20k
        assert np.allclose(drawn, exact, rtol=0.03), name
        assert np.allclose(plain, exact, rtol=0.03), name


def test_saved_runs_record_the_matrix(correlated_draws):
    result = correlated_draws["block"]
    assert {(c.first, c.second): c.rank for c in result.priors.correlations} == WANTED
    matrix = result.summary()["rank_correlation"]
    assert matrix.dims == ("prior_name", "other_prior_name")
    assert float(matrix.sel(prior_name="capex_limit_growth", other_prior_name="power_limit_growth")) == \
        pytest.approx(0.5)
    assert float(matrix.sel(prior_name="mfu", other_prior_name="chip_growth")) == 0.0


def test_the_copula_is_the_same_on_any_number_of_blas_threads():
    """OpenBLAS splits the Cholesky factor of the six-lab copula (131 x 131) over its
    threads, and its last bits moved with their number: so did every world. The priors'
    linear algebra runs on one thread (priors.linalg): the same factor, bit for bit, and
    the same repaired matrix, however many threads the machine's BLAS has (on a machine of
    one core, OpenBLAS has one thread whatever it is asked, and this cannot fail)."""
    from threadpoolctl import threadpool_limits

    from priors import load_prior_set
    from priors.correlations import nearest_valid

    prior_set = load_prior_set()
    matrix = prior_set.score_correlation()
    assert len(matrix) > 100  # large enough for OpenBLAS to use its threads
    rough = matrix + 0.05 * (np.ones_like(matrix) - np.eye(len(matrix)))  # a matrix to repair
    found = []
    for threads in (1, 2, 4):
        with threadpool_limits(limits=threads, user_api="blas"):
            found.append((prior_set.transform().mixing, nearest_valid(rough, iterations=5)))
    for mixing, repaired in found[1:]:
        assert np.array_equal(mixing, found[0][0]) and np.array_equal(repaired, found[0][1])

"""Tests of forecast.sobol against analytic Sobol' indices.

Expected numbers come from closed-form variance decompositions, never from the program.
Tolerances: the estimates at n_base = 4096 on a scrambled Sobol' design are within about 0.01
of the truth (QMC error, smaller than Monte Carlo's), so ``ABS_TOL = 0.02`` leaves room while
still failing on a wrong estimator (swapping Jansen for a first-order formula, or a missing
factor 1/2, moves the indices by 0.1 or more). The bootstrap treats the rows as independent,
which overstates QMC error, so the truth lies inside the 90% intervals without widening; a
bound on their width keeps that check from passing trivially.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from forecast.sensitivity.sobol import (
    SaltelliDesign,
    ZeroVarianceWarning,
    saltelli_design,
    sobol_analyze,
    sobol_indices,
)

N_BASE = 4096
ABS_TOL = 0.02
MAX_CI_WIDTH = 0.12


def assert_matches(ds: xr.Dataset, s1: np.ndarray, st_: np.ndarray) -> None:
    """Analytic indices: close to the estimates and inside the bootstrap intervals."""
    for name, truth in (("S1", s1), ("ST", st_)):
        est = ds[name].values
        lo = ds[f"{name}_ci"].sel(bound="lower").values
        hi = ds[f"{name}_ci"].sel(bound="upper").values
        np.testing.assert_allclose(est, truth, atol=ABS_TOL, err_msg=name)
        assert np.all((lo <= truth) & (truth <= hi)), (name, lo, truth, hi)
        assert np.all(lo <= est) and np.all(est <= hi), name
        assert np.all(hi - lo < MAX_CI_WIDTH), (name, hi - lo)


# --------------------------------------------------------------------------- design


def test_design_shapes_and_radial_structure():
    k, n = 4, 64
    d = saltelli_design(k, n, seed=3)
    assert d.u.shape == ((k + 2) * n, k)
    assert d.n_evaluations == (k + 2) * n
    for i in range(k):
        others = [j for j in range(k) if j != i]
        np.testing.assert_array_equal(d.AB[i][:, i], d.B[:, i])
        np.testing.assert_array_equal(d.AB[i][:, others], d.A[:, others])
    f_a, f_b, f_ab = d.split(d.u)
    np.testing.assert_array_equal(f_a, d.A)
    np.testing.assert_array_equal(f_b, d.B)
    np.testing.assert_array_equal(f_ab, d.AB)


@pytest.mark.parametrize("scramble", [True, False], ids=["scrambled", "plain"])
def test_design_is_stratified_and_strictly_inside_unit_cube(scramble):
    # A (0, m, s)-net in base 2: every 1-D projection of 2^m points has one point in each
    # interval [j / 2^m, (j + 1) / 2^m), for A and B alike (they are columns of one sequence).
    n = 256
    d = saltelli_design(5, n, seed=11, scramble=scramble)
    for half in (d.A, d.B):
        cells = np.floor(half * n).astype(int)
        for col in cells.T:
            np.testing.assert_array_equal(np.sort(col), np.arange(n))
    for dtype in (np.float64, np.float32):
        u = d.u.astype(dtype)
        assert np.all(u > 0) and np.all(u < 1), dtype


def test_design_is_reproducible_by_seed():
    a = saltelli_design(3, 128, seed=5)
    b = saltelli_design(3, 128, seed=5)
    c = saltelli_design(3, 128, seed=6)
    np.testing.assert_array_equal(a.u, b.u)
    assert not np.allclose(a.u, c.u)


# --------------------------------------------------------------------------- analytic cases


def ishigami_indices(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Analytic indices of the Ishigami function on [-pi, pi]^3 (Sobol' & Levitan 1999).

    V1 = (1 + b pi^4 / 5)^2 / 2, V2 = a^2 / 8, V3 = 0, V13 = b^2 pi^8 (1/18 - 1/50): x3^4 has
    mean pi^4 / 5 and second moment pi^8 / 9, and sin x1 has variance 1/2.
    """
    pi = np.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    # cross-check of the decomposition against the total variance computed directly
    assert np.isclose(v, a**2 / 8 + b * pi**4 / 5 + b**2 * pi**8 / 18 + 0.5)
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_ishigami_reference_values():
    s1, st_ = ishigami_indices(7.0, 0.1)
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(st_, [0.5576, 0.4424, 0.2437], atol=1e-4)


def test_ishigami():
    a, b = 7.0, 0.1

    def f(u):
        x = -np.pi + 2 * np.pi * u
        return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])

    ds = sobol_indices(f, ["x1", "x2", "x3"], n_base=N_BASE, seed=1)
    s1, st_ = ishigami_indices(a, b)
    assert_matches(ds, s1, st_)
    # 1 - sum S1 is the interaction share: V13 / V
    assert float(ds.sum_S1) == pytest.approx(s1.sum(), abs=ABS_TOL)
    lo, hi = ds.sum_S1_ci.values
    assert lo <= s1.sum() <= hi


def test_linear_model_of_normals():
    c = np.array([1.0, 2.0, 3.0, 0.5])

    def f(u):
        return norm.ppf(u) @ c

    ds = sobol_indices(f, ["a", "b", "c", "d"], n_base=N_BASE, seed=2)
    share = c**2 / np.sum(c**2)
    assert_matches(ds, share, share)
    assert float(ds.sum_S1) == pytest.approx(1.0, abs=ABS_TOL)
    assert float(ds.variance) == pytest.approx(np.sum(c**2), rel=0.02)


def test_product_of_lognormals_in_log_space():
    sigma = np.array([0.8, 0.4])

    def log_f(u):
        return np.log(np.exp(sigma * norm.ppf(u)).prod(axis=1))

    ds = sobol_indices(log_f, ["x1", "x2"], n_base=N_BASE, seed=3)
    share = sigma**2 / np.sum(sigma**2)
    assert_matches(ds, share, share)


def test_product_of_lognormals_has_interaction():
    # f = x1 x2 with log x_i ~ N(0, s_i^2): E x_i = e^(s_i^2/2), E x_i^2 = e^(2 s_i^2), so
    # V = e^(s1^2+s2^2) (e^(s1^2+s2^2) - 1), V_i = e^(s1^2+s2^2) (e^(s_i^2) - 1),
    # S_i = (e^(s_i^2) - 1) / (e^(s1^2+s2^2) - 1) and ST_1 = 1 - S_2.
    sigma = np.array([0.5, 0.3])

    def f(u):
        return np.exp(sigma * norm.ppf(u)).prod(axis=1)

    ds = sobol_indices(f, ["x1", "x2"], n_base=N_BASE, seed=4)
    s1 = np.expm1(sigma**2) / np.expm1(np.sum(sigma**2))
    assert_matches(ds, s1, 1 - s1[::-1])
    assert 1 - float(ds.sum_S1) > 0.01  # a real interaction share, not rounding


# --------------------------------------------------------------------------- degenerate outputs


def test_constant_output_gives_zero_indices_and_flag():
    with pytest.warns(ZeroVarianceWarning, match="zero variance"):
        ds = sobol_indices(lambda u: np.ones(len(u)), ["a", "b"], n_base=256, seed=0)
    for name in ("S1", "ST", "S1_ci", "ST_ci", "sum_S1", "sum_S1_ci"):
        assert not ds[name].isnull().any(), name
        assert np.all(ds[name].values == 0.0), name
    assert bool(ds.zero_variance)


def test_constant_year_beside_a_varying_one():
    def f(u):
        return np.stack([np.ones(len(u)), u[:, 0] + 3 * u[:, 1]], axis=1)

    with pytest.warns(ZeroVarianceWarning, match="1 of 2"):
        ds = sobol_indices(f, ["a", "b"], n_base=N_BASE, seed=5, output_dims=["year"])
    assert ds.zero_variance.values.tolist() == [True, False]
    np.testing.assert_array_equal(ds.S1.isel(year=0).values, 0.0)
    share = np.array([1.0, 9.0]) / 10.0
    assert_matches(ds.isel(year=1), share, share)


def test_rare_indicator_has_no_nan():
    # P(u0 > 0.999) ~ 1e-3: many bootstrap resamples see almost no hits
    ds = sobol_indices(lambda u: (u[:, 0] > 0.999).astype(float), ["a", "b"], n_base=512)
    assert not any(ds[v].isnull().any() for v in ds.data_vars)


# --------------------------------------------------------------------------- trailing dimensions


def test_trailing_years_match_separate_runs():
    years = np.array([2030, 2035])
    weights = np.array([[1.0, 2.0, 0.5], [3.0, 0.2, 1.0]])  # (year, input)

    def both(u):
        x = norm.ppf(u)
        return x @ weights.T + 0.5 * x[:, [0]] * x[:, [2]]

    ds = sobol_indices(
        both, ["a", "b", "c"], n_base=1024, seed=7, output_dims=["year"],
        output_coords={"year": years},
    )
    assert ds.S1.dims == ("prior", "year")
    assert ds.S1_ci.dims == ("prior", "year", "bound")
    assert ds.sum_S1.dims == ("year",)
    assert ds.year.values.tolist() == years.tolist()
    for j, year in enumerate(years):
        alone = sobol_indices(lambda u, j=j: both(u)[:, j], ["a", "b", "c"], n_base=1024, seed=7)
        xr.testing.assert_allclose(
            ds.sel(year=year, drop=True), alone, rtol=1e-10, atol=1e-12
        )


def test_column_blocks_give_the_same_result(monkeypatch):
    from forecast.sensitivity import sobol

    def f(u):
        x = norm.ppf(u)
        return np.stack([x @ np.arange(1.0, 4.0) * t + x[:, 0] * x[:, 1] for t in range(5)], 1)

    whole = sobol_indices(f, ["a", "b", "c"], n_base=512, output_dims=["year"])
    # budget for 2 output columns per block: 5 columns go as blocks of 2, 2, 1
    monkeypatch.setattr(sobol, "_KERNEL_BYTES", 2 * 8 * 512 * (2 * 3 + 2))
    blocks = sobol_indices(f, ["a", "b", "c"], n_base=512, output_dims=["year"])
    xr.testing.assert_allclose(blocks, whole, rtol=1e-12, atol=1e-14)


def test_dataarray_output_names_trailing_dims():
    def f(u):
        y = np.stack([u[:, 0], u[:, 0] + u[:, 1]], axis=1)
        return xr.DataArray(y, dims=("sample", "threshold"), coords={"threshold": [1e26, 1e27]})

    ds = sobol_indices(f, ["a", "b"], n_base=256)
    assert ds.ST.dims == ("prior", "threshold")
    assert ds.threshold.values.tolist() == [1e26, 1e27]
    assert ds.attrs["n_base"] == 256 and ds.attrs["confidence"] == 0.9 and ds.attrs["seed"] == 0


@settings(max_examples=15, deadline=None)
@given(
    scale=st.floats(1e-3, 1e3) | st.floats(-1e3, -1e-3),
    shift=st.floats(-1e6, 1e6),
)
def test_indices_are_invariant_to_affine_maps_of_the_output(scale, shift):
    def f(u):
        return np.sin(6 * u[:, 0]) + u[:, 1] ** 2 * u[:, 0]

    base = sobol_indices(f, ["a", "b"], n_base=256, n_bootstrap=50)
    moved = sobol_indices(lambda u: scale * f(u) + shift, ["a", "b"], n_base=256, n_bootstrap=50)
    for name in ("S1", "ST", "S1_ci", "ST_ci"):
        np.testing.assert_allclose(moved[name], base[name], atol=1e-6, err_msg=name)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("n_base", [1000, 0, 1, 3, 2.0], ids=["1000", "0", "1", "3", "float"])
def test_n_base_must_be_power_of_two(n_base):
    with pytest.raises(ValueError, match="power of two"):
        saltelli_design(2, n_base, seed=0)
    with pytest.raises(ValueError, match="power of two"):
        sobol_indices(lambda u: u[:, 0], ["a"], n_base=n_base)


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="k, the number of inputs"):
        saltelli_design(0, 64, seed=0)
    with pytest.raises(ValueError, match="at least one input"):
        sobol_indices(lambda u: u[:, 0], [], n_base=64)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.1], ids=str)
def test_confidence_must_be_inside_unit_interval(confidence):
    with pytest.raises(ValueError, match="confidence"):
        sobol_indices(lambda u: u[:, 0], ["a"], n_base=64, confidence=confidence)


@pytest.mark.parametrize(
    ("kwargs", "f", "match"),
    [
        ({"names": ["a", "a"]}, lambda u: u[:, 0], "distinct"),
        ({"names": "ab"}, lambda u: u[:, 0], "not the string"),
        ({"n_bootstrap": 0}, lambda u: u[:, 0], "n_bootstrap"),
        ({}, lambda u: np.stack([u[:, 0]] * 2, axis=1), "output_dims must name"),
        ({"output_dims": ["prior"]}, lambda u: np.stack([u[:, 0]] * 2, axis=1), "reserved"),
        ({}, lambda u: u[1:, 0], "leading length"),
        ({}, lambda u: np.where(u[:, 0] > 0.5, np.nan, u[:, 0]), "finite"),
        ({"output_coords": {"year": [1]}}, lambda u: u[:, 0], "not in"),
    ],
    ids=["dup-names", "str-names", "n-bootstrap", "unnamed-dims", "reserved-dim",
         "wrong-length", "nan", "unknown-coord"],
)
def test_bad_input_is_refused(kwargs, f, match):
    kwargs = {"names": ["a", "b"], "n_base": 64, **kwargs}
    names = kwargs.pop("names")
    with pytest.raises(ValueError, match=match):
        sobol_indices(f, names, **kwargs)


def test_analyze_checks_names_against_design():
    d = saltelli_design(2, 64, seed=0)
    with pytest.raises(ValueError, match="3 names for a design with k=2"):
        sobol_analyze(d, d.u[:, 0], ["a", "b", "c"])
    assert isinstance(d, SaltelliDesign)


def test_bench_script_runs_with_tiny_arguments(monkeypatch, capsys):
    script = Path(__file__).parents[3] / "bench" / "sobol_estimators.py"
    argv = [str(script), "--n-base", "64", "--k", "3", "--years", "2", "--n-bootstrap", "10",
            "--salib-outputs", "0"]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(script), run_name="__main__")
    assert "estimators" in capsys.readouterr().out


# --------------------------------------------------------------------------- groups


def test_grouped_design_swaps_whole_groups():
    k, n, groups = 5, 64, [(0, 3), (1,), (2, 4)]
    d = saltelli_design(k, n, seed=3, groups=groups)
    assert d.n_groups == 3 and d.u.shape == ((3 + 2) * n, k) and d.n_evaluations == 5 * n
    for g, columns in enumerate(groups):
        others = [j for j in range(k) if j not in columns]
        np.testing.assert_array_equal(d.AB[g][:, list(columns)], d.B[:, list(columns)])
        np.testing.assert_array_equal(d.AB[g][:, others], d.A[:, others])
    # A and B are those of the ungrouped design of the same k and seed
    plain = saltelli_design(k, n, seed=3)
    np.testing.assert_array_equal(d.A, plain.A)
    np.testing.assert_array_equal(d.B, plain.B)


def test_singleton_groups_are_the_plain_design():
    def f(u):
        x = norm.ppf(u)
        return x[:, 0] + 2 * x[:, 1] * x[:, 2]

    plain = sobol_indices(f, ["a", "b", "c"], n_base=256, seed=4, n_bootstrap=50)
    singletons = sobol_indices(f, ["a", "b", "c"], n_base=256, seed=4, n_bootstrap=50,
                               groups=[[0], [1], [2]])
    xr.testing.assert_identical(singletons, plain)
    assert saltelli_design(3, 64, seed=0, groups=[(0,), (1,), (2,)]).groups is None


@pytest.mark.parametrize(
    "groups, names, expected",
    [
        # {x1, x3} holds the only interaction: first order = total order for both entries
        ([(0, 2), (1,)], ["x1+x3", "x2"], lambda v: ([v[0] + v[2] + v[3], v[1]], [v[0] + v[2] + v[3], v[1]])),
        # {x1, x2}: S1 = V1 + V2 (V12 = 0), ST adds V13; x3 alone: S1 = 0, ST = V13
        ([(0, 1), (2,)], ["x1+x2", "x3"], lambda v: ([v[0] + v[1], 0.0], [v[0] + v[1] + v[3], v[3]])),
    ],
    ids=["x1x3", "x1x2"],
)
def test_ishigami_group_indices(groups, names, expected):
    a, b = 7.0, 0.1
    pi = np.pi
    v1, v2, v3 = 0.5 * (1 + b * pi**4 / 5) ** 2, a**2 / 8, 0.0
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v3 + v13

    def f(u):
        x = -np.pi + 2 * np.pi * u
        return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])

    ds = sobol_indices(f, names, n_base=N_BASE, seed=1, groups=groups)
    s1, st_ = (np.array(x) / total for x in expected((v1, v2, v3, v13)))
    assert_matches(ds, s1, st_)
    assert ds.attrs["n_evaluations"] == (len(groups) + 2) * N_BASE
    assert ds.attrs["grouped"] == 1 and ds.attrs["n_inputs"] == 3


def test_group_of_correlated_normals_by_hand():
    # Inputs are independent scores e; inside f a Gaussian copula makes z = L e with
    # corr(z_a, z_b) = rho, and f = z_a + z_b + z_c. The group {a, b} sampled jointly has
    # variance 2 + 2 rho, c has 1: S_ab = (2 + 2 rho) / (3 + 2 rho), no interaction.
    rho = 0.6
    chol = np.linalg.cholesky(np.array([[1.0, rho, 0.0], [rho, 1.0, 0.0], [0.0, 0.0, 1.0]]))

    def f(u):
        return (norm.ppf(u) @ chol.T).sum(axis=1)

    ds = sobol_indices(f, ["a + b", "c"], n_base=N_BASE, seed=6, groups=[(0, 1), (2,)])
    share = np.array([2 + 2 * rho, 1.0]) / (3 + 2 * rho)
    assert_matches(ds, share, share)
    assert float(ds.variance) == pytest.approx(3 + 2 * rho, rel=0.02)


@pytest.mark.parametrize(
    "groups, match",
    [
        ([(0, 1)], "exactly once"),
        ([(0, 1), (1, 2)], "exactly once"),
        ([(0, 1), (2, 3)], "exactly once"),
        ([(0, 1, 2), ()], "not be empty"),
        ([0, 1, 2], "sequence of column indices"),
        ("abc", "sequence of column-index"),
    ],
    ids=["missing", "overlap", "out-of-range", "empty", "flat", "string"],
)
def test_bad_groups_are_refused(groups, match):
    with pytest.raises(ValueError, match=match):
        saltelli_design(3, 64, seed=0, groups=groups)


def test_analyze_wants_one_name_per_group():
    d = saltelli_design(3, 64, seed=0, groups=[(0, 1), (2,)])
    with pytest.raises(ValueError, match="one name per group"):
        sobol_analyze(d, d.u[:, 0], ["a", "b", "c"])
    with pytest.raises(ValueError, match=r"\(G \+ 2\) \* n_base = 256"):
        d.split(np.zeros(5 * 64))

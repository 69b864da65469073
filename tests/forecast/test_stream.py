"""Streamed summaries: what a run reads off its merged tallies equals, within the stated bound,
what the same worlds give exactly; the conditioned stream equals the in-memory conditioning;
a run keeps --keep worlds; the chunking and the scheduler change no number."""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pytest
import xarray as xr

import forecast
import forecast.engine as engine
import forecast.result as result_module
from forecast.conditioning import condition
from forecast.record.runs import load_runs
from forecast.stream import CELLS, FRONTIER, HIST_WIDTH, hist_cells, reach_from_tally, sum_tallies, tally_chunk
from forecast.settings import parse_years
from forecast.summaries import interval_table, reach_probability
from priors import InputError, load_prior_set

YEARS = "2025:2028"


@pytest.fixture(scope="module")
def everything():
    """A run that keeps every world, so the exact summaries can be computed beside the streamed."""
    return forecast.run(samples=6000, seed=5, years=YEARS, keep="all")


def _order_gap(values: np.ndarray, q: float) -> float:
    """The spacing of the order statistics around the q-quantile: how far two exact
    definitions of the sample quantile can differ."""
    ordered = np.sort(values)
    i = int(q * (values.size - 1))
    return float(ordered[min(i + 2, values.size - 1)] - ordered[max(i - 1, 0)])


def test_streamed_quantiles_are_within_a_bin_of_the_exact_ones(everything):
    log10 = everything.log10_compute.transpose("sample", "year")
    exact = interval_table(log10)
    streamed = everything.intervals
    for year in log10["year"].values:
        values = log10.sel(year=year).values
        gap = _order_gap(values, 0.5)
        assert abs(float(streamed["median"].sel(year=year)) - float(exact["median"].sel(year=year))) <= HIST_WIDTH + gap
        for prob in (0.5, 0.9):
            for bound, q in (("lower", (1 - prob) / 2), ("upper", (1 + prob) / 2)):
                got = float(streamed["eti"].sel(prob=prob, year=year, bound=bound))
                want = float(exact["eti"].sel(prob=prob, year=year, bound=bound))
                assert abs(got - want) <= HIST_WIDTH + _order_gap(values, q)


def test_streamed_hdi_holds_its_mass_and_is_no_wider_than_the_exact_one(everything):
    # the HDI's ends are ill-conditioned (many near-shortest intervals): check what defines it
    log10 = everything.log10_compute.transpose("sample", "year")
    exact = interval_table(log10)["hdi"]
    for year in log10["year"].values:
        values = log10.sel(year=year).values
        for prob in (0.5, 0.9):
            lo, hi = everything.intervals["hdi"].sel(prob=prob, year=year).values
            share = np.mean((values >= lo - 1e-12) & (values <= hi + 1e-12))
            assert share >= prob - 2 / values.size
            width = float(np.diff(exact.sel(prob=prob, year=year).values)[0])
            assert hi - lo <= width + 2 * HIST_WIDTH


@pytest.mark.parametrize("mu, sd", [(27.3, 0.8), (25.0, 0.3)])
def test_the_streamed_hdi_of_a_normal_is_its_analytic_hdi(mu, sd):
    # a tally whose histogram is a normal's exact mass per bin: the normal's HDI is
    # mu -/+ z sd with z the (1 + p) / 2 quantile of the standard normal, worked out here
    from statistics import NormalDist

    from forecast.stream import interval_table_from_tally
    edges = np.round(np.arange(mu - 8 * sd, mu + 8 * sd, HIST_WIDTH) / HIST_WIDTH) * HIST_WIDTH
    mass = np.diff([NormalDist(mu, sd).cdf(e) for e in edges])
    out = {"log10_training_compute": (edges[:-1] + HIST_WIDTH / 2)[:, None],
           "binding_constraint": np.zeros((edges.size - 1, 1), int)}
    tally = tally_chunk(out, years=[2026], thresholds=[1e27], weights=mass,
                        quantities=["log10_training_compute"])
    hdi = interval_table_from_tally(tally, probs=(0.5, 0.9))["hdi"]
    for prob in (0.5, 0.9):
        z = NormalDist().inv_cdf((1 + prob) / 2)
        lo, hi = hdi.sel(prob=prob, year=2026).values
        assert abs(lo - (mu - z * sd)) <= HIST_WIDTH
        assert abs(hi - (mu + z * sd)) <= HIST_WIDTH


def test_streamed_probabilities_and_shares_are_exact(everything):
    log10 = everything.log10_compute
    exact = reach_probability(log10, everything.thresholds)
    xr.testing.assert_allclose(everything.timeline["probability"], exact["probability"], atol=1e-12)
    xr.testing.assert_allclose(everything.timeline["mcse"], exact["mcse"], atol=1e-12)
    binding = everything.samples["binding_constraint"]
    for code, name in enumerate(everything.constraint_shares["constraint"].values):
        by_hand = (binding == code).mean("sample")
        np.testing.assert_allclose(everything.constraint_shares.sel(constraint=name), by_hand, atol=1e-12)


def test_a_weighted_tally_gives_the_weighted_proportion_and_its_standard_error():
    rng = np.random.default_rng(0)
    target = rng.normal(26.5, 0.5, size=(500, 2))
    out = {"log10_training_compute": target, "binding_constraint": np.zeros((500, 2), int)}
    w = rng.uniform(0, 1, 500)
    tally = tally_chunk(out, years=[2025, 2026], thresholds=[1e26], weights=w)
    hit = np.maximum.accumulate(target, axis=1)[:, 1] >= 26
    p = np.sum(w * hit) / np.sum(w)
    se = np.sqrt(np.sum(w**2 * (hit - p) ** 2)) / np.sum(w)
    got = reach_from_tally(tally).sel(threshold=1e26, year=2026)
    assert float(got["probability"]) == pytest.approx(p, rel=1e-12)
    assert float(got["mcse"]) == pytest.approx(se, rel=1e-9)


def test_a_weighted_lab_tally_counts_each_world_as_its_labs_show():
    # 200 worlds of 3 labs over 4 years, weighted: each count worked out world by world
    rng = np.random.default_rng(2)
    lab_compute = rng.normal(27, 0.8, size=(200, 3, 4))
    frontier = lab_compute.max(axis=1)
    out = {"log10_training_compute": frontier, "binding_constraint": np.zeros((200, 4), int),
           "log10_lab_training_compute": lab_compute, "leading_lab": lab_compute.argmax(axis=1)}
    w = rng.uniform(0, 1, 200)
    thresholds = [1e26, 1e27, 3e27, 1e28]
    tally = tally_chunk(out, years=[2025, 2026, 2027, 2028], thresholds=thresholds, weights=w)
    at_least = np.zeros((3, 4, 4))  # count 1..3, threshold, year
    first = np.zeros((3, 4))  # lab, threshold
    for i in range(200):
        for j, t in enumerate(np.log10(thresholds)):
            for y in range(4):
                reached = sum(lab_compute[i, k, : y + 1].max() >= t for k in range(3))
                for c in range(reached):
                    at_least[c, j, y] += w[i]
            years_reached = [y for y in range(4) if frontier[i, : y + 1].max() >= t]
            if years_reached:
                first[lab_compute[i, :, years_reached[0]].argmax(), j] += w[i]
    np.testing.assert_allclose(tally["labs_at_least"].values, at_least, rtol=1e-12)
    np.testing.assert_allclose(tally["first"].values, first, rtol=1e-12)


def test_tallies_merge_by_addition():
    rng = np.random.default_rng(1)
    target = rng.normal(27, 1, size=(300, 3))
    out = {"log10_training_compute": target, "binding_constraint": rng.integers(0, 5, (300, 3))}
    kw = dict(years=[2025, 2026, 2027], thresholds=[1e27])
    whole = tally_chunk(out, **kw)
    parts = sum_tallies(tally_chunk({k: v[s] for k, v in out.items()}, **kw)
                        for s in (slice(0, 100), slice(100, 300)))
    xr.testing.assert_equal(whole, parts)


def test_a_values_histogram_cell_is_its_year_and_bin_in_numpy_and_in_the_compiled_model():
    """Cell = year * 24,000 + floor((value - low) / 0.001), clipped into the grid; the
    compiled model's (engine._push, its XLA options) are NumPy's."""
    import jax
    import jax.numpy as jnp

    values = np.array([[28.0, 16.0, 15.0, 41.0],  # a bin's lower edge, the grid's, below it, above it
                       [np.nextafter(28.0, 0), 16.0005, 27.69897000433602, 39.9999]])
    expected = np.array([[12000, 24000 + 0, 48000 + 0, 72000 + 23999],
                         [11999, 24000 + 0, 48000 + 11698, 72000 + 23999]])
    assert np.array_equal(hist_cells(values, FRONTIER), expected)
    rng = np.random.default_rng(2)
    many = np.concatenate([values, rng.normal(27, 3, (500, 4)), np.round(rng.normal(27, 3, (500, 4)), 3)])
    compiled = jax.jit(lambda v: hist_cells(v, FRONTIER, xp=jnp), compiler_options=engine._MODEL_OPTIONS)
    with jax.enable_x64(True):
        assert np.array_equal(np.asarray(compiled(many)), hist_cells(many, FRONTIER))


@pytest.mark.parametrize("hold", [True, False])  # kept from the pass, or computed alone after it
def test_a_run_keeps_keep_worlds_and_summarises_all_of_them(everything, hold, monkeypatch):
    monkeypatch.setattr(result_module, "HOLD_WORLDS", 6000 if hold else 0)
    kept = forecast.run(samples=6000, seed=5, years=YEARS, keep=1000)
    assert kept.n_kept == 1000 and kept.n_samples == 6000
    xr.testing.assert_equal(kept.timeline, everything.timeline)  # every world, not the kept ones
    xr.testing.assert_equal(kept.samples.drop_attrs(), everything.samples.isel(sample=slice(0, 1000)).drop_attrs())


def test_a_run_that_keeps_no_world_computes_only_what_its_summaries_read(monkeypatch):
    """keep=0: the compiled model returns only the summaries' and the likelihood's sites
    (engine.output_sites), and the conditioned summaries and answers are those of a run
    that keeps every world; over several chunks, so both passes are drawn."""
    monkeypatch.setattr(engine, "CHUNK_SIZE", 700)
    monkeypatch.setattr(result_module, "CHUNK_SIZE", 700)
    seen = []
    push = engine._draw_and_push
    monkeypatch.setattr(engine, "_draw_and_push", lambda *a, **k: seen.append(k.get("wanted")) or push(*a, **k))
    none = forecast.run(samples=1500, seed=4, years=YEARS, as_of="record", keep=0)
    assert seen and all(w is not None and "mfu" not in w and CELLS + FRONTIER in w for w in seen)
    every = forecast.run(samples=1500, seed=4, years=YEARS, as_of="record", keep="all")
    xr.testing.assert_equal(none.timeline, every.timeline)
    # the histograms counted from the cells the compiled model gave, and from the values
    xr.testing.assert_equal(none.tally["hist"], every.tally["hist"])
    assert none.metadata["questions"] == every.metadata["questions"]
    assert none.n_kept == 0 and set(none.samples.data_vars) == set(every.samples.data_vars)
    transform = load_prior_set().transform()
    wanted = frozenset({"log10_training_compute", "disclosure_probability"})
    assert set(engine.output_sites(transform, wanted)) == {"log10_training_compute"} | {
        f"disclosure_probability[{lab}]" for lab in load_prior_set().labs.names}


def test_a_conditioned_run_whose_log_weights_do_not_fit_is_refused_before_any_work(monkeypatch):
    import forecast.settings as settings

    monkeypatch.setattr(settings, "available_memory", lambda: 7_999_999)  # 1e6 weights: 8,000,000 bytes
    monkeypatch.setattr(result_module, "map_chunks", lambda *a, **k: pytest.fail("drew worlds"))
    with pytest.raises(InputError, match=r"samples: .* one log weight per world: 1,000,000 worlds need about 8\.0 MB"):
        forecast.run(samples=1_000_000, as_of="record", keep=0)


def test_keep_is_checked(monkeypatch):
    with pytest.raises(InputError, match="keep: a number of worlds or 'all'"):
        forecast.run(samples=100, keep="some")
    import forecast.settings as settings

    monkeypatch.setattr(settings, "available_memory", lambda: 10_000_000)
    with pytest.raises(InputError, match=r"keep: keeping 1,000,000 worlds .* memory and .* of disk"):
        forecast.run(samples=1_000_000, keep="all")


def test_the_streamed_conditioning_equals_the_in_memory_one_over_several_chunks(monkeypatch):
    # small chunks, so that the weights' tail, the totals and the resampling cross chunks
    monkeypatch.setattr(engine, "CHUNK_SIZE", 700)
    monkeypatch.setattr(result_module, "CHUNK_SIZE", 700)
    streamed = forecast.run(samples=3000, seed=3, years=YEARS, as_of=2025, keep="all")
    worlds = engine.simulate(load_prior_set(), years=YEARS, samples=3000, seed=3)
    keep, info = condition(worlds, load_prior_set().labs.names, parse_years(YEARS), load_runs(), as_of=dt.date(2025, 12, 31),
                           seed=3)
    np.testing.assert_array_equal(streamed.samples["log10_training_compute"].values,
                                  worlds["log10_training_compute"].values[keep])
    assert streamed.metadata["pareto_k"] == pytest.approx(info.pareto_k, abs=1e-12)
    assert streamed.metadata["ess"] == pytest.approx(info.ess, rel=1e-9)
    # the summaries weigh every world; the resampled ones agree within their noise
    weights = np.exp(info.log_weights)
    reached = np.maximum.accumulate(worlds["log10_training_compute"].values, axis=1) >= 27
    p = streamed.timeline["probability"].sel(threshold=1e27).values
    np.testing.assert_allclose(p, weights @ reached, atol=1e-12)


def test_a_conditioned_run_draws_once_whether_it_holds_its_worlds_or_computes_its_kept_ones_alone(monkeypatch):
    """A conditioned run makes one pass over the chunks. A run of a few chunks computes every
    output in it and keeps its resampled worlds from it; a larger one computes only what the
    summaries read, then its kept worlds alone (engine.worlds_at). Both give the same
    numbers, and the second weighs every world as the in-memory conditioning does."""
    monkeypatch.setattr(engine, "CHUNK_SIZE", 700)
    monkeypatch.setattr(result_module, "CHUNK_SIZE", 700)
    draws, alone = [], []
    real, real_at = engine.map_chunks, engine.worlds_at

    def counted(*args, **kwargs):
        draws.append(kwargs.get("wanted"))
        return real(*args, **kwargs)

    monkeypatch.setattr(result_module, "map_chunks", counted)
    monkeypatch.setattr(result_module, "worlds_at", lambda *a, **k: alone.append(len(a[1])) or real_at(*a, **k))
    monkeypatch.setattr(result_module, "HOLD_WORLDS", 3000)
    held = forecast.run(samples=3000, seed=3, years=YEARS, as_of=2025, keep=400)
    assert draws == [None] and alone == []  # one pass, every output, the kept worlds from it
    monkeypatch.setattr(result_module, "HOLD_WORLDS", 2999)
    apart = forecast.run(samples=3000, seed=3, years=YEARS, as_of=2025, keep=400)
    assert len(draws) == 2 and "mfu" not in draws[1] and alone == [400]
    xr.testing.assert_allclose(held.tally, apart.tally, rtol=1e-12, atol=1e-12)
    xr.testing.assert_allclose(held.samples, apart.samples, rtol=1e-12, atol=0)
    assert held.n_kept == 400 and held.metadata["ess"] == pytest.approx(apart.metadata["ess"], rel=1e-12)
    # the tally of every world, each with its smoothed importance weight
    worlds = engine.simulate(load_prior_set(), years=YEARS, samples=3000, seed=3)
    _, info = condition(worlds, load_prior_set().labs.names, parse_years(YEARS), load_runs(),
                        as_of=dt.date(2025, 12, 31), seed=3)
    weights = np.exp(info.log_weights)
    reached = np.maximum.accumulate(worlds["log10_training_compute"].values, axis=1) >= 27
    np.testing.assert_allclose(apart.timeline["probability"].sel(threshold=1e27).values, weights @ reached,
                               atol=1e-12)
    assert float(apart.tally["weight"]) == pytest.approx(1.0, rel=1e-12) and int(apart.tally["n"]) == 3000
    assert float(apart.tally["weight_sq"]) == pytest.approx(float(weights @ weights), rel=1e-9)


def test_the_summaries_are_handed_over_before_the_kept_worlds_are_computed(monkeypatch):
    """run_settings' on_summaries (what the command's plots are drawn from meanwhile): the
    run's every summary and its metadata, with samples of no world, handed over once the
    pass is done and before worlds_at computes the kept worlds."""
    from forecast.result import run_settings
    from forecast.settings import RunSettings

    events = []
    real_at = engine.worlds_at
    monkeypatch.setattr(result_module, "worlds_at", lambda *a, **k: events.append("kept") or real_at(*a, **k))
    monkeypatch.setattr(result_module, "HOLD_WORLDS", 2999)  # the kept worlds computed alone
    settings = RunSettings(samples=3000, seed=3, years=YEARS, as_of=2025, keep=400)
    result = run_settings(settings, on_summaries=events.append)
    early = events[0]
    assert events[1:] == ["kept"]
    assert early.n_kept == 0 and result.n_kept == 400
    assert list(early.samples.data_vars) == list(result.samples.data_vars)
    assert all(early.samples[name].dims == result.samples[name].dims for name in result.samples.data_vars)
    assert early.samples.attrs == result.samples.attrs and early.metadata == result.metadata
    xr.testing.assert_identical(early.tally, result.tally)
    xr.testing.assert_identical(early.timeline, result.timeline)
    xr.testing.assert_identical(early.interval_table("log10_power_gw"), result.interval_table("log10_power_gw"))


def test_the_chunks_run_on_a_dask_cluster_give_the_same_numbers():
    distributed = pytest.importorskip("distributed")
    samples = engine.CHUNK_SIZE + 2000  # two chunks, two tasks (the workers' chunk size is the real one)
    local = forecast.run(samples=samples, seed=11, years=YEARS, as_of="record", keep=500)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_cluster = forecast.run(samples=samples, seed=11, years=YEARS, as_of="record", keep=500,
                                  scheduler=client)
    # equal to the last bits of the weights' sums (workers' float sums may differ in the last bit)
    xr.testing.assert_allclose(on_cluster.tally, local.tally, rtol=1e-12, atol=1e-12)
    xr.testing.assert_allclose(on_cluster.samples, local.samples, rtol=1e-12, atol=0)
    assert on_cluster.metadata.keys() == local.metadata.keys()
    assert on_cluster.metadata["pareto_k"] == pytest.approx(local.metadata["pareto_k"], abs=1e-9)


def test_an_unreachable_scheduler_is_one_line(monkeypatch):
    pytest.importorskip("distributed")
    import forecast.cluster

    monkeypatch.setattr(forecast.cluster, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(InputError, match="--scheduler: cannot reach a Dask scheduler"):
        forecast.run(samples=100, scheduler="tcp://127.0.0.1:9")


_SHARDED = """
import sys, numpy as np, jax
import forecast
assert jax.local_device_count() == 2
r = forecast.run(samples=3001, seed=3, as_of="record", keep="all")
np.savez(sys.argv[1], compute=r.samples["log10_training_compute"].values, hist=r.tally["hist"].values,
         reach=r.tally["reach"].values)
"""


def test_a_chunk_split_over_two_devices_gives_the_same_numbers(tmp_path):
    # 3,001 worlds: an odd count, computed in the 4,096-wide program, which splits in two
    import os
    import subprocess
    import sys

    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    subprocess.run([sys.executable, "-c", _SHARDED, str(tmp_path / "two.npz")], env=env, check=True,
                   cwd=os.getcwd(), capture_output=True)
    two = np.load(tmp_path / "two.npz")
    one = forecast.run(samples=3001, seed=3, as_of="record", keep="all")
    # with several labs XLA may round a sharded program's logs differently in the last bit
    np.testing.assert_allclose(two["compute"], one.samples["log10_training_compute"].values, rtol=1e-14, atol=0)
    np.testing.assert_allclose(two["hist"], one.tally["hist"].values, rtol=1e-12, atol=0)
    np.testing.assert_allclose(two["reach"], one.tally["reach"].values, rtol=1e-12, atol=0)


@pytest.mark.parametrize("dropped_worlds", [5, 10**9])
def test_the_one_pass_fold_counts_every_world_once_with_its_weight(monkeypatch, dropped_worlds):
    """_ConditionedFold over chunks far below log weight 0, one of them all impossible and
    smaller than the tail: with the candidates left at the end tallied with their raw
    weights, the tally is the direct weighted tally of every world (no world twice, none
    left out, no NaN from the rescaling), whether the dropped candidates are tallied as the
    fold goes (every 5) or all at the end."""
    monkeypatch.setattr(result_module, "DROPPED_WORLDS", dropped_worlds)
    rng = np.random.default_rng(0)
    sizes, tail = (50, 3, 40), 10
    logliks = [rng.normal(-800, 3, 50), np.full(3, -np.inf), rng.normal(-790, 3, 40)]
    outs = [{"log10_training_compute": rng.normal(26, 1, (n, 2)),
             "binding_constraint": rng.integers(0, 3, (n, 2)).astype(np.int8), "loglik": ll}
            for n, ll in zip(sizes, logliks)]
    monkeypatch.setattr(result_module, "likelihood_and_check", lambda out, labs, evidence: (out["loglik"], np.zeros(1)))
    weigh = functools.partial(result_module._weighted_sums, years=[2025, 2026], thresholds=(1e26, 1e27),
                              labs=("a",), evidence=None, questions=(), resolved=())
    fold, acc, start = result_module._ConditionedFold(tail, weigh), None, 0
    for i, out in enumerate(outs):
        acc = fold(acc, result_module._conditioned_chunk(i, start, out, weigh=weigh, labs=("a",), evidence=None,
                                                          tail=tail, hold=False))
        start += sizes[i]
    held = sum(values.size for values, _ in acc["dropped"])
    # each chunk offers its tail largest (the impossible one its 3): 3 drop out, then 10
    assert held == (0 if dropped_worlds == 5 else 3 + tail)
    fold.flush(acc, (acc["values"], acc["rows"]))
    folded = acc["tally"]
    every = {name: np.concatenate([out[name] for out in outs]) for name in outs[0]}
    direct = tally_chunk(every, years=[2025, 2026], thresholds=(1e26, 1e27),
                         weights=np.exp(every["loglik"] - np.max(logliks[2])))
    assert acc["ref"] == np.max(logliks[2]) and sorted(acc["index"]) == sorted(_largest(logliks, tail))
    for name in direct.data_vars:
        if name != "n":
            np.testing.assert_allclose(folded[name].values, direct[name].values, rtol=1e-12, atol=0, err_msg=name)


def _largest(logliks, tail):
    """The indices of the ``tail`` largest of the run's log weights."""
    every = np.concatenate(logliks)
    return np.argsort(every, kind="stable")[-tail:]

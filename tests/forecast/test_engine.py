"""The Monte Carlo engine and the timeline kernels, on labelled data."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import Future
from pathlib import Path

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import forecast
from forecast import engine
from forecast.engine import CALL_WIDTH, CHUNK_SIZE, _push, chunk_plan, push_worlds
from forecast.settings import DEFAULT_YEARS
from forecast.summaries import (
    crossing_year_quantiles,
    first_crossing_year,
    reach_probability,
    running_max,
)
from models import OUTPUT_UNITS
from priors import InputError

ROOT = Path(__file__).resolve().parents[2]


def test_samples_have_named_dims_and_units(small_run):
    ds = small_run.samples
    assert ds["log10_training_compute"].dims == ("sample", "year")
    assert ds["chips_base"].dims == ("sample", "lab")  # a lab-scoped prior, drawn per lab
    assert ds["chip_flops_growth"].dims == ("sample",)  # a shared one
    assert ds["log10_lab_training_compute"].dims == ("sample", "lab", "year")
    assert list(ds["lab"].values) == ["openai", "google_deepmind", "xai", "anthropic", "meta", "china"]
    assert list(ds["year"].values) == list(range(2025, 2036))
    for name, unit in OUTPUT_UNITS.items():
        assert ds[name].attrs["units"] == unit
    assert ds["binding_constraint"].attrs["flag_meanings"] == "supply power funding data latency"
    assert small_run.timeline["probability"].dims == ("threshold", "year")


def test_samples_follow_the_priors(small_run, default_priors):
    # 4000 draws: the 5th/95th percentiles of each prior, in each lab, are within a few
    # percent of that lab's spec (its own where it has one)
    for name in ("chips_base", "chip_growth", "power_limit_growth", "chip_flops_growth"):
        for lab in small_run.labs if default_priors.scope(name) == "lab" else (None,):
            prior = default_priors.for_lab(name, lab) if lab else default_priors[name]
            values = small_run.samples[name].sel(lab=lab) if lab else small_run.samples[name]
            observed = values.quantile([0.05, 0.95], "sample").values
            np.testing.assert_allclose(observed, prior.family.ppf([0.05, 0.95]), rtol=0.06, err_msg=f"{name} {lab}")


def test_chunks_do_not_change_the_statistics(monkeypatch):
    small = forecast.run(samples=3000, seed=3)
    monkeypatch.setattr("forecast.engine.CHUNK_SIZE", 1024)  # 3 chunks, the last trimmed
    chunked = forecast.run(samples=3000, seed=3)
    assert chunked.n_samples == 3000
    a, b = small.log10_compute.values.ravel(), chunked.log10_compute.values.ravel()
    assert not np.array_equal(a, b)  # other worlds ...
    assert abs(np.median(a) - np.median(b)) < 0.05  # ... from the same distribution
    assert CHUNK_SIZE >= 2**14


def test_compiler_options_change_no_number(default_priors, float64):
    # min/max without NaN propagation and 512-bit vectors: the same outputs as plain XLA,
    # out to clipped and infinite scores
    # (1,024 worlds and 11 years: the shape of the default priors' model other tests compile)
    z = np.random.default_rng(0).standard_normal((default_priors.n_latent, 1024)) * 4
    z[:, :50], z[:, 50:100], z[::2, 100:150] = np.inf, -np.inf, 12.0
    z_by_prior, transform, years = jnp.asarray(z), default_priors.transform(), np.linspace(2020.0, 2040.0, 11)
    plain = jax.jit(_push.__wrapped__, static_argnames=("base_year",))
    expected = plain(transform, z_by_prior, None, years, base_year=2024.0)
    out = _push(transform, z_by_prior, None, years, base_year=2024.0)
    for name, value in out.items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)
        assert np.all(np.isfinite(value)), name


def test_designed_worlds_push_through_the_same_model(default_priors):
    z = np.zeros((2, default_priors.n_latent))
    out = push_worlds(default_priors, z, years=DEFAULT_YEARS)
    # z = 0 is every prior at its median: xAI's chips_base median sqrt(8e4 x 2e5) (lognormal 8e4..2e5)
    np.testing.assert_allclose(out["chips_base[xai]"], (8e4 * 2e5) ** 0.5, rtol=1e-9)
    assert out["log10_training_compute"].shape == (2, len(DEFAULT_YEARS))


def test_running_max_and_first_crossing_by_hand():
    log10 = xr.DataArray(
        [[25.0, 27.0, 26.0], [24.0, 24.5, 28.5]], dims=("sample", "year"),
        coords={"year": [2025, 2026, 2027]},
    )
    np.testing.assert_array_equal(running_max(log10).values, [[25, 27, 27], [24, 24.5, 28.5]])
    reach = reach_probability(log10, [1e26, 1e28])
    np.testing.assert_array_equal(reach["probability"].values, [[0, 0.5, 1.0], [0, 0, 0.5]])
    first = first_crossing_year(log10, [1e26, 1e28])
    np.testing.assert_array_equal(first.transpose("sample", "threshold").values, [[2026, np.nan], [2027, 2027]])
    quantiles = crossing_year_quantiles(reach["probability"], probs=(0.5, 0.95))
    np.testing.assert_array_equal(quantiles.values, [[2026, 2027], [2027, np.nan]])


def test_intervals_by_arviz_contain_the_median(small_run):
    iv = small_run.intervals
    for kind in ("eti", "hdi"):
        lower = iv[kind].sel(bound="lower")
        upper = iv[kind].sel(bound="upper")
        assert (lower <= iv["median"]).all() and (iv["median"] <= upper).all()
        width = upper - lower
        assert (width.sel(prob=0.5) < width.sel(prob=0.9)).all()
    # the 90% equal-tailed interval holds 90% of the worlds in every year
    inside = (small_run.log10_compute >= iv["eti"].sel(prob=0.9, bound="lower")) & (
        small_run.log10_compute <= iv["eti"].sel(prob=0.9, bound="upper")
    )
    np.testing.assert_allclose(inside.mean("sample"), 0.9, atol=0.002)


def test_netcdf_opens_with_arviz_and_xarray_and_round_trips(small_run, tmp_path):
    path = small_run.to_netcdf(tmp_path / "samples.nc")
    idata = az.from_netcdf(path)
    assert idata.prior["log10_training_compute"].dims == ("chain", "draw", "year")
    summary = xr.open_dataset(path)
    np.testing.assert_allclose(summary["reach_probability"], small_run.timeline["probability"])
    again = forecast.load(tmp_path)
    np.testing.assert_allclose(again.log10_compute, small_run.log10_compute, rtol=1e-6)
    assert again.seed == small_run.seed and again.thresholds == small_run.thresholds
    assert again.priors.fingerprint() == small_run.priors.fingerprint()
    summary.close()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"samples": 0}, "samples: the number of worlds must be positive"),
            ({"samples": 2.5}, "samples: must be a whole number"),
            ({"samples": 10**11, "keep": "all"}, r"keep: keeping 100,000,000,000 worlds .* would need about .* of memory"),
            ({"seed": 99999999999999999999}, "seed: must be a whole number from 0 to"),
            ({"seed": -1}, "seed: must be a whole number from 0 to"),
        ({"years": "2030:2025"}, "reversed"),
        ({"years": "soon"}, "START:END"),
        ({"thresholds": "1e26,-5"}, "positive number"),
        ({"overrides": ["mfu=1.5"]}, r"mfu: .* must be a fraction"),
        ({"overrides": ["mfuu=0.4"]}, "did you mean 'mfu'"),
    ],
)
def test_bad_settings_raise_input_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        forecast.run(**kwargs)


def test_every_sample_count_runs_in_one_of_a_few_compiled_widths():
    plans = {n: chunk_plan(n) for n in [*range(1, 70_000, 7), 100_000, 10**7]}
    assert {plan.width for plan in plans.values()} == {1024, 2048, 4096, 8192, 16384}
    assert chunk_plan(5000).width == 8192 and chunk_plan(20_000).width == 16384  # the app's two passes
    for n, plan in plans.items():
        assert plan.worlds == min(n, CHUNK_SIZE)  # chunk i holds worlds i * plan.worlds ...
        assert min(plan.worlds, CALL_WIDTH) <= plan.width <= max(1024, 2 * plan.worlds - 2)
        assert (plan.chunks - 1) * plan.worlds < n <= plan.chunks * plan.worlds
    # large runs: chunks of 65,536 worlds (the draw's unit, as before buckets), each
    # computed in four calls of 16,384
    assert chunk_plan(100_000) == (CHUNK_SIZE, 2, CALL_WIDTH) and CHUNK_SIZE == 4 * CALL_WIDTH


def test_a_run_in_a_wider_call_has_the_worlds_of_a_call_of_its_own_size(monkeypatch):
    # 700 worlds computed in the 1,024-wide program: the worlds a 700-wide program computes
    wide = forecast.run(samples=700, seed=5, keep="all")
    monkeypatch.setattr(engine, "chunk_width", lambda worlds: worlds)
    own = forecast.run(samples=700, seed=5, keep="all")
    xr.testing.assert_equal(wide.samples, own.samples)
    xr.testing.assert_equal(wide.tally, own.tally)


def test_a_chunk_in_calls_whose_last_is_partial_has_the_worlds_of_one_call(monkeypatch):
    # 3,000 worlds, one chunk: one call of 4,096, or calls of 1,024 (the last with 952)
    one = forecast.run(samples=3000, seed=5, keep="all")
    monkeypatch.setattr(engine, "CALL_WIDTH", 1024)
    assert chunk_plan(3000) == (3000, 1, 1024)
    calls = forecast.run(samples=3000, seed=5, keep="all")
    xr.testing.assert_equal(one.samples, calls.samples)
    xr.testing.assert_equal(one.tally, calls.tally)


def test_worlds_computed_alone_are_the_worlds_of_their_chunks(default_priors):
    # two chunks of 65,536 worlds, each computed in pieces of 16,384 (the second chunk's
    # 300 worlds in one); a few of them alone, at 1,024: the ends of pieces
    samples = CHUNK_SIZE + 300
    picks = np.array([CHUNK_SIZE + 299, 5, CHUNK_SIZE, 5, CHUNK_SIZE - 1, 0, CALL_WIDTH - 1, CALL_WIDTH])
    rows = {}

    def chosen(index, start, out):
        for i in np.flatnonzero((picks >= start) & (picks < start + out["log10_training_compute"].shape[0])):
            rows[i] = {name: value[picks[i] - start] for name, value in out.items()}

    engine.map_chunks(default_priors, chosen, years=DEFAULT_YEARS, samples=samples, seed=7)
    alone = engine.worlds_at(default_priors, picks, years=DEFAULT_YEARS, samples=samples, seed=7)
    assert set(alone) == set(rows[0]) and alone["log10_lab_training_compute"].shape[0] == picks.size
    for name, value in alone.items():  # the same bits: the same arithmetic at another width
        np.testing.assert_array_equal(value, np.stack([rows[i][name] for i in range(picks.size)]), err_msg=name)
    with pytest.raises(ValueError, match="world indices outside"):
        engine.worlds_at(default_priors, [samples], years=DEFAULT_YEARS, samples=samples, seed=7)


def test_sample_counts_of_one_width_share_one_compiled_model():
    forecast.run(samples=300, seed=1, keep=0)
    compiled = _push._cache_size()
    for samples in (301, 1000, 1024):
        forecast.run(samples=samples, seed=1, keep=0)
    assert _push._cache_size() == compiled
    # and so do ranges of years of one length: the years are an argument of the program
    other = forecast.run(samples=300, seed=1, years="2026:2036", keep=0)
    assert _push._cache_size() == compiled
    assert list(other.years) == list(range(2026, 2037))


def test_a_chunk_on_a_cluster_worker_is_the_local_runs_chunk(default_priors):
    # the Dask task (forecast.cluster._run_chunk) cuts the run as map_chunks does
    from forecast.cluster import _run_chunk

    def keep(index, start, out):
        return index, start, out["log10_training_compute"]

    local = engine.map_chunks(default_priors, keep, years=DEFAULT_YEARS, samples=1500, seed=2)
    task = _run_chunk(0, priors=default_priors, reduce=keep, years=tuple(DEFAULT_YEARS), samples=1500, seed=2,
                      base_year=2024.0)
    assert local[0][:2] == task[:2] == (0, 0)
    np.testing.assert_array_equal(task[2], local[0][2])
    assert task[2].shape == (1500, len(DEFAULT_YEARS))


def test_a_run_from_programs_kept_on_disk_has_the_traced_runs_numbers(tmp_path, monkeypatch):
    # priors.exported: the first run traces and writes the programs and their machine
    # code, the next (a new process: nothing loaded) loads the machine code alone, and one
    # whose files are corrupt traces them again and rewrites them
    from priors import exported

    def run():
        result = forecast.run(samples=700, seed=5, keep="all")
        return result.samples, result.tally

    traced = run()
    monkeypatch.setattr(exported, "_FOLDER", tmp_path)
    # as if JAX's compile cache (the session's) never had them: all compiled here, all kept
    # (test_machine_code_is_kept_only_as_compiled_in_the_process: where it had them)
    monkeypatch.setattr(exported, "_cache_hits", lambda: 0)
    exports, reads = [], []
    export, deserialize = jax.export.export, jax.export.deserialize
    monkeypatch.setattr(jax.export, "export", lambda *a, **k: exports.append(1) or export(*a, **k))
    monkeypatch.setattr(jax.export, "deserialize", lambda *a, **k: reads.append(1) or deserialize(*a, **k))
    for expected_exports in (True, False):  # the first run exports; the second only loads back
        monkeypatch.setattr(exported, "_LOADED", {})
        exports.clear()
        reads.clear()
        kept = run()
        assert bool(exports) == expected_exports
        assert not reads  # the second: the machine code, not the program
        xr.testing.assert_equal(kept[0], traced[0])
        xr.testing.assert_equal(kept[1], traced[1])
    programs, code = sorted(tmp_path.glob("*.jaxexport")), sorted(tmp_path.glob("*.xla"))
    assert programs and len(code) == len(programs)  # the model and the draws
    for path in programs + code:
        path.write_bytes(b"not a program")
    monkeypatch.setattr(exported, "_LOADED", {})
    again = run()
    xr.testing.assert_equal(again[0], traced[0])
    for path in programs:  # rewritten whole
        assert jax.export.deserialize(bytearray(path.read_bytes())).in_avals
    assert [path.name for path in code if path.read_bytes() == b"not a program"] == []


def test_the_pass_program_loaded_ahead_is_the_one_its_chunks_run(default_priors, tmp_path, monkeypatch):
    """engine.prepare_chunks: the program of a run's pass, loaded in a thread of its own
    while the run reads its record, is the one map_chunks' calls then run (the same key,
    the same numbers as the traced call); where none is kept on disk, the thread traces
    nothing and the first call traces it."""
    from priors import exported

    at = dict(years=DEFAULT_YEARS, samples=100, seed=9)
    wanted = frozenset({"log10_training_compute", "binding_constraint"})
    whole = lambda index, start, out: out  # noqa: E731 -- the chunk's outputs as they are
    traced = engine.map_chunks(default_priors, whole, wanted=wanted, **at)[0]
    monkeypatch.setattr(exported, "_FOLDER", tmp_path)
    for kept_on_disk in (False, True):  # nothing kept: the call traces; then kept: read back
        monkeypatch.setattr(exported, "_LOADED", {})
        engine.prepare_chunks(default_priors, years=at["years"], samples=at["samples"], wanted=wanted)
        pending = {key: value for key, value in exported._LOADED.items() if isinstance(value, Future)}
        assert len(pending) == 1
        [(key, future)] = pending.items()
        loaded = future.result(timeout=120)
        assert (loaded is not None) == kept_on_disk
        out = engine.map_chunks(default_priors, whole, wanted=wanted, **at)[0]
        assert exported._LOADED[key] is not future  # the call ran the program of that key
        if kept_on_disk:
            assert exported._LOADED[key] is loaded
        assert out.keys() == traced.keys()
        for name in traced:
            np.testing.assert_array_equal(out[name], traced[name])


def test_machine_code_is_kept_only_as_compiled_in_the_process(tmp_path):
    """XLA's CPU code loaded from JAX's compile cache serializes without its functions (a
    later process fails to run it: "Function ... not found"): priors.exported keeps the
    machine code of a program it compiled itself, and where JAX's cache had the program,
    keeps none and goes on from the program; every process gets the same numbers."""
    code = (
        "import sys, jax, numpy as np\n"
        "jax.config.update('jax_compilation_cache_dir', sys.argv[1] + '/jax')\n"
        "jax.config.update('jax_persistent_cache_min_compile_time_secs', 0)\n"
        "from pathlib import Path\nfrom priors import exported\n"
        "exported.use_folder(Path(sys.argv[1]) / 'exported')\n"
        "f = jax.jit(lambda x: jax.numpy.exp(x * 2.0 + 1.0) * jax.numpy.sin(x))\n"
        "print(np.asarray(exported.call('f', f, (np.arange(8.0, dtype=np.float32),), static={})).tolist())\n"
    )

    def process() -> str:
        done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0, done.stderr
        return done.stdout

    first = process()  # traced, compiled (and put in JAX's cache), kept
    kept = list((tmp_path / "exported").glob("*.xla"))
    assert len(kept) == 1
    os.utime(kept[0], (1e9, 1e9))  # 2001
    assert process() == first  # loaded from the machine code ...
    assert kept[0].stat().st_mtime > 1e9  # ... and marked as used (what the cache's pruning goes by)
    kept[0].unlink()
    assert process() == first  # compiled from JAX's cache: no machine code kept
    assert not list((tmp_path / "exported").glob("*.xla"))
    assert process() == first


def test_the_cache_folders_lose_the_files_used_longest_ago_beyond_their_size(tmp_path, monkeypatch):
    from priors import exported

    for age, name in enumerate(["d", "c", "b", "a"]):  # a: used longest ago
        path = tmp_path / name
        path.write_bytes(b"x" * 100)
        os.utime(path, (1e9 + 10 * (3 - age), 1e9 + 10 * (3 - age)))
    exported.prune(tmp_path, 1000)  # under the size: nothing goes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c", "d"]
    exported.prune(tmp_path, 250)  # 400 bytes: the two used longest ago go
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "d"]
    exported.prune(tmp_path / "missing", 0)  # nothing to prune, no error
    # each program kept prunes its folder, and JAX's compile cache beside it (the CLI's),
    # under its own size; a JAX cache elsewhere (the user's own) is left alone
    kept, jax_cache, elsewhere = tmp_path / "forecast" / "exported", tmp_path / "forecast" / "jax", tmp_path / "mine"
    for folder in (kept, jax_cache, elsewhere):
        folder.mkdir(parents=True)
        for name in ("old", "older"):
            (folder / name).write_bytes(b"x" * 100)
            os.utime(folder / name, (1e9, 1e9))
    monkeypatch.setattr(exported, "MAX_BYTES", 150)
    monkeypatch.setattr(exported, "JAX_CACHE_MAX_BYTES", 100)
    for folder in (elsewhere, jax_cache):
        monkeypatch.setattr(exported, "_jax_cache_folder", lambda folder=folder: folder)
        exported._write(kept / "new", b"y" * 100)
        assert [p.name for p in kept.iterdir()] == ["new"]
    assert sorted(p.name for p in elsewhere.iterdir()) == ["old", "older"]
    assert [p.name for p in jax_cache.iterdir()] == ["older"]  # of two as old, the first by name went


def test_the_priors_checks_through_kept_programs_give_the_plain_calls_numbers(default_priors, tmp_path, monkeypatch):
    """Every family's range (the check a prior file's spec passes, priors.spec._checked) read
    through kept programs: traced and kept the first time, loaded the next, the numbers of
    the plain call, bit for bit."""
    from priors import exported

    families = {type(prior.family).__name__: prior.family for prior in default_priors.priors}
    plain = {name: family.value_range() for name, family in families.items()}
    monkeypatch.setattr(exported, "_FOLDER", tmp_path)
    for _ in range(2):  # traced and kept, then loaded
        monkeypatch.setattr(exported, "_LOADED", {})
        assert {name: family.value_range() for name, family in families.items()} == plain
    assert len(list(tmp_path.glob("*.jaxexport"))) == len(families) > 3


def test_kept_programs_called_inside_a_traced_function_are_traced_into_it(default_priors, tmp_path, monkeypatch):
    """With the CLI's folder set (priors.exported), a draw inside a jit or vmap (the lab-year
    scores of designed worlds: push_worlds, as `forecast sensitivity` calls it) is traced
    into the caller, not run as a compiled program (which JAX refuses with tracers), and
    the keys and draws are those of the plain calls."""
    from priors import exported
    from forecast._normal import fold_key, root_key, standard_normal

    z = np.zeros((3, default_priors.n_latent))
    plain = push_worlds(default_priors, z, years=DEFAULT_YEARS)
    monkeypatch.setattr(exported, "_FOLDER", tmp_path)
    monkeypatch.setattr(exported, "_LOADED", {})
    kept = push_worlds(default_priors, z, years=DEFAULT_YEARS)
    for name in plain:
        np.testing.assert_array_equal(kept[name], plain[name])
    key = root_key(2**63 - 1)  # a 64-bit seed, as the engine's float64 entry points have it
    with jax.enable_x64(True):
        np.testing.assert_array_equal(jax.random.key_data(key), jax.random.key_data(jax.random.key(2**63 - 1)))
    np.testing.assert_array_equal(jax.random.key_data(fold_key(key, 7)),
                                  jax.random.key_data(jax.random.fold_in(key, 7)))
    traced = jax.jit(lambda k: standard_normal(fold_key(k, 3), (2, 5)))(key)
    np.testing.assert_array_equal(traced, standard_normal(fold_key(key, 3), (2, 5)))


def test_a_program_loaded_ahead_in_a_thread_is_the_one_the_call_runs(default_priors, tmp_path, monkeypatch):
    """priors.exported.prepare: the kept worlds' program of a run, loaded in a thread of
    its own while the run's pass goes on, gives worlds_at the numbers of the traced call;
    where none is kept on disk, the thread traces nothing (NumPyro's tracing is not safe in
    two threads) and the call traces it in its own."""
    from priors import exported

    worlds = np.array([3, 1, 4, 1, 5])
    at = dict(years=DEFAULT_YEARS, samples=100, seed=9)
    traced = engine.worlds_at(default_priors, worlds, **at)
    monkeypatch.setattr(exported, "_FOLDER", tmp_path)
    exports = []
    export = jax.export.export
    monkeypatch.setattr(jax.export, "export", lambda *a, **k: exports.append(1) or export(*a, **k))
    for kept_on_disk in (False, True):  # nothing kept: the call traces; then kept: read back
        monkeypatch.setattr(exported, "_LOADED", {})
        exports.clear()
        engine.prepare_worlds_at(default_priors, worlds.size, years=at["years"])
        pending = [value for value in exported._LOADED.values() if isinstance(value, Future)]
        assert len(pending) == 1
        assert (pending[0].result(timeout=120) is not None) == kept_on_disk and not exports  # no trace there
        out = engine.worlds_at(default_priors, worlds, **at)
        assert bool(exports) == (not kept_on_disk)
        assert out.keys() == traced.keys()
        for name in traced:
            np.testing.assert_array_equal(out[name], traced[name])


def test_a_kept_programs_key_is_remembered_and_is_the_key_its_text_gives(monkeypatch):
    """priors.exported._key: worked out once per program (a hash of its whole structure's
    text), then looked up by what it is made of; another shape, static value or setting
    is another key."""
    from priors import exported

    monkeypatch.setattr(exported, "_KEYS", {})
    worked = []
    text = exported._key_text
    monkeypatch.setattr(exported, "_key_text", lambda *a: worked.append(a[0]) or text(*a))
    f = jax.jit(lambda x, *, k: x * k, static_argnames="k")

    def key(x, k=2.0):
        leaves, treedef = jax.tree_util.tree_flatten((x,))
        return exported._key("f", f, treedef, leaves, {"k": k})

    first = key(np.zeros(4))
    assert key(np.ones(4)) == first and len(worked) == 1  # the same program: looked up
    settings = (jax.config.jax_enable_x64, jax.default_backend(), jax.config.jax_threefry_partitionable,
                jax.config.jax_default_matmul_precision)
    leaves, treedef = jax.tree_util.tree_flatten((np.zeros(4),))
    assert first == text("f", f, treedef, leaves, {"k": 2.0}, settings)
    others = {key(np.zeros(5)), key(np.zeros(4), k=3.0), key(np.zeros(4, dtype=np.int32))}
    assert first not in others and len(others) == 3 and len(worked) == 4
    single = key(np.zeros(4, dtype=np.float32))
    with jax.enable_x64(not jax.config.jax_enable_x64):  # the same float32 leaf, the other x64 setting
        assert key(np.zeros(4, dtype=np.float32)) not in {single, first, *others}

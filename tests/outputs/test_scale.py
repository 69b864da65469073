"""The CLI's scale options: --keep, --scheduler, and the persistent compile cache."""

from __future__ import annotations

import os
import subprocess
import sys

import xarray as xr

from outputs.cli import compile_cache_folder, main


def test_keep_limits_the_saved_worlds_not_the_summaries(tmp_path):
    args = ["run", "--samples", "3000", "--years", "2025:2027", "--as-of", "none", "--format", "png"]
    assert main([*args, "--keep", "200", "--out", str(tmp_path / "some")]) == 0
    assert main([*args, "--keep", "all", "--out", str(tmp_path / "all")]) == 0
    some = xr.open_dataset(tmp_path / "some" / "samples.nc", group="prior")
    every = xr.open_dataset(tmp_path / "all" / "samples.nc", group="prior")
    assert some.sizes["draw"] == 200 and every.sizes["draw"] == 3000
    assert some["log10_training_compute"].dtype == "float32"
    summary_some = xr.open_dataset(tmp_path / "some" / "samples.nc")
    summary_all = xr.open_dataset(tmp_path / "all" / "samples.nc")
    xr.testing.assert_equal(summary_some["reach_probability"], summary_all["reach_probability"])
    assert (tmp_path / "some" / "timeline.csv").read_text() == (tmp_path / "all" / "timeline.csv").read_text()


def test_bad_keep_and_scheduler_are_one_line(tmp_path, capsys, monkeypatch):
    import forecast.cluster

    monkeypatch.setattr(forecast.cluster, "CONNECT_TIMEOUT", "1s")
    assert main(["run", "--samples", "100", "--keep", "lots", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--keep" in err[0] and not (tmp_path / "a").exists()
    assert main(["run", "--samples", "100", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--scheduler: cannot reach" in err[0] and not (tmp_path / "b").exists()


def test_the_compile_cache_folder_follows_xdg_and_the_opt_out(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("FORECAST_NO_COMPILE_CACHE", raising=False)
    assert compile_cache_folder() == tmp_path / "forecast" / "jax"
    monkeypatch.setenv("FORECAST_NO_COMPILE_CACHE", "1")
    assert compile_cache_folder() is None


_TWO_RUNS = """
import sys
from pathlib import Path

import jax

from outputs.cli import main

# the CLI caches every compiled program, however fast it compiled
cache, out = Path(sys.argv[1]), Path(sys.argv[2])
args = ["run", "--samples", "500", "--years", "2025:2026", "--as-of", "none", "--format", "png"]
assert main([*args, "--out", str(out / "one")]) == 0
first = sorted(p.name for p in cache.iterdir())
jax.clear_caches()  # as a new process: nothing compiled in memory
assert main([*args, "--out", str(out / "two")]) == 0
print(len(first), first == sorted(p.name for p in cache.iterdir()))
"""


def test_a_second_run_loads_its_compiled_models_from_the_cache(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "FORECAST_NO_COMPILE_CACHE"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    cache = tmp_path / "cache" / "forecast" / "jax"
    done = subprocess.run([sys.executable, "-c", _TWO_RUNS, str(cache), str(tmp_path)], env=env, check=True,
                          capture_output=True, text=True, cwd=os.getcwd())
    written, same = done.stdout.splitlines()[-1].split()
    assert int(written) > 0, "the first run wrote no compiled model to the cache"
    assert same == "True"  # the second compiled nothing new: it loaded the first's models

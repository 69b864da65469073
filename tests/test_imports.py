"""What importing costs: ``import forecast`` and ``forecast run --help`` load no engine, and a
run loads no library it does not call (each was ~0.3-1.2 s of every command; issue 25)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest
from pathlib import Path

ROOT = Path(__file__).parents[1]

#: Libraries a forecast run does not call: ArviZ (matplotlib.pyplot and scipy.stats come
#: with it) where no InferenceData is built, scipy.stats and scipy.optimize where no beta is
#: fitted by its percentiles (the default priors give their betas by mean), Dask's
#: distributed where no --scheduler is given.
NOT_IN_A_RUN = ("arviz", "scipy.stats", "scipy.optimize", "matplotlib", "distributed")


def loaded_after(code: str, *modules: str) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport sys\nprint('loaded:' + ','.join(m for m in {modules!r} if m in sys.modules))\n"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    line = done.stdout.splitlines()[-1]
    return [name for name in line.removeprefix("loaded:").split(",") if name]


def test_importing_the_packages_loads_no_engine():
    # each public name of forecast, priors and outputs is imported on first use (PEP 562)
    heavy = ("jax", "numpyro", "xarray", "pandas", "scipy", "dask", *NOT_IN_A_RUN)
    assert loaded_after("import forecast, priors, outputs, outputs.cli", *heavy) == []


def test_the_engine_loads_no_arviz_nor_plots():
    # forecast.ForecastResult: the engine, the conditioning, the summaries of a run
    assert loaded_after("import forecast\nforecast.ForecastResult", *NOT_IN_A_RUN, "numpyro") == []


def test_run_help_loads_no_engine():
    code = ("import sys\nfrom outputs import cli\nsys.argv = ['forecast', 'run', '--help']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n")
    assert loaded_after(code, "numpy", "jax", "xarray", "pandas", "matplotlib", *NOT_IN_A_RUN) == []


def test_a_run_loads_only_the_libraries_it_calls(tmp_path):
    """A run, written and read back, builds no InferenceData and draws no plot; with the
    CLI's folders (priors.exported), a second run reads the traced programs and never
    traces the NumPyro model, so it does not import NumPyro."""
    code = (f"from pathlib import Path\nfrom outputs.cli import use_compile_cache\n"
            f"use_compile_cache(Path({str(tmp_path / 'jax')!r}))\n"
            f"import forecast\nresult = forecast.run(samples=50, years='2030', seed=1)\n"
            f"forecast.load(result.to_netcdf({str(tmp_path / 'samples.nc')!r}))\n")
    modules = ("arviz", "scipy.stats", "matplotlib", "numpyro")
    assert loaded_after(code, *modules) == ["numpyro"]  # the first run traces the model
    assert loaded_after(code, *modules) == []


def _dask_after(tmp_path, *argv: str, before: str = "") -> tuple[int, list[str]]:
    """The exit code of ``argv`` run as the ``forecast`` program runs it, in a fresh
    interpreter (after the code ``before``), and which of Dask's modules it had loaded then."""
    code = (f"{before}\nfrom outputs import cli\ncode = cli.main({list(argv)!r}, program=True)\nimport sys\n"
            "print(code, [m for m in ('dask', 'dask.array', 'distributed') if sys.modules.get(m) is not None])\n")
    env = {k: v for k, v in os.environ.items() if k != "FORECAST_SCHEDULER"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT), "FORECAST_NO_COMPILE_CACHE": "1"})
    assert done.returncode == 0 and done.stdout, done.stderr
    last = done.stdout.splitlines()[-1]
    return int(last.split()[0]), ast.literal_eval(last.split(" ", 1)[1])


def test_the_program_runs_a_local_command_without_dask(tmp_path):
    """xarray imports dask.array at its first Dataset and dask.distributed in to_netcdf (a
    third of a second or more) only to see whether the data are Dask's: the program hides
    Dask from a command that runs here, and leaves it to one given --scheduler."""
    pytest.importorskip("distributed")  # the cluster extra: without it there is no Dask to hide
    run = ["run", "--samples", "100"]
    assert _dask_after(tmp_path, *run, "--out", "here") == (0, [])
    assert (tmp_path / "here" / "samples.nc").is_file()
    code, loaded = _dask_after(tmp_path, *run, "--scheduler", "tcp://127.0.0.1:9", "--out", "there")
    assert code == 2 and "distributed" in loaded  # tried, and could not reach it
    # xarray imported first has seen Dask (duck_array_ops): hidden then, xarray's imports of it would fail
    code, loaded = _dask_after(tmp_path, *run, "--out", "again", before="import xarray")
    assert code == 0 and "dask.array" in loaded


def test_the_program_runs_numpys_fortran_wrapper_generator_only_when_read(tmp_path):
    """scipy.special clones NumPy's namespace for its array-API layer, which imports the
    lazily loaded numpy.f2py (tens of ms of compiled regular expressions): the program puts
    a module there that runs its code when it is read, and then it works as it is."""
    code = ("from outputs import cli\ncode = cli.main(['priors'], program=True)\nimport sys, numpy\n"
            "import scipy.special\nbefore = 'numpy.f2py.crackfortran' in sys.modules\n"
            "import numpy.f2py\nassert numpy.f2py is sys.modules['numpy.f2py'] and callable(numpy.f2py.run_main)\n"
            "print(code, before, 'numpy.f2py.crackfortran' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "FORECAST_NO_COMPILE_CACHE": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "0 False True"  # not run by the command; run once read


@pytest.mark.parametrize(("threads", "finds_blas"), [(None, False), ("2", True)])
def test_the_program_sets_no_blas_count_where_it_started_blas_on_one_thread(tmp_path, threads, finds_blas):
    """The priors' linear algebra runs on one thread (priors.linalg): the program starts
    OpenBLAS on one (OPENBLAS_NUM_THREADS=1 before NumPy loads), so it need not find the
    library to set its count (threadpoolctl, 20 ms); given another count, it does."""
    code = ("import sys\nfrom outputs import cli\ncli._with_huge_pages = lambda: None\n"
            "cli._exit = lambda code: print(code, 'threadpoolctl' in sys.modules)\n"
            "sys.argv = ['forecast', 'priors']\ncli.entry()\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if threads is not None:
        env["OPENBLAS_NUM_THREADS"] = threads
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT), "FORECAST_NO_COMPILE_CACHE": "1"})
    assert done.returncode == 0, done.stderr
    from priors.linalg import _openblas

    # another BLAS than OpenBLAS (MKL, Accelerate) has its count set in any case
    assert done.stdout.splitlines()[-1] == f"0 {finds_blas or not _openblas()}"

"""Faults of the command line found in use: each test failed before its fix.

Bad input gives one line naming the file or key, exit code 2, no traceback and no
half-written output; a run that is stopped leaves nothing behind.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr

import outputs
from outputs.cli import main
from outputs.folder import staged_folder
from outputs.provenance import run_metadata
from priors import InputError, builtin_prior_files, load_prior_set
from priors.prior_set import resolve_prior_path

REPO = Path(outputs.__file__).resolve().parents[1]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "outputs.cli", *args]


def _cli_as_in_a_terminal(*args: str) -> list[str]:
    """The command line with Ctrl-C raising KeyboardInterrupt even where the test runner
    was started with SIGINT ignored (as background jobs are)."""
    code = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            f"sys.argv = ['forecast', *{list(args)!r}]; "
            "runpy.run_module('outputs.cli', run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", code]


def _partials(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.partial-*"))


# -- 1. a folder named like a built-in prior set does not shadow it ----------------------------
def test_builtin_prior_set_is_not_shadowed_by_a_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "default").mkdir()  # e.g. left by 'forecast run --out default'
    (tmp_path / "power_wall").mkdir()
    builtin = builtin_prior_files()
    assert resolve_prior_path("default") == builtin["default"]
    assert resolve_prior_path(None) == builtin["default"]
    assert resolve_prior_path("power_wall") == builtin["power_wall"]
    assert load_prior_set("power_wall").name == load_prior_set(builtin["power_wall"]).name
    assert main(["priors"]) == 0
    assert main(["priors", "--priors", "power_wall"]) == 0


def test_prior_argument_that_looks_like_a_path_is_a_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "default").mkdir()
    (tmp_path / "mine.toml").write_text('name = "mine"\n[priors]\nmfu = "beta 0.3 to 0.5"\n')
    assert load_prior_set("mine.toml").name == "mine"
    for folder in ("./default", str(tmp_path / "default")):  # a folder is not a prior file
        with pytest.raises(InputError, match="default"):
            resolve_prior_path(folder)
    with pytest.raises(InputError, match="no such prior file"):
        resolve_prior_path("power_wal")  # neither a built-in set nor a file
    assert main(["priors", "--priors", "./default"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "default" in err and "Traceback" not in err


# -- 2. SIGTERM / Ctrl-C while the folder is written leaves nothing behind ----------------------
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_termination_signal_removes_the_partial_folder(tmp_path, signum, code):
    proc = subprocess.Popen(_cli_as_in_a_terminal("run", "--samples", "200000", "--out", "X"),
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not _partials(tmp_path, "X") and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _partials(tmp_path, "X"), "the run never started writing"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert "Traceback" not in err and err.strip().count("\n") == 0, err
    assert not _partials(tmp_path, "X") and not (tmp_path / "X").exists()


# -- 3. two runs into the same folder: exactly one wins -----------------------------------------
def test_target_created_meanwhile_is_not_replaced(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(InputError, match="exists"):
        with staged_folder(target) as staging:
            (staging / "mine.txt").write_text("mine")
            target.mkdir()  # another run finished first (even an empty folder counts)
            (target / "theirs.txt").write_text("theirs")
    assert [p.name for p in target.iterdir()] == ["theirs.txt"]
    assert not _partials(tmp_path, "out")


def test_force_replaces_a_target_created_meanwhile(tmp_path):
    target = tmp_path / "out"
    with staged_folder(target, force=True) as staging:
        (staging / "mine.txt").write_text("mine")
        target.mkdir()
        (target / "theirs.txt").write_text("theirs")
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_two_runs_with_the_same_out_one_wins(tmp_path):
    procs = [subprocess.Popen(_cli("run", "--samples", "20000", "--out", "SAME"), cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], errs
    loser = errs[[p.returncode for p in procs].index(2)]
    assert "exists" in loser and loser.strip().count("\n") == 0 and "Traceback" not in loser
    assert (tmp_path / "SAME" / "samples.nc").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["SAME"]


# -- 4. a closed pipe ends the output quietly ------------------------------------------------------
@pytest.mark.parametrize("reader", ["head -1", "true"])
def test_closed_pipe_gives_no_traceback(tmp_path, reader):
    command = f"{' '.join(_cli('priors'))} | {reader}"
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


# -- 5. a report refuses a sensitivity analysis of other priors --------------------------------------
@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    sens, run = root / "S", root / "R"
    assert main(["sensitivity", "--n-base", "16", "--samples", "200", "--no-tornado", "--years",
                 "2025:2031", "--priors", "power_wall", "--out", str(sens)]) == 0
    assert main(["run", "--samples", "500", "--years", "2025:2031", "--out", str(run)]) == 0
    return sens, run


def _refused(capsys, out: Path, argv: list[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "power_wall" in err and "default" in err, err
    assert "--include" in err or "--from" in err, err  # the CLI names its flags
    assert not out.exists() and not _partials(out.parent, out.name)
    return err


def test_report_refuses_a_sensitivity_of_other_priors(tiny_runs, tmp_path, capsys):
    sens, run = tiny_runs
    out = tmp_path / "report"
    _refused(capsys, out, ["report", "--from", str(run), "--include", str(sens), "--out", str(out)])
    _refused(capsys, out, ["report", "--from", str(run / "samples.nc"), "--include",
                           str(sens / "sensitivity.md"), "--out", str(out)])


def test_report_refuses_a_run_folder_holding_a_sensitivity_of_other_priors(tiny_runs, tmp_path, capsys):
    sens, run = tiny_runs
    mixed = tmp_path / "mixed"
    shutil.copytree(run, mixed)
    for name in ("sensitivity.md", "sensitivity.nc"):
        shutil.copy(sens / name, mixed / name)
    out = tmp_path / "report"
    _refused(capsys, out, ["report", "--from", str(mixed), "--out", str(out)])


def test_report_includes_a_sensitivity_of_the_same_priors(tiny_runs, tmp_path):
    sens, run = tiny_runs
    with xr.open_dataset(sens / "sensitivity.nc", group="sobol", engine="h5netcdf") as ds:
        assert ds.attrs["prior_set"] == "power_wall"
    power_run = tmp_path / "P"
    assert main(["run", "--samples", "500", "--years", "2025:2031", "--priors", "power_wall",
                 "--out", str(power_run)]) == 0
    out = tmp_path / "report"
    assert main(["report", "--from", str(power_run), "--include", str(sens), "--out", str(out)]) == 0
    assert "## Sensitivity" in (out / "report.md").read_text()


# -- 6. provenance records the package's own commit, not the working folder's --------------------
def test_metadata_records_the_package_commit_not_the_working_folder(small_run, tmp_path, monkeypatch):
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                          text=True)
    if head.returncode != 0:
        pytest.skip("the package is not a git checkout")
    monkeypatch.chdir(tmp_path)  # not a git repository
    monkeypatch.delenv("GIT_DIR", raising=False)
    meta = json.loads(json.dumps(run_metadata(small_run)))
    git = meta["git"]
    assert git is not None, "no commit recorded"
    assert git["commit"] == head.stdout.strip()
    assert isinstance(git["dirty"], bool) and git["version"] == meta["version"]
    # another repository as the working folder changes nothing
    other = tmp_path / "other"
    other.mkdir()
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    monkeypatch.chdir(other)
    assert run_metadata(small_run)["git"]["commit"] == head.stdout.strip()

"""Faults of the command line found in use: each test failed before its fix.

Bad input gives one line naming the file or key, exit code 2, no traceback and no
half-written output; a run that is stopped leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
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
from priors.files import resolve_prior_path
from tests.terminal import cli_as_in_a_terminal

REPO = Path(outputs.__file__).resolve().parents[1]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "outputs.cli", *args]


def _env() -> dict:
    """The environment of a subprocess: this checkout's package first (a test run from a
    work tree must not run the installed checkout's code)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


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
    proc = subprocess.Popen(cli_as_in_a_terminal("run", "--samples", "200000", "--out", "X"),
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=_env())
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
                 "2025:2035", "--priors", "power_wall", "--out", str(sens)]) == 0
    assert main(["run", "--samples", "500", "--years", "2025:2035", "--out", str(run)]) == 0
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
    assert main(["run", "--samples", "500", "--years", "2025:2035", "--priors", "power_wall",
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


# -- 7. issue 22: full disks, read-only folders, signals, the Dask path, damaged files ----------
SMALL = ["--samples", "500", "--years", "2025:2035"]  # the tiny runs' compiled shapes


def _one_line(err: str, *words: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


@contextlib.contextmanager
def _tmpfs(path: Path, size: str, *, read_only: bool = False):
    """A small file system of its own at ``path`` (root only: skipped elsewhere)."""
    path.mkdir()
    options = f"size={size}" + (",ro" if read_only else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here ({done.stderr.decode().strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_full_disk_is_refused_before_any_work(tmp_path, capsys):
    with _tmpfs(tmp_path / "small", "2m") as small:
        assert main(["run", *SMALL, "--out", str(small / "X")]) == 2
        _one_line(capsys.readouterr().err, "--out", "free")
        assert list(small.iterdir()) == []


def _room_seen(monkeypatch, small: Path) -> None:
    """The free-space check sees plenty of room on the small file system ``small``."""
    import outputs.folder

    real = outputs.folder.shutil.disk_usage
    monkeypatch.setattr(outputs.folder.shutil, "disk_usage",
                        lambda p: real(p)._replace(free=1 << 40) if str(p).startswith(str(small)) else real(p))


def test_a_disk_that_fills_while_writing_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    with _tmpfs(tmp_path / "small", "1m") as small:
        _room_seen(monkeypatch, small)  # the disk fills after the check (another program writes)
        assert main(["run", *SMALL, "--out", str(small / "X")]) == 2
        _one_line(capsys.readouterr().err, "--out", "No space left on device", "nothing was written")
        assert list(small.iterdir()) == []


def test_a_disk_that_fills_under_the_netcdf_library_is_one_line(tmp_path, capsys, monkeypatch):
    """Where memory has no room for the file, samples.nc is written in place: the netCDF4
    library reports the full disk as a RuntimeError, which must still be one line."""
    import outputs.folder

    monkeypatch.setattr(outputs.folder, "MEMORY_FOLDER", tmp_path / "no-memory-folder")
    with _tmpfs(tmp_path / "small", "1m") as small:
        _room_seen(monkeypatch, small)
        assert main(["run", *SMALL, "--out", str(small / "X")]) == 2
        _one_line(capsys.readouterr().err, "--out", "samples.nc", "nothing was written")
        assert list(small.iterdir()) == []


def test_a_write_error_midway_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    """The same without a small file system: the plots' writer raises ENOSPC after the
    samples and tables are written."""
    import errno

    import outputs.write.run

    def full(folder, files):
        assert "fan.png" in files
        (Path(folder) / "fan.png").write_bytes(b"\0" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device", str(Path(folder) / "fan.png"))

    monkeypatch.setattr(outputs.write.run, "write_files", full)
    assert main(["run", *SMALL, "--out", str(tmp_path / "X")]) == 2
    _one_line(capsys.readouterr().err, "--out", "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_read_only_and_impossible_output_folders_are_one_line(tmp_path, capsys, monkeypatch):
    with _tmpfs(tmp_path / "ro", "1m", read_only=True) as ro:
        assert main(["run", *SMALL, "--out", str(ro / "X")]) == 2
        _one_line(capsys.readouterr().err, "--out", "Read-only")
    assert main(["run", *SMALL, "--out", "/etc/passwd/x"]) == 2
    _one_line(capsys.readouterr().err, "--out", "/etc/passwd")
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("mine")
    monkeypatch.chdir(work)
    for out in (".", str(tmp_path)):
        assert main(["run", *SMALL, "--out", out, "--force"]) == 2
        _one_line(capsys.readouterr().err, "--out", "current folder")
    assert [p.name for p in work.iterdir()] == ["keep.txt"]


def test_a_damaged_samples_file_is_one_line(tiny_runs, tmp_path, capsys):
    _, run = tiny_runs
    damaged = tmp_path / "D"
    shutil.copytree(run, damaged)
    data = bytearray((damaged / "samples.nc").read_bytes())
    rng = __import__("random").Random(1)
    for i in rng.sample(range(len(data)), 2000):
        data[i] ^= 0xFF
    (damaged / "samples.nc").write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["plot", str(damaged), "--out", str(tmp_path / "P")]) == 2
    _one_line(capsys.readouterr().err, str(damaged))
    assert main(["report", "--from", str(damaged), "--out", str(tmp_path / "Q")]) == 2
    _one_line(capsys.readouterr().err, "--from", str(damaged))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["D"]


@pytest.mark.parametrize("argv, flag", [
    (["run", "--samples", "1e400"], "--samples"),
    (["app", "--port", "70000"], "--port"),
    (["app", "--port", "-1"], "--port"),
])
def test_overflowing_numbers_are_usage_errors(argv, flag, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and flag in err.strip().splitlines()[-1], err


@pytest.mark.parametrize("argv, message", [(["--as-of", "1950"], "before the base year"),
                                           (["--years", "2200"], "nothing to condition on")])
def test_a_record_with_no_year_to_condition_on_is_refused(argv, message, tmp_path, capsys):
    assert main(["run", "--samples", "500", *argv, "--out", str(tmp_path / "X")]) == 2
    _one_line(capsys.readouterr().err, "--as-of", message)
    assert list(tmp_path.iterdir()) == []


def _nan(text: str) -> bool:
    """Whether ``text`` shows a NaN (not as part of a name: the test's folder has one)."""
    return re.search(r"(?<![\w/])nan(?![\w/])", text, re.IGNORECASE) is not None


def test_tiny_ceilings_give_no_nan(tmp_path, capsys):
    """Inside their domains, values that underflow: the forecast holds, or the record cannot
    be weighed in such worlds and the run is refused in one line; never nan%."""
    for spec in ("mfu=1e-200", "power_limit_gw_max=1e-300", "capex_limit_usd_max=1e-300"):
        out = tmp_path / spec.partition("=")[0]
        code = main(["run", *SMALL, "--set", spec, "--out", str(out)])
        captured = capsys.readouterr()
        assert not _nan(captured.out), (spec, captured.out)
        if code == 2:
            _one_line(captured.err, "--as-of", "--as-of none")
            assert not out.exists()
        else:
            assert code == 0, captured.err
            assert "nan" not in (out / "summary.csv").read_text().lower()
    # the prior forecast itself holds at such values
    assert main(["run", *SMALL, "--set", "power_limit_gw_max=1e-300", "--as-of", "none",
                 "--out", str(tmp_path / "none")]) == 0
    assert not _nan(capsys.readouterr().out)
    summary = (tmp_path / "none" / "summary.csv").read_text()
    assert "nan" not in summary.lower() and ",," not in summary


def test_a_missing_inherited_file_names_the_file_and_key(tmp_path, capsys):
    priors = tmp_path / "mine.toml"
    priors.write_text('name = "mine"\ninherit = "missing.toml"\n[priors]\nmfu = "beta 0.3 to 0.5"\n')
    assert main(["priors", "--priors", str(priors)]) == 2
    _one_line(capsys.readouterr().err, f"{priors}: inherit:", "missing.toml")


def test_hostile_sources_are_no_script_in_report_html(tmp_path):
    priors = tmp_path / "hostile.toml"
    priors.write_text(
        'name = "hostile"\n'
        '[priors.mfu]\nspec = "beta 0.3 to 0.5"\nsource = "![x\\" onerror=\\"alert(3)](y)"\n'
        '[priors.chip_growth]\nspec = "lognormal 1.5 to 3"\nsource = "[x](javascript:alert(1)) and [y](JavaScript:alert(2))"\n')
    assert main(["report", *SMALL, "--priors", str(priors), "--out", str(tmp_path / "R")]) == 0
    page = (tmp_path / "R" / "report.html").read_text()
    assert 'onerror="' not in page and "javascript:" not in page.lower()
    assert "onerror=&quot;alert(3)" in page  # shown, as text


def test_markdown_allows_only_http_and_relative_links():
    from outputs.markdown import markdown_to_html

    assert markdown_to_html("[a](https://x.org/?a=1&b=2)") == (
        '<p><a href="https://x.org/?a=1&amp;b=2" rel="noopener noreferrer">a</a></p>')
    assert 'href="docs/model.md"' in markdown_to_html("[m](docs/model.md)")
    for bad in ("[x](javascript:alert(1))", "[x](data:text/html,hi)", "[x](vbscript:x)",
                "![x](javascript:alert(1))", "see ![x](data:text/html,hi)"):
        page = markdown_to_html(bad)
        assert "href" not in page and "src" not in page, page
    page = markdown_to_html('see ![x" onerror="alert(3)](y)')
    assert 'onerror="' not in page and 'alt="x&quot; onerror=&quot;alert(3)"' in page


def test_ctrl_c_while_the_engine_is_imported_is_one_line(tmp_path):
    # after Python itself started: the engine is being imported (a KeyboardInterrupt inside
    # jaxlib's initialisation aborted the process), the command runs, or it is shutting down
    for delay in (0.3, 0.6, 1.0, 2.0, 3.0):
        proc = subprocess.Popen(cli_as_in_a_terminal("priors"), cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=_env())
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        if proc.returncode == 0:
            continue  # it finished first: nothing to test at this delay
        assert proc.returncode == 130, err
        assert "Traceback" not in err and err.strip().count("\n") == 0, err


def test_a_signal_swallowed_in_a_destructor_is_delivered_again():
    """SIGTERM handled while a ``__del__`` runs (h5py's, JAX's gc callback) is printed as
    "Exception ignored" and lost; the command must stop anyway."""
    code = (
        "import os, signal, sys, time\n"
        "from outputs import cli\n"
        "class Dropped:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(0.05)  # the handler runs here, inside __del__\n"
        "def work():\n"
        "    Dropped()\n"
        "    deadline = time.monotonic() + 10\n"
        "    while time.monotonic() < deadline:\n"
        "        time.sleep(0.01)\n"
        "    print('went on', flush=True)\n"
        "try:\n"
        "    with cli._interruptions_kept(), cli._termination_raises():\n"
        "        work()\n"
        "except cli.Terminated as err:\n"
        "    sys.exit(128 + err.signum)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env=_env())
    assert done.returncode == 143 and "went on" not in done.stdout, (done.stdout, done.stderr)


def test_scheduler_address_on_the_cli_path(tmp_path, capsys):
    """The documented ``--scheduler ADDRESS``, as the CLI gets it: an address, not a Client."""
    distributed = pytest.importorskip("distributed")
    start = time.monotonic()
    assert main(["run", *SMALL, "--scheduler", "not a url", "--out", str(tmp_path / "N")]) == 2
    _one_line(capsys.readouterr().err, "--scheduler", "not a url")
    assert time.monotonic() - start < 15  # refused before any connection is tried
    with distributed.LocalCluster(host="127.0.0.1", protocol="tcp://", n_workers=1, threads_per_worker=1,
                                  processes=False, dashboard_address=":0") as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert main(["run", *SMALL, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "D")]) == 0
    assert main(["run", *SMALL, "--out", str(tmp_path / "L")]) == 0
    for name in ("summary.csv", "timeline.csv", "crossing.csv"):
        assert (tmp_path / "D" / name).read_text() == (tmp_path / "L" / name).read_text()


# -- the finished command ends at once, but as Python does under a profiler ----------------------
def test_a_finished_command_ends_with_its_output_and_its_code(tmp_path):
    done = subprocess.run(_cli("priors"), cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 0 and done.stdout.rstrip().count("\n") > 10, done.stderr  # flushed to a pipe
    bad = subprocess.run(_cli("priors", "--priors", "nonesuch"), cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, env=_env())
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    closed = subprocess.run(["bash", "-c", f"{' '.join(_cli('priors'))} >&-"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env=_env())
    assert closed.returncode == 0 and "Traceback" not in closed.stderr, closed.stderr  # started with stdout closed


def test_a_profiled_command_still_writes_its_profile(tmp_path):
    """``python -m cProfile -o F -m outputs.cli``: cProfile writes F once the program has
    exited as Python does, which the command's quick exit would skip."""
    command = [sys.executable, "-m", "cProfile", "-o", str(tmp_path / "run.prof"), "-m", "outputs.cli", "priors"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run.prof").stat().st_size > 0


@pytest.mark.parametrize("stop, code, line", [
    (KeyboardInterrupt(), 130, "forecast record: interrupted; unfinished output was removed"),
    (outputs.stopping.Terminated(signal.SIGTERM), 128 + signal.SIGTERM,
     "forecast record: terminated by SIGTERM; unfinished output was removed"),
])
def test_a_stop_that_a_library_wrapped_is_a_stop(monkeypatch, capsys, stop, code, line):
    """Ctrl-C (or a termination) during the import of a native module ends, once pybind11
    has it, as "ImportError: initialization failed" raised from the KeyboardInterrupt: the
    command stops as it would on the interrupt itself, with one line, not a traceback."""
    import outputs.commands.record as record

    def interrupted_import(args):
        raise ImportError("initialization failed") from stop

    monkeypatch.setattr(record, "main", interrupted_import)
    monkeypatch.setattr("outputs.cli._ignore_further_signals", lambda: None)  # this test process's own
    assert main(["record"]) == code
    assert capsys.readouterr().err.strip() == line
    monkeypatch.setattr(record, "main", lambda args: (_ for _ in ()).throw(ImportError("a real one")))
    with pytest.raises(ImportError, match="a real one"):  # any other error is raised as it was
        main(["record"])

"""The run folder's plots drawn in a second process (outputs.write.plot_process): the same
bytes as drawn in the command's own process, its warnings raised in the command, a process
that could not draw them (an error, a signal) or could not start leaving them to the
command, a hangup ignored as the command ignores it, and none left behind when the command
stops.

The process forks only before JAX starts its threads, which this test process has long done:
the mechanism is tested in a fresh interpreter (one, for all its cases), the guard here."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path

import jax
import pytest

import outputs
from outputs.write.plot_process import PLOT_PROCESS_CELLS, _fork_is_safe, plot_process
from tests.terminal import cli_as_in_a_terminal

REPO = Path(outputs.__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc").is_dir(),
                                reason="fork and /proc (Linux)")

#: Run in a fresh interpreter: the cases of the second process, their findings as JSON.
_SCRIPT = r"""
import contextlib, json, os, signal, sys, time, warnings
import outputs.write.run as writer
from outputs.write.plot_process import PlotProcess, _fork_is_safe, plot_process

found = {"safe_before_jax_ran": _fork_is_safe()}
script = os.getpid()

def ignored(pid):  # the signals a process ignores, once it blocks none (its handlers set)
    for _ in range(3000):
        status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines())
        if int(status["SigBlk"], 16) == 0:
            ign = int(status["SigIgn"], 16)
            return [name for name in ("SIGHUP", "SIGINT", "SIGTERM") if ign >> (getattr(signal, name) - 1) & 1]
        time.sleep(0.01)
    return "still blocked"
drawn_here = writer.run_plots

def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1] == str(pid):
                found.append(int(entry))
        except OSError:
            continue
    return found

def careful(result, *, formats, kinds=None):  # what a process forked now draws: a warning and a file a plot
    time.sleep(0.5)  # whichever process took a plot, the other takes the next meanwhile
    warnings.warn(f"{kinds[0]} drawn with care", UserWarning)
    return {f"{kinds[0]}.png": str(os.getpid()).encode()}

def dying(result, *, formats, kinds=None):  # a fork of it ends as it takes a plot: drawn by the process
    if os.getppid() != script:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.5)  # meanwhile its fork takes the next plot
    return {f"{kinds[0]}.png": str(os.getpid()).encode()}

def hung(result, *, formats, kinds=None):
    time.sleep(600)

import outputs.write.plot_process as module
writer.run_plots = hung
with plot_process(300) as hanging:
    writer.run_plots = drawn_here
    hanging.submit("a result", kinds=("fan", "timeline"))  # it and its fork hang
    for _ in range(3000):  # until its fork hangs too (on one core it has none)
        found["hung_forked"] = bool(children(hanging.pid))
        if found["hung_forked"] or len(os.sched_getaffinity(0)) < 2:
            break
        time.sleep(0.01)
    module.PLOT_TIMEOUT, timeout = 0.5, module.PLOT_TIMEOUT
    found["hung"] = hanging.files()
    module.PLOT_TIMEOUT = timeout
found["hung_left"] = os.path.exists(f"/proc/{hanging.pid}")
with contextlib.ExitStack() as started:  # each drawing process draws with what it was forked with
    writer.run_plots = careful
    warner = started.enter_context(plot_process(300))
    writer.run_plots = dying
    rescued = started.enter_context(plot_process(300))
    writer.run_plots = drawn_here
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    with plot_process(300) as plots, plot_process(300) as failing, plot_process(300) as killed, \
            plot_process(300) as split:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        found["started"] = all(p is not None for p in (warner, plots, failing, killed, split))
        found["ignored"] = {"default": ignored(warner.pid), "nohup": ignored(plots.pid)}
        found["held_here"] = sorted(signal.pthread_sigmask(signal.SIG_BLOCK, []))
        real_fork = os.fork
        os.fork = lambda: (_ for _ in ()).throw(OSError(11, "Resource temporarily unavailable"))
        with plot_process(300) as none:
            found["no_fork"] = none is None
        os.fork = real_fork
        import forecast

        result = forecast.run(samples=300, seed=3, keep=300)
        found["safe_after_jax_ran"] = _fork_is_safe()
        os.kill(plots.pid, signal.SIGHUP)  # ignored, as the command ignores it
        plots.submit(result, formats=("png", "svg"))
        drawn = plots.files()
        here = drawn_here(result, formats=("png", "svg"))
        found["names"] = list(drawn)
        found["same_bytes"] = list(drawn) == list(here) and all(drawn[k] == here[k] for k in here)

        import functools
        import tempfile
        from forecast.result import run_settings
        from forecast.settings import RunSettings
        from outputs.write.run import submit_plots, write_run
        # as `forecast run` does: the drawing process handed the summaries before the kept worlds
        again = run_settings(RunSettings(samples=300, seed=3, keep=300, as_of=None),
                             on_summaries=functools.partial(submit_plots, split, formats=("png", "svg")))
        found["split_early"] = split.submitted
        with tempfile.TemporaryDirectory() as beside, tempfile.TemporaryDirectory() as alone:
            # the plots drawn there: the files of a run folder drawn in one process
            names = [path.name for path in write_run(again, beside, formats=("png", "svg"), plots=split)]
            found["split_names"] = names == [path.name for path in write_run(result, alone, formats=("png", "svg"))]
            found["split_answered"] = split._answered and not split._failed  # not drawn here after all
            found["split_same"] = all(open(f"{beside}/{name}", "rb").read() == open(f"{alone}/{name}", "rb").read()
                                      for name in names if name.endswith((".png", ".svg")))

        failing.submit(result, formats=("bmp",))  # no such format: it cannot draw them
        found["failed"] = failing.files() is None

        os.kill(killed.pid, signal.SIGKILL)
        killed.submit(result)
        found["killed"] = killed.files() is None

        warner.submit(result, kinds=("fan", "timeline"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            drawn = warner.files()
        found["warner"] = list(drawn)
        found["drawers"] = len(set(drawn.values()))
        found["warnings"] = [str(w.message) for w in caught]

        rescued.submit(result, kinds=("fan", "timeline", "labs"))
        found["rescued"] = {name: int(pid) == rescued.pid for name, pid in rescued.files().items()}
        pids = [p.pid for p in (warner, rescued, plots, failing, killed, split)]
found["left"] = [pid for pid in pids if os.path.exists(f"/proc/{pid}")]

def strays():  # processes of this run still running (a drawing process's forks are its grandchildren)
    mine = f"FORECAST_TEST_RUN={os.environ['FORECAST_TEST_RUN']}".encode()  # this run's, not another's
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and int(entry) != os.getpid() \
                    and mine in open(f"/proc/{entry}/environ", "rb").read().split(b"\0") \
                    and open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
                found.append(int(entry))
        except OSError:
            continue
    return found

for _ in range(500):  # killed as their parent ends: the kernel's signal, then init reaps them
    if not strays():
        break
    time.sleep(0.01)
found["strays"] = strays()
found["cores"] = len(os.sched_getaffinity(0))
print(json.dumps(found))
"""


def _env(**changes) -> dict:
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **changes}


@pytest.fixture(scope="module")
def found() -> dict:
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=300,
                          env=_env(FORECAST_PLOT_PROCESS="1", FORECAST_TEST_RUN=uuid.uuid4().hex))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_it_forks_before_jax_runs_and_not_after(found, monkeypatch):
    assert found["safe_before_jax_ran"] and found["started"]
    assert found["safe_after_jax_ran"] is False
    jax.numpy.zeros(1).block_until_ready()  # JAX's runtime starts its threads, here too
    monkeypatch.setattr("threading.active_count", lambda: 1)  # pytest-xdist's thread aside
    assert _fork_is_safe() is False


def test_off_where_asked_and_for_large_runs(monkeypatch):
    monkeypatch.setenv("FORECAST_PLOT_PROCESS", "0")
    with plot_process(300) as plots:
        assert plots is None
    monkeypatch.setattr("outputs.write.plot_process._fork_is_safe", lambda: True)
    started = types.SimpleNamespace(close=lambda: None)  # what a fork would give
    monkeypatch.setattr("outputs.write.plot_process.PlotProcess.start", lambda: started)
    monkeypatch.setenv("FORECAST_PLOT_PROCESS", "1")  # whatever this machine's cores
    with plot_process(PLOT_PROCESS_CELLS // 11 + 1) as plots:  # 11 years
        assert plots is None
    with plot_process(PLOT_PROCESS_CELLS // 11) as plots:
        assert plots is started
    with plot_process(PLOT_PROCESS_CELLS // 11, years=12) as plots:  # more years, a larger result
        assert plots is None
    monkeypatch.delenv("FORECAST_PLOT_PROCESS")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0}, raising=False)  # one core to run on
    with plot_process(300) as plots:
        assert plots is None


def test_the_second_process_draws_the_same_bytes(found):
    # default_kinds and labs, in each format, in order: the plots of a six-lab run folder
    kinds = ["fan", "timeline", "constraints", "resources", "labs"]
    assert found["names"] == [f"{kind}.{fmt}" for kind in kinds for fmt in ("png", "svg")]
    assert found["same_bytes"]


def test_a_run_folder_drawn_in_two_processes_is_the_one_drawn_in_one(found):
    # every plot drawn there, none in the command: the same files, in the same order, the same bytes
    # (handed the summaries alone, as `forecast run` hands them, before the kept worlds)
    assert found["split_early"]
    assert found["split_names"] and found["split_same"] and found["split_answered"]


def test_a_process_that_could_not_draw_leaves_them_to_the_command(found):
    assert found["failed"] and found["killed"]  # None: the command draws them itself
    assert found["hung"] is None and not found["hung_left"]  # no answer in time: killed


def test_its_warnings_are_raised_in_the_command(found):
    # in the order of the plots, whichever process drew them
    assert found["warner"] == ["fan.png", "timeline.png"]
    assert found["warnings"] == ["fan drawn with care", "timeline drawn with care"]


def test_with_cores_to_spare_its_fork_draws_beside_it(found):
    # the process handed the result draws the first plot slowly: its fork takes the second
    assert found["drawers"] == (2 if found["cores"] >= 2 else 1)


def test_a_plot_its_fork_took_and_never_sent_is_drawn_by_it(found):
    # every fork ends as it takes a plot: the process handed the result draws them all, in order
    assert found["rescued"] == {"fan.png": True, "timeline.png": True, "labs.png": True}


def test_a_hangup_ignored_by_the_command_is_ignored_by_it(found):
    assert found["same_bytes"]  # drawn after its SIGHUP


def test_its_signals_once_started(found):
    """Ctrl-C ignored, a hangup or a termination ending it unless the command ignores them
    (nohup); nothing left held back in it or in the command."""
    assert found["ignored"] == {"default": ["SIGINT"], "nohup": ["SIGHUP", "SIGINT"]}
    assert found["held_here"] == []


def test_no_fork_no_process(found):
    assert found["no_fork"]


def test_none_is_left_running(found):
    # nor the fork of the one that hung and was killed: killed with it
    assert found["hung_forked"] == (found["cores"] >= 2)
    assert found["left"] == [] and found["strays"] == []


def _forks(pid: int) -> list[int]:
    """The children of ``pid`` that run its program (forks, not a program a library starts
    and waits for, which may be gone by the next look)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    forks = []
    for child in _children(pid):
        try:
            if Path(f"/proc/{child}/cmdline").read_bytes() == command:
                forks.append(child)
        except OSError:
            continue
    return forks


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _running(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ctrl_c_in_a_terminal_stops_both_quietly(tmp_path):
    """Ctrl-C reaches the whole foreground group: the drawing process ignores it, the command
    stops, removes its unfinished folder and the drawing process; one line, no traceback."""
    # a million worlds: still running when the signal comes, however late a loaded machine sends it
    proc = subprocess.Popen(cli_as_in_a_terminal("run", "--samples", "1000000", "--out", "X"), cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=_env(FORECAST_PLOT_PROCESS="1"))
    try:
        deadline = time.monotonic() + 120
        while not _forks(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        children = _forks(proc.pid)
        assert children, "no drawing process started"
        time.sleep(0.2)  # the engine starts
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().count("\n") == 0, err
    assert not [pid for pid in children if _running(pid)]
    assert list(tmp_path.iterdir()) == []

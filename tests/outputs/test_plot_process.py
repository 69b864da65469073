"""The run folder's plots drawn in a second process (outputs.write.plot_process): the same
bytes as drawn in the command's own process, its errors raised in the command, a process
that ended told as such, and none left behind when the command stops.

The process forks only before JAX starts its threads, which this test process has long done:
the mechanism is tested in a fresh interpreter (one, for all its cases), the guard here."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import pytest

import outputs
from outputs.write.plot_process import PLOT_PROCESS_WORLDS, _fork_is_safe, plot_process
from tests.terminal import cli_as_in_a_terminal

REPO = Path(outputs.__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc").is_dir(),
                                reason="fork and /proc (Linux)")

#: Run in a fresh interpreter: the cases of the second process, their findings as JSON.
_SCRIPT = r"""
import json, os, signal, sys
from outputs.write.plot_process import PlotProcess, _fork_is_safe, plot_process

found = {"safe_before_jax_ran": _fork_is_safe()}
with plot_process(300) as plots, plot_process(300) as failing, plot_process(300) as killed:
    found["started"] = all(p is not None for p in (plots, failing, killed))
    import forecast
    from outputs.write.run import run_plots

    result = forecast.run(samples=300, seed=3, keep=300)
    found["safe_after_jax_ran"] = _fork_is_safe()
    plots.submit(result, formats=("png", "svg"))
    drawn = plots.files()
    here = run_plots(result, formats=("png", "svg"))
    found["names"] = list(drawn)
    found["same_bytes"] = list(drawn) == list(here) and all(drawn[k] == here[k] for k in here)

    failing.submit(result, formats=("bmp",))  # no such format: the error comes back
    try:
        failing.files()
    except Exception as err:
        found["error"] = [type(err).__name__, " ".join(getattr(err, "__notes__", []))]

    os.kill(killed.pid, signal.SIGKILL)
    killed.submit(result)
    try:
        killed.files()
    except ChildProcessError as err:
        found["killed"] = str(err)
    pids = [p.pid for p in (plots, failing, killed)]
found["left"] = [pid for pid in pids if os.path.exists(f"/proc/{pid}")]
print(json.dumps(found))
"""


def _env(**changes) -> dict:
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **changes}


@pytest.fixture(scope="module")
def found() -> dict:
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=300,
                          env=_env(FORECAST_PLOT_PROCESS="1"))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_it_forks_before_jax_runs_and_not_after(found):
    assert found["safe_before_jax_ran"] and found["started"]
    assert found["safe_after_jax_ran"] is False
    jax.numpy.zeros(1).block_until_ready()  # JAX's runtime starts its threads, here too
    assert _fork_is_safe() is False


def test_off_where_asked_and_for_large_runs(monkeypatch):
    monkeypatch.setenv("FORECAST_PLOT_PROCESS", "0")
    with plot_process(300) as plots:
        assert plots is None
    monkeypatch.setattr("outputs.write.plot_process._fork_is_safe", lambda: True)
    with plot_process(PLOT_PROCESS_WORLDS + 1) as plots:  # would fork where it were started
        assert plots is None


def test_the_second_process_draws_the_same_bytes(found):
    # default_kinds and labs, in each format, in order: the plots of a six-lab run folder
    kinds = ["fan", "timeline", "constraints", "resources", "labs"]
    assert found["names"] == [f"{kind}.{fmt}" for kind in kinds for fmt in ("png", "svg")]
    assert found["same_bytes"]


def test_an_error_drawing_is_raised_in_the_command(found):
    kind, notes = found["error"]
    assert kind == "KeyError"  # no metadata for a "bmp" file: as in the command's own process
    assert "drawn in the plot process" in notes and "Traceback" in notes


def test_a_process_that_ended_is_told_as_such(found):
    assert "ended by SIGKILL before it sent them" in found["killed"]


def test_none_is_left_running(found):
    assert found["left"] == []


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
    proc = subprocess.Popen(cli_as_in_a_terminal("run", "--samples", "20000", "--out", "X"), cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=_env(FORECAST_PLOT_PROCESS="1"))
    try:
        deadline = time.monotonic() + 120
        while not _children(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        children = _children(proc.pid)
        assert children, "no drawing process started"
        time.sleep(1.0)  # the engine runs
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

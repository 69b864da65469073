"""One way to time a command as a user runs it: ``forecast ARGS`` (or ``python ARGS``) in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

#: The repository, put first on the command's path (a checkout run without installing).
ROOT = Path(__file__).resolve().parents[1]


class Timing(NamedTuple):
    wall: float  # seconds
    peak_gb: float  # peak resident memory
    cpu: float  # user + system seconds


def timed_command(args: list[str], *, cache: Path | None = None, cwd: Path | None = None,
                  cores: int | None = None, root: Path = ROOT, env: dict | None = None) -> Timing:
    """Wall time, peak memory and CPU time of ``forecast ARGS`` in a new process (and the
    processes it waited for): with the JAX compile cache in ``cache`` (``XDG_CACHE_HOME``;
    the user's own where None), pinned to the first ``cores`` cores where given, with the
    variables ``env`` set. A failing command ends the benchmark."""
    env = {**{k: v for k, v in os.environ.items() if k != "FORECAST_NO_COMPILE_CACHE"}, **(env or {})}
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    return timed_process(["-m", "outputs.cli", *args], env=env, cwd=cwd, cores=cores, root=root)


def timed_process(args: list[str], *, env: dict | None = None, cwd: Path | None = None,
                  cores: int | None = None, root: Path = ROOT) -> Timing:
    """Wall time, peak memory and CPU time of ``python ARGS`` in a new process, with this
    repository (or the checkout ``root``) first on its path (:func:`timed_command` for
    ``forecast``). A failing command ends the benchmark."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    command = [sys.executable, *args]
    if cores:
        command = ["taskset", "-c", ",".join(str(i) for i in range(cores)), *command]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"python {' '.join(args)} failed: {process.stderr.read().decode()}")
    return Timing(wall, usage.ru_maxrss / 1e6, usage.ru_utime + usage.ru_stime)  # maxrss: kB on Linux

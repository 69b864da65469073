"""One way to time a command as a user runs it: ``forecast ARGS`` (or ``python ARGS``) in a fresh process.

Python as a stock installation runs it: it caches the bytecode of the modules it compiles.
A machine that sets ``PYTHONDONTWRITEBYTECODE`` (these development machines do) makes every
process compile the project's modules again, 0.15-0.3 s of each ``forecast`` command that
an installed package (compiled at install) or a user's second run never pays, and that the
installed libraries it is compared with (squigglepy, NumPy) do not pay either. So the timed
processes cache bytecode in a folder of their own (``PYTHONPYCACHEPREFIX``: no file is
written beside the sources), filled by each benchmark's untimed first runs.
``FORECAST_BENCH_BYTECODE=as-set`` times them with the machine's setting instead;
:func:`bytecode_note` says which, for a benchmark to print.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

#: The repository, put first on the command's path (a checkout run without installing).
ROOT = Path(__file__).resolve().parents[1]
#: ``FORECAST_BENCH_BYTECODE=as-set``: the timed processes write bytecode as this machine says.
BYTECODE_ENV = "FORECAST_BENCH_BYTECODE"


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
    env = _stock_python(dict(os.environ if env is None else env))
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


def _caches_bytecode() -> bool:
    """Whether the timed processes cache bytecode where this machine forbids it (module docstring)."""
    return bool(os.environ.get("PYTHONDONTWRITEBYTECODE")) and os.environ.get(BYTECODE_ENV, "") != "as-set"


def _stock_python(env: dict) -> dict:
    """``env`` as a stock Python has it: bytecode cached (in :func:`_bytecode_folder`)."""
    if _caches_bytecode():
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.setdefault("PYTHONPYCACHEPREFIX", str(_bytecode_folder()))
    return env


@functools.cache
def _bytecode_folder() -> Path:
    """A folder for the timed processes' bytecode, removed when the benchmark ends."""
    folder = Path(tempfile.mkdtemp(prefix="forecast-bench-bytecode-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def bytecode_note() -> str:
    """One line on how the timed processes treat bytecode (module docstring)."""
    if _caches_bytecode():
        return ("bytecode cached as a stock Python caches it (this machine sets PYTHONDONTWRITEBYTECODE; "
                f"{BYTECODE_ENV}=as-set to time with it)")
    return "bytecode as this machine sets it"

"""A second process that draws while this one writes: the run folder's plots (~2 CPU-s)
are drawn on the machine's second core while the main process writes ``samples.nc`` and
the tables (:func:`outputs.write.run.write_run`).

Design, kept small on purpose:

* A fresh interpreter (``subprocess``, not ``fork``): JAX's threads exist by the time a
  forecast is written, and a fork then may deadlock. It is started *early*
  (:func:`plot_worker` around the run, before the worlds are drawn) so that its imports
  (matplotlib, the plot modules: ~1-3 s) overlap the main process's work; it then waits
  for one job on its stdin (read by a thread from the start, so the main process never
  blocks on a full pipe while the worker imports).
* One job: a module-level function and its arguments, pickled (so only what the job
  needs travels: for the plots, the result *without its worlds*, ~13 MB of streamed
  statistics, never the worlds). The answer is its return value, or the exception it
  raised (re-raised here as it is: the same one-line errors), and the warnings it gave
  (warned again here). A job that does not pickle, or a worker that cannot import or
  read it, or that dies, is :class:`WorkerLost`: the caller then does the job itself.
* What it costs: the worker's imports, ~2-3 CPU-s today (``forecast.result`` brings
  arviz, scipy and JAX along with matplotlib), on the core the main process leaves idle
  while it draws the worlds; hence only for runs of :data:`DRAW_ASIDE_FROM` worlds or more.
* The worker writes no file. It returns the files' bytes and the main process writes
  them, so a stopped run cannot find a file written into its folder after the folder was
  removed, and a full disk is met by the main process's ordinary writes.
* It runs in its own session: Ctrl-C at the terminal reaches the main process only, which
  stops the worker (``SIGKILL``, then waits for it) when :func:`plot_worker` ends, for
  any reason. If the main process dies, the worker reads the end of its stdin, or fails
  to write its answer, and exits. Its stderr goes nowhere: whatever goes wrong in it comes
  back as an exception or as :class:`WorkerLost`.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
import traceback
import warnings
from pathlib import Path

__all__ = ["DRAW_ASIDE_FROM", "PlotWorker", "WorkerLost", "plot_worker"]

#: Worlds from which ``forecast run`` draws its plots in a worker while it writes samples.nc
#: and the tables: below, those take too little time for the overlap to pay for the
#: worker's imports (a second process's CPU time).
DRAW_ASIDE_FROM = 20_000

#: The folder that holds the ``outputs`` package: the worker imports the same code.
_ROOT = str(Path(__file__).resolve().parents[2])


class WorkerLost(RuntimeError):
    """The worker ended without an answer (it died, or could not start)."""


class PlotWorker:
    """One job in a second Python process; see the module's docstring.

    ``preload``: modules the worker imports while it waits for its job.
    """

    def __init__(self, preload: tuple[str, ...] = ("outputs.write.run",)):
        code = f"import sys; sys.path.insert(0, {_ROOT!r}); from outputs.write.worker import serve; serve()"
        self._process = subprocess.Popen(
            [sys.executable, "-c", code, *preload], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, start_new_session=True)
        self._submitted = False

    def submit(self, function, *args) -> None:
        """Send ``function(*args)`` to the worker (``function`` at a module's top level);
        :class:`WorkerLost` if it cannot take it."""
        if self._submitted:
            raise RuntimeError("a PlotWorker takes one job")
        self._submitted = True
        try:
            job = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as err:  # noqa: BLE001 -- something that does not pickle: done here instead
            raise WorkerLost(f"the job does not pickle ({type(err).__name__}: {err})") from None
        try:
            self._process.stdin.write(job)
            self._process.stdin.close()
        except (OSError, ValueError) as err:  # a broken pipe; a closed one (stopped)
            raise WorkerLost(f"the plot worker is gone ({err})") from None

    def result(self):
        """The job's return value; its exception re-raised; :class:`WorkerLost` if the
        worker died or failed before the job ran."""
        try:
            status, value, caught = pickle.load(self._process.stdout)
        except Exception as err:  # noqa: BLE001 -- no answer, or none that can be read here
            raise WorkerLost(f"the plot worker ended without an answer ({type(err).__name__})") from None
        finally:
            self.stop()
        if status == "lost":
            raise WorkerLost(value)
        for category, message in caught:
            warnings.warn(message, category, stacklevel=2)
        if status == "error":
            raise value
        return value

    def stop(self) -> None:
        """End the worker now (a no-op once it has ended) and wait for it."""
        with contextlib.suppress(ProcessLookupError, OSError):
            self._process.kill()
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            with contextlib.suppress(OSError):
                stream.close()


@contextlib.contextmanager
def plot_worker(enabled: bool = True):
    """A :class:`PlotWorker` for the block (None when not ``enabled`` or when none can be
    started), stopped when the block ends, by an error or Ctrl-C included."""
    try:
        worker = PlotWorker() if enabled else None
    except OSError:  # no process to spare: draw in this one
        worker = None
    try:
        yield worker
    finally:
        if worker is not None:
            worker.stop()


def serve() -> None:
    """The worker's side: import ``sys.argv[1:]`` while stdin is read, run the job, answer
    ``("ok", value, warnings)``, ``("error", exception, warnings)`` for an exception of the
    job, or ``("lost", why, [])`` where the job could not be run (the caller then runs it)."""
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(sys.stdin.buffer.read()), daemon=True)
    reader.start()
    caught = []
    try:
        for module in sys.argv[1:]:
            __import__(module)
        reader.join()
        function, args = pickle.loads(received[0])
    except BaseException as err:  # noqa: BLE001 -- no job to run: the caller runs it
        answer = ("lost", f"the plot worker could not take its job ({type(err).__name__}: {err})")
    else:
        try:
            with warnings.catch_warnings(record=True) as caught:
                answer = ("ok", function(*args))
        except BaseException as err:  # noqa: BLE001 -- every failure of the job goes back to the caller
            answer = ("error", _picklable(err))
    kept = [(w.category, str(w.message)) for w in caught]
    try:
        pickle.dump((*answer, kept), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
        sys.stdout.buffer.flush()
    except BaseException:  # noqa: BLE001 -- the caller is gone: nothing to tell
        pass
    os._exit(0)


def _picklable(err: BaseException) -> BaseException:
    """``err`` with the worker's traceback as a note, or a RuntimeError of its line where
    it does not pickle."""
    note = "in the plot worker:\n" + "".join(traceback.format_exception(err)).rstrip()
    try:
        copy = pickle.loads(pickle.dumps(err))
    except Exception:  # noqa: BLE001
        copy = RuntimeError(f"{type(err).__name__}: {err}")
    copy.add_note(note)
    return copy

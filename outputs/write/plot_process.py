"""The plots of a run folder drawn in a second process, while the command's own computes the
forecast and writes samples.nc and the tables.

A small run takes as long to draw its plots as to compute them (about a second on 2 cores,
and 0.7 s more to import matplotlib), and neither waits on the other until the files are
written. ``forecast run`` therefore forks, before JAX starts its threads, a process that
imports the plotting code and draws a first small figure (:func:`_warm_up`: fonts, mathtext,
the PNG encoder) while the engine runs, at a lower priority (``nice`` 10). It then receives
the result (pickled, some tens of milliseconds), draws the plots and sends back their bytes,
which the command writes into its folder itself: the second process writes no file, so a
run that stops leaves nothing of it behind.

Only for small runs (:data:`PLOT_PROCESS_WORLDS`): measured with ``bench/fixed_cost.py
--plots-here`` (2 cores, median of 5), ``--samples 1000`` took 4.10 s against 4.69 s with
the plots drawn in the command's own process, but the default run (100,000 worlds, whose
engine keeps both cores busy for seconds) 7.27 s against 6.98 s: the second process spends
about 1.5 CPU-s more (its imports, a first figure, the summaries the plots read, the pickle).

Only where forking is safe: a process with no other Python thread and no JAX backend
started (JAX's runtime threads would not survive a fork). Elsewhere (a test or a notebook
calling the command's ``main``, ``FORECAST_PLOT_PROCESS=0``, a platform without ``fork``)
:func:`plot_process` yields None and the caller draws in its own process: the same bytes.

The drawing process ignores Ctrl-C (the command decides what happens then) and dies silently
of SIGTERM; the command kills and reaps it whenever it stops, and it leaves on its own when
the command's end of its pipe closes.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
import traceback
from multiprocessing import Pipe

__all__ = ["PlotProcess", "plot_process"]

#: The drawing process's niceness: it takes what CPU the engine leaves.
NICENESS = 10
#: The largest run drawn in a second process: where the engine's part takes about a second
#: on 2 cores. Larger runs keep both cores busy longer than the plots take to draw.
PLOT_PROCESS_WORLDS = 20_000


@contextlib.contextmanager
def plot_process(worlds: int):
    """A :class:`PlotProcess` started now for a run of ``worlds`` worlds, or None for a larger
    run (:data:`PLOT_PROCESS_WORLDS`) or where a fork is not safe; stopped on exit."""
    process = PlotProcess.start() if worlds <= PLOT_PROCESS_WORLDS and _fork_is_safe() else None
    try:
        yield process
    finally:
        if process is not None:
            process.close()


def _fork_is_safe() -> bool:
    if not hasattr(os, "fork") or os.environ.get("FORECAST_PLOT_PROCESS", "1") == "0":
        return False
    if threading.active_count() != 1:
        return False
    if "jax" not in sys.modules:
        return True
    try:
        from jax._src.xla_bridge import backends_are_initialized
    except ImportError:  # a JAX that no longer says: assume its threads run
        return False
    return not backends_are_initialized()


class PlotProcess:
    """A forked process that draws one result's run-folder plots (:meth:`submit`, then
    :meth:`files`). Use through :func:`plot_process`."""

    def __init__(self, pid: int, connection):
        self.pid = pid
        self._connection = connection
        self._reaped = False

    @classmethod
    def start(cls) -> PlotProcess:
        ours, theirs = Pipe()
        for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
            stream.flush()
        pid = os.fork()
        if pid == 0:  # the drawing process: never returns into the command's code
            ours.close()
            _serve(theirs)
        theirs.close()
        return cls(pid, ours)

    def submit(self, result, *, formats=("png",)) -> None:
        """Hand ``result`` over to be drawn in each of ``formats``. A drawing process that
        ended already is told in :meth:`files`."""
        with contextlib.suppress(OSError):  # a broken pipe: it ended
            self._connection.send((result, tuple(formats)))

    def files(self) -> dict[str, bytes]:
        """The drawn plots, ``{"<name>.<format>": bytes}``, as
        :func:`outputs.write.run.run_plots` gives them; waits for them. An error in
        the drawing process is raised here; a process that ended without them (killed, out
        of memory) as a :class:`ChildProcessError` that says how it ended."""
        try:
            kind, payload = self._connection.recv()
        except (EOFError, OSError):
            raise ChildProcessError(f"the process drawing the plots ended {self._how_it_ended()} "
                                    "before it sent them; nothing was written") from None
        if kind == "error":
            raise payload
        return payload

    def close(self) -> None:
        """Stop the drawing process (if it still runs) and reap it."""
        self._connection.close()
        if not self._reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> int:
        while True:
            try:
                _, status = os.waitpid(self.pid, 0)
            except InterruptedError:
                continue
            except ChildProcessError:  # reaped elsewhere
                status = 0
            self._reaped = True
            return status

    def _how_it_ended(self) -> str:
        status = self._reap()
        if os.WIFSIGNALED(status):
            return f"by {signal.Signals(os.WTERMSIG(status)).name}"
        return f"with status {os.waitstatus_to_exitcode(status)}"


def _warm_up() -> None:
    """Draw a small figure in the project style, as the plots will be drawn: the first figure
    of a process loads the fonts and builds the mathtext parser and the PNG encoder (about
    0.4 s that would otherwise wait for the result). Caches only: the plots' bytes are the same."""
    from matplotlib.figure import Figure

    from outputs.plots.axes import png_bytes
    from outputs.style import plot_style

    with plot_style():
        figure = Figure(figsize=(3, 2), layout="constrained")
        ax = figure.add_subplot()
        ax.plot([2025, 2035], [1e25, 1e30], label="run")
        ax.set_yscale("log")
        ax.set_title("title")
        ax.legend(loc="upper left")
        figure.suptitle("a warm-up")
        png_bytes(figure)


def _portable(err: Exception) -> Exception:
    """``err`` as the command will raise it: with this process's traceback as a note, or,
    where it does not survive pickling, as a RuntimeError of that traceback."""
    text = "".join(traceback.format_exception(err)).strip()
    err.add_note(f"(drawn in the plot process)\n{text}")
    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:  # noqa: BLE001 -- any error of the error itself
        return RuntimeError(text)


def _serve(connection) -> None:
    """The drawing process: import the plotting code, draw the one result sent, send the files
    (or the error) back, and leave without running any of the command's exit code."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.nice(NICENESS)
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
        try:
            from outputs.write.run import run_plots  # matplotlib and the plots, while the engine runs

            with contextlib.suppress(Exception):  # a failure here shows where the plots are drawn
                _warm_up()
            result, formats = connection.recv()
        except EOFError:  # the command stopped before it had a result
            return
        try:
            reply = ("files", run_plots(result, formats=formats))
        except Exception as err:  # noqa: BLE001 -- raised again in the command
            reply = ("error", _portable(err))
        connection.send(reply)
    except BaseException:  # noqa: BLE001 -- the command's end is gone (a broken pipe) or anything else
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(code)

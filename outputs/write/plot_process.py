"""A run folder's plots drawn in a second process (and its forks, with cores to spare), while
the command's own computes the forecast and writes samples.nc and the tables.

Drawing the five plots of a run folder takes about 1.4 s of CPU, after 0.5 s to import
matplotlib and draw a first figure, and nothing else waits on them. ``forecast run``
therefore forks, before JAX starts its threads, a process that imports the plotting code and
draws a first small figure (:func:`_warm_up`: fonts, mathtext, the PNG encoder) while the
command imports the engine on the other core. Once the result is computed, the command hands
it over (pickled, without its kept worlds: :func:`_to_draw`; once the second process is
ready for it), and the second process draws every plot while the command computes its kept
worlds and writes samples.nc and the tables: with more than one core, it forks again as it
is handed the result (warm, the result read already), and each process takes the next plot,
the costliest first (:data:`DRAW_ORDER`), as it is free (:func:`_drawn`). The command then
writes every plot's bytes into its folder itself: the drawing processes write no file of
the run, so a run that stops leaves nothing of it behind, and the command never imports
matplotlib.

Measured as whole commands, alternately (2 cores): the default run (100,000 worlds) 5.49 s
against 6.06 s with every plot drawn in the command's process (medians, when the second
process drew three of the five plots and the command the other two); with every plot drawn
by two forks and none by the command, 3.34-3.80 s against 3.35-3.92 s for that split (six
pairs, median 3.47 against 3.64 s), and one lab of 10,000 worlds (``--keep 0``) 1.81-2.14 s
against 1.83-2.08 s (median 1.92 against 1.97 s).

Only with two cores or more, and where the result is small enough to hand over
(:data:`PLOT_PROCESS_CELLS` kept world-years: a run that keeps a million worlds would pickle
gigabytes).

Never a reason for a run to fail: where a fork is not safe (another Python thread, a JAX
backend started: a test or a notebook calling the command's ``main``), not possible (no
``fork``, no process or file descriptor left) or turned off (``FORECAST_PLOT_PROCESS=0``),
:func:`plot_process` yields None; and where the second process ends without the plots (an
error, a signal, out of memory, a result that does not pickle, no answer within
:data:`PLOT_TIMEOUT`), :meth:`PlotProcess.files` says so with None. Either way the
command draws them itself: the same bytes, and any error as it would raise it.

Signals: the fork happens with Ctrl-C and termination held back, so that neither process
sees one before its handlers are set. The second process ignores Ctrl-C (the command decides
what happens then), ignores a hangup or a termination where the command does (``nohup``),
and otherwise ends on them, quietly; the command reaps it (killed, unless it has answered
and is only leaving) whenever it stops, and it leaves on its own when the command's end of
its pipe closes. Its forks are killed as it ends (Linux's ``PR_SET_PDEATHSIG``; elsewhere it
draws alone). Its warnings are handed back and raised in the command, as if the plots had
been drawn there.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import importlib
import os
import signal
import sys
import threading
import time
import warnings
from multiprocessing import Pipe

from outputs.folder import HELD_SIGNALS, signals_held
from outputs.stopping import flush_output

__all__ = ["DRAW_ORDER", "PLOT_PROCESS_CELLS", "PlotProcess", "plot_process"]

#: The most kept world-years a run hands over to a second process: 20,000 worlds over 11
#: years (the default keeps 10,000: 52 MB pickled, and the pickle grows with both).
PLOT_PROCESS_CELLS = 20_000 * 11
#: The order the drawing processes take the plots in: the costliest first (measured one by
#: one on 2 cores: resources 0.53 s, fan 0.39, labs 0.23, constraints 0.15, timeline 0.14),
#: so that the last one taken is short; any other kind after them.
DRAW_ORDER = ("resources", "fan", "labs", "constraints", "timeline")
#: Seconds the command waits for the plots once it has written the rest (they take about
#: 1.5 s): a drawing process that has not answered by then is killed, and the command draws
#: them itself.
PLOT_TIMEOUT = 120.0
#: Of the signals held around the fork (:data:`outputs.folder.HELD_SIGNALS`), those that end
#: the drawing process (where the command does not ignore them).
_ENDING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def plot_process(worlds: int, years: int = 11):
    """A :class:`PlotProcess` started now for a run that keeps ``worlds`` worlds over
    ``years`` years, or None (more than :data:`PLOT_PROCESS_CELLS` world-years, one core to
    run on, or where a fork is not safe or fails); stopped on exit."""
    process = None
    try:
        if worlds * years <= PLOT_PROCESS_CELLS and _wanted() and _fork_is_safe():
            with signals_held():  # no Ctrl-C between the fork and either side's handlers
                process = PlotProcess.start()
        yield process
    finally:
        if process is not None:
            process.close()


def _wanted() -> bool:
    """Whether to draw in a second process: ``FORECAST_PLOT_PROCESS=0`` never, ``=1``
    always, and otherwise with two cores or more to run on (on one, it would only add its
    own imports to the wait)."""
    setting = os.environ.get("FORECAST_PLOT_PROCESS")
    if setting in ("0", "1"):
        return setting == "1"
    return _cores() >= 2


def _cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _fork_is_safe() -> bool:
    if not hasattr(os, "fork"):
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
        self._failed = False  # it cannot be handed the result, or its answer cannot be read
        self.submitted = False  # it has been handed a result (:meth:`submit`)
        self._answered = False  # it sent its answer: it is only leaving

    @classmethod
    def start(cls) -> PlotProcess | None:
        """Fork the drawing process (call with the stopping signals held back); None where
        the system has no process or file descriptor to spare."""
        try:
            ours, theirs = Pipe()
        except OSError:
            return None
        flush_output()  # nothing buffered is written twice
        try:
            with warnings.catch_warnings():  # Python 3.12's word on a fork beside library threads
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            return None
        if pid == 0:  # the drawing process: never returns into the command's code
            try:
                _serve(theirs, ours)
            finally:
                os._exit(1)
        theirs.close()
        return cls(pid, ours)

    def submit(self, result, *, formats=("png",), kinds=None) -> None:
        """Hand ``result`` over to be drawn in each of ``formats`` (once the drawing process
        is ready for it): its run-folder plots, or those of them among ``kinds``. Where it
        cannot (the process ended, the result does not pickle), :meth:`files` says so."""
        self.submitted = True
        try:
            self._connection.send((_to_draw(result), tuple(formats), None if kinds is None else tuple(kinds)))
        except Exception:  # noqa: BLE001 -- a broken pipe, a result that does not pickle: drawn here
            self._failed = True

    def files(self) -> dict[str, bytes] | None:
        """The drawn plots, ``{"<name>.<format>": bytes}``, as
        :func:`outputs.write.run.run_plots` gives them; waits for them. None where the
        drawing process could not give them: the caller draws them itself. The warnings of
        the drawing are raised here."""
        if self._failed:
            return None
        try:
            if not self._connection.poll(PLOT_TIMEOUT):  # hung: close() kills it
                raise TimeoutError(f"no plots after {PLOT_TIMEOUT:g} s")
            kind, files, caught = self._connection.recv()
        except Exception:  # noqa: BLE001 -- it ended (EOF), hung, or its answer cannot be read: drawn here
            self._failed = True
            return None
        self._answered = True
        if kind != "files":  # the caller draws them, and meets the warnings itself
            return None
        for message, category in caught:
            warnings.warn(message, category, stacklevel=2)
        return files

    def close(self) -> None:
        """Stop the drawing process and reap it: one that has answered is given a second to
        run its exit handlers; any other is killed."""
        self._connection.close()
        if self._reaped:
            return
        if self._answered:
            for _ in range(100):
                if self._reap(block=False):
                    return
                time.sleep(0.01)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self._reap()

    def _reap(self, block: bool = True) -> bool:
        """Wait for the drawing process to end (or only look: ``block=False``); whether it has."""
        try:
            pid, _ = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere
            pid = self.pid
        self._reaped = pid == self.pid
        return self._reaped


def _to_draw(result):
    """What the drawing process is handed of ``result``: with a tally (a run's result), the
    result without its kept worlds, the variables and coordinates of its samples only. A
    run's plots read every summary from the tally (tested: the same bytes), and the worlds
    are most of the pickle: the default run's 52 MB -> 13 MB through the pipe, 0.12 -> 0.03 s
    of the command's time."""
    if getattr(result, "tally", None) is None:
        return result
    return dataclasses.replace(result, samples=result.samples.isel(sample=slice(0, 0)))


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


def _drawn(result, formats, kinds, connection) -> tuple[dict[str, bytes], list]:
    """The plots of ``result`` (:func:`outputs.write.run.run_plots`' files, in its order) and
    the warnings drawing them raised, ``[(message, category)]``. Drawn one plot at a time, by
    this process and, with cores to spare, by forks of it (:func:`_helpers`), each taking the
    next plot of :data:`DRAW_ORDER` as it is free; a plot that a fork took and did not send
    back (it ended) is drawn here. ``connection``: the command's end, which the forks close."""
    from outputs.plots.forecast import run_plot_kinds
    from outputs.write import run

    kinds = run_plot_kinds(result) if kinds is None else tuple(kinds)
    queue = sorted(kinds, key=lambda kind: DRAW_ORDER.index(kind) if kind in DRAW_ORDER else len(DRAW_ORDER))

    def draw(kind):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            files = run.run_plots(result, formats=formats, kinds=[kind])
        return files, [(str(w.message), w.category) for w in caught]

    drawn = {}
    taken, given = os.pipe()  # the plots to draw, by their place in the queue, one byte each
    try:
        os.write(given, bytes(range(len(queue))))
    finally:
        os.close(given)
    try:
        helpers = _helpers(min(len(queue), _cores()) - 1, taken, connection, lambda place: draw(queue[place]))
        while place := os.read(taken, 1):
            drawn[queue[place[0]]] = draw(queue[place[0]])
    finally:
        os.close(taken)
    for answers in helpers:
        with contextlib.closing(answers):
            with contextlib.suppress(EOFError, OSError):  # it ended without them
                for place, files, caught in answers.recv():
                    drawn[queue[place]] = files, caught
    with contextlib.suppress(ChildProcessError):  # the forks have ended: reap them
        while os.waitpid(-1, 0)[0]:
            pass
    for kind in kinds:
        if kind not in drawn:  # a fork took it and ended: drawn here (any error raised here)
            drawn[kind] = draw(kind)
    files = {name: data for kind in kinds for name, data in drawn[kind][0].items()}
    return files, [warning for kind in kinds for warning in drawn[kind][1]]


def _helpers(count: int, taken: int, connection, draw) -> list:
    """Fork ``count`` processes that draw the plots whose places in the queue they read from
    the pipe ``taken`` (:func:`_drawn`; ``draw(place)`` gives the files and the warnings)
    and send them back, and leave once the queue is empty: their ends of the pipes they send
    on, ``[]`` where they cannot fork. Linux only: each is killed as this process ends
    (``PR_SET_PDEATHSIG``), however it ends, so that none is left behind when the command
    kills this one."""
    if count < 1 or not sys.platform.startswith("linux"):
        return []
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return []
    parent, helpers = os.getpid(), []
    sys.stderr.flush()  # nothing buffered is written twice
    for _ in range(count):
        try:
            ours, theirs = Pipe(duplex=False)
        except OSError:
            break
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            break
        if pid == 0:  # a helper: never returns
            code = 1
            try:
                for answers in (connection, ours, *helpers):  # not theirs to hold open
                    answers.close()
                prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: killed as soon as its parent ends
                if os.getppid() == parent:  # (not ended before that)
                    drawn = []
                    while place := os.read(taken, 1):
                        drawn.append((place[0], *draw(place[0])))
                    theirs.send(drawn)  # at the end: its parent reads once the queue is empty
                    code = 0
            except BaseException:  # noqa: BLE001 -- the plot it took is drawn by its parent
                pass
            finally:
                os._exit(code)  # none of its parent's exit handlers (matplotlib's folder is theirs)
        theirs.close()
        helpers.append(ours)
    return helpers


def _serve(connection, commands_end) -> None:
    """The drawing process: import the plotting code, draw the one result sent, send the
    files and the warnings back (or word that it could not), and leave without running any
    of the command's code: its own exit handlers only (matplotlib's, where it made a
    temporary config folder), then ``os._exit``."""
    code = 0
    try:
        atexit._clear()  # the command's handlers are the command's
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for signum in _ENDING:  # they end it, quietly; ignored where the command ignores them
            if signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)  # held since the fork
        commands_end.close()
        importlib.import_module("outputs.write.run")  # matplotlib and the plots, while the engine runs

        with contextlib.suppress(Exception):  # where the plots cannot be drawn, the command tells why
            _warm_up()
        try:
            result, formats, kinds = connection.recv()
        except EOFError:  # the command stopped before it had a result
            return
        try:
            files, caught = _drawn(result, formats, kinds, connection)
            reply = ("files", files, caught)
        except Exception:  # noqa: BLE001 -- the command draws them again and raises it there
            reply = ("failed", None, [])
        connection.send(reply)
    except BaseException:  # noqa: BLE001 -- a signal, the command's end gone, anything: the command draws them
        code = 1
    finally:
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
            sys.stderr.flush()
        os._exit(code)

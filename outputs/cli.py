"""The ``forecast`` command line: one module per subcommand in ``forecast/commands``.

Each command module has a docstring (its description), ``HELP`` (one line),
``add_arguments(parser)`` and ``main(args) -> int``. Bad input raises
:class:`priors.InputError`; it is printed as one line and the exit code is 2.
"""

from __future__ import annotations

import _thread
import argparse
import atexit
import contextlib
import gc
import importlib
import io
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

from outputs.flags import in_flags
from outputs.stopping import Terminated, flush_output

# Standard library only above: the engine (JAX) and matplotlib are imported inside main(),
# so that Ctrl-C while they load ends the command with one line, not an import traceback.

#: Subcommands, in the order ``forecast --help`` lists them, with their one-line help: here,
#: so that listing them imports none of them (each module imports the engine).
COMMANDS = {
    'run': 'run a forecast and write its samples, tables and plots to a new folder',
    'question': 'P(a run of at least THRESHOLD FLOP by a date): true, and with a public estimate',
    'questions': 'our probability for each open forecasting question on training compute',
    'priors': 'print the priors (distribution, percentiles, unit, source) and their correlations; --plot draws them',
    'sensitivity': "which prior decides the forecast: Sobol' indices, tornado, prior swaps",
    'plot': 're-draw the plots of a saved forecast (run folder or samples.nc)',
    'report': 'write a report folder (Markdown, HTML, plots, tables, provenance) for a forecast',
    'backtest': 'score the trend model and baselines on past cutoffs, as known then (CRPS, log score, coverage)',
    'calibrate': 'condition the bottom-up priors on the record of frontier runs (NUTS) and forecast again',
    'compare': 'overlay two or more forecasts (prior sets, saved runs, trend, calibrated) and tabulate them',
    'record': 'print the largest training run known at the end of each year, with its source',
    'app': 'a page in the browser to change any prior and watch the forecast move',
    'sweep': 'what would you need to believe: P(run >= threshold by year) over a grid of pinned priors',
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand; given the command line ``argv``, of the one it names
    only (the others are listed, not imported: ``forecast --help`` loads no engine)."""
    parser = argparse.ArgumentParser(
        prog="forecast",
        description="Probabilistic forecasts of the training compute of the largest AI runs.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = None if argv is None else next((a for a in argv if not a.startswith("-")), None)
    for name, help_line in COMMANDS.items():
        if argv is not None and name != chosen:
            subcommands.add_parser(name, help=help_line)
            continue
        module = importlib.import_module(f"outputs.commands.{name}")
        sub = subcommands.add_parser(
            name, help=help_line, description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(handler=module.main)
    return parser


#: Signals that end a command as Ctrl-C does; the exit code is 128 + the signal number.
_TERMINATION_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                             if hasattr(signal, name))


def _terminate(signum, frame):
    raise Terminated(signum)


def _interrupt_again(unraisable) -> bool:
    """A Ctrl-C or termination raised where Python can only ignore it (a ``__del__``, an
    h5py or weakref callback: "Exception ignored in ...") would be lost, and the run go on:
    deliver its signal to the main thread again, so it is raised at the next point that can
    take it. True if ``unraisable`` was such an interruption."""
    err = unraisable.exc_value
    if isinstance(err, Terminated):
        signum = err.signum
    elif isinstance(err, KeyboardInterrupt):
        signum = signal.SIGINT
    else:
        return False
    # from another thread, a moment later: raised here, in the hook, it would be ignored again
    timer = threading.Timer(_AGAIN_AFTER_S, _deliver, args=(signum,))
    timer.daemon = True
    timer.start()
    return True


#: Seconds after which a swallowed interruption is delivered again.
_AGAIN_AFTER_S = 0.02


def _deliver(signum: int) -> None:
    with contextlib.suppress(ValueError, OSError, RuntimeError):  # no Python handler any more
        _thread.interrupt_main(signum)


@contextlib.contextmanager
def _termination_raises():
    """While the command runs, termination signals raise :class:`Terminated`; the previous
    handlers are restored afterwards."""
    previous = {}
    try:
        for sig in _TERMINATION_SIGNALS:
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue  # e.g. SIGHUP under nohup: leave it ignored
            previous[sig] = signal.signal(sig, _terminate)
    except ValueError:  # not the main thread: signals cannot be handled here
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _ignore_further_signals() -> None:
    """Once a command is stopping, a second Ctrl-C or SIGTERM (or one delivered again by
    :func:`_interrupt_again`) must not cut its last line short with a traceback."""
    for sig in (signal.SIGINT, *_TERMINATION_SIGNALS):
        with contextlib.suppress(ValueError, OSError):
            signal.signal(sig, signal.SIG_IGN)


def _quiet_stdout() -> None:
    """After a broken pipe (``forecast run | head -1``): send the rest of the output to
    devnull so that the interpreter's final flush does not fail again (as the Python docs
    on SIGPIPE recommend)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # stdout is no file (captured): nothing more will be flushed to the pipe


@contextlib.contextmanager
def _one_line_warnings(name: str):
    """Warnings of the engine as ``forecast run: warning: ...``, one line each, each once.

    They are printed when the command ends well; a command refused with an error prints
    that one line only (a warning about input that is refused anyway is noise).
    """
    seen: list[str] = []

    def collect(message, category, filename, lineno, file=None, line=None):
        text = str(message).splitlines()[0] if str(message) else category.__name__
        if text not in seen:
            seen.append(text)

    with warnings.catch_warnings():
        warnings.showwarning = collect
        yield
    for text in seen:
        print(f"{name}: warning: {in_flags(text)}", file=sys.stderr)


#: Set to 1 to keep the CLI from using JAX's persistent compilation cache.
NO_CACHE_ENV = "FORECAST_NO_COMPILE_CACHE"


def compile_cache_folder() -> Path | None:
    """Where the CLI keeps JAX's compiled models between runs: ``$XDG_CACHE_HOME/forecast/jax``
    (``~/.cache/forecast/jax``); None when ``FORECAST_NO_COMPILE_CACHE=1``."""
    if os.environ.get(NO_CACHE_ENV, "").strip() not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "forecast" / "jax"


def use_compile_cache(folder: Path | None) -> None:
    """Turn on JAX's persistent compilation cache in ``folder`` (a second run of a command
    loads its compiled models instead of compiling them again), and keep the engine's traced
    programs beside it, in ``exported`` (a second run does not trace them again:
    :mod:`priors.exported`). The CLI's process only: importing the package changes no setting."""
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # a read-only home: compile as before
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    # every program, however quick to compile: a default run compiles 14 small ones (the
    # draws, keys, tallies), ~0.5-1 s in all, which a cache read replaces
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    from priors import exported

    exported.use_folder(folder.parent / "exported")


#: glibc's M_MMAP_THRESHOLD (mallopt), and the size from which the CLI maps memory directly:
#: 32 MB, the largest threshold glibc itself moves to on 64-bit systems, but fixed.
_M_MMAP_THRESHOLD, _MMAP_FROM = -3, 32 << 20
#: glibc's M_TRIM_THRESHOLD, and the free memory the CLI's heap keeps at its top: 64 MB.
_M_TRIM_THRESHOLD, _TRIM_FROM = -1, 64 << 20


def return_large_blocks() -> None:
    """Have glibc map every block of 32 MB or more directly, so that the largest of a
    chunk's arrays go back to the system once freed, and serve smaller ones from its heap,
    which keeps up to 64 MB of free memory rather than give it back.
    Left to itself, glibc raises that threshold after the first large free, up to 32 MB,
    and serves later chunks from a heap that fragments: a conditioned run of 1e7 worlds
    then grew to 3 GB (measured in bench/end_to_end.py). A threshold of 1 MB kept it at
    1.15 GB, but every chunk's arrays (4-26 MB each) were then fresh pages from the system,
    zeroed and faulted in one by one: at 1e7 worlds 70 CPU-s in the kernel, against 46 s
    with this threshold (156 s against 145 s wall, 1.25 GB peak; six labs, 2 cores).

    Setting the threshold also fixes glibc's other one, the free memory at the top of its
    heap that it keeps rather than give back (128 KB): each chunk's arrays below 32 MB
    (5.8 MB for one year-by-world array of 65,536 worlds) then went back to the system as
    the chunk ended and came back as fresh pages for the next, zeroed and faulted in one by
    one. The heap now keeps 64 MB (:data:`_TRIM_FROM`): a run of 1e6 worlds of one lab
    faults 0.07 million pages instead of 0.3 million, and spends 0.3-0.5 s in the kernel
    instead of 1.0-1.4 s, for 7-9% more peak memory (530 -> 570 MB).

    The CLI's process only; a no-op where libc has no ``mallopt``. ``mallopt`` is looked up
    among the symbols the process has loaded (``dlopen(NULL)``), not by name:
    ``ctypes.util.find_library`` runs ``ldconfig -p`` in a child process."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_FROM)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_FROM)


@contextlib.contextmanager
def _interruptions_kept():
    """Ctrl-C or a termination swallowed on its way is raised again (:func:`_interrupt_again`)."""
    previous = sys.unraisablehook

    def hook(unraisable):
        if not _interrupt_again(unraisable):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def main(argv: list[str] | None = None, *, program: bool = False) -> int:
    """Run the command ``argv`` (``sys.argv[1:]`` by default) and return its exit code.
    ``program``: as the ``forecast`` program, which owns its process (:func:`entry`): a
    command that runs on this machine does so without Dask (:func:`_without_dask`)."""
    try:
        with _interruptions_kept():
            return _main(argv, program=program)
    except KeyboardInterrupt:  # while the engine was imported or the options parsed
        _ignore_further_signals()
        print("forecast: interrupted", file=sys.stderr)
        return 130
    except Terminated as err:  # only where the handler was already set: see _main
        _ignore_further_signals()
        print(f"forecast: terminated by {signal.Signals(err.signum).name}", file=sys.stderr)
        return 128 + err.signum


def _main(argv: list[str] | None, *, program: bool = False) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)  # usage errors and --help: argparse prints and exits
    if program:
        _without_dask(args)
    from outputs.folder import signals_held
    from priors import InputError
    name = f"forecast {args.command}"
    with signals_held():  # JAX's native parts, Ctrl-C held back until they are loaded
        import jax  # noqa: F401 -- a KeyboardInterrupt inside jaxlib's initialisation aborts the process
    if program:
        _f2py_on_use()

    use_compile_cache(compile_cache_folder())
    return_large_blocks()
    try:
        with _termination_raises(), _one_line_warnings(name):
            code = int(args.handler(args) or 0)
            if sys.stdout is not None:  # None: started with its output closed (``>&-``)
                sys.stdout.flush()
        return code
    except InputError as err:
        print(f"{name}: error: {in_flags(str(err))}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as err:
        return _stopped(name, err)
    except BrokenPipeError:
        _quiet_stdout()
        return 128 + getattr(signal, "SIGPIPE", 13)
    except OSError as err:  # a file the command reads or writes: one line, no traceback
        print(f"{name}: error: {os_error_line(err)}", file=sys.stderr)
        return 2
    except Exception as err:
        # a library's own error made of a Ctrl-C or a termination: a native module's import
        # that one interrupts ends in "ImportError: initialization failed"
        stop = _stopped_by(err)
        if stop is None:
            raise
        return _stopped(name, stop)


def _stopped(name: str, stop: BaseException) -> int:
    """A command stopped by Ctrl-C (KeyboardInterrupt) or a termination signal (Terminated):
    one line, and its exit code."""
    _ignore_further_signals()
    if isinstance(stop, Terminated):
        print(f"{name}: terminated by {signal.Signals(stop.signum).name}; "
              "unfinished output was removed", file=sys.stderr)
        return 128 + stop.signum
    print(f"{name}: interrupted; unfinished output was removed", file=sys.stderr)
    return 130


def _stopped_by(err: BaseException) -> BaseException | None:
    """The KeyboardInterrupt or Terminated that ``err`` was raised from or while handling
    (its cause or context, at any depth), or None."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, (KeyboardInterrupt, Terminated)):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def os_error_line(err: OSError) -> str:
    """``/x/y: No space left on device``: an OSError as one line."""
    reason = err.strerror or (str(err).splitlines()[0] if str(err) else type(err).__name__)
    return f"{err.filename}: {reason}" if getattr(err, "filename", None) else reason


#: The cyclic garbage collector's thresholds in the ``forecast`` program (Python's own: 700,
#: 10, 10). A command imports JAX, xarray, pandas and matplotlib, about a million objects
#: that live as long as the process, and Python's thresholds go through them again and
#: again as they are made: 0.2-0.4 s of a run on 2 cores, measured with ``perf``. These
#: collect the young objects every 20,000 allocations and the old ones rarely; what a run
#: frees, it frees by reference counting (a chunk's arrays, as soon as they are folded).
GC_THRESHOLDS = (20_000, 20, 20)
#: Set for the program where the user has not set them: OpenBLAS (NumPy's and SciPy's, a copy
#: each) starts a thread per core as it loads, and those threads spin, waiting for work,
#: before they sleep: 0.3-0.4 CPU-s of a run on 2 cores, measured with ``perf``. The
#: program's matrices are small (the copula's: 131 rows with six labs), and the priors'
#: linear algebra runs on one thread in any case (:mod:`priors.linalg`): the same numbers.
PROGRAM_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1"}
#: The glibc tunable (2.35 and later) that has ``malloc`` ask the kernel for transparent huge
#: pages (2 MB) for the memory it maps: :func:`_with_huge_pages`.
HUGE_PAGES = "glibc.malloc.hugetlb=1"
#: Set for the program's second start only (:func:`_with_huge_pages`), and removed there.
_STARTED_AGAIN = "_FORECAST_STARTED_AGAIN"


def entry() -> None:
    """The ``forecast`` program: :func:`main`, then exit with its code. It starts again with
    glibc's ``malloc`` on huge pages where that helps (:func:`_with_huge_pages`), collects
    cyclic garbage less often (:data:`GC_THRESHOLDS`), keeps OpenBLAS to the calling thread
    (:data:`PROGRAM_ENVIRONMENT`, before NumPy loads) and runs a command on this machine
    without Dask (:func:`_without_dask`). Once the command is done, Ctrl-C and termination
    are ignored, and the process ends at once (:func:`_exit`). Not in :func:`main`, which
    tests and other programs call in their own process."""
    _with_huge_pages()
    gc.set_threshold(*GC_THRESHOLDS)
    for name, value in PROGRAM_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    if os.environ["OPENBLAS_NUM_THREADS"] == "1" and "numpy" not in sys.modules:
        from priors.linalg import blas_on_one_thread

        blas_on_one_thread()  # the priors' linear algebra need not set the count (threadpoolctl)
    code = main(program=True)
    _ignore_further_signals()
    _exit(code)


def _with_huge_pages() -> None:
    """Run the program again, in the same process (``exec``: same PID, arguments, streams),
    with glibc's ``malloc`` on transparent huge pages (:data:`HUGE_PAGES` added to
    ``$GLIBC_TUNABLES``, which glibc reads only as a process starts), where that changes
    anything (:func:`_huge_pages_help`).

    XLA takes every buffer of a chunk from ``malloc``, and the large ones (the model's
    scratch memory, 254 MB a chunk in the default run; its scores and outputs) ``malloc``
    maps fresh from the system on every call: the kernel then faults them in and zeroes
    them 4 KB at a time, a fifth of the CPU time of the model on 2 cores (``perf``). With
    2 MB pages that is 10x fewer faults (1.2 million to 0.11 million for eight chunks): a
    chunk 0.65 s -> 0.55 s, ``forecast run --samples 1000000`` 20.3 s -> 18.8 s (median of
    3), 5-9% more peak memory. Costs the start of a second interpreter, about 20 ms. Set
    ``GLIBC_TUNABLES=glibc.malloc.hugetlb=0`` to run without; the numbers are the same.
    Not under a profiler or a tracer (:func:`_observed`), which a new start would lose, and
    once only (a mark in the environment, whatever glibc does with its tunables). The
    tunable stays in the environment of the processes the command starts."""
    if os.environ.pop(_STARTED_AGAIN, None) or _observed() or not sys.orig_argv or not _huge_pages_help():
        return  # once: glibc drops the tunable itself from a privileged process (setuid, capabilities)
    tunables = os.environ.get("GLIBC_TUNABLES")
    os.environ["GLIBC_TUNABLES"] = f"{tunables}:{HUGE_PAGES}" if tunables else HUGE_PAGES
    os.environ[_STARTED_AGAIN] = "1"
    flush_output()  # nothing is written yet: nothing would be written twice
    try:
        os.execv(sys.executable, sys.orig_argv)
    except (OSError, ValueError):  # not to be had (the interpreter moved, no memory, embedded): run as it is
        del os.environ[_STARTED_AGAIN]
        if tunables is None:
            del os.environ["GLIBC_TUNABLES"]
        else:
            os.environ["GLIBC_TUNABLES"] = tunables


def _huge_pages_help(*, platform: str = sys.platform, tunables: str | None = None, libc: str | None = None,
                     huge_pages: str | None = None) -> bool:
    """Whether :func:`_with_huge_pages` starts the program again: on Linux with glibc 2.35 or
    later (``libc``: ``os.confstr("CS_GNU_LIBC_VERSION")``), the kernel's transparent huge
    pages given where asked for (``huge_pages``: the line of
    ``/sys/kernel/mm/transparent_hugepage/enabled``, ``[madvise]`` chosen; with ``[always]``
    every large mapping has them already), ``$GLIBC_TUNABLES`` (``tunables``) silent on
    them (the user's choice, or this program's, started again). The arguments default to
    this process's."""
    if not platform.startswith("linux") or getattr(sys, "frozen", False) or not sys.executable:
        return False
    tunables = os.environ.get("GLIBC_TUNABLES", "") if tunables is None else tunables
    if "glibc.malloc.hugetlb" in tunables:
        return False
    if libc is None:
        try:
            libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
        except (AttributeError, ValueError, OSError):  # not glibc, or not POSIX
            return False
    name, _, version = libc.partition(" ")
    try:
        if name != "glibc" or tuple(int(part) for part in version.split(".")[:2]) < (2, 35):
            return False
    except ValueError:
        return False
    if huge_pages is None:
        try:
            huge_pages = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
        except OSError:  # no transparent huge pages in this kernel
            return False
    return "[madvise]" in huge_pages


def _without_dask(args: argparse.Namespace) -> None:
    """Hide Dask from a command that runs on this machine (no ``--scheduler``, nor
    ``$FORECAST_SCHEDULER``): as though it were not installed, as it is not without the
    ``cluster`` extra. xarray imports ``dask.array`` at its first Dataset and
    ``dask.distributed`` in ``to_netcdf``, only to see whether the data are Dask's: 0.4-0.8 s
    of every command on 2 cores, for nothing. ``sys.modules[name] = None`` is Python's own
    way to say a module cannot be imported (:func:`importlib.util.find_spec` gives None for it).
    The program's process only (:func:`entry`), and only before xarray is imported: xarray
    keeps what it found (``module_available`` is cached), and would then fail to import Dask."""
    if getattr(args, "scheduler", None) or "xarray" in sys.modules:
        return
    for name in ("dask", "distributed"):
        sys.modules.setdefault(name, None)


def _f2py_on_use() -> None:
    """Load NumPy's Fortran wrapper generator, ``numpy.f2py``, when something reads it, not
    when SciPy looks at it: ``scipy.special`` (every command's) clones NumPy's namespace for
    its array-API layer, attribute by attribute, and the lazily imported ``numpy.f2py`` is
    one of them (56 ms of every command on 2 cores, most of it compiling f2py's regular
    expressions). :class:`importlib.util.LazyLoader` puts a module in its place that runs
    its code at its first attribute read. The program's process only (:func:`entry`), once
    NumPy is imported, and only if nothing has imported ``numpy.f2py`` yet."""
    import importlib.util

    if "numpy.f2py" in sys.modules:
        return
    spec = importlib.util.find_spec("numpy.f2py")
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["numpy.f2py"] = module
    spec.loader.exec_module(module)
    sys.modules["numpy"].f2py = module  # as an import would set it (NumPy's __getattr__ would import it again)


def _exit(code: int) -> None:
    """End the finished command now: flush its output, run the exit handlers, and leave
    without tearing the interpreter down. Python's own shutdown frees every module and
    JAX's runtime one object at a time, about 0.7 s on 2 cores after a 4 s run, with
    nothing left to write; every file the command writes is closed by then. Under a profiler
    or a tracer (``python -m cProfile``, coverage: :func:`_observed`), or with a non-daemon
    thread that Python would wait for, it exits as Python does."""
    flush_output()  # a closed, broken or missing stream: the code stands
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if _observed() or any(t.is_alive() for t in others):
        sys.exit(code)  # a profiler's or a tracer's report, a thread to join: Python's own exit
    atexit._run_exitfuncs()  # logging, Dask's client, multiprocessing: the exit handlers sys.exit runs
    os._exit(code)


def _observed() -> bool:
    """Whether a profiler or a tracer watches the process: ``sys.setprofile``/``settrace``,
    or, from Python 3.12, a tool of ``sys.monitoring`` (cProfile's and coverage's way there)."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return True
    monitoring = getattr(sys, "monitoring", None)
    return monitoring is not None and any(monitoring.get_tool(tool) for tool in range(6))


if __name__ == "__main__":
    # run as outputs.cli, not __main__: one Terminated class for the command and the app
    from outputs import cli

    cli.entry()

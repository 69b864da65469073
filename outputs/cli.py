"""The ``forecast`` command line: one module per subcommand in ``forecast/commands``.

Each command module has a docstring (its description), ``HELP`` (one line),
``add_arguments(parser)`` and ``main(args) -> int``. Bad input raises
:class:`priors.InputError`; it is printed as one line and the exit code is 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import signal
import sys
import warnings

from outputs.commands.common import in_flags
from priors import InputError

#: Subcommands, in the order ``forecast --help`` lists them.
COMMANDS = ("run", "priors", "sensitivity", "plot", "report", "backtest", "calibrate", "compare", "record")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecast",
        description="Probabilistic forecasts of the training compute of the largest AI runs.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"outputs.commands.{name}")
        sub = subcommands.add_parser(
            name, help=module.HELP, description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(handler=module.main)
    return parser


class Terminated(BaseException):
    """Raised by the handler of a termination signal (SIGTERM, SIGHUP), so that it unwinds
    like Ctrl-C: ``staged_folder`` removes its unfinished folder on the way out."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


#: Signals that end a command as Ctrl-C does; the exit code is 128 + the signal number.
_TERMINATION_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                             if hasattr(signal, name))


def _terminate(signum, frame):
    for sig in _TERMINATION_SIGNALS:  # a second signal must not cut the clean-up short
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)


@contextlib.contextmanager
def _termination_raises():
    """While the command runs, termination signals raise :class:`Terminated`; the
    previous handlers are restored afterwards."""
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors: argparse prints and exits 2
    name = f"forecast {args.command}"
    try:
        with _termination_raises(), _one_line_warnings(name):
            code = int(args.handler(args) or 0)
            sys.stdout.flush()
        return code
    except InputError as err:
        print(f"{name}: error: {in_flags(str(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted; unfinished output was removed", file=sys.stderr)
        return 130
    except Terminated as err:
        print(f"{name}: terminated by {signal.Signals(err.signum).name}; "
              "unfinished output was removed", file=sys.stderr)
        return 128 + err.signum
    except BrokenPipeError:
        _quiet_stdout()
        return 128 + getattr(signal, "SIGPIPE", 13)


if __name__ == "__main__":
    sys.exit(main())

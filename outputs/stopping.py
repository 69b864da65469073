"""How a command is stopped by a signal, and what its process does before it ends or hands
over (exec, fork): shared by the command line, its drawing process and the app's server."""

from __future__ import annotations

import sys

__all__ = ["Terminated", "flush_output"]


def flush_output() -> None:
    """Flush the standard streams, passing over one that is closed, broken or missing: before
    the process ends, or starts again (exec) or forks, so that nothing buffered is lost or
    written twice."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):  # a closed, broken or missing stream
            pass


class Terminated(BaseException):
    """Raised by the handler of a termination signal (SIGTERM, SIGHUP), so that it unwinds
    like Ctrl-C: ``staged_folder`` removes its unfinished folder on the way out."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

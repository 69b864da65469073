"""How a command is stopped by a signal: shared by the command line and the app's server."""

from __future__ import annotations

__all__ = ["Terminated"]


class Terminated(BaseException):
    """Raised by the handler of a termination signal (SIGTERM, SIGHUP), so that it unwinds
    like Ctrl-C: ``staged_folder`` removes its unfinished folder on the way out."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

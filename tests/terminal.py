"""The command line as a terminal runs it, for tests that send it Ctrl-C."""

from __future__ import annotations

import sys


def cli_as_in_a_terminal(*args: str) -> list[str]:
    """The command line with Ctrl-C raising KeyboardInterrupt even where the test runner
    was started with SIGINT ignored (as background jobs are, and Python keeps it ignored)."""
    code = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            f"sys.argv = ['forecast', *{list(args)!r}]; "
            "runpy.run_module('outputs.cli', run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", code]

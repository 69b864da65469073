"""Stopping a computation between chunks of worlds, from outside the code that runs it.

A caller that may have to give up a computation (the app, when the page that asked for it
has gone) runs it under :func:`checked_by`; the engine calls :func:`checkpoint` before each
chunk, which calls that check, in the computing thread, and lets whatever it raises unwind
the computation. This is the reliable way: an exception sent into a thread from outside
(``PyThreadState_SetAsyncExc``) goes off at the thread's next Python instruction, which may
be inside a garbage-collection callback or a ``__del__`` that swallows it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextvars import ContextVar

__all__ = ["checked_by", "checkpoint"]

_check: ContextVar[Callable[[], None] | None] = ContextVar("forecast_cancel_check", default=None)


@contextlib.contextmanager
def checked_by(check: Callable[[], None]):
    """While this block runs (in this thread), :func:`checkpoint` calls ``check``."""
    token = _check.set(check)
    try:
        yield
    finally:
        _check.reset(token)


def checkpoint() -> None:
    """Call the check of the enclosing :func:`checked_by` block, if any (it raises to stop)."""
    check = _check.get()
    if check is not None:
        check()

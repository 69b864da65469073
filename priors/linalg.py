"""The priors' linear algebra, with the same bits on every machine.

NumPy's LAPACK (OpenBLAS) splits a factorisation of a matrix of more than a hundred rows or
so over as many threads as the machine has cores, and its rounding then depends on how many:
the Cholesky factor of the six-lab copula (131 x 131) differed in its last bits between one
thread and two, and so did every world drawn through it. The priors' linear algebra (the
copula's factor, the checks and the repair of correlation matrices, the lab expansion)
therefore runs on one thread (:func:`serial_blas`): the same worlds on any machine, at no
cost for matrices this small (13 microseconds a call to set and restore the count, after a
first call that finds the libraries, a few milliseconds). OpenBLAS's count is the library's,
not a thread's: the calls take a lock, so that two threads' limits do not undo each other,
and code of a user's that runs NumPy's BLAS in another thread meanwhile runs it on one
thread too.
"""

from __future__ import annotations

import functools
import threading

__all__ = ["blas_on_one_thread", "serial_blas"]

_LOCK = threading.RLock()
#: Whether NumPy's BLAS was started on one thread (:func:`blas_on_one_thread`).
_ONE_THREAD = False


def blas_on_one_thread() -> None:
    """Say that OpenBLAS runs on one thread in this process whatever calls it: the
    ``forecast`` program sets ``OPENBLAS_NUM_THREADS=1`` before NumPy loads, and changes it
    nowhere. Where NumPy's BLAS is OpenBLAS (its build configuration says so),
    :func:`serial_blas` then calls its function as it is: finding the libraries to set their
    count (threadpoolctl) took 20 ms of every command."""
    global _ONE_THREAD
    _ONE_THREAD = True


@functools.cache
def _openblas() -> bool:
    """Whether NumPy was built with OpenBLAS (``OPENBLAS_NUM_THREADS`` sets its count)."""
    import numpy

    try:
        name = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # noqa: BLE001 -- an older NumPy, or a build that does not say: set the count
        return False
    return "openblas" in str(name).lower()


@functools.cache
def _blas():
    """The BLAS libraries loaded with NumPy (threadpoolctl), found once."""
    import numpy  # noqa: F401 -- its OpenBLAS is the one to find
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def serial_blas(function):
    """Run ``function`` with NumPy's BLAS and LAPACK on one thread (a decorator): the same
    bits whatever the machine's cores. The count is the library's, not the calling
    thread's; it is set back when the call ends."""

    @functools.wraps(function)
    def on_one_thread(*args, **kwargs):
        if _ONE_THREAD and _openblas():
            return function(*args, **kwargs)
        with _LOCK, _blas().limit(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return on_one_thread

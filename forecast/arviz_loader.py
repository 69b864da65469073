"""ArviZ, imported where an InferenceData is built or one of its functions called, never at
``import forecast``: it brings matplotlib.pyplot and scipy.stats (~1 s) that a run needs not."""

from __future__ import annotations

import sys
import warnings


def arviz():
    """The ``arviz`` module, imported on first use without the FutureWarning that ArviZ 0.2x
    gives on import about its 1.0 refactor (users of this package can't act on it)."""
    module = sys.modules.get("arviz")
    if module is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            import arviz as module
    return module

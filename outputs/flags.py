"""The command line's names for the library's parameters, shared by the CLI and the app.

An error of the library names its parameter (``samples: ...``); the command line and the
app's page show the flag instead (``--samples: ...``), mapped here in one place.
"""

from __future__ import annotations

__all__ = ["FLAGS", "in_flags"]

#: Library parameters and the flags that set them: one map, so that an error names the
#: parameter in the Python API and the flag on the command line.
FLAGS = {
    "samples": "--samples", "seed": "--seed", "years": "--years", "thresholds": "--thresholds",
    "threshold": "--threshold", "target_year": "--target-year", "n_base": "--n-base",
    "since": "--since", "draws": "--draws", "chains": "--chains", "overrides": "--set",
    "sections": "--include", "source_run": "--from", "correlate": "--correlate", "as_of": "--as-of",
    "keep": "--keep", "scheduler": "--scheduler", "by": "--by",
}


def in_flags(message: str) -> str:
    """``"samples: must be ..."`` -> ``"--samples: must be ..."`` (other messages unchanged)."""
    name, sep, rest = message.partition(": ")
    return f"{FLAGS[name]}: {rest}" if sep and name in FLAGS else message

"""Output folders that appear whole or not at all, and are never overwritten silently."""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import tempfile
from pathlib import Path

from priors import InputError


def new_folder_name(prefix: str, *, parent: Path | str = ".") -> Path:
    """A fresh folder name ``<prefix>-YYYYmmdd-HHMMSS`` (with a counter if taken)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = Path(parent) / f"{prefix}-{stamp}"
    counter = 2
    while candidate.exists():
        candidate = Path(parent) / f"{prefix}-{stamp}-{counter}"
        counter += 1
    return candidate


def check_target(target: Path | str, *, force: bool) -> Path:
    """Refuse an existing output folder unless ``force``; call before any work is done."""
    target = Path(target)
    if target.exists() and not force:
        raise InputError(f"--out: {target} already exists; pass --force to replace it")
    if target.exists() and not target.is_dir():
        raise InputError(f"--out: {target} exists and is not a folder")
    return target


@contextlib.contextmanager
def staged_folder(target: Path | str, *, force: bool = False):
    """Yield a temporary folder beside ``target``; on success move it into place.

    On any error the temporary folder is removed and ``target`` is left as it was, so a
    failed run leaves no half-written output behind.
    """
    target = check_target(target, force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)

"""Output folders that appear whole or not at all, and are never overwritten silently."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import secrets
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


def _exists_error(target: Path) -> InputError:
    return InputError(f"--out: {target} already exists (written meanwhile by another run?); "
                      "pass --force to replace it")


def _claim_and_move(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target`` only if no one else has: never replaces a folder.

    ``os.mkdir`` claims the name atomically (it fails if the name exists, even as an empty
    folder), then ``os.rename`` swaps the staged folder for that empty claim in one step.
    Of two runs finishing together, exactly one gets the name; the other is refused.
    """
    try:
        os.mkdir(target)
    except FileExistsError:
        raise _exists_error(target) from None
    try:
        os.rename(staging, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.rmdir(target)  # our empty claim (a folder someone put there instead is kept)
        if isinstance(err, OSError) and err.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise _exists_error(target) from None
        raise


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _replace(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``, replacing whatever is there (``--force``): the old
    folder is first renamed aside, so ``target`` is at every moment a whole folder, and
    of two forced runs the later one wins."""
    for _ in range(20):
        aside = None
        try:
            if os.path.lexists(target):
                if not target.is_dir():
                    raise InputError(f"--out: {target} exists and is not a folder")
                aside = target.parent / f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
                os.rename(target, aside)
            os.rename(staging, target)
        except OSError as err:
            if err.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST):
                _restore(aside, target)
                raise
            if aside is not None:  # another run moved or wrote the folder meanwhile: again
                _remove(aside)
            continue
        except BaseException:
            _restore(aside, target)
            raise
        if aside is not None:
            _remove(aside)
        return
    raise InputError(f"--out: {target} keeps being replaced by other runs; try again")


def _restore(aside: Path | None, target: Path) -> None:
    if aside is not None and os.path.lexists(aside) and not os.path.lexists(target):
        with contextlib.suppress(OSError):
            os.rename(aside, target)


@contextlib.contextmanager
def staged_folder(target: Path | str, *, force: bool = False):
    """Yield a temporary folder beside ``target``; on success move it into place.

    On any error (and on an interrupt or termination signal, see :func:`outputs.cli.main`)
    the temporary folder is removed and ``target`` is left as it was, so a failed run leaves
    no half-written output behind. Without ``force`` the move never replaces a folder that
    appeared while the run worked (another run with the same ``--out``): it is refused with
    an :class:`~priors.InputError` instead.
    """
    target = check_target(target, force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield staging
        if force:
            _replace(staging, target)
        else:
            _claim_and_move(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

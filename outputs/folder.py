"""Output folders that appear whole or not at all, and are never overwritten silently."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import secrets
import shutil
import signal
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


#: Bytes an output folder takes besides its samples.nc (tables, plots, the tally).
FOLDER_MARGIN = 4 << 20


def check_target(target: Path | str, *, force: bool, need: int | None = None) -> Path:
    """Refuse an output folder that cannot be written; call before any work is done.

    Refused: an existing folder unless ``force``; a file; the current folder or one that
    holds it; a place under a file (``/etc/passwd/x``); a folder that cannot be written
    (read-only, no permission: tried by making and removing a folder there); and, when
    ``need`` (bytes) is given, a file system with less free space than that.
    """
    target = Path(target)
    if target.exists() and not force:
        raise InputError(f"--out: {target} already exists; pass --force to replace it")
    if target.exists() and not target.is_dir():
        raise InputError(f"--out: {target} exists and is not a folder")
    here = Path.cwd().resolve()
    if target.exists() and (target.resolve() == here or target.resolve() in here.parents):
        raise InputError(f"--out: {target} is the current folder or holds it; name a new folder")
    parent = target.absolute().parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"--out: cannot make {target}: {existing} is a file, not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=f".{target.name}.probe-", dir=existing)
        os.rmdir(probe)
    except OSError as err:
        raise InputError(f"--out: cannot write in {existing} ({err.strerror or err})") from None
    if need is not None:
        free = shutil.disk_usage(existing).free
        if free < need:
            raise InputError(f"--out: {existing} has {_megabytes(free)} free and this output takes "
                             f"about {_megabytes(need)}; free some space or write elsewhere")
    return target


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB"


def write_error(err: OSError, target: Path) -> InputError:
    """An error while a folder was written, as one line naming the output folder."""
    reason = err.strerror or (str(err).splitlines()[0] if str(err) else type(err).__name__)
    return InputError(f"--out: cannot write {target} ({reason}); nothing was written")


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
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    except OSError as err:
        raise write_error(err, target) from None
    try:
        try:
            yield staging
            if force:
                _replace(staging, target)
            else:
                _claim_and_move(staging, target)
        except OSError as err:  # a full disk, a folder made read-only meanwhile: one line
            raise write_error(err, target) from None
    except BaseException:
        _remove_unfinished(staging)
        raise


def _remove_unfinished(staging: Path) -> None:
    """Remove an unfinished folder, even while Ctrl-C or SIGTERM come again (held back,
    or, when delivered anyway, the removal goes on)."""
    for _ in range(10):
        try:
            with signals_held():
                shutil.rmtree(staging, ignore_errors=True)
            return
        except BaseException:  # noqa: BLE001 -- the command is stopping already; finish this first
            continue


#: Signals held back while an unfinished folder is removed.
HELD_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def signals_held():
    """Hold back Ctrl-C and termination signals (they arrive once this ends)."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    except (AttributeError, ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _netcdf_write(write, path: Path) -> None:
    """``write(path)``, where the netCDF4 library's failures (a full disk among them: it
    reports "NetCDF: HDF error") come as RuntimeError: an OSError naming the file instead,
    which the commands print as one line."""
    try:
        write(path)
    except RuntimeError as err:
        raise OSError(errno.EIO, f"could not write {path.name} ({err}: a full disk?)", str(path)) from None


#: A file system in memory (Linux): HDF5 files are written there first.
MEMORY_FOLDER = Path("/dev/shm")


def write_via_memory(write, path: Path | str, *, size: int | None = None) -> Path:
    """``write(p)`` writes a file at ``p`` (an HDF5/NetCDF writer); have it write the file
    in memory first, then copy it to ``path`` with plain writes.

    HDF5 does not survive a full disk: a write that fails midway ends in a segmentation
    fault from h5py's clean-up, after hundreds of lines of tracebacks. In memory
    (:data:`MEMORY_FOLDER`) the HDF5 writer does not meet the full disk, and the copy fails,
    if it does, with one ordinary OSError. Where there is no such folder, or it has less
    than twice ``size`` (bytes) free, ``write`` writes ``path`` directly.
    """
    path = Path(path)
    try:
        room = shutil.disk_usage(MEMORY_FOLDER).free if MEMORY_FOLDER.is_dir() else 0
        scratch = tempfile.mkdtemp(prefix="forecast-", dir=MEMORY_FOLDER) if room > 2 * (size or 0) else None
    except OSError:
        scratch = None
    if scratch is None:
        _netcdf_write(write, path)
        return path
    try:
        staged = Path(scratch) / path.name
        _netcdf_write(write, staged)
        shutil.copyfile(staged, path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return path


def write_files(folder: str | Path, files: dict[str, bytes]) -> list[Path]:
    """Write each of ``files`` (name: bytes) into ``folder``, in their order; the paths."""
    written = []
    for name, data in files.items():
        path = Path(folder) / name
        path.write_bytes(data)
        written.append(path)
    return written

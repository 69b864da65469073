"""Provenance of a forecast: what ``metadata.json`` records, and re-running from it.

The record holds everything :func:`forecast.run` needs to draw the same worlds again (prior
file, overrides, seed, samples, years, thresholds) plus what explains a difference if one
appears anyway (package, git commit, library versions, the priors' SHA-256).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import platform
import subprocess
from collections.abc import Mapping
from pathlib import Path

from forecast import ForecastResult, RunSettings, run_settings
from priors import InputError, builtin_prior_files, load_prior_set

__all__ = ["PACKAGE", "correlate_of", "git_commit", "overrides_of", "package_commit", "package_version", "rerun",
           "run_metadata", "reproduce_command", "sha256_file"]

PACKAGE = "compute-forecast"


def package_version(name: str = PACKAGE) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def git_commit(cwd: str | Path | None = None) -> dict | None:
    """``{"commit": sha, "dirty": bool}`` of the git repository at ``cwd``; None outside one
    (or without git)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status.strip())} if commit else None


def _source_checkout() -> Path | None:
    """The root of the git checkout the package's code is imported from (an editable
    install or a run from the source tree); None for an installed copy."""
    import outputs

    root = Path(outputs.__file__).resolve().parents[1]
    if not (root / ".git").exists() or not (root / "pyproject.toml").is_file():
        return None
    return root


def _direct_url_commit(name: str = PACKAGE) -> dict | None:
    """The commit pip recorded when it installed the package from a git URL."""
    try:
        text = importlib.metadata.distribution(name).read_text("direct_url.json")
        info = json.loads(text or "{}").get("vcs_info") or {}
    except (importlib.metadata.PackageNotFoundError, ValueError, OSError, AttributeError):
        return None
    commit = info.get("commit_id")
    return {"commit": str(commit), "dirty": False} if commit else None


def package_commit(checkout: str | Path | None = None) -> dict:
    """``{"version", "commit", "dirty"}`` of the code that runs: the git checkout the package
    is imported from, else the commit pip recorded at install; never the repository of
    the working folder (unless given as ``checkout``). ``commit``/``dirty`` are None when
    unknown."""
    if checkout is not None:
        found = git_commit(checkout)
    else:
        root = _source_checkout()
        found = (git_commit(root) if root is not None else None) or _direct_url_commit()
    found = found or {"commit": None, "dirty": None}
    return {"version": package_version(), **found}


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _builtin_name(source: str) -> str | None:
    try:
        target = Path(source).resolve()
    except (OSError, TypeError):
        return None
    for name, path in builtin_prior_files().items():
        if Path(path).resolve() == target:
            return name
    return None


def overrides_of(result: ForecastResult) -> dict[str, str] | None:
    """The ``--set`` overrides that turn the prior file into the result's priors.

    Found by comparing each prior's spec with the file's, so it works for results read back
    from a NetCDF file too. None when the prior file can no longer be read.
    """
    try:
        base = load_prior_set(result.priors.source or None)
    except (InputError, OSError):
        return None
    changed = {}
    for prior in result.priors:
        if prior.name not in base or base[prior.name].spec != prior.spec:
            changed[prior.name] = prior.spec
    return changed


def correlate_of(result: ForecastResult) -> list[str] | None:
    """The ``--correlate`` pairs that turn the prior file's correlations into the result's
    (a removed pair as ``=0``). None when the prior file can no longer be read."""
    try:
        base = load_prior_set(result.priors.source or None)
    except (InputError, OSError):
        return None
    latent = set(result.priors.latent_names) | set(result.priors.base_latent_names())
    ours = {c.pair: c for c in result.priors.correlations}
    theirs = {c.pair: c for c in base.correlations if c.pair <= latent}
    changed = [f"{c.first},{c.second}={c.rank:.10g}" for pair, c in ours.items()
               if pair not in theirs or theirs[pair].rank != c.rank]
    changed += [f"{c.first},{c.second}=0" for pair, c in theirs.items() if pair not in ours]
    return changed


def labs_of(result: ForecastResult) -> dict:
    """The labs of ``result``, and the ``--labs``/``--lab-correlation`` values that turn the
    prior file's labs into them (None where they agree)."""
    labs = result.priors.labs
    meta = {"names": list(labs.names), "correlation": labs.correlation, "flag": None, "correlation_flag": None}
    try:
        base = load_prior_set(result.priors.source or None).labs
    except (InputError, OSError):
        return meta
    if base.names != labs.names:
        meta["flag"] = len(labs.names)
    if base.correlation != labs.correlation:
        meta["correlation_flag"] = labs.correlation
    return meta


def reproduce_command(meta: Mapping, *, command: str = "report") -> str:
    """The ``forecast`` command line that draws the same worlds as ``meta`` records
    (:meth:`forecast.settings.RunSettings.to_argv` of :meth:`~forecast.settings.RunSettings.from_metadata`)."""
    return RunSettings.from_metadata(meta).command(command)


def run_metadata(
    result: ForecastResult,
    *,
    overrides: Mapping[str, str] | None = None,
    source_run: str | Path | None = None,
    now: dt.datetime | None = None,
    cwd: str | Path | None = None,
) -> dict:
    """Everything needed to reproduce ``result``'s numbers, as a JSON-ready dict.

    Parameters
    ----------
    result
        The forecast.
    overrides
        The ``--set`` overrides it was run with; found from the priors when None.
    source_run
        The run folder or NetCDF file it was read from, if any.
    now
        The timestamp to record (UTC now by default).
    cwd
        Folder whose git commit is recorded; by default the commit of the package's own
        code (:func:`package_commit`), never the working folder's.
    """
    years = [int(y) for y in result.years]
    if overrides is None:
        overrides = overrides_of(result)
    elif not isinstance(overrides, Mapping):
        overrides = dict(str(item).split("=", 1) for item in overrides)
    # repaired correlations are recorded as given, with the flag that repairs them again
    repaired = result.metadata.get("repaired_from")  # the --correlate pairs before repair
    meta = {
        "package": PACKAGE,
        "version": package_version(),
        "git": package_commit(cwd),
        "timestamp": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "prior_set": result.priors.name,
        "priors_file": result.priors.source or None,
        "priors_builtin": _builtin_name(result.priors.source) if result.priors.source else None,
        "priors_sha256": result.priors.fingerprint(),
        "overrides": dict(overrides) if overrides is not None else None,
        "correlate": json.loads(repaired) if repaired else correlate_of(result),
        "labs": labs_of(result),
        "correlations": {c.key: c.rank for c in result.priors.correlations},
        "as_of": result.metadata.get("as_of"),
        "record": result.metadata.get("record"),
        "repair_correlations": repaired is not None,
        "conditioning": {key: result.metadata.get(key) for key in ("pareto_k", "ess", "record_check")}
        if result.metadata.get("as_of") is not None else None,
        "seed": int(result.seed),
        "samples": int(result.n_samples),
        "kept": int(result.n_kept),
        "years": years,
        "thresholds": [float(t) for t in result.thresholds],
        "label": result.name,
        "source_run": str(source_run) if source_run is not None else None,
        "priors": {p.name: p.spec for p in result.priors},
        "environment": {
            "python": platform.python_version(),
            **{lib: package_version(lib) for lib in ("jax", "numpyro", "arviz", "xarray", "numpy")},
        },
    }
    meta["calibrated_on"] = result.metadata.get("calibrated_on")
    meta["command"] = result.metadata.get("command") or reproduce_command(meta)
    return meta


def rerun(meta: Mapping | str | Path) -> ForecastResult:
    """Run the forecast a ``metadata.json`` (or its dict) records: same worlds, same numbers.

    Raises
    ------
    priors.InputError
        When the record lacks what a re-run needs (e.g. the prior file is gone).
    """
    if not isinstance(meta, Mapping):
        path = Path(meta)
        if path.is_dir():
            path = path / "metadata.json"
        meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("calibrated_on"):
        raise InputError(f"metadata: this forecast was calibrated on {meta['calibrated_on']}; "
                         f"draw it again with: {meta.get('command')}")
    if meta.get("overrides") is None:
        raise InputError("metadata: the overrides of this run are unknown (its prior file could not be read)")
    result = run_settings(RunSettings.from_metadata(meta))
    if result.priors.fingerprint() != meta.get("priors_sha256", result.priors.fingerprint()):
        raise InputError("metadata: the prior file has changed since this run (its SHA-256 differs)")
    return result

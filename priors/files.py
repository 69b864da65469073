"""Prior files: the prior sets shipped with the package (:func:`builtin_prior_files`), and
reading a TOML file into a :class:`~priors.prior_set.PriorSet` (:func:`load_prior_set`).

A file holds a few optional top-level keys and one table per prior::

    name = "power_wall"
    description = "The 5 GW systems are not approved."
    inherit = "default"            # "default" (the default), another file, or "none"

    [priors.power_limit_growth]
    spec = "lognormal 1.2 to 1.8"  # see priors.spec
    unit = "x/yr"
    source = "..."

A prior may also be written as one line, ``[priors] mfu = "beta 0.3 to 0.5"``. A file that
inherits names only what it changes.

Priors that move together are joined by Spearman rank correlations (see
:mod:`priors.correlations`); a file inherits its parent's pairs and may change or remove
(``= 0``) any of them::

    [correlations]
    chip_growth.power_limit_growth = 0.6
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from priors.errors import PriorError

# the prior sets (JAX) and correlations (NumPy) are imported where a file is read: listing
# the files (every command line's --help) needs neither
if TYPE_CHECKING:
    from priors.prior_set import PriorSet

_TOP_KEYS = {"name", "description", "inherit", "priors", "correlations", "labs"}
#: The prior set a run uses unless told otherwise.
DEFAULT_NAME = "default"


def builtin_prior_files() -> dict[str, Path]:
    """The prior sets shipped with the package, by name: ``default`` and the scenarios."""
    root = resources.files("priors")
    files = {DEFAULT_NAME: Path(str(root / "default.toml"))}
    for entry in sorted((root / "scenarios").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            files[entry.name.removesuffix(".toml")] = Path(str(entry))
    return files


def _looks_like_path(text: str) -> bool:
    """Whether a prior argument names a file rather than a built-in set: it ends in
    ``.toml`` or holds a path separator."""
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return text.lower().endswith(".toml") or any(sep in text for sep in separators)


def resolve_prior_path(path_or_name: str | Path | None) -> Path:
    """A file path, or the name of a built-in set (``default``, ``moe``, ...).

    A built-in name wins over a file or folder of the same name in the working folder
    (``forecast run --out default`` must not hide the default priors); write
    ``./default`` or ``default.toml`` to mean a file. A folder is never a prior file.
    """
    if path_or_name is None:
        path_or_name = DEFAULT_NAME
    builtin = builtin_prior_files()
    text = str(path_or_name)
    if text in builtin and not _looks_like_path(text):
        return builtin[text]
    path = Path(path_or_name)
    if path.is_dir():
        raise PriorError("is a folder, not a prior file (a .toml file or a built-in set: "
                         f"{', '.join(builtin)})", source=text)
    if not path.is_file():
        raise PriorError(f"no such prior file (built-in sets: {', '.join(builtin)})", source=text)
    return path


def load_prior_set(
    path_or_name: str | Path | None = None,
    *,
    overrides: Mapping[str, str] | Iterable[str] | None = None,
    correlate: Iterable[str] | Mapping | None = None,
    repair_correlations: bool = False,
    labs: int | str | Iterable[str] | None = None,
    lab_correlation: float | str | None = None,
) -> PriorSet:
    """Read a prior file (or a built-in set by name), resolve inheritance, apply overrides.

    Parameters
    ----------
    overrides
        Priors replaced, as ``--set`` gives them: ``{"mfu": "0.45"}`` or ``["mfu=0.45"]``.
    correlate
        Rank correlations added or replaced, as ``--correlate`` gives them:
        ``["chip_growth,power_limit_growth=0.6"]``.
    repair_correlations
        Replace a matrix of correlations that is not positive definite by the nearest valid
        one (a :class:`~priors.correlations.CorrelationWarning` says what changed) instead
        of refusing it.
    labs, lab_correlation
        ``--labs N`` (N identical labs) and ``--lab-correlation R``: see :meth:`PriorSet.with_labs`.

    Raises
    ------
    PriorError
        For anything wrong in the file, with the file and the key in the message.
    """
    prior_set = _read(path_or_name, ()).with_labs(labs, correlation=lab_correlation).with_overrides(overrides)
    from priors import correlations as corr

    return prior_set.with_correlations(corr.parse_flags(correlate), repair=repair_correlations)


def _read(path_or_name, _seen: tuple[Path, ...]) -> PriorSet:
    """One prior file with what it inherits. Its correlations are not checked as a whole
    yet, and still hold the pairs of priors the file pins (dropped, and said so, once)."""
    from priors import correlations as corr
    from priors import labs as lab_scope
    from priors.labs import NEUTRAL
    from priors.prior_set import PriorSet, make_prior

    path = resolve_prior_path(path_or_name)
    where = str(path)
    if path.resolve() in _seen:
        raise PriorError("files inherit from each other in a cycle", source=where)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise PriorError(f"invalid TOML: {err}", source=where) from None
    except (OSError, UnicodeDecodeError) as err:
        raise PriorError(f"cannot read: {err}", source=where) from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise PriorError(
            f"unknown top-level key(s) {', '.join(sorted(unknown))}; "
            f"use {', '.join(sorted(_TOP_KEYS))} and one [priors.NAME] table per prior",
            source=where,
        )
    table = data.get("priors", {})
    if not isinstance(table, dict):
        raise PriorError("'priors' must be a table: [priors.NAME]", source=where)
    own = [make_prior(name, entry, where) for name, entry in table.items()]
    own_pairs = corr.parse_table(data.get("correlations", {}), where)
    lab_names, lab_correlation, own_labs = lab_scope.parse_table(
        data.get("labs", {}), where, make_prior,
        known=lambda name: True)  # names are checked once the parent is resolved
    name = str(data.get("name", path.stem))
    description = str(data.get("description", ""))
    is_default = path.resolve() == builtin_prior_files()[DEFAULT_NAME].resolve()
    parent = str(data.get("inherit", "none" if is_default else DEFAULT_NAME))
    if parent == "none":
        neutral = [make_prior(n, entry, "neutral value") for n, entry in NEUTRAL.items()
                   if n not in table]
        prior_set = PriorSet(name=name, priors=tuple(own) + tuple(neutral), description=description, source=where)
    else:
        parent_path = parent if parent in builtin_prior_files() else path.parent / parent
        if parent not in builtin_prior_files() and not Path(parent_path).is_file():
            raise PriorError(f"no such prior file {str(parent_path)!r} (inherit names a built-in set: "
                             f"{', '.join(builtin_prior_files())}, a file beside this one, or 'none')",
                             source=where, key="inherit")
        base = _read(parent_path, _seen + (path.resolve(),))
        unchecked = replace(base, correlations=())
        prior_set = replace(unchecked.with_priors(own, name=name), description=description, source=where,
                            correlations=base.correlations)
    corr.check_names(own_pairs, prior_set.names)
    prior_set = replace(prior_set, correlations=corr.merge(prior_set.correlations, own_pairs))
    return _with_file_labs(prior_set, lab_names, lab_correlation, own_labs, where)


def _with_file_labs(prior_set: PriorSet, names, correlation, own, where: str) -> PriorSet:
    """A prior set with a file's ``[labs]`` on top of what it inherits: new names keep the
    inherited overrides of labs that remain; the file's own overrides replace them."""
    from priors import labs as lab_scope

    for lab, prior in own:
        if prior.name not in prior_set:
            raise PriorError("unknown prior name", source=where, key=f"labs.{lab}.priors.{prior.name}")
    labs = prior_set.labs
    if names is not None:
        labs = replace(labs, names=names, overrides=tuple(i for i in labs.overrides if i[0] in names))
    if correlation is not None:
        labs = replace(labs, correlation=correlation)
    lab_scope.check_override_labs(labs, own, where)
    replaced = {(lab, p.name) for lab, p in own}
    labs = replace(labs, overrides=tuple(i for i in labs.overrides if (i[0], i[1].name) not in replaced)
                   + tuple(own))
    return replace(prior_set, labs=labs)

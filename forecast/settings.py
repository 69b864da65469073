"""Run settings: their defaults, defined once, and one input check per setting.

Every check raises :class:`priors.InputError` with a message that starts with the
parameter's name (``samples: ...``, ``years: ...``): library users see their own argument
names; the command line shows its flags instead (``outputs.cli`` maps the names).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from priors import InputError

DEFAULT_SAMPLES = 100_000
DEFAULT_SEED = 2024
#: Worlds a run keeps in memory and in samples.nc (its summaries use all of them): 10,000
#: resampled worlds describe the posterior to a percent, in a file of 28 MB instead of 280.
DEFAULT_KEEP = 10_000
#: What a run kept by default before (metadata that does not say what it kept).
LEGACY_KEEP = 100_000
DEFAULT_YEARS = range(2025, 2036)
#: Thresholds of the default timeline, in FLOP.
DEFAULT_THRESHOLDS = (1e26, 1e27, 1e28, 1e29, 1e30)
#: Target year and threshold of the headline sensitivity outputs.
DEFAULT_TARGET_YEAR = 2030
DEFAULT_THRESHOLD = 1e28
#: Seeds are whole numbers below 2**63 (JAX keys hold 64 bits).
MAX_SEED = 2**63 - 1

#: Bytes a kept world takes per forecast year (16 outputs, float64 and int8 codes) and per
#: prior, and how many copies of them a run holds at its peak (arrays, the NetCDF's float32
#: copy, the summaries' sorted copies).
_BYTES_PER_WORLD_YEAR = 14 * 8 + 2
_BYTES_PER_WORLD_PRIOR = 8
_PEAK_COPIES = 3


def default_years_text() -> str:
    """``"2025:2035"``: the default forecast years as the command line writes them."""
    return f"{DEFAULT_YEARS[0]}:{DEFAULT_YEARS[-1]}"


def _whole_number(value, name: str) -> int:
    import numpy as np  # here: the command line's options are read without NumPy

    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name}: must be a whole number, got {value!r}")
    return int(value)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _size(n_bytes: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if n_bytes < 1000 or unit == "PB":
            return f"{n_bytes:,.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    raise AssertionError("unreachable")


def memory_needed(samples: int, *, n_years: int, n_priors: int) -> int:
    """Peak bytes of ``samples`` worlds held in memory (the worlds a run keeps)."""
    per_world = n_years * _BYTES_PER_WORLD_YEAR + n_priors * _BYTES_PER_WORLD_PRIOR
    return _PEAK_COPIES * samples * per_world


def check_samples(samples, *, n_years: int | None = None, n_priors: int = 30, name: str = "samples") -> int:
    """A positive number of worlds that fits in memory (checked when ``n_years`` is given)."""
    samples = _whole_number(samples, name)
    if samples < 1:
        raise InputError(f"{name}: the number of worlds must be positive, got {samples:,}")
    if n_years is not None:
        need, have = memory_needed(samples, n_years=n_years, n_priors=n_priors), available_memory()
        if have is not None and need > have:
            raise InputError(
                f"{name}: {samples:,} worlds over {n_years} years would need about {_size(need)} of "
                f"memory, and {_size(have)} is available; use fewer worlds"
            )
    return samples


def check_keep(keep, samples: int, *, n_years: int, n_priors: int = 30) -> int:
    """How many of ``samples`` worlds a run keeps: ``keep`` (at most ``samples``), or all of
    them for ``"all"`` or ``None``; refused, with the memory it would need, when the kept
    worlds would not fit."""
    if keep is None or (isinstance(keep, str) and keep.strip().lower() == "all"):
        keep = samples
    elif isinstance(keep, str):
        try:
            keep = int(float(keep)) if float(keep).is_integer() else keep
        except ValueError:
            raise InputError(f"keep: a number of worlds or 'all', got {keep!r}") from None
    keep = _whole_number(keep, "keep")
    if keep < 0:
        raise InputError(f"keep: the number of worlds to keep cannot be negative, got {keep:,}")
    keep = min(keep, samples)
    need, have = memory_needed(keep, n_years=n_years, n_priors=n_priors), available_memory()
    if have is not None and need > have:
        raise InputError(
            f"keep: keeping {keep:,} worlds over {n_years} years would need about {_size(need)} of "
            f"memory and {_size(disk_needed(keep, n_years=n_years, n_priors=n_priors))} of disk, and "
            f"{_size(have)} of memory is available; keep fewer (the summaries use every world anyway)"
        )
    return keep


#: Bytes a run conditioned on the record holds for each world it draws: its log weight,
#: which the resampling reads once every world is weighed (forecast.result).
BYTES_PER_WEIGHT = 8


def check_weights_fit(samples: int) -> None:
    """Refuse, before any work, a conditioned run whose log weights (one per world) would
    not fit in the memory available."""
    need, have = BYTES_PER_WEIGHT * samples, available_memory()
    if have is not None and need > have:
        raise InputError(
            f"samples: a run conditioned on the record holds one log weight per world: {samples:,} worlds "
            f"need about {_size(need)} of memory, and {_size(have)} is available; use fewer worlds"
        )


def disk_needed(keep: int, *, n_years: int, n_priors: int) -> int:
    """Bytes of samples.nc for ``keep`` worlds (outputs in float32, priors in float64)."""
    from models import OUTPUT_UNITS

    return keep * (n_years * len(OUTPUT_UNITS) * 4 + n_priors * 8)


def check_seed(seed) -> int:
    """A seed: a whole number from 0 to 2**63 - 1."""
    seed = _whole_number(seed, "seed")
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed: must be a whole number from 0 to {MAX_SEED:,}, got {seed:,}")
    return seed


def parse_years(years: str | Iterable[int] | None) -> tuple[int, ...]:
    """``"2025:2040"`` (inclusive), ``"2030"``, a range or a list of increasing years."""
    if years is None:
        return tuple(DEFAULT_YEARS)
    if isinstance(years, str):
        start, sep, end = years.partition(":")
        try:
            first, last = int(start), int(end) if sep else int(start)
        except ValueError:
            raise InputError(f"years: expected START:END such as 2025:2035, got {years!r}") from None
        if last < first:
            raise InputError(f"years: the range {years!r} is reversed (END must not be before START)")
        out = tuple(range(first, last + 1))
    else:
        try:
            out = tuple(_whole_number(y, "years") for y in years)
        except TypeError:
            raise InputError(f"years: expected START:END or a list of years, got {years!r}") from None
    if not out:
        raise InputError("years: the year range is empty")
    if any(b <= a for a, b in zip(out, out[1:])):
        raise InputError(f"years: years must increase, got {list(out)}")
    if out[0] < 1900 or out[-1] > 2200:
        raise InputError(f"years: {out[0]}..{out[-1]} is not a forecast range; use years between 1900 and 2200")
    return out


def parse_as_of(value, *, base_year: float | None = None) -> dt.date | str | None:
    """The date the record is read as published by (MODEL.md v3): an ISO date
    (``"2026-12-06"``), a year (its last day: ``2026`` is 2026-12-31), ``"record"`` (the
    record's checked date, resolved with the record), or ``None`` / ``"none"`` for the prior
    forecast. A date before the base year (:data:`models.BASE_YEAR`) is refused: the model
    has no runs then."""
    from models import BASE_YEAR

    base = int(BASE_YEAR if base_year is None else base_year)
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return None
    if isinstance(value, str) and value.strip().lower() == "record":
        return "record"
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        date = value
    else:
        text = str(value).strip()
        if isinstance(value, bool):
            raise InputError(f"as_of: expected a date YYYY-MM-DD, a year, 'record' or 'none', got {value!r}")
        if text.lstrip("-").isdigit():
            year = int(text)
            if not 1900 <= year <= 2200:
                raise InputError(f"as_of: {year} is not a year of the record")
            date = dt.date(year, 12, 31)
        else:
            try:
                if len(text) != 10:
                    raise ValueError
                date = dt.date.fromisoformat(text)
            except ValueError:
                raise InputError(f"as_of: expected a date YYYY-MM-DD, a year, 'record' or 'none', "
                                 f"got {value!r}") from None
    if date.year < base:
        raise InputError(f"as_of: {date.isoformat()} is before the base year {base}: the model has no "
                         f"runs to compare with the record then; use a date in {base} or later, or none")
    return date


def parse_threshold(value, *, name: str = "threshold") -> float:
    """A FLOP threshold: a positive, finite number (``"1e28"`` or a float)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r} is not a number (write e.g. 1e28)") from None
    if not (math.isfinite(number) and number > 0):
        raise InputError(f"{name}: {value!r} must be a positive number of FLOP")
    return number


def parse_thresholds(thresholds: str | Iterable[float] | None) -> tuple[float, ...]:
    """``"1e26,1e28"`` or a list of positive FLOP thresholds, returned sorted."""
    if thresholds is None:
        return DEFAULT_THRESHOLDS
    items = thresholds.split(",") if isinstance(thresholds, str) else list(thresholds)
    values = sorted({parse_threshold(item, name="thresholds") for item in items})
    if not values:
        raise InputError("thresholds: give at least one threshold")
    return tuple(values)


def check_target_year(target_year, years: Sequence[int]) -> int:
    """The target year, which must be one of the forecast years."""
    try:
        year = int(target_year)
    except (TypeError, ValueError):
        raise InputError(f"target_year: expected a year such as 2030, got {target_year!r}") from None
    if year != target_year and not isinstance(target_year, str):
        raise InputError(f"target_year: expected a whole year, got {target_year!r}")
    if year not in years:
        raise InputError(
            f"target_year: {year} is outside the forecast years {years[0]}..{years[-1]} "
            "(change the years or the target year)"
        )
    return year


def check_n_base(n_base) -> int:
    """Base rows of a Saltelli design: a power of two >= 2 (Sobol' balance)."""
    import numpy as np

    if isinstance(n_base, bool) or not isinstance(n_base, (int, np.integer)) or n_base < 2 or n_base & (n_base - 1):
        raise InputError(f"n_base: must be a power of two >= 2 such as 1024 or 8192, got {n_base!r}")
    return int(n_base)


# --------------------------------------------------------------------------- RunSettings

#: ``--as-of``'s default on the command line: the date the record was last checked.
RECORD = "record"


def as_items(items, name: str = "overrides") -> tuple[str, ...]:
    """``--set``/``--correlate`` items as the command line writes them: a mapping
    ``{"mfu": "0.45"}`` becomes ``("mfu=0.45",)``; one string is one item."""
    if items is None:
        return ()
    if isinstance(items, str):
        return (items,)
    if isinstance(items, Mapping):
        return tuple(f"{key}={value}" for key, value in items.items())
    try:
        return tuple(str(item) for item in items)
    except TypeError:
        raise InputError(f"{name}: expected NAME=SPEC items, got {items!r}") from None


def _number_text(value: float) -> str:
    """A float as the command line writes it, read back to the same float: ``1e28``, ``0.45``."""
    return repr(float(value)).replace("e+", "e")


@dataclass(frozen=True)
class RunSettings:
    """Every setting of a forecast run, parsed and checked once, in the constructor.

    The command line (:meth:`from_args`), the app, sweep, sensitivity and compare each build
    one and pass it down; :meth:`to_argv` is the command line that draws the same worlds
    again, and :meth:`from_metadata` rebuilds the settings a saved run records. A bad value
    raises :class:`priors.InputError` naming its parameter (``samples: ...``), which the
    command line shows as its flag.

    Attributes
    ----------
    priors
        A prior file or a built-in set's name (``None``: the default set).
    overrides, correlate, repair_correlations, labs, lab_correlation
        ``--set`` and ``--correlate`` items (``"NAME=SPEC"``, ``"A,B=RANK"``), whether to
        repair correlations that cannot hold together, ``--labs`` and ``--lab-correlation``.
    samples, seed, years, thresholds, keep
        Worlds drawn, the seed, the forecast years, the timeline's FLOP thresholds, and the
        worlds kept (at most ``samples``).
    as_of
        A :class:`datetime.date`, ``"record"`` (the record's checked date, resolved with the
        record by :meth:`conditioning`) or ``None`` (the prior forecast).
    record
        A CSV of runs merged over the shipped record (``--record``), or None.
    scheduler
        A Dask scheduler address (checked) or Client, or None: this machine.
    """

    priors: str | None = None
    overrides: tuple[str, ...] = ()
    correlate: tuple[str, ...] = ()
    repair_correlations: bool = False
    labs: int | str | tuple[str, ...] | None = None
    lab_correlation: float | None = None
    samples: int = DEFAULT_SAMPLES
    seed: int = DEFAULT_SEED
    years: tuple[int, ...] = tuple(DEFAULT_YEARS)
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    as_of: dt.date | str | None = RECORD
    record: str | None = None
    keep: int = DEFAULT_KEEP
    scheduler: object = None

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        if self.priors is not None and not isinstance(self.priors, (str, os.PathLike)):
            raise InputError(f"priors: expected a prior file or a built-in set's name, got {self.priors!r}")
        put("priors", None if self.priors in (None, "", "default") else str(self.priors))
        put("overrides", as_items(self.overrides, "overrides"))
        put("correlate", as_items(self.correlate, "correlate"))
        put("repair_correlations", bool(self.repair_correlations))
        if self.labs is not None and not isinstance(self.labs, (int, str)):
            put("labs", tuple(str(name) for name in self.labs))
        if self.lab_correlation is not None:
            from priors.labs import check_correlation

            put("lab_correlation", check_correlation(self.lab_correlation, source="--lab-correlation", key=None))
        samples = check_samples(self.samples)
        put("samples", samples)
        put("seed", check_seed(self.seed))
        years = parse_years(self.years)
        put("years", years)
        put("thresholds", parse_thresholds(self.thresholds))
        put("as_of", parse_as_of(self.as_of))
        put("record", None if self.record in (None, "") else str(self.record))
        put("keep", check_keep(self.keep, samples, n_years=len(years)))
        if isinstance(self.scheduler, str):
            from forecast.cluster import check_address

            put("scheduler", check_address(self.scheduler) if self.scheduler.strip() else None)

    # -- building --------------------------------------------------------------------------
    @classmethod
    def from_args(cls, args, **changes) -> RunSettings:
        """The settings of a parsed command line (``argparse.Namespace``); a command without
        an option gets its default. ``changes`` replace what the command line says."""
        fields = {name: getattr(args, name) for name in SETTING_NAMES if getattr(args, name, None) is not None}
        return cls(**{**fields, **changes})

    @classmethod
    def from_metadata(cls, meta: Mapping) -> RunSettings:
        """The settings a saved run records: its ``metadata.json`` (a dict, as
        :func:`outputs.provenance.run_metadata` writes it). Unknown overrides (a prior file
        that could not be read) count as none."""
        labs = meta.get("labs") or {}
        priors = meta.get("priors_builtin") or meta.get("priors_file")
        return cls(
            priors=priors, overrides=meta.get("overrides") or (), correlate=meta.get("correlate") or (),
            labs=labs.get("flag"), lab_correlation=labs.get("correlation_flag"),
            samples=int(meta["samples"]), seed=int(meta["seed"]), years=[int(y) for y in meta["years"]],
            thresholds=[float(t) for t in meta["thresholds"]],
            as_of=meta.get("as_of"),  # None: the prior forecast
            keep=int(meta.get("kept", LEGACY_KEEP)),  # recorded since RunSettings
            record=meta.get("record"), repair_correlations=bool(meta.get("repair_correlations")),
        )

    def replace(self, **changes) -> RunSettings:
        """A copy with ``changes``, checked again."""
        return dataclasses.replace(self, **changes)

    # -- the command line ------------------------------------------------------------------
    def to_argv(self, command: str = "run", *, extra: Sequence[str] = (), minimal: bool = False) -> list[str]:
        """``["forecast", command, ...]``: the command line that draws the same worlds again
        (``extra``: the command's own options, written before ``--seed``). Samples, seed,
        years and thresholds are written even at their default, so the line stays true when
        a default changes; ``minimal``: only what differs from ``forecast run``'s defaults."""
        default = RunSettings()
        parts = ["forecast", command]
        if self.priors is not None:
            parts += ["--priors", self.priors]
        for item in self.overrides:
            parts += ["--set", item]
        for pair in self.correlate:
            parts += ["--correlate", pair]
        if self.repair_correlations:
            parts.append("--repair-correlations")
        if self.record is not None:
            parts += ["--record", self.record]
        if self.labs is not None:
            parts += ["--labs", ",".join(self.labs) if isinstance(self.labs, tuple) else str(self.labs)]
        if self.lab_correlation is not None:
            parts += ["--lab-correlation", f"{self.lab_correlation:g}"]
        if self.as_of != RECORD:
            parts += ["--as-of", "none" if self.as_of is None else self.as_of.isoformat()]
        parts += list(extra)
        for flag, value, text in (
            ("--seed", self.seed, str(self.seed)),
            ("--samples", self.samples, str(self.samples)),
            ("--years", self.years, f"{self.years[0]}:{self.years[-1]}"),
            ("--thresholds", self.thresholds, ",".join(_number_text(t) for t in self.thresholds)),
        ):
            if not minimal or value != getattr(default, flag[2:]):
                parts += [flag, text]
        if self.keep != min(default.keep, self.samples):
            parts += ["--keep", "all" if self.keep == self.samples else str(self.keep)]
        return parts

    def command(self, command: str = "run", **options) -> str:
        """:meth:`to_argv` as one shell-quoted line."""
        import shlex

        return shlex.join(self.to_argv(command, **options))

    # -- what the settings describe --------------------------------------------------------
    def prior_set(self, base=None):
        """The prior set: ``base`` (a :class:`~priors.PriorSet`) or the prior file, with the
        labs, overrides and correlations applied; a metalog read from a file whose tails
        leave its parameter's domain is fitted on the domain (with a warning)."""
        from priors import load_prior_set

        if base is None:
            from models import PARAMETERS

            return load_prior_set(self.priors, overrides=self.overrides, correlate=self.correlate,
                                  repair_correlations=self.repair_correlations, labs=self.labs,
                                  lab_correlation=self.lab_correlation).fitted_to(PARAMETERS)
        prior_set = base.with_labs(self.labs, correlation=self.lab_correlation).with_overrides(self.overrides)
        if self.correlate or self.repair_correlations:
            prior_set = prior_set.with_correlations(self.correlate, repair=self.repair_correlations)
        return prior_set

    def runs(self):
        """The record of runs: the shipped one merged with :attr:`record`."""
        from forecast.record.runs import load_record, load_runs

        return load_record(self.record) if self.record is not None else load_runs()

    def conditioning(self, runs=None):
        """``(the record as known on the as-of date, that date)``, or None for the prior
        forecast. Refused when no forecast year is on or before the date: the weights would
        say nothing (Pareto k = inf). ``runs``: the record (:meth:`runs` by default)."""
        from forecast.conditioning import record_as_of

        if self.as_of is None:
            return None
        known, date = record_as_of(self.runs() if runs is None else runs, self.as_of)
        if self.years[0] > date.year:
            raise InputError(
                f"as_of: nothing to condition on: the record as published by {date.isoformat()} has no "
                f"forecast year ({self.years[0]}..{self.years[-1]}) to compare with; use --as-of none for the "
                "prior forecast, or forecast years up to the as-of date")
        return known, date


#: The settings a :class:`RunSettings` holds, named as the command line's options (``args.<name>``).
SETTING_NAMES = tuple(field.name for field in dataclasses.fields(RunSettings))


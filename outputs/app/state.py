"""The page's state and its URL: ``?priors=power_wall&set=mfu:beta+mean+0.45,+0.35+to+0.55``.

A state is what ``forecast run`` would be given (prior set, ``--set`` overrides,
``--correlate`` pairs, samples, seed, years, ``--as-of``) plus the headline threshold and
year. :func:`from_query` reads a query string and returns the state with every parameter it
could read and a one-line error per parameter it could not; :func:`to_query` writes a state
back (defaults left out), so ``from_query(to_query(s)) == s``.

Every check is the engine's own (``forecast.settings``, ``priors``): a message on the page
is the line ``forecast run`` prints after ``error:``.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from forecast.settings import (
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    RunSettings,
    DEFAULT_THRESHOLD,
    DEFAULT_THRESHOLDS,
    check_samples,
    check_seed,
    check_target_year,
    default_years_text,
    parse_as_of,
    parse_threshold,
    parse_years,
)
from models import PARAMETERS
from outputs.flags import in_flags
from priors import InputError, PriorSet, builtin_prior_files, load_prior_set

__all__ = [
    "DEFAULT_YEAR",
    "PAGE_SAMPLES",
    "AppState",
    "Checked",
    "FieldError",
    "PAGE_TERMS",
    "check_state",
    "run_settings_of",
    "from_query",
    "in_page_terms",
    "prior_groups",
    "prior_set_toml",
    "thresholds_for",
    "to_query",
    "two_number_spec",
]

#: Worlds per update while typing; the "more worlds" button asks for the CLI's default.
PAGE_SAMPLES = 20_000
MORE_SAMPLES = DEFAULT_SAMPLES
#: The most worlds a page may ask for.
MAX_SAMPLES = 1_000_000
#: The longest prior spec a page may send (a mixture of a handful of components), the most
#: overrides and correlations, and the longest query: a spec is parsed and checked as
#: typed, and a mixture of a thousand components took a thread over a minute.
MAX_SPEC_CHARS = 400
MAX_ITEMS = 100
MAX_QUERY_CHARS = 20_000
#: The headline year (README: "P(>= 1e28 by 2028)").
DEFAULT_YEAR = 2028
#: Query parameters, in the order :func:`to_query` writes them.
PARAMETERS_OF_URL = ("priors", "set", "corr", "threshold", "year", "samples", "seed", "years", "as_of")


@dataclass(frozen=True)
class AppState:
    """Everything the page's numbers depend on."""

    priors: str = "default"
    #: ``--set`` overrides as (name, spec), in the order given (one per name).
    overrides: tuple[tuple[str, str], ...] = ()
    #: ``--correlate`` pairs as the CLI writes them: ``"chip_growth,power_limit_growth=0.6"``.
    correlate: tuple[str, ...] = ()
    threshold: float = DEFAULT_THRESHOLD
    year: int = DEFAULT_YEAR
    samples: int = PAGE_SAMPLES
    seed: int = DEFAULT_SEED
    years: str = field(default_factory=default_years_text)
    as_of: str = "record"

    @property
    def world_key(self) -> tuple:
        """What the worlds depend on (not the headline threshold and year)."""
        return (self.priors, tuple(sorted(self.overrides)), tuple(self.correlate), self.samples,
                self.seed, self.years, self.as_of)


@dataclass(frozen=True)
class FieldError:
    """A one-line message about one input: ``field`` is a parameter (``samples``), a prior
    (``set:mfu``), a pair (``corr:chip_growth,mfu=2``), ``corr`` (the pairs together) or
    ``url`` (an unknown parameter)."""

    field: str
    message: str

    def to_json(self) -> dict:
        return {"field": self.field, "message": self.message}


#: The page's name for each option, where the engine's message names the command line's
#: flag (``--samples: ...`` is about the field "worlds").
PAGE_TERMS = {"--priors": "prior set", "--samples": "worlds", "--seed": "seed", "--years": "years",
              "--thresholds": "threshold", "--threshold": "threshold", "--target-year": "by year",
              "--as-of": "as of", "--correlate": "correlations"}


def in_page_terms(message: str) -> str:
    """A message of ``forecast run`` in the page's terms: ``--set: mfu: ...`` reads
    ``mfu: ...`` (the prior's own field), ``--as-of: ...`` reads ``as of: ...`` (the
    field's label), and a hint ``(--samples)`` names the field, not the flag."""
    head, sep, rest = message.partition(": ")
    if sep and head == "--set":
        message = rest if ": " in rest else f"prior change: {rest}"
    elif sep and head in PAGE_TERMS:
        message = f"{PAGE_TERMS[head]}: {rest}"
    for flag, label in PAGE_TERMS.items():
        message = message.replace(f"({flag})", f"(the field '{label}')")
    return message


def _message(err: InputError) -> str:
    """The line ``forecast run`` prints after ``error:``, in the page's terms
    (:func:`in_page_terms`)."""
    return in_page_terms(in_flags(str(err).splitlines()[0] if str(err) else type(err).__name__))


def _split_set(text: str) -> tuple[str, str]:
    """``"mfu:beta 0.3 to 0.5"`` (or ``mfu=...``) -> ``("mfu", "beta 0.3 to 0.5")``."""
    cut = min((i for i in (text.find(":"), text.find("=")) if i >= 0), default=-1)
    if cut <= 0 or not text[cut + 1:].strip():
        raise InputError(f"--set: expected NAME:SPEC, got {text!r}")
    return text[:cut].strip(), text[cut + 1:].strip()


def _whole(text: str, name: str) -> int:
    try:
        number = float(text) if "e" in text.lower() else int(text)
    except ValueError:
        raise InputError(f"{name}: expected a whole number, got {text!r}") from None
    if not math.isfinite(number) or number != int(number):  # 1e400 is inf
        raise InputError(f"{name}: expected a whole number, got {text!r}")
    return int(number)


def _page_samples(text: str) -> int:
    """The worlds of one page update: at most :data:`MAX_SAMPLES` (the page shares this
    machine; a bigger run belongs to ``forecast run``)."""
    samples = check_samples(_whole(text, "samples"))
    if samples > MAX_SAMPLES:
        raise InputError(f"samples: at most {MAX_SAMPLES:,} worlds on the page, got {samples:,}; "
                         "use 'forecast run --samples N' for more")
    return samples


def from_query(query: str, *, default_priors: str = "default",
               prior_files: dict[str, Path] | None = None) -> tuple[AppState, list[FieldError]]:
    """The state a query string describes, and an error for each parameter that is refused
    (that parameter keeps its default).

    ``prior_files``: the prior sets a URL may name (the built-in sets by default, plus a
    file given to ``forecast app --priors``); a URL cannot read any other file.
    """
    allowed = prior_files if prior_files is not None else dict(builtin_prior_files())
    state, errors = AppState(priors=default_priors), []
    if len(query) > MAX_QUERY_CHARS:
        return state, [FieldError("url", f"the address is {len(query):,} characters long; "
                                         f"at most {MAX_QUERY_CHARS:,}")]
    overrides: dict[str, str] = {}
    pairs: list[str] = []
    fields: dict[str, str] = {}
    for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        value = value.strip()
        if key in ("set", "corr") and len(overrides) + len(pairs) >= MAX_ITEMS:
            errors.append(FieldError(key, f"{'prior changes' if key == 'set' else 'correlations'}: at most "
                                          f"{MAX_ITEMS} changes on the page"))
            continue
        if key == "set":
            try:
                name, spec = _split_set(value)
                if len(spec) > MAX_SPEC_CHARS:
                    raise InputError(f"--set: {name}: the spec is {len(spec):,} characters long; "
                                     f"at most {MAX_SPEC_CHARS} on the page (write longer ones in a prior file)")
                overrides.pop(name, None)
                overrides[name] = spec
            except InputError as err:
                errors.append(FieldError("set", _message(err)))
        elif key == "corr":
            if value:
                pairs.append(value)
        elif key in PARAMETERS_OF_URL:
            fields[key] = value
        else:
            errors.append(FieldError("url", f"unknown parameter {key!r}; use {', '.join(PARAMETERS_OF_URL)}"))
    readers = {
        "priors": lambda v: _prior_name(v, allowed),
        "threshold": lambda v: parse_threshold(v),
        "samples": _page_samples,
        "seed": lambda v: check_seed(_whole(v, "seed")),
        "years": lambda v: (parse_years(v), v)[1],
        "as_of": _as_of_text,
    }
    values = {}
    for key, reader in readers.items():
        if key in fields:
            try:
                values[key] = reader(fields[key])
            except InputError as err:
                errors.append(FieldError(key, _message(err)))
    state = replace(state, overrides=tuple(overrides.items()), correlate=tuple(pairs), **values)
    try:  # the default year too must be one of the years
        state = replace(state, year=check_target_year(fields.get("year", state.year), parse_years(state.years)))
    except InputError as err:
        errors.append(FieldError("year", _message(err)))
    return state, errors


def _as_of_text(text) -> str:
    """The as-of text of a URL, checked (:func:`parse_as_of`) and kept as written."""
    value = parse_as_of(text)
    return "none" if value is None else str(text).strip()


def _prior_name(value: str, allowed: dict[str, Path]) -> str:
    if value not in allowed:
        raise InputError(f"--priors: {value!r} is not a prior set of this page; use one of {', '.join(allowed)}")
    return value


def to_query(state: AppState, *, default_priors: str = "default") -> str:
    """The query string of ``state`` (without ``?``); parameters at their default are left out."""
    base = AppState(priors=default_priors)
    items: list[tuple[str, str]] = []
    if state.priors != base.priors:
        items.append(("priors", state.priors))
    items += [("set", f"{name}:{spec}") for name, spec in state.overrides]
    items += [("corr", pair) for pair in state.correlate]
    if state.threshold != base.threshold:
        items.append(("threshold", f"{state.threshold:g}"))
    for key in ("year", "samples", "seed", "years", "as_of"):
        if getattr(state, key) != getattr(base, key):
            items.append((key, str(getattr(state, key))))
    return urlencode(items, safe=":,")


# --------------------------------------------------------------------------- checking


@dataclass
class Checked:
    """A state checked field by field: the prior set of its valid parts, the errors of the
    others, the warnings the engine gave, and the state of the valid parts only."""

    state: AppState
    base: PriorSet | None = None
    priors: PriorSet | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    valid: AppState | None = None


def check_state(state: AppState, prior_files: dict[str, Path], *, load=load_prior_set) -> Checked:
    """Check each override and pair on its own, as ``forecast run`` would check it (same
    functions, same message), then the pairs together. ``valid`` is the state without the
    refused overrides and pairs (None when the prior set itself cannot be read).

    ``priors`` is then the prior set ``forecast run`` builds from the same options
    (``load_prior_set(file, overrides=..., correlate=...)``); ``load`` reads a prior file
    (a cached reader may be given)."""
    out = Checked(state=state)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out.base = load(prior_files[state.priors])
        except (InputError, KeyError) as err:
            out.errors.append(FieldError("priors", _message(err) if isinstance(err, InputError) else str(err)))
            return out
        good = list(state.overrides)
        try:  # all at once (a prior set is checked as a whole), one by one only if refused
            out.base.with_overrides([f"{n}={s}" for n, s in good]).validate(PARAMETERS)
        except InputError:
            good = []
            for name, spec in state.overrides:
                try:
                    out.base.with_overrides([f"{name}={spec}"]).validate(PARAMETERS)
                    good.append((name, spec))
                except InputError as err:
                    out.errors.append(FieldError(f"set:{name}", _message(err)))
        with_set = out.base.with_overrides([f"{n}={s}" for n, s in good])
        pairs = []
        for pair in state.correlate:
            try:
                with_set.with_correlations([pair])
                pairs.append(pair)
            except InputError as err:
                out.errors.append(FieldError(f"corr:{pair}", _message(err)))
        try:
            out.priors = with_set.with_correlations(pairs)
        except InputError as err:
            out.errors.append(FieldError("corr", _message(err)))
            out.priors, pairs = with_set.with_correlations([]), []
        out.valid = replace(state, overrides=tuple(good), correlate=tuple(pairs))
    out.warnings = _lines(caught)
    return out


def _lines(caught) -> list[str]:
    seen = []
    for item in caught:
        text = in_page_terms(in_flags(str(item.message).splitlines()[0]))
        if text not in seen:
            seen.append(text)
    return seen


def thresholds_for(state: AppState) -> str | None:
    """``--thresholds`` of the run: the CLI's default, with the headline threshold added
    when it is not one of them (thresholds change no world, only the timeline)."""
    if state.threshold in DEFAULT_THRESHOLDS:
        return None
    return ",".join(f"{t:g}" for t in sorted({*DEFAULT_THRESHOLDS, state.threshold}))


def run_settings_of(state: AppState) -> RunSettings:
    """The :class:`~forecast.settings.RunSettings` of ``forecast run`` for ``state``: the
    page runs them as the CLI does, so its numbers are the CLI's. ``priors`` is the page's
    name of the prior set (the server gives the prior set itself)."""
    return RunSettings(
        priors=state.priors, overrides=[f"{n}={s}" for n, s in state.overrides], correlate=state.correlate,
        samples=state.samples, seed=state.seed, years=state.years, thresholds=thresholds_for(state),
        as_of=state.as_of,
    )


def command_line(state: AppState) -> str:
    """The ``forecast run`` command that draws the same worlds, for the page to show."""
    return run_settings_of(state).command("run", minimal=True)


# --------------------------------------------------------------------------- the priors


def prior_groups(prior_set: PriorSet) -> list[tuple[str, list[str]]]:
    """The priors by model block, as docs/model.md groups them (``Other`` last, if any)."""
    from outputs.plots.priors import PRIOR_GROUPS

    known = {name for _, names in PRIOR_GROUPS for name in names}
    groups = [(title, [n for n in names if n in prior_set]) for title, names in PRIOR_GROUPS]
    others = [n for n in prior_set.names if n not in known]
    if others:
        groups.append(("Other", others))
    return [(title, names) for title, names in groups if names]


def two_number_spec(spec: str) -> tuple[str, float, float] | None:
    """``"lognormal 2 to 10"`` -> ``("lognormal", 2.0, 10.0)``: a spec written as its 5th and
    95th percentiles only, which the page lets you drag; None for any other spec."""
    words = spec.split()
    if len(words) != 4 or words[2] != "to" or words[0] not in ("lognormal", "normal", "uniform", "loguniform"):
        return None
    try:
        return words[0], float(words[1]), float(words[3])
    except ValueError:
        return None


def _toml_string(text: str) -> str:
    return json.dumps(str(text), ensure_ascii=False)


def prior_set_toml(prior_set: PriorSet, *, description: str = "") -> str:
    """A prior file that ``forecast run --priors`` reads back to the same priors and pairs
    (``inherit = "none"``: every prior written out)."""
    lines = [f"name = {_toml_string(prior_set.name)}",
             f"description = {_toml_string(description or prior_set.description)}",
             'inherit = "none"', ""]
    for prior in prior_set:
        lines.append(f"[priors.{prior.name}]")
        lines.append(f"spec = {_toml_string(prior.spec)}")
        for key in ("unit", "description", "source"):
            if getattr(prior, key):
                lines.append(f"{key} = {_toml_string(getattr(prior, key))}")
        lines.append("")
    if prior_set.correlations:
        lines.append("[correlations]")
        lines += [f"{c.first}.{c.second} = {c.rank!r}" for c in prior_set.correlations]
        lines.append("")
    labs = prior_set.labs
    if labs != type(labs)():  # more than the one lab of a file without [labs]
        lines += ["[labs]", f"names = [{', '.join(_toml_string(n) for n in labs.names)}]",
                  f"correlation = {labs.correlation!r}", ""]
        for lab, prior in labs.overrides:
            lines.append(f"[labs.{lab}.priors.{prior.name}]")
            lines.append(f"spec = {_toml_string(prior.spec)}")
            for key in ("unit", "source"):
                if getattr(prior, key):
                    lines.append(f"{key} = {_toml_string(getattr(prior, key))}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"

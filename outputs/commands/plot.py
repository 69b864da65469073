"""Re-draw the plots of a saved forecast, without running the model again.

RUN is a folder written by 'forecast run' (or 'forecast report'), or its samples.nc. The
plots go to a new folder (default: plots-<prior set>-<time> here); an existing --out is
replaced only with --force, and never when it holds the saved forecast itself.
"""

from __future__ import annotations

from pathlib import Path

from outputs import PLOTS, save_plots
from outputs.commands.common import add_output_options, load_forecast, parse_formats
from outputs.folder import check_target, new_folder_name, staged_folder
from priors import InputError


def add_arguments(parser) -> None:
    parser.add_argument("source", metavar="RUN", help="run folder or its samples.nc")
    parser.add_argument("--kind", default=",".join(PLOTS), metavar=",".join(PLOTS),
                        help=f"plots to draw (default: all of {', '.join(PLOTS)})")
    add_output_options(parser)


def parse_kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip().lower() for k in text.split(",") if k.strip()))
    bad = [k for k in kinds if k not in PLOTS]
    if bad or not kinds:
        raise InputError(f"--kind: unknown plot kind(s) {', '.join(bad) or '(none)'}; use {', '.join(PLOTS)}")
    return kinds


def check_not_source(target: Path, source: Path) -> None:
    """Refuse an output folder that is, or holds, the input: --force would delete it."""
    target, source = target.resolve(), source.resolve()
    if target == source or target in source.parents:
        raise InputError(f"--out: {target} holds the input {source}; choose another folder")


def main(args) -> int:
    from forecast.record.published import load_published
    from forecast.record.runs import load_runs

    kinds = parse_kinds(args.kind)
    formats = parse_formats(args.format)
    source = Path(args.source)
    target = check_target(args.out, force=args.force) if args.out else None
    if target is not None:
        check_not_source(target, source)
    result = load_forecast(source, flag="")
    target = target or new_folder_name(f"plots-{result.priors.name.split()[0]}")
    with staged_folder(target, force=args.force) as staging:
        written = save_plots(result, staging, record=load_runs(), published=load_published(), kinds=kinds,
                             formats=formats)
    print(f"wrote {target}/")
    for path in written:
        print(f"  {path.name}")
    return 0

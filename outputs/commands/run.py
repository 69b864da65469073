"""Run the bottom-up forecast and write a new folder with its samples, tables and plots.

With no options: the default priors, 100,000 worlds, years 2025..2035, the default seed.
The folder holds samples.nc (every world, ArviZ/xarray), summary.csv and summary.md (the
per-year table, with what the run costs and the energy it uses), timeline.csv, crossing.csv,
the priors, and the plots (fan, timeline, constraints, resources; none with --format none).
"""

from __future__ import annotations

import contextlib
import functools

from outputs.commands.common import (
    add_forecast_options,
    add_output_options,
    check_output,
    forecast_settings,
    parse_formats,
    print_written,
    result_from_settings,
)
from outputs.folder import new_folder_name, staged_folder
from outputs.write.plot_process import plot_process

# the tables and plots (pandas, matplotlib) are imported where a run is written: --help needs none


def add_arguments(parser) -> None:
    add_forecast_options(parser)
    add_output_options(parser, plots_optional=True)


def main(args) -> int:
    from outputs import format_terminal_table, write_run
    from outputs.write.run import submit_plots

    formats = parse_formats(args.format, none=True)
    settings = forecast_settings(args)
    target = check_output(args, settings, prefix="forecast")
    # draws the plots beside the command (none to draw: no second process)
    with plot_process(settings.keep, len(settings.years)) if formats else contextlib.nullcontext() as plots:
        # handed the summaries as soon as the pass is done: drawn while the kept worlds are computed
        result = result_from_settings(settings, on_summaries=functools.partial(submit_plots, plots, formats=formats))
        target = target or new_folder_name(f"forecast-{result.priors.name.split()[0]}")
        with staged_folder(target, force=args.force) as staging:
            write_run(result, staging, formats=formats, plots=plots)
    print(format_terminal_table(result))
    print_written(target)
    return 0

"""The ``forecast`` command line: one module per subcommand in ``forecast/commands``.

Each command module has a docstring (its description), ``HELP`` (one line),
``add_arguments(parser)`` and ``main(args) -> int``. Bad input raises
:class:`priors.InputError`; it is printed as one line and the exit code is 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from priors import InputError

#: Subcommands, in the order ``forecast --help`` lists them.
COMMANDS = ("run", "priors", "sensitivity", "plot", "report", "backtest", "calibrate", "compare")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecast",
        description="Probabilistic forecasts of the training compute of the largest AI runs.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"outputs.commands.{name}")
        sub = subcommands.add_parser(
            name, help=module.HELP, description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(handler=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors: argparse prints and exits 2
    try:
        return int(args.handler(args) or 0)
    except InputError as err:
        print(f"forecast {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("forecast: interrupted; no output was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

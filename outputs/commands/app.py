"""Open a page in the browser to change any prior and watch the forecast move.

Starts a local server on 127.0.0.1, prints its URL and opens it in the browser (unless
--no-browser); Ctrl-C stops it. The page works offline. Left: every prior, editable in the
prior language (or by dragging its 5th/95th percentiles), the scenario, the correlations,
the years and the headline threshold and year. Right: the headline probability, the fan
chart with the record and the published forecasts, the timeline, the binding constraints,
what the run takes, and which prior matters most, updated as you type (20,000 worlds;
"more worlds" refines to 100,000). The URL holds the state: opening it again draws the same
worlds as 'forecast run' with the same priors, --set, --samples and --seed. Downloads: the
priors as a TOML file for 'forecast run --priors', summary.csv and a report folder (zip).
"""

from __future__ import annotations

import argparse

from priors import builtin_prior_files


def port_number(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port; use 0 (any free port) to 65535")
    return port


def add_arguments(parser) -> None:
    group = parser.add_argument_group("app")
    group.add_argument("--priors", metavar="NAME|FILE", default=None,
                       help=f"prior set the page starts from: a file or a built-in set "
                            f"({', '.join(builtin_prior_files())}; default: default)")
    group.add_argument("--port", type=port_number, default=8050,
                       help="port on 127.0.0.1 (default 8050; 0: any free port)")
    group.add_argument("--no-browser", dest="browser", action="store_false",
                       help="print the URL only; do not open a browser")


def main(args) -> int:
    from outputs.app import App, serve

    app = App(args.priors)
    return serve(app, port=args.port, open_browser=args.browser)

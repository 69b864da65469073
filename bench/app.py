"""How long an update of ``forecast app`` takes, as a user waits for it (not a test).

Runs the page's own code path (``outputs.app.App``: the same calls the HTTP handlers make)
for a sequence of prior edits at 20,000 worlds, after a first call that compiles (the
page's worlds and its first pass, as ``forecast app`` warms up), and prints per step: the
headline as the page first shows it (``/api/forecast?quick=1``: the edit's first pass at
``QUICK_SAMPLES`` worlds where the app has one, what a user waits for), the refined
headline at the page's 20,000 worlds (``/api/forecast``), the fan chart
(``/api/plot/fan.png``), refined headline + fan together (the refined page on screen),
then the rest of the page (table, timeline, constraints, tornado, resources) and the
"more worlds" refinement to 100,000 worlds. Over HTTP too (``--http``): the same sequence
through a local server, which adds JSON and socket time. ``--no-quick``: without the
first pass (each headline then waits for the page's worlds).

    python bench/app.py [--repeats 5] [--http]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import urllib.request

from outputs.app import App, make_server
from outputs.app.server import QUICK_SAMPLES

EDITS = [
    "set=mfu:beta+mean+0.45,+0.35+to+0.55",
    "set=mfu:beta+mean+0.45,+0.35+to+0.55&set=power_limit_gw_max:lognormal+2+to+10",
    "set=chip_growth:lognormal+1.2+to+2.5",
    "priors=power_wall&set=max_epochs:lognormal+2+to+8",
    "set=capex_limit_usd_max:lognormal+5e10+to+5e11",
]


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def direct(app: App, query: str) -> dict:
    times = {"headline": _time(lambda: app.forecast(query, quick=True))}
    times["refined"] = _time(lambda: app.forecast(query))
    times["fan"] = _time(lambda: app.plot_png("fan", query))
    times["on screen"] = times["headline"] + times["refined"] + times["fan"]
    times["table"] = _time(lambda: app.details(query))
    for kind in ("timeline", "constraints"):
        times[kind] = _time(lambda kind=kind: app.plot_png(kind, query))
    times["tornado"] = _time(lambda: app.tornado(query))
    times["resources"] = _time(lambda: app.plot_png("resources", query))
    times["whole page"] = sum(v for k, v in times.items() if k != "on screen")
    return times


def over_http(url: str, query: str) -> dict:
    def get(path):
        with urllib.request.urlopen(url + path, timeout=300) as response:
            response.read()

    times = {"headline": _time(lambda: get(f"api/forecast?{query}&quick=1")),
             "refined": _time(lambda: get(f"api/forecast?{query}")),
             "fan": _time(lambda: get(f"api/plot/fan.png?{query}"))}
    times["on screen"] = times["headline"] + times["refined"] + times["fan"]
    times["rest"] = _time(lambda: [get(p) for p in (f"api/details?{query}", f"api/plot/timeline.png?{query}",
                                                   f"api/plot/constraints.png?{query}", f"api/tornado?{query}",
                                                   f"api/plot/resources.png?{query}")])
    return times


def report(label: str, rows: list[dict]) -> None:
    print(f"\n{label} (seconds; median, min, max over {len(rows)} edits)")
    for key in rows[0]:
        values = [r[key] for r in rows]
        print(f"  {key:<12} {statistics.median(values):6.3f}  {min(values):6.3f}  {max(values):6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=len(EDITS), help="edits to time (cycled)")
    parser.add_argument("--http", action="store_true", help="also time the sequence over HTTP")
    parser.add_argument("--no-quick", action="store_true", help="no first pass at fewer worlds")
    args = parser.parse_args()
    app = App(quick_samples=None if args.no_quick else QUICK_SAMPLES)
    start = time.perf_counter()
    first = direct(app, "")
    app.compile_quick("")
    print(f"first update (compiles the model, the fan, the tornado, the first pass): {time.perf_counter() - start:.1f} s")
    print(f"first pass: {app.quick_samples or 'none'} worlds")
    edits = [EDITS[i % len(EDITS)] + f"&seed={2024 + i // len(EDITS)}" * (i >= len(EDITS))
             for i in range(args.repeats)]
    report("an edit at 20,000 worlds, direct calls", [direct(app, q) for q in edits])
    more = [_time(lambda q=q: (app.forecast(q + "&samples=100000"), app.plot_png("fan", q + "&samples=100000")))
            for q in edits[:2]]
    print("\n'more worlds' (100,000 worlds: headline + fan, first includes compile): "
          + ", ".join(f"{t:.2f} s" for t in more))
    if args.http:
        server = make_server(app, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        report("an edit at 20,000 worlds, over HTTP", [over_http(server.url, q + "&threshold=3e28") for q in edits])
        server.shutdown()


if __name__ == "__main__":
    main()

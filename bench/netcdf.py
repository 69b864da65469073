"""Benchmark: writing ``samples.nc`` with each encoding of the worlds.

Runs the default forecast once (``--samples``, in this process), then writes its
``samples.nc`` with the worlds uncompressed (``forecast.result.SAMPLES_ENCODING``, the
default), zlib level 1, and zlib level 1 after the shuffle filter, each ``--repeats`` times,
and prints each one's fastest CPU time (user + system of this process), wall time and
file size.

    python -m bench.netcdf [--samples 100000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import forecast
import forecast.result

ENCODINGS = {"none (default)": {}, "zlib 1": {"zlib": True, "complevel": 1},
             "zlib 1 + shuffle": {"zlib": True, "complevel": 1, "shuffle": True}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    result = forecast.run(samples=args.samples)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            for name, encoding in ENCODINGS.items():
                forecast.result.SAMPLES_ENCODING = encoding
                path = Path(tmp) / f"{i}-{len(encoding)}.nc"
                cpu, wall = time.process_time(), time.perf_counter()
                result.to_netcdf(path)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                if name not in rows or cpu < rows[name][0]:
                    rows[name] = (cpu, wall, path.stat().st_size / 1e6)
    print(f"{args.samples:,} worlds, {len(result.samples.sample):,} kept")
    print(f"{'encoding':<20}{'CPU s':>8}{'wall s':>8}{'MB':>8}")
    for name, (cpu, wall, mb) in rows.items():
        print(f"{name:<20}{cpu:>8.2f}{wall:>8.2f}{mb:>8.1f}")


if __name__ == "__main__":
    main()

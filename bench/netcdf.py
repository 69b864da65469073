"""Benchmark: writing ``samples.nc`` with each writer and each encoding of the worlds.

Runs the default forecast once (``--samples``, ``--keep``, in this process), then writes
its ``samples.nc`` with netCDF4 (``forecast.result.NETCDF_ENGINE``, the default) and with
h5netcdf, the worlds uncompressed (``forecast.result.SAMPLES_ENCODING``, the default), and
with netCDF4 zlib level 1, and zlib level 1 after the shuffle filter, each ``--repeats``
times, alternately, and prints each one's fastest CPU time (user + system of this
process), wall time and file size.

    python -m bench.netcdf [--samples 100000] [--keep 10000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import forecast
import forecast.result

#: name: (writer, encoding of the worlds)
CASES = {"netcdf4, none (default)": ("netcdf4", {}), "h5netcdf, none": ("h5netcdf", {}),
         "netcdf4, zlib 1": ("netcdf4", {"zlib": True, "complevel": 1}),
         "netcdf4, zlib 1 + shuffle": ("netcdf4", {"zlib": True, "complevel": 1, "shuffle": True})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--keep", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    result = forecast.run(samples=args.samples, keep=args.keep)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            for j, (name, (engine, encoding)) in enumerate(CASES.items()):
                forecast.result.NETCDF_ENGINE, forecast.result.SAMPLES_ENCODING = engine, encoding
                path = Path(tmp) / f"{i}-{j}.nc"
                cpu, wall = time.process_time(), time.perf_counter()
                result.to_netcdf(path)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                if name not in rows or cpu < rows[name][0]:
                    rows[name] = (cpu, wall, path.stat().st_size / 1e6)
    print(f"{args.samples:,} worlds, {len(result.samples.sample):,} kept")
    print(f"{'writer, encoding':<28}{'CPU s':>8}{'wall s':>8}{'MB':>8}")
    for name, (cpu, wall, mb) in rows.items():
        print(f"{name:<28}{cpu:>8.2f}{wall:>8.2f}{mb:>8.1f}")


if __name__ == "__main__":
    main()

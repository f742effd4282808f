"""Benchmark hotspots (or trends) over years of cases: in-process vs Dask LocalCluster, 1 and 2 workers.

Usage: ``python bench/bench_dask_hotspots.py [--analysis hotspots|trends] [--cases 1500000]
[--months 36] [--resolution 9] [--data-dir /work/dask-data] [--rows-per-file 1000000]
[--inproc-max-cases 15000000]``

`--analysis trends` runs emerging trends instead (monthly Gi* bins, Mann-Kendall,
the EHSA classes): in-process `trends.trend_table` against `dask_trend_table`;
the same-answer check then compares the classes, every slice's bins and the
trend z (rounded as the API gives it).

Synthetic cases (persistent and emerging hotspots over a uniform background, in
the district's bounding box) are written as GeoParquet by `synthetic_cases`, a
folder per month and at most `--rows-per-file` cases a file (a file is a Dask
partition, so that bounds a worker's rows in flight), and kept under
`--data-dir` for the next run with the same parameters (default: a temporary
folder, deleted).  They are analysed three ways: the in-process path (read
every file with GeoPandas, H3 counts, esda Gi* + FDR) and `dask_hotspot_table`
on a `LocalCluster` with 1 and 2 worker processes.  The in-process path holds
every case in memory; above `--inproc-max-cases` it is run on the first files
only (N cases, printed) and its memory extrapolated, and the same-answer check
is then between 1 and 2 workers.

Printed: seconds, peak memory of the process / of each worker, the 1→2 worker
scaling ratio, whether the answers agree (classes identical, z within 1e-9),
and the memory model: bytes per case on disk, per case of the partition in
flight on a worker (peak above the worker's idle memory), per case in-process,
per H3 cell (the summed counts and the final table, the state that does not
grow with the cases), and the per-worker throughput.  No database is needed.
The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import shapely
from synthetic_cases import BBOX, synthesise  # bench/synthetic_cases.py, beside this script


def area_cells(resolution: int) -> list[str]:
    """The study area: every H3 cell whose centre is in the bounding box."""
    box = shapely.box(*BBOX)
    return sorted(h3.geo_to_cells(shapely.geometry.mapping(box), resolution))


def rss_mb() -> float:
    """This process's resident memory now (MB)."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def in_process(files: list[Path], area: list[str], resolution: int) -> dict[str, object]:
    """The server's code path: read everything, count, Gi* with esda (run in a child process)."""
    import geopandas as gpd

    from layers.analytics.hotspots import aggregate, hotspot_table
    from layers.analytics.spatial_stats import gi_star, h3_graph
    from layers.core.map_types import HotspotQuery

    idle = rss_mb()
    start = time.perf_counter()
    frame = pd.concat([gpd.read_parquet(f) for f in files], ignore_index=True)
    cells, counts, _ = aggregate(
        frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(), resolution, area
    )
    query = HotspotQuery(resolution=resolution, permutations=0)
    gi_start = time.perf_counter()
    table = hotspot_table(counts, cells, query)
    gi_seconds = time.perf_counter() - gi_start
    z = gi_star(counts, h3_graph(cells)).z
    return {
        **_inproc_figures(frame, table, idle, start, gi_seconds),
        "classes": table["class"].tolist(),
        "z": np.nan_to_num(z).tolist(),
    }


def _inproc_figures(frame, table, idle: float, start: float, gi_seconds: float) -> dict:
    """Time, memory and sizes of an in-process run, measured the same way for both analyses."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "cases": len(frame),
        "seconds": time.perf_counter() - start,
        "gi_seconds": gi_seconds,
        "peak_mb": peak,
        "peak_bytes_per_case": (peak - idle) * 2**20 / len(frame),
        "bytes_per_case_in_memory": frame.memory_usage(deep=True).sum() / len(frame),
        "table_bytes_per_cell": table.memory_usage(deep=True).sum() / len(table),
    }


def in_process_trends(files: list[Path], area: list[str], resolution: int) -> dict[str, object]:
    """The server's trends path: read everything, monthly Gi* bins, Mann-Kendall, EHSA classes."""
    import geopandas as gpd

    from layers.analytics.trends import TrendQuery, slice_edges, trend_table

    idle = rss_mb()
    start = time.perf_counter()
    frame = pd.concat([gpd.read_parquet(f) for f in files], ignore_index=True)
    when = frame["created_at"].to_numpy(dtype="datetime64[us]").astype(np.int64) / 1e6
    query = TrendQuery(resolution=resolution, interval="month")
    edges = slice_edges(float(when.min()), float(when.max()), query.interval)
    gi_start = time.perf_counter()
    table = trend_table(
        frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(), when, area, query, edges
    )
    gi_seconds = time.perf_counter() - gi_start
    return {
        **_inproc_figures(frame, table, idle, start, gi_seconds),
        "classes": table["category"].tolist(),
        "z": np.nan_to_num(table["trend_z"].to_numpy(dtype=float)).tolist(),
        "bins": [list(map(int, b)) for b in table["bins"]],
    }


def _worker_figures(seconds: float, idle: dict, peaks: dict) -> dict[str, object]:
    """Time and each worker's idle and peak memory, measured the same way for both analyses."""
    return {
        "seconds": seconds,
        "worker_peak_mb": [round(peaks[w]) for w in sorted(peaks)],
        "worker_idle_mb": [round(idle[w]) for w in sorted(idle)],
        "above_idle_mb": max(peaks[w] - idle[w] for w in peaks),
    }


def on_dask_trends(
    files: list[Path], area: list[str], resolution: int, workers: int
) -> dict[str, object]:
    """`dask_trend_table` on a fresh LocalCluster of `workers` processes."""
    from layers.analytics.dask_scheduler import dask_client
    from layers.analytics.dask_trends import dask_trend_table
    from layers.analytics.trends import TrendQuery

    query = TrendQuery(resolution=resolution, interval="month")
    with dask_client(f"local:{workers}") as client:
        client.run(lambda: __import__("layers.analytics.dask_trends"))
        idle = client.run(rss_mb)
        start = time.perf_counter()
        table, _edges = dask_trend_table(files, area, query)
        seconds = time.perf_counter() - start
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {
        **_worker_figures(seconds, idle, peaks),
        "classes": table["category"].tolist(),
        "z": np.nan_to_num(table["trend_z"].to_numpy(dtype=float)).tolist(),
        "bins": [list(map(int, b)) for b in table["bins"]],
        "counts_bytes_per_cell": float("nan"),
        "table_bytes_per_cell": table.memory_usage(deep=True).sum() / len(table),
    }


def on_dask(files: list[Path], area: list[str], resolution: int, workers: int) -> dict[str, object]:
    """`dask_hotspot_table` on a fresh LocalCluster of `workers` processes."""
    from layers.analytics.dask_hotspots import dask_hotspot_table
    from layers.analytics.dask_scheduler import dask_client
    from layers.core.map_types import HotspotQuery

    query = HotspotQuery(resolution=resolution, permutations=0)
    with dask_client(f"local:{workers}") as client:
        # Workers are up and have imported the analysis before the clock starts.
        client.run(lambda: __import__("layers.analytics.dask_hotspots"))
        idle = client.run(rss_mb)
        start = time.perf_counter()
        table = dask_hotspot_table(files, area, query)
        seconds = time.perf_counter() - start
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    counts = pd.Series(table["count"].to_numpy(), index=[h3.str_to_int(c) for c in table["cell"]])
    return {
        **_worker_figures(seconds, idle, peaks),
        "classes": table["class"].tolist(),
        "z": np.nan_to_num(table["z_exact"].to_numpy()).tolist(),
        "counts_bytes_per_cell": counts.memory_usage(deep=True) / len(counts),
        "table_bytes_per_cell": table.memory_usage(deep=True).sum() / len(table),
    }


def child(mode: str, listing: str, resolution: int, analysis: str) -> None:
    """Run one measurement in this process and print it as JSON (keeps peak memory apart)."""
    files = [Path(f) for f in json.loads(Path(listing).read_text())]
    area = area_cells(resolution)
    if analysis == "trends":
        out = (
            in_process_trends(files, area, resolution)
            if mode == "inproc"
            else on_dask_trends(files, area, resolution, int(mode))
        )
    else:
        out = (
            in_process(files, area, resolution)
            if mode == "inproc"
            else on_dask(files, area, resolution, int(mode))
        )
    print(json.dumps(out))


def measure(mode: str, files: list[Path], resolution: int, analysis: str) -> dict[str, object]:
    """One measurement in a child process, given the files to read."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as listing:
        json.dump([str(f) for f in files], listing)
        listing.flush()
        command = [sys.executable, __file__, "--child", mode, "--root", listing.name]
        done = subprocess.run(
            [*command, "--resolution", str(resolution), "--analysis", analysis],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def max_z_diff(a: dict[str, object], b: dict[str, object]) -> float:
    """The largest |z| difference of two answers."""
    return float(np.max(np.abs(np.array(a["z"]) - np.array(b["z"]))))


def prepare(args: argparse.Namespace, data_dir: Path) -> tuple[list[Path], int, int]:
    """(the files, their bytes on disk, the rows of the largest file), printed."""
    t = time.perf_counter()
    files, reused = synthesise(data_dir, args.cases, args.months, args.rows_per_file, args.seed)
    disk = sum(f.stat().st_size for f in files)
    rows = min(args.rows_per_file, args.cases // args.months)
    how = "reused" if reused else "written"
    print(
        f"synthetic: {args.cases:,} cases in {len(files)} files ({rows:,} cases a file), "
        f"{disk / 1e6:.1f} MB ({disk / args.cases:.1f} bytes/case on disk), "
        f"{how} in {time.perf_counter() - t:.1f} s"
    )
    return files, disk, rows


def inproc_files(files: list[Path], args: argparse.Namespace) -> list[Path]:
    """All files, or the first ones holding at most `--inproc-max-cases` cases."""
    per_file = args.cases / len(files)
    keep = max(1, int(args.inproc_max_cases // per_file))
    return files if keep >= len(files) else files[:keep]


def memory_model(args: argparse.Namespace, runs: dict[str, dict], disk: int, rows: int, cells: int):
    """Print the memory model; return a worker's bytes per case of the partition in flight."""
    base, one, two = runs["inproc"], runs["1"], runs["2"]
    in_flight = max(one["above_idle_mb"], two["above_idle_mb"]) * 2**20 / rows
    print("memory model:")
    print(f"  disk: {disk / args.cases:.1f} bytes/case")
    print(
        f"  a worker: idle {one['worker_idle_mb']} MB + {in_flight:.0f} bytes per case of the "
        f"partition in flight ({rows:,} cases a file; flat in the number of files)"
    )
    counts = one["counts_bytes_per_cell"]
    step = "Gi* + FDR" if args.analysis == "hotspots" else "the trend table (every slice)"
    print(
        "  per H3 cell: "
        + (f"{counts:.0f} bytes (summed counts), " if counts == counts else "")
        + f"{one['table_bytes_per_cell']:.0f} bytes (final table on one node); "
        f"{step} in-process {base['gi_seconds'] * 1e6 / cells:.1f} µs/cell"
    )
    print(f"  throughput: {args.cases / one['seconds'] / 1e6:.2f} M cases/s per worker")
    return in_flight


def report(args: argparse.Namespace, disk: int, rows: int, runs: dict[str, dict]) -> dict:
    """Print the figures and the memory model; return the JSON summary."""
    base, one, two = runs["inproc"], runs["1"], runs["2"]
    full = bool(base["all_files"])
    ref = base if full else one
    same = all(r["classes"] == ref["classes"] for r in (one, two))
    same = same and all(r.get("bins") == ref.get("bins") for r in (one, two))
    zdiff = max(max_z_diff(r, ref) for r in (one, two))
    cells = len(one["classes"])
    scaling = one["seconds"] / two["seconds"]
    print(
        f"{args.analysis}: load average {os.getloadavg()[0]:.1f}; "
        f"{cells:,} H3 cells at resolution {args.resolution}"
    )
    at = "" if full else f" — on the first {base['cases']:,} cases only"
    print(
        f"in-process:        {base['seconds']:6.2f} s, peak {base['peak_mb']:.0f} MB "
        f"({base['bytes_per_case_in_memory']:.0f} bytes/case in the frame, "
        f"{base['peak_bytes_per_case']:.0f} bytes/case at peak){at}"
    )
    if not full:
        need = base["peak_bytes_per_case"] * args.cases / 1e9
        print(f"  in-process at {args.cases:,} cases would need ≈ {need:.1f} GB (not run)")
    print(f"Dask, 1 worker:    {one['seconds']:6.2f} s, worker peak {one['worker_peak_mb']} MB")
    print(f"Dask, 2 workers:   {two['seconds']:6.2f} s, worker peaks {two['worker_peak_mb']} MB")
    print(f"scaling 1→2 workers: {scaling:.2f}×")
    versus = "in-process" if full else "1 worker"
    print(f"same classes as {versus}: {same}; largest z difference {zdiff:.2e}")
    in_flight = memory_model(args, runs, disk, rows, cells)
    return {
        "analysis": args.analysis,
        "cases": args.cases,
        "cells": cells,
        "inprocess_cases": base["cases"],
        "inprocess_s": round(base["seconds"], 2),
        "inprocess_peak_mb": round(base["peak_mb"]),
        "dask1_s": round(one["seconds"], 2),
        "dask2_s": round(two["seconds"], 2),
        "worker_peaks_mb": [one["worker_peak_mb"], two["worker_peak_mb"]],
        "scaling": round(scaling, 2),
        "disk_bytes_per_case": round(disk / args.cases, 1),
        "in_flight_bytes_per_case": round(in_flight),
        "inprocess_bytes_per_case": round(base["peak_bytes_per_case"]),
        "table_bytes_per_cell": round(one["table_bytes_per_cell"]),
        "same_classes": same,
        "max_z_diff": zdiff,
        "load": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    """Synthesise (or reuse), measure three ways, print the figures and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_500_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--resolution", type=int, default=9)
    parser.add_argument("--data-dir", type=Path, help="keep the files here for the next run")
    parser.add_argument("--rows-per-file", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--inproc-max-cases", type=int, default=15_000_000)
    parser.add_argument(
        "--analysis",
        choices=("hotspots", "trends"),
        default="hotspots",
        help="Gi* + FDR over all cases, or emerging trends (monthly Gi* bins, Mann-Kendall, EHSA)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.root, args.resolution, args.analysis)
        return
    with tempfile.TemporaryDirectory() as tmp:
        files, disk, rows = prepare(args, args.data_dir or Path(tmp))
        chosen = inproc_files(files, args)
        runs = {"inproc": measure("inproc", chosen, args.resolution, args.analysis)}
        runs["inproc"]["all_files"] = len(chosen) == len(files)
        for workers in ("1", "2"):
            runs[workers] = measure(workers, files, args.resolution, args.analysis)
    print(json.dumps(report(args, disk, rows, runs)))


if __name__ == "__main__":
    main()

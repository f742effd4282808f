"""Benchmark hotspots over years of cases: in-process vs a Dask LocalCluster of 1 and 2 workers.

Usage: ``python bench/bench_dask_hotspots.py [--cases 1500000] [--months 36] [--resolution 9]``

Synthetic cases (persistent and emerging hotspots over a uniform background, in
the district's bounding box) are written as GeoParquet, a file per month, and
analysed three ways in the same run: the in-process path (read every file with
GeoPandas, H3 counts, esda Gi* + FDR) and `dask_hotspot_table` on a
`LocalCluster` with 1 and 2 worker processes.  Printed: seconds, peak memory of
the process / of each worker, the 1→2 worker scaling ratio, the bytes per case
on disk and in a worker's memory, and whether the three answers agree (classes
identical, z within 1e-9).  No database is needed.  The last line is JSON.
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

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

BBOX = (104.05, 30.62, 104.20, 30.75)
"""Chenghua's surroundings (lon/lat): the area the synthetic cases fall in."""


def synthesise(root: Path, cases: int, months: int, seed: int = 7) -> list[Path]:
    """`cases` points over `months` files: 60 % background, persistent and emerging clusters."""
    rng = np.random.default_rng(seed)
    per_month = cases // months
    centres = rng.uniform(BBOX[:2], BBOX[2:], size=(12, 2))
    files = []
    for m in range(months):
        n_bg = int(per_month * 0.6)
        bg = rng.uniform(BBOX[:2], BBOX[2:], size=(n_bg, 2))
        active = centres[: 8 + (4 if m >= months // 2 else 0)]  # four clusters emerge mid-way
        k = per_month - n_bg
        pick = active[rng.integers(0, len(active), size=k)]
        cl = pick + rng.normal(0, 0.002, size=(k, 2))
        xy = np.vstack([bg, cl])
        frame = gpd.GeoDataFrame(
            {
                "id": np.arange(m * per_month, m * per_month + len(xy)),
                "created_at": pd.Timestamp("2024-01-01", tz="UTC") + pd.DateOffset(months=m),
                "category_code": "0101",
                "channel_code": "hotline",
                "status": "closed",
            },
            geometry=shapely.points(xy),
            crs="EPSG:4326",
        )
        path = root / f"month={m:03d}" / "part-0.parquet"
        path.parent.mkdir(parents=True)
        frame.to_parquet(path, index=False)
        files.append(path)
    return files


def area_cells(resolution: int) -> list[str]:
    """The study area: every H3 cell whose centre is in the bounding box."""
    box = shapely.box(*BBOX)
    return sorted(h3.geo_to_cells(shapely.geometry.mapping(box), resolution))


def in_process(files: list[Path], area: list[str], resolution: int) -> dict[str, object]:
    """The server's code path: read everything, count, Gi* with esda (run in a child process)."""
    from layers.analytics.hotspots import aggregate, hotspot_table
    from layers.analytics.spatial_stats import gi_star, h3_graph
    from layers.core.map_types import HotspotQuery

    start = time.perf_counter()
    frame = pd.concat([gpd.read_parquet(f) for f in files], ignore_index=True)
    cells, counts, _ = aggregate(
        frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy(), resolution, area
    )
    query = HotspotQuery(resolution=resolution, permutations=0)
    table = hotspot_table(counts, cells, query)
    z = gi_star(counts, h3_graph(cells)).z
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "classes": table["class"].tolist(),
        "z": np.nan_to_num(z).tolist(),
        "bytes_per_case_in_memory": frame.memory_usage(deep=True).sum() / len(frame),
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
        start = time.perf_counter()
        table = dask_hotspot_table(files, area, query)
        seconds = time.perf_counter() - start
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {
        "seconds": seconds,
        "worker_peak_mb": sorted(peaks.values()),
        "classes": table["class"].tolist(),
        "z": np.nan_to_num(table["z_exact"].to_numpy()).tolist(),
    }


def child(mode: str, root: str, resolution: int) -> None:
    """Run one measurement in this process and print it as JSON (keeps peak memory apart)."""
    files = sorted(Path(root).rglob("*.parquet"))
    area = area_cells(resolution)
    out = (
        in_process(files, area, resolution)
        if mode == "inproc"
        else on_dask(files, area, resolution, int(mode))
    )
    print(json.dumps(out))


def measure(mode: str, root: Path, resolution: int) -> dict[str, object]:
    """One measurement in a child process."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--root",
            str(root),
            "--resolution",
            str(resolution),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Synthesise, measure three ways, print the figures and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_500_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--resolution", type=int, default=9)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.root, args.resolution)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        files = synthesise(root, args.cases, args.months)
        disk = sum(f.stat().st_size for f in files)
        print(
            f"synthetic: {args.cases:,} cases in {len(files)} files, {disk / 1e6:.1f} MB "
            f"({disk / args.cases:.1f} bytes/case on disk), {time.perf_counter() - t:.1f} s"
        )
        base = measure("inproc", root, args.resolution)
        one = measure("1", root, args.resolution)
        two = measure("2", root, args.resolution)
    same = all(r["classes"] == base["classes"] for r in (one, two))
    zdiff = max(float(np.max(np.abs(np.array(r["z"]) - np.array(base["z"])))) for r in (one, two))
    cells = len(base["classes"])
    print(
        f"load average {os.getloadavg()[0]:.1f}; {cells:,} H3 cells at resolution {args.resolution}"
    )
    print(
        f"in-process:        {base['seconds']:6.2f} s, peak {base['peak_mb']:.0f} MB "
        f"({base['bytes_per_case_in_memory']:.0f} bytes/case in memory)"
    )
    print(f"Dask, 1 worker:    {one['seconds']:6.2f} s, worker peak {one['worker_peak_mb']} MB")
    print(f"Dask, 2 workers:   {two['seconds']:6.2f} s, worker peaks {two['worker_peak_mb']} MB")
    print(
        f"scaling 1→2 workers: {one['seconds'] / two['seconds']:.2f}×; "
        f"in-process / 2 workers: {base['seconds'] / two['seconds']:.2f}×"
    )
    print(f"same classes: {same}; largest z difference {zdiff:.2e}")
    print(
        json.dumps(
            {
                "cases": args.cases,
                "cells": cells,
                "inprocess_s": round(base["seconds"], 2),
                "dask1_s": round(one["seconds"], 2),
                "dask2_s": round(two["seconds"], 2),
                "same_classes": same,
                "max_z_diff": zdiff,
                "load": round(os.getloadavg()[0], 1),
            }
        )
    )


if __name__ == "__main__":
    main()

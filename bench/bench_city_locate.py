"""City-scale locate: 10 M points against the city's ≈ 440,000 level-3 cells.

Run against a loaded city (`wangge demo load --city`, 20 districts).  Our
in-memory index (`grids.grid.cell_index`, built by `refresh_index`) locates
all N points; GeoPandas `sjoin` and a PostGIS `ST_Covers` join with GiST
indexes on both sides (the cells' own, and one built on the points' temp
table) locate the first `--subset` of the same points in the same run, so the
ratios are per point on identical input.  Prints the index's build time and
its resident size (RSS growth while it is built), our peak RSS growth while
locating, and how many answers differ from PostGIS (should be 0).

    .venv/bin/python bench/bench_city_locate.py [--url URL] [--points 10000000] [--subset 1000000]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import geopandas as gpd
import numpy as np
import shapely
from bench_locate import postgis, sample_points  # bench/, beside this script
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid.locate import refresh_index, snapshot_for
from layers.store.db import make_engine, normalise_url, resolve_database_url
from layers.store.settings import DatabaseSettings


def rss_mb() -> float:
    """Resident set size now, MB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def on_dask(snapshot, xs: np.ndarray, ys: np.ndarray, scheduler: str) -> None:
    """The whole chains (every rule, `GridSnapshot.locate`) in-process and on the workers."""
    from grids.grid.dask_locate import locate_on_cluster
    from layers.analytics.dask_scheduler import dask_client

    tolerance = 30.0
    for _ in range(2):  # the second pass: the lazy parts (reach mask, metric trees) built
        t = time.perf_counter()
        here = snapshot.locate(xs, ys, tolerance_m=tolerance)
        here_t = time.perf_counter() - t
    print(f"whole chains in-process, {len(xs):,} points: {here_t:.2f} s (second pass)")
    with dask_client(scheduler) as client:
        client.run(lambda: __import__("grids.grid.dask_locate"))
        times = []
        for _ in range(2):  # the first pass includes each worker's index build
            t = time.perf_counter()
            there = locate_on_cluster(snapshot, xs, ys, tolerance_m=tolerance)
            times.append(time.perf_counter() - t)
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    same = bool(
        np.array_equal(here.method, there.method)
        and all(np.array_equal(here.ids(k), there.ids(k)) for k in ("l3", "community", "street"))
    )
    print(
        f"on Dask ({scheduler}): first pass {times[0]:.2f} s (workers build their index), "
        f"second {times[1]:.2f} s → {here_t / times[1]:.2f}x in-process; "
        f"worker peaks {sorted(round(v) for v in peaks.values())} MB; same chains: {same}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="the city's database [default: settings]")
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--subset", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--scheduler",
        help="also locate the whole chains on Dask (local:N or an address) beside in-process",
    )
    args = parser.parse_args()
    url = (
        normalise_url(args.url)
        if args.url
        else resolve_database_url(DatabaseSettings(), start=True)
    )
    engine = make_engine(url, pool_size=1)
    with Session(engine) as session:
        before = rss_mb()
        t = time.perf_counter()
        refresh_index(session=session)
        build = time.perf_counter() - t
        index_mb = rss_mb() - before
        l3 = snapshot_for(session=session).cells[3]
        outlines = session.execute(text("SELECT ST_AsBinary(geom) FROM districts")).scalars()
        city = shapely.union_all(shapely.from_wkb([bytes(b) for b in outlines]))
        xs, ys = sample_points(city, args.points, args.seed)
        print(f"load average {os.getloadavg()} on {os.cpu_count()} cores")
        print(f"{len(l3.ids):,} level-3 cells; {len(xs):,} points in the city's districts")
        print(f"in-memory index: built in {build:.2f} s, RSS +{index_mb:,.0f} MB")

        base = rss_mb()
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t = time.perf_counter()
        ours = l3.index.covering(xs, ys)
        ours_t = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"ours, {len(xs):,} points: {ours_t:.2f} s, {len(xs) / ours_t / 1e6:.2f} M points/s; "
            f"answer {ours.nbytes / 1e6:.0f} MB, peak RSS {max(peak, peak_before):,.0f} MB "
            f"(points + answer held: {rss_mb() - base + (xs.nbytes + ys.nbytes) / 1e6:,.0f} MB)"
        )
        baselines(session, l3, xs[: args.subset], ys[: args.subset])
        if args.scheduler:
            on_dask(snapshot_for(session=session), xs, ys, args.scheduler)
    engine.dispose()
    print(f"load average after {os.getloadavg()}")


def baselines(session: Session, l3, sx: np.ndarray, sy: np.ndarray) -> None:
    """The first points by ours, GeoPandas `sjoin` and PostGIS (GiST on both sides)."""
    t = time.perf_counter()
    sub = l3.index.covering(sx, sy)
    ours_sub = time.perf_counter() - t
    cells = gpd.GeoDataFrame({"code": l3.codes}, geometry=l3.index.geoms, crs=4326)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(sx, sy), crs=4326)
    t = time.perf_counter()
    gpd.sjoin(pts, cells, predicate="within")
    sjoin_t = time.perf_counter() - t
    pg_t, pg_codes = postgis(session, sx, sy)
    ours_codes = np.where(sub >= 0, l3.codes[np.maximum(sub, 0)], None)
    differ = int(np.sum(ours_codes != pg_codes))
    n = len(sx)
    print(f"first {n:,} points: ours {ours_sub:.3f} s, sjoin {sjoin_t:.2f} s, PostGIS {pg_t:.2f} s")
    print(
        f"ratio vs sjoin {sjoin_t / ours_sub:.1f}x, vs PostGIS (GiST both sides) {pg_t / ours_sub:.1f}x"
    )
    print(f"answers differing from PostGIS (covers + lowest code): {differ}")


if __name__ == "__main__":
    main()

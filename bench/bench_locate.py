"""Batch locate: our index vs GeoPandas `sjoin` vs a PostGIS `ST_Covers` join, same points.

Run against the loaded demo district (`wangge demo load`, scale 1: 17,000 level-3
cells).  N random points uniformly inside the district are located in the
level-3 cells three ways; then a mixed batch (half of the points inside, half in
the district's bounding box but outside it) goes through the full chain and
PostGIS.  PostGIS gets a GiST index on its points table, as any PostGIS user
would build.  The script prints the times, the ratios and how many answers
differ from PostGIS (should be 0).  Targets: ≥ 2x sjoin, ≥ 8x PostGIS (inside);
mixed no slower than PostGIS.

    .venv/bin/python bench/bench_locate.py [--points 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import time

import geopandas as gpd
import numpy as np
import shapely
from http_load import skip_unless_ready  # bench/http_load.py, beside this script
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid.locate import point_to_cells, refresh_index, snapshot_for
from layers.store.db import make_engine, resolve_database_url
from layers.store.settings import DatabaseSettings
from layers.tables.grid_cells import live


def sample_points(
    district, n: int, seed: int, *, inside: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """N uniform points of the district's bounding box inside (or outside) the district."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = district.bounds
    shapely.prepare(district)
    xs, ys = [], []
    have = 0
    while have < n:
        x, y = rng.uniform(minx, maxx, 2 * n), rng.uniform(miny, maxy, 2 * n)
        keep = shapely.contains_xy(district, x, y) == inside
        xs.append(x[keep])
        ys.append(y[keep])
        have += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def mixed_points(district, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Half inside the district, half outside it in its bounding box, shuffled."""
    xi, yi = sample_points(district, n - n // 2, seed)
    xo, yo = sample_points(district, n // 2, seed + 1, inside=False)
    order = np.random.default_rng(seed).permutation(n)
    return np.concatenate([xi, xo])[order], np.concatenate([yi, yo])[order]


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def postgis(session: Session, xs, ys) -> tuple[float, np.ndarray]:
    """Load the points into an indexed temp table (not timed), then time the ST_Covers join."""
    conn = session.connection()
    conn.execute(text("CREATE TEMP TABLE bench_pts (i int, geom geometry(Point, 4326))"))
    buf = io.StringIO()
    for i, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        buf.write(f"{i}\tSRID=4326;POINT({x!r} {y!r})\n")
    buf.seek(0)
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        cur.copy_expert("COPY bench_pts (i, geom) FROM STDIN", buf)
    conn.execute(text("CREATE INDEX ON bench_pts USING gist (geom)"))
    conn.execute(text("ANALYZE bench_pts"))
    t = time.perf_counter()
    rows = conn.execute(
        text(
            "SELECT p.i, min(c.code) FROM bench_pts p JOIN grid_cells c "
            f"ON c.level = 3 AND {live('c')} AND ST_Covers(c.geom, p.geom) GROUP BY p.i"
        )
    ).all()
    elapsed = time.perf_counter() - t
    codes = np.full(len(xs), None, dtype=object)
    for i, code in rows:
        codes[i] = code
    session.rollback()
    return elapsed, codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    skip_unless_ready(need_wrk=False)
    engine = make_engine(resolve_database_url(DatabaseSettings(), start=True), pool_size=1)
    with Session(engine) as session:
        t = time.perf_counter()
        refresh_index(session=session)
        build = time.perf_counter() - t
        snap = snapshot_for(session=session)
        l3 = snap.cells[3]
        district = shapely.from_wkb(
            bytes(session.execute(text("SELECT ST_AsBinary(geom) FROM districts")).scalar())
        )
        xs, ys = sample_points(district, args.points, args.seed)
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        print(f"{len(l3.ids):,} level-3 cells; {len(xs):,} points; index built in {build:.2f} s")

        ours_t, ours = best(lambda: l3.index.covering(xs, ys), args.repeat)
        chain_t, _ = best(lambda: point_to_cells(xs, ys, session=session), args.repeat)
        cells = gpd.GeoDataFrame({"code": l3.codes}, geometry=l3.index.geoms, crs=4326)
        t = time.perf_counter()
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=4326)
        frame_t = time.perf_counter() - t
        sjoin_t, _ = best(lambda: gpd.sjoin(pts, cells, predicate="within"), args.repeat)
        pg_t, pg_codes = postgis(session, xs, ys)
        mx, my = mixed_points(district, args.points, args.seed)
        mixed_t, mixed = best(lambda: point_to_cells(mx, my, session=session), args.repeat)
        pg_mixed_t, pg_mixed = postgis(session, mx, my)

    our_codes = np.where(ours >= 0, l3.codes[np.maximum(ours, 0)], None)
    differ = int(np.sum(our_codes != pg_codes))
    covered = mixed.method == 0  # `covers`: the answers PostGIS's join gives
    mixed_codes = np.where(covered, mixed.codes("l3"), None)
    mixed_differ = int(np.sum(mixed_codes != pg_mixed))
    outside = float(np.mean(mixed.method < 0))
    print(f"ours (level-3 index)         {ours_t:8.3f} s  {len(xs) / ours_t / 1e6:6.2f} M points/s")
    print(f"ours (full chain + fallback) {chain_t:8.3f} s")
    print(f"GeoPandas sjoin (within)     {sjoin_t:8.3f} s  (+{frame_t:.3f} s to build the points)")
    print(f"PostGIS ST_Covers join       {pg_t:8.3f} s")
    print(f"ratio vs sjoin:   {sjoin_t / ours_t:6.1f}x (target >= 2x)")
    print(f"ratio vs PostGIS: {pg_t / ours_t:6.1f}x (target >= 8x)")
    print(f"answers differing from PostGIS (covers + lowest code): {differ}")
    print(f"mixed batch, {outside:.0%} outside the district:")
    rate = len(mx) / mixed_t / 1e6
    print(f"ours (full chain + fallback) {mixed_t:8.3f} s  {rate:6.2f} M points/s")
    print(f"PostGIS ST_Covers join       {pg_mixed_t:8.3f} s  (GiST index on the points)")
    print(f"ratio vs PostGIS: {pg_mixed_t / mixed_t:6.1f}x; inside-only chain {chain_t:.3f} s")
    print(f"answers differing from PostGIS (covers + lowest code): {mixed_differ}")
    engine.dispose()


if __name__ == "__main__":
    main()

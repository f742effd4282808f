"""Vector tile sizes: the largest tile per collection and zoom over the district, z8–z16.

Run against the loaded demo district (`wangge demo load`, scale 1).  Tiles are
rendered the way the API renders them (`layers.ogc.tiles.render_tile`, as
an admin, so the staff collections count too): every tile over the district's
bounding box up to z13, and a block of tiles around the district's centre above
(the densest part).  Prints a table of the largest tile in KB (`-` = every tile
empty or below the collection's minimum zoom) and the time the largest took.
Target: no tile above 500 KB.

    .venv/bin/python bench/bench_tiles.py [--zooms 8-16] [--block 6]
"""

from __future__ import annotations

import argparse
import os
import time

from http_load import skip_unless_ready  # bench/http_load.py, beside this script
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.roles import Role
from layers.ogc.registry import COLLECTION_IDS
from layers.ogc.tiles import lonlat_to_tile, render_tile
from layers.store.db import make_engine, resolve_database_url
from layers.store.settings import DatabaseSettings

TARGET_KB = 500


def tiles_at(z: int, bounds: tuple[float, float, float, float], block: int):
    """The tiles to render at zoom z: all over the bounds, or a block around their centre."""
    west, south, east, north = bounds
    x1, y1 = lonlat_to_tile(west, north, z)
    x2, y2 = lonlat_to_tile(east, south, z)
    if (x2 - x1 + 1) * (y2 - y1 + 1) > block * block:
        cx, cy = lonlat_to_tile((west + east) / 2, (south + north) / 2, z)
        half = block // 2
        x1, x2, y1, y2 = cx - half, cx + block - half - 1, cy - half, cy + block - half - 1
    return [(x, y) for x in range(x1, x2 + 1) for y in range(y1, y2 + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zooms", default="8-16", help="first-last zoom")
    parser.add_argument("--block", type=int, default=6, help="tiles a side at high zooms")
    args = parser.parse_args()
    skip_unless_ready(need_wrk=False)
    first, last = (int(z) for z in args.zooms.split("-"))
    engine = make_engine(resolve_database_url(DatabaseSettings(), start=True), pool_size=1)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    zooms = range(first, last + 1)
    print(f"{'collection':16}" + "".join(f"{'z' + str(z):>8}" for z in zooms) + "   slowest")
    worst = 0.0
    with Session(engine) as session:
        row = session.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) e FROM districts) s"
            )
        ).one()
        bounds = (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
        for cid in COLLECTION_IDS:
            cells, slowest = [], 0.0
            for z in zooms:
                biggest = 0
                for x, y in tiles_at(z, bounds, args.block):
                    t = time.perf_counter()
                    tile = render_tile(
                        session=session, collection_id=cid, role=Role.ADMIN, z=z, x=x, y=y
                    )
                    slowest = max(slowest, time.perf_counter() - t)
                    biggest = max(biggest, len(tile.content))
                worst = max(worst, biggest / 1024)
                cells.append(f"{biggest / 1024:8.1f}" if biggest else f"{'-':>8}")
            print(f"{cid:16}" + "".join(cells) + f"   {slowest * 1000:6.0f} ms")
    print(f"largest tile {worst:.1f} KB (target <= {TARGET_KB} KB)")
    engine.dispose()


if __name__ == "__main__":
    main()

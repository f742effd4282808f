"""The tile half of `bench_ogc.py`: cold and warm passes over the z14 pyramid, ours and tipg.

Why a cold and a warm figure: a tile cache makes a pyramid asked twice look fast,
and a pyramid asked once measures only rendering.  Both are printed against tipg
on the same tiles: cold is the first pass right after a write to `grid_revisions`
(what a publish does: every kept grid tile is stale; PostgreSQL's buffers are warm
for both servers), warm the passes after it.  The client is `closed_loop` (a minimal
keep-alive HTTP/1.1 client), so its own CPU is not what is measured.
"""

from __future__ import annotations

import argparse
import os

from closed_loop import closed_loop  # bench/closed_loop.py, beside this script
from sqlalchemy import text

from layers.ogc.tiles import lonlat_to_tile
from layers.store.db import make_engine

PHASES = ("cold", "warm1", "warm")


def z14_tiles(url: str) -> list[tuple[int, int]]:
    """Every z14 tile over the level-3 cells' extent."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            x1, y1, x2, y2 = conn.execute(
                text(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                    "(SELECT ST_Extent(geom) e FROM grid_cells WHERE level = 3) s"
                )
            ).one()
    finally:
        engine.dispose()
    tx1, ty1 = lonlat_to_tile(x1, y2, 14)
    tx2, ty2 = lonlat_to_tile(x2, y1, 14)
    return [(x, y) for x in range(tx1, tx2 + 1) for y in range(ty1, ty2 + 1)]


def invalidate_grid_tiles(url: str) -> None:
    """A write to `grid_revisions` (as a publish makes): every kept grid tile is stale."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE grid_revisions SET note = note WHERE id = (SELECT min(id) FROM grid_revisions)"
                )
            )
    finally:
        engine.dispose()


def measure_tiles(args: argparse.Namespace, url: str, ours_port: int, tipg_port: int) -> dict:
    """Per round and server: one cold pass over the z14 pyramid, then `--tiles` warm ones."""
    tiles = z14_tiles(url)
    paths = {
        "ours": [
            f"/ogc/collections/grid_cells_l3/tiles/WebMercatorQuad/14/{y}/{x}" for x, y in tiles
        ],
        "tipg": [
            f"/collections/public.grid_cells/tiles/WebMercatorQuad/14/{x}/{y}?level=3"
            for x, y in tiles
        ],
    }
    port = {"ours": ours_port, "tipg": tipg_port}
    identity = "Accept-Encoding: identity\r\n"
    out: dict[str, list[dict]] = {
        f"{name}_{phase}": [] for name in port for phase in ("cold", "warm1", "warm")
    }
    print(f"z14 pyramid: {len(tiles)} tiles; load average {os.getloadavg()}")
    for r in range(args.rounds):
        for name in ["ours", "tipg"] if r % 2 == 0 else ["tipg", "ours"]:
            base = f"http://127.0.0.1:{port[name]}"
            if name == "ours":
                invalidate_grid_tiles(url)
            for i, phase in enumerate(["cold", "warm1"] + ["warm"] * (args.tiles - 1)):
                got = closed_loop(base, paths[name], concurrency=args.concurrency, headers=identity)
                out[f"{name}_{phase}"].append(got)
                if i == 0:
                    print(f"  round {r + 1} {name}: cold {got['per_s']:.0f} tiles/s", end="")
            print(f", load average {os.getloadavg()[0]:.2f}")
    return out


def report_tiles(results: dict, out: dict, args: argparse.Namespace) -> dict[str, float]:
    """Print tiles/s, p50 and p99 per phase for both servers; the ratios."""
    print(
        f"z14 vector tiles of the level-3 cells, {args.concurrency} connections, "
        f"each tile once per pass (cold = first pass after a grid edit; warm1 = the next "
        f"pass; warm = passes 3..{args.tiles + 1}):"
    )
    ratios: dict[str, float] = {}
    for phase in ("cold", "warm1", "warm"):
        if not results[f"ours_{phase}"]:
            continue
        for name in ("ours", "tipg"):
            r = out[f"{name}_{phase}"]
            print(
                f"  {phase:5s} {name:5s}: {r['per_s']:7.1f} tiles/s  p50 {r['p50_ms']:6.1f} ms  "
                f"p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}"
            )
        ours_r, tipg_r = out[f"ours_{phase}"], out[f"tipg_{phase}"]
        ratios[f"tiles_per_s_{phase}"] = ours_r["per_s"] / tipg_r["per_s"]
        ratios[f"tiles_p99_{phase}"] = ours_r["p99_ms"] / tipg_r["p99_ms"]
        print(
            f"  {phase:5s} ratio ours/tipg: tiles/s {ratios[f'tiles_per_s_{phase}']:.2f}x, "
            f"p99 {ratios[f'tiles_p99_{phase}']:.2f}x (lower is better)"
        )
    return ratios

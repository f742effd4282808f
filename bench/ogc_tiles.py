"""The tile half of `bench_ogc.py`: cold and warm passes over the z14 pyramid, ours and tipg.

Why a cold and a warm figure: a tile cache makes a pyramid asked twice look fast,
and a pyramid asked once measures only rendering.  Both are printed against tipg
on the same tiles: cold is the first pass with nothing usable kept (round 1: an
empty cache after the start; later rounds: right after a write touching every
level-3 cell, whose extent is the district; PostgreSQL's buffers are warm for both
servers), warm the passes after it, and **edit** one pass right after one realistic
edit: one level-3 cell's boundary moved the way a publish writes it (the live row
closed, its successor opened), so only the tiles over that cell render again.  The client is `closed_loop` (a minimal
keep-alive HTTP/1.1 client), so its own CPU is not what is measured.
"""

from __future__ import annotations

import argparse
import os

from closed_loop import closed_loop  # bench/closed_loop.py, beside this script
from sqlalchemy import text

from layers.ogc.tiles import lonlat_to_tile
from layers.store.db import make_engine

PHASES = ("cold", "warm1", "warm", "edit")


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
    """A write to every level-3 cell (its extent is the district): no kept grid tile is good."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE grid_cells SET households = households WHERE level = 3"))
    finally:
        engine.dispose()


MOVE_SQL = (
    "WITH old AS (UPDATE grid_cells SET valid_to = greatest(now(), valid_from + interval '1 s') "
    "WHERE id = (SELECT id FROM grid_cells WHERE level = 3 AND valid_to IS NULL "
    "ORDER BY random() LIMIT 1) RETURNING *) "
    "INSERT INTO grid_cells (code, name, level, parent_id, community_id, revision_id, "
    "valid_from, households, population, geom) SELECT code, name, level, parent_id, "
    "community_id, revision_id, valid_to, households, population, "
    "ST_Multi(ST_Buffer(geom, 0.00002)) FROM old"
)
"""Close one live level-3 cell and open it again with its boundary moved out by ~2 m."""


def move_one_cell(url: str) -> None:
    """One realistic grid edit: as a publish writes it (close the row, open its successor)."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(text(MOVE_SQL))
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
    out: dict[str, list[dict]] = {f"{name}_{phase}": [] for name in port for phase in PHASES}
    print(f"z14 pyramid: {len(tiles)} tiles; load average {os.getloadavg()}")
    for r in range(args.rounds):
        for name in ["ours", "tipg"] if r % 2 == 0 else ["tipg", "ours"]:
            base = f"http://127.0.0.1:{port[name]}"
            if name == "ours" and r > 0:
                invalidate_grid_tiles(url)  # round 1's cold is an empty cache
            passes = ["cold", "warm1"] + ["warm"] * (args.tiles - 1) + ["edit"]
            for i, phase in enumerate(passes):
                if phase == "edit":
                    move_one_cell(url)  # for tipg too: the same rows to read
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
        f"each tile once per pass (cold = nothing kept: round 1 after the start, later "
        f"rounds after a write to every level-3 cell; warm1 = the next pass; warm = passes "
        f"3..{args.tiles + 1}; edit = the pass right after one level-3 cell moved):"
    )
    ratios: dict[str, float] = {}
    for phase in PHASES:
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

"""Camera views of a city on a Dask cluster: square tiles of cameras, each with a halo of buildings.

A camera's view depends only on the buildings its sector touches, and a sector
reaches at most `range_m` from its camera — across a tile's edge when the
camera stands near it.  So each tile takes its cameras and every building
whose bounds come within the tile's largest range of the tile (the halo), and
`visibility_polygons` runs there on a worker.  Buildings keep their id order
in every tile and `visibility_polygons` sorts its (camera, building) pairs, so
each view is built from the same shadows in the same order as in-process:
the views are identical, not merely close.  Without the halo, cameras near a
tile edge would see through the buildings beyond it.
"""

from __future__ import annotations

import dask
import numpy as np
import shapely

from layers.analytics.dask_scheduler import compute
from layers.analytics.visibility import Cameras, Geoms, Obstacles, visibility_polygons

TILE_M = 2000.0
"""Tile side: a few hundred cameras each in a dense district, a task of about a second."""


def _subset(cams: Cameras, idx: np.ndarray) -> Cameras:
    return Cameras(
        x=cams.x[idx],
        y=cams.y[idx],
        azimuth_deg=cams.azimuth_deg[idx],
        hfov_deg=cams.hfov_deg[idx],
        range_m=cams.range_m[idx],
        height_m=cams.height_m[idx],
    )


def tiles(cams: Cameras, tile_m: float = TILE_M) -> list[np.ndarray]:
    """Camera indices per square tile (cameras in id order within a tile)."""
    if len(cams.x) == 0:
        return []
    key = np.column_stack([np.floor(cams.x / tile_m), np.floor(cams.y / tile_m)]).astype(np.int64)
    _, tile = np.unique(key, axis=0, return_inverse=True)
    tile = tile.ravel()
    order = np.argsort(tile, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(tile[order])) + 1)


def halo_obstacles(cams: Cameras, obstacles: Obstacles, *, halo: bool = True) -> np.ndarray:
    """Indices (ascending) of the buildings the cameras' sectors can reach."""
    if len(obstacles.polygons) == 0:
        return np.zeros(0, dtype=np.int64)
    reach = float(cams.range_m.max()) if halo else 0.0
    box = shapely.box(
        cams.x.min() - reach, cams.y.min() - reach, cams.x.max() + reach, cams.y.max() + reach
    )
    if not halo:  # the tile's own cameras' box only: what a partition without a halo sees
        box = shapely.box(cams.x.min(), cams.y.min(), cams.x.max(), cams.y.max())
    hits = shapely.STRtree(obstacles.polygons).query(box, predicate="intersects")
    return np.sort(hits)


def _tile_views(cams: Cameras, polygons: Geoms, heights: np.ndarray) -> tuple[Geoms, Geoms]:
    return visibility_polygons(cams, Obstacles(polygons, heights))


def dask_visibility(
    cams: Cameras, obstacles: Obstacles, *, tile_m: float = TILE_M, halo: bool = True
) -> tuple[Geoms, Geoms]:
    """(sectors, visible parts) of every camera, as `visibility_polygons`, tile by tile."""
    n = len(cams.x)
    sectors = np.full(n, None, dtype=object)
    visible = np.full(n, None, dtype=object)
    groups = tiles(cams, tile_m)
    tasks = []
    for idx in groups:
        mine = _subset(cams, idx)
        near = halo_obstacles(mine, obstacles, halo=halo)
        tasks.append(
            dask.delayed(_tile_views)(mine, obstacles.polygons[near], obstacles.height_m[near])
        )
    for idx, (s, v) in zip(groups, compute(*tasks), strict=True):
        sectors[idx] = s
        visible[idx] = v
    return sectors, visible

"""What a camera sees on the ground: its view sector minus the shadows buildings cast.

Pure geometry in a metric CRS (metres), vectorised with Shapely 2 over all cameras
at once.  Debian's PostGIS 3.3 has no visibility function, and casting rays every
1° leaves holes a metre wide at 150 m, so the shadows are exact polygons:

- A wall seen from the camera hides, on the ground, the quadrilateral between the
  wall's foot ``a b`` and its image under the homothety centred on the camera
  with factor ``k = hc / (hc - hb)`` (camera height ``hc``, building height
  ``hb``): the top of the wall projects there along the lines of sight.
- A building at least as tall as the camera hides everything behind it (``k`` is
  infinite).  Then the shadows of the walls that face the camera suffice (any
  line of sight to a hidden point enters the footprint through one of them), and
  ``k`` is capped so the far side lies beyond the range: within the range the
  capped quadrilateral equals the unbounded shadow.
- A lower building hides its footprint and, behind it, the projections of the
  walls that face away from the camera.
- A camera inside a footprint taller than itself is mounted on that building's
  wall: the building does not hide the view (no wall faces the camera).

The sector's arc is drawn with chords every `ARC_STEP_DEG` degrees (inscribed, so
it never claims more than the true sector).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from layers.core.geo_arrays import geo_array

logger = logging.getLogger(__name__)

ARC_STEP_DEG = 2.0
"""Angular step of the chords that draw a sector's arc."""
MOUNT_TOLERANCE_M = 0.05
"""A camera this close to a wall's line is mounted on it: that wall hides nothing."""

Floats = NDArray[np.float64]
Geoms = NDArray[np.object_]


@dataclass(frozen=True)
class Cameras:
    """Camera optics in a metric CRS: position (m), azimuth/hfov (°), range and height (m)."""

    x: Floats
    y: Floats
    azimuth_deg: Floats
    hfov_deg: Floats
    range_m: Floats
    height_m: Floats

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class Obstacles:
    """Building footprints (metric polygons) and their heights in metres (NaN = taller)."""

    polygons: Geoms
    height_m: Floats

    def __post_init__(self) -> None:
        if len(self.polygons) != len(self.height_m):
            raise ValueError("one height per footprint")


def sector_polygons(cams: Cameras, step_deg: float = ARC_STEP_DEG) -> Geoms:
    """The view sector of each camera: apex, azimuth ± hfov/2, radius = range."""
    full = cams.hfov_deg >= 360.0
    n_arc = np.maximum(np.ceil(np.minimum(cams.hfov_deg, 360.0) / step_deg), 2).astype(int) + 1
    ring_len = np.where(full, n_arc, n_arc + 2)  # apex + arc + apex (closed) unless full circle
    owner = np.repeat(np.arange(len(cams)), ring_len)
    pos = np.arange(owner.size) - np.repeat(np.cumsum(ring_len) - ring_len, ring_len)
    start = np.radians(cams.azimuth_deg - np.minimum(cams.hfov_deg, 360.0) / 2.0)
    span = np.radians(np.minimum(cams.hfov_deg, 360.0))
    arc_pos = np.where(full[owner], pos, pos - 1)
    t = start[owner] + span[owner] * np.clip(arc_pos, 0, None) / (n_arc[owner] - 1)
    r = cams.range_m[owner]
    px = cams.x[owner] + r * np.sin(t)
    py = cams.y[owner] + r * np.cos(t)
    apex = ~full[owner] & ((pos == 0) | (pos == ring_len[owner] - 1))
    px = np.where(apex, cams.x[owner], px)
    py = np.where(apex, cams.y[owner], py)
    last_full = full[owner] & (pos == ring_len[owner] - 1)  # close the full circle exactly
    first = np.cumsum(ring_len) - ring_len
    px[last_full] = px[first[full]]
    py[last_full] = py[first[full]]
    rings = shapely.linearrings(np.column_stack([px, py]), indices=owner)
    return geo_array(shapely.polygons(rings))


@dataclass(frozen=True)
class _Edges:
    """Every ring edge of every footprint, oriented with the inside on the left."""

    ax: Floats
    ay: Floats
    bx: Floats
    by: Floats
    start: NDArray[np.int64]  # first edge of footprint j
    count: NDArray[np.int64]  # number of edges of footprint j


def _edges(polygons: Geoms) -> _Edges:
    oriented = shapely.orient_polygons(polygons, exterior_cw=False)
    rings = np.concatenate([shapely.get_exterior_ring(oriented)[:, None], _interiors(oriented)], 1)
    ring_of = np.repeat(np.arange(len(polygons)), rings.shape[1])
    flat = rings.ravel()
    keep = ~shapely.is_missing(flat)
    coords, idx = shapely.get_coordinates(flat[keep], return_index=True)
    same = idx[:-1] == idx[1:]  # consecutive vertices of one ring form an edge
    owner = ring_of[keep][idx[:-1][same]]
    a, b = coords[:-1][same], coords[1:][same]
    count = np.bincount(owner, minlength=len(polygons)).astype(np.int64)
    return _Edges(a[:, 0], a[:, 1], b[:, 0], b[:, 1], np.cumsum(count) - count, count)


def _interiors(polygons: Geoms) -> Geoms:
    n_holes = shapely.get_num_interior_rings(polygons)
    width = int(n_holes.max()) if len(polygons) else 0
    out = np.full((len(polygons), width), None, dtype=object)
    for h in range(width):
        has = n_holes > h
        out[has, h] = shapely.get_interior_ring(polygons[has], h)
    return out


def _segment_distance(cx, cy, ax, ay, bx, by) -> Floats:
    dx, dy = bx - ax, by - ay
    length2 = np.maximum(dx * dx + dy * dy, 1e-18)
    t = np.clip(((cx - ax) * dx + (cy - ay) * dy) / length2, 0.0, 1.0)
    return np.hypot(ax + t * dx - cx, ay + t * dy - cy)


def shadow_polygons(
    cams: Cameras, obstacles: Obstacles, pairs: NDArray[np.int64]
) -> tuple[NDArray[np.int64], Geoms]:
    """Ground shadows for (camera, footprint) `pairs` (2 × n): camera index per shadow, shadows."""
    edges = _edges(obstacles.polygons)
    cam_i, bld_j = pairs
    per_pair = edges.count[bld_j]
    pair_of = np.repeat(np.arange(len(cam_i)), per_pair)
    e = np.repeat(edges.start[bld_j], per_pair) + (
        np.arange(pair_of.size) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
    )
    c, j = cam_i[pair_of], bld_j[pair_of]
    cx, cy = cams.x[c], cams.y[c]
    ax, ay, bx, by = edges.ax[e], edges.ay[e], edges.bx[e], edges.by[e]
    length = np.maximum(np.hypot(bx - ax, by - ay), 1e-9)
    side = ((bx - ax) * (cy - ay) - (by - ay) * (cx - ax)) / length  # < 0: camera outside
    hb, hc = obstacles.height_m[j], cams.height_m[c]
    tall = ~(hb < hc)  # NaN (unknown height) counts as tall
    dist = _segment_distance(cx, cy, ax, ay, bx, by)
    reach = cams.range_m[c]
    keep = (dist < reach) & np.where(tall, side < -MOUNT_TOLERANCE_M, side > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        k_height = np.where(tall, np.inf, hc / (hc - hb))
    k = np.minimum(k_height, 2.0 * reach / np.maximum(dist, 1e-6))[keep]
    c, cx, cy, ax, ay, bx, by = (v[keep] for v in (c, cx, cy, ax, ay, bx, by))
    quads = np.stack(
        [
            np.column_stack([ax, ay]),
            np.column_stack([bx, by]),
            np.column_stack([cx + k * (bx - cx), cy + k * (by - cy)]),
            np.column_stack([cx + k * (ax - cx), cy + k * (ay - cy)]),
            np.column_stack([ax, ay]),
        ],
        axis=1,
    )
    shadows = geo_array(shapely.polygons(quads))
    low = np.unique(
        np.column_stack([cam_i, bld_j])[obstacles.height_m[bld_j] < cams.height_m[cam_i]], axis=0
    )
    if len(low):  # a lower building hides its own footprint too
        c = np.concatenate([c, low[:, 0]])
        shadows = np.concatenate([shadows, obstacles.polygons[low[:, 1]]])
    return c, shadows


def group_union(owner: NDArray[np.int64], geoms: Geoms, n: int) -> Geoms:
    """Union of `geoms` per owner index in [0, n) (empty geometry where an owner has none)."""
    out = np.full(n, None, dtype=object)
    if len(geoms) == 0:
        return out
    order = np.argsort(owner, kind="stable")
    owner, geoms = owner[order], geoms[order]
    counts = np.bincount(owner, minlength=n)
    slot = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    table = np.full((n, int(counts.max())), None, dtype=object)
    table[owner, slot] = geoms
    has = counts > 0
    out[has] = shapely.union_all(table[has], axis=1)
    return out


def visibility_polygons(
    cams: Cameras, obstacles: Obstacles, *, step_deg: float = ARC_STEP_DEG
) -> tuple[Geoms, Geoms]:
    """(sectors, visible parts) of every camera, occluded by `obstacles`."""
    sectors = sector_polygons(cams, step_deg)
    if len(cams) == 0 or len(obstacles.polygons) == 0:
        return sectors, sectors.copy()
    tree = shapely.STRtree(obstacles.polygons)
    pairs = tree.query(sectors, predicate="intersects")
    # (camera, building) order, not the tree's: a camera's shadows are then unioned in the
    # same order whichever buildings the tree holds (a tile's halo or the whole city).
    pairs = pairs[:, np.lexsort((pairs[1], pairs[0]))]
    owner, shadows = shadow_polygons(cams, obstacles, pairs)
    hidden = group_union(owner, shadows, len(cams))
    visible = sectors.copy()
    has = ~shapely.is_missing(hidden)
    visible[has] = shapely.difference(sectors[has], hidden[has])
    logger.debug("visibility: %d cameras, %d shadows", len(cams), owner.size)
    return sectors, visible

"""The point-in-polygon kernel of `grids.grid.cell_index`, in PostGIS's own arithmetic.

Covers-semantics: a point on a ring is covered.  The kernel evaluates PostGIS's
winding-number test (``determineSide`` and ``isOnSegment`` of liblwgeom, the
code behind ``ST_Covers(polygon, point)``) term for term in float64, so a point
exactly on a boundary is "on" here exactly when it is "on" for PostGIS — GEOS'
robust predicates can disagree in the last bit for points computed onto an edge.
Coordinates are degrees (WGS-84 lon/lat).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Edges:
    """Every ring segment of every cell, grouped by cell, then ring, in order."""

    x1: FloatArray
    y1: FloatArray
    x2: FloatArray
    y2: FloatArray
    ring: IntArray
    poly: IntArray
    hole: NDArray[np.bool_]
    cell_start: IntArray
    simple: bool
    """True when every cell is one polygon without holes (the fast path)."""


def flatten_edges(geoms: NDArray[np.object_]) -> Edges:
    """Segments of all rings of `geoms` (Polygon or MultiPolygon), zero-length ones dropped."""
    polys, poly_cell = shapely.get_parts(geoms, return_index=True)
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    exterior = np.r_[True, ring_poly[1:] != ring_poly[:-1]] if len(rings) else np.zeros(0, bool)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same = coord_ring[1:] == coord_ring[:-1]
    x1, y1 = coords[:-1, 0][same], coords[:-1, 1][same]
    x2, y2 = coords[1:, 0][same], coords[1:, 1][same]
    ring = coord_ring[:-1][same]
    keep = ~((x1 == x2) & (y1 == y2))
    ring = ring[keep].astype(np.int64)
    poly = ring_poly[ring].astype(np.int64)
    cell = poly_cell[poly].astype(np.int64)
    simple = bool(len(polys) == len(geoms) and len(rings) == len(polys))
    return Edges(
        x1[keep],
        y1[keep],
        x2[keep],
        y2[keep],
        ring,
        poly,
        ~exterior[ring],
        np.searchsorted(cell, np.arange(len(geoms) + 1)).astype(np.int64),
        simple,
    )


def expand(starts: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    """For each i the run starts[i] … starts[i]+counts[i]-1: (owner i, index) concatenated."""
    owner = np.repeat(np.arange(len(starts), dtype=np.int64), counts)
    offsets = np.arange(owner.size, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.repeat(starts, counts) + offsets


def _groups(pair: IntArray, key: IntArray) -> IntArray:
    """Consecutive-run ids of (pair, key) along already grouped rows."""
    if pair.size == 0:
        return pair
    new = np.r_[True, (pair[1:] != pair[:-1]) | (key[1:] != key[:-1])]
    return np.cumsum(new) - 1


def covers_pairs(edges: Edges, px: FloatArray, py: FloatArray, cells: IntArray) -> NDArray:
    """For each pair (px[i], py[i], cells[i]): does the cell cover the point (``ST_Covers``)?"""
    starts = edges.cell_start[cells]
    pair, e = expand(starts, edges.cell_start[cells + 1] - starts)
    x, y = px[pair], py[pair]
    x1, y1, x2, y2 = edges.x1[e], edges.y1[e], edges.x2[e], edges.y2[e]
    # determineSide(seg1, seg2, point), term for term.
    side = (x2 - x1) * (y - y1) - (x - x1) * (y2 - y1)
    on = (
        (side == 0.0)
        & (x >= np.minimum(x1, x2))
        & (x <= np.maximum(x1, x2))
        & (y >= np.minimum(y1, y2))
        & (y <= np.maximum(y1, y2))
    )
    up = (y1 <= y) & (y < y2) & (side > 0)
    down = (y2 <= y) & (y < y1) & (side < 0)
    wind = up.astype(np.int64) - down.astype(np.int64)
    n = len(cells)
    if edges.simple:
        boundary = np.bincount(pair, weights=on, minlength=n) > 0
        return boundary | (np.bincount(pair, weights=wind, minlength=n) != 0)
    return _combine_rings(edges, pair, e, on, wind, n)


def _combine_rings(edges: Edges, pair: IntArray, e: IntArray, on, wind, n: int) -> NDArray:
    """Per polygon: on the shell or a hole's edge, or inside the shell and no hole."""
    ring_group = _groups(pair, edges.ring[e])
    m = int(ring_group[-1]) + 1 if ring_group.size else 0
    first = np.r_[0, np.flatnonzero(np.diff(ring_group)) + 1] if m else np.zeros(0, np.int64)
    r_on = np.bincount(ring_group, weights=on, minlength=m) > 0
    r_in = np.bincount(ring_group, weights=wind, minlength=m) != 0
    r_pair, r_poly, r_hole = pair[first], edges.poly[e[first]], edges.hole[e[first]]
    poly_group = _groups(r_pair, r_poly)
    k = int(poly_group[-1]) + 1 if poly_group.size else 0
    shell_on = np.bincount(poly_group, weights=~r_hole & r_on, minlength=k) > 0
    shell_in = np.bincount(poly_group, weights=~r_hole & r_in & ~r_on, minlength=k) > 0
    hole_on = np.bincount(poly_group, weights=r_hole & r_on, minlength=k) > 0
    hole_in = np.bincount(poly_group, weights=r_hole & r_in & ~r_on, minlength=k) > 0
    covered = shell_on | (shell_in & (hole_on | ~hole_in))
    p_first = np.r_[0, np.flatnonzero(np.diff(poly_group)) + 1] if k else np.zeros(0, np.int64)
    return np.bincount(r_pair[p_first], weights=covered, minlength=n) > 0


def lowest(points: IntArray, cells: IntArray, n_points: int) -> IntArray:
    """Per point the lowest cell rank among its matches, -1 where none."""
    best = np.full(n_points, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, points, cells)
    best[best == np.iinfo(np.int64).max] = -1
    return best


@dataclass(frozen=True)
class ScalarEdges:
    """The same edges as Python lists: one point against a few cells without numpy calls."""

    x1: list[float]
    y1: list[float]
    x2: list[float]
    y2: list[float]
    ring: list[int]
    poly: list[int]
    hole: list[bool]
    cell_start: list[int]

    @classmethod
    def of(cls, edges: Edges) -> ScalarEdges:
        """Lists from the arrays."""
        return cls(
            edges.x1.tolist(),
            edges.y1.tolist(),
            edges.x2.tolist(),
            edges.y2.tolist(),
            edges.ring.tolist(),
            edges.poly.tolist(),
            edges.hole.tolist(),
            edges.cell_start.tolist(),
        )


def covers_one(e: ScalarEdges, cell: int, x: float, y: float) -> bool:
    """`covers_pairs` for one point and one cell, in the same float64 arithmetic."""
    end = e.cell_start[cell + 1]
    i = e.cell_start[cell]
    state: dict[int, list[bool]] = {}  # poly -> [shell on, shell in, hole on, hole in]
    while i < end:
        ring, on, wind = e.ring[i], False, 0
        while i < end and e.ring[i] == ring:
            x1, y1, x2, y2 = e.x1[i], e.y1[i], e.x2[i], e.y2[i]
            side = (x2 - x1) * (y - y1) - (x - x1) * (y2 - y1)
            if side == 0.0 and min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2):
                on = True
            if y1 <= y < y2 and side > 0:
                wind += 1
            elif y2 <= y < y1 and side < 0:
                wind -= 1
            i += 1
        flags = state.setdefault(e.poly[i - 1], [False, False, False, False])
        base = 2 if e.hole[i - 1] else 0
        flags[base] |= on
        flags[base + 1] |= wind != 0 and not on
    return any(so or (si and (ho or not hi)) for so, si, ho, hi in state.values())

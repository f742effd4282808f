"""A raster over a set of cells that answers most points without a polygon test.

Each pixel (about 1/20 of a typical cell per side) is either *clear* — no
boundary comes within `EPS_DEG` of it, so the whole pixel lies in one cell or in
none, decided once per connected clear region — or *mixed*, in which case it
lists the candidate cells: those whose boundary crosses it and those whose
interior contains it (the latter only happens where cells overlap).  Marking is
conservative: a pixel near a boundary is always mixed, so a clear pixel's answer
holds for every point inside it, with any floating-point rounding.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import ndimage

from grids.grid.pip import Edges, FloatArray, IntArray, covers_pairs, expand, lowest

logger = logging.getLogger(__name__)

EPS_DEG = 1e-9
"""Distance (degrees, ~0.1 mm) within which a point counts as near a boundary."""
PIXELS_PER_CELL = 20
"""Pixels along a typical cell's side."""
MAX_PIXELS = 12_000_000
"""Upper bound of the raster size (2 bytes a pixel below 65,534 cells)."""


@dataclass(frozen=True)
class PixelRaster:
    """Pixel → owner cell (or CLEAR_EMPTY / MIXED) plus candidates of the mixed pixels."""

    x0: float
    y0: float
    sx: float
    sy: float
    nx: int
    ny: int
    owner: NDArray
    empty: int
    mixed: int
    mixed_pixels: IntArray
    cand_start: IntArray
    cand_cell: IntArray

    def pixel_of(self, xs: FloatArray, ys: FloatArray) -> IntArray:
        """Flat pixel index of each point; -1 off the raster."""
        col = np.floor((xs - self.x0) / self.sx)
        row = np.floor((ys - self.y0) / self.sy)
        ok = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        pix = np.where(ok, row * self.nx + col, -1)
        return pix.astype(np.int64)

    def covering(self, edges: Edges, xs: FloatArray, ys: FloatArray) -> IntArray:
        """Lowest-rank covering cell per point, -1 where none."""
        pix = self.pixel_of(xs, ys)
        owner = np.where(pix >= 0, self.owner[np.maximum(pix, 0)], self.empty).astype(np.int64)
        out = np.where(owner < self.empty, owner, -1)
        mix = np.flatnonzero(owner == self.mixed)
        if mix.size:
            slot = np.searchsorted(self.mixed_pixels, pix[mix])
            starts = self.cand_start[slot]
            which, k = expand(starts, self.cand_start[slot + 1] - starts)
            pts, cells = mix[which], self.cand_cell[k]
            hit = covers_pairs(edges, xs[pts], ys[pts], cells)
            best = lowest(pts[hit], cells[hit], len(xs))
            out[mix] = best[mix]
        return out

    def candidates_one(self, x: float, y: float) -> tuple[int, list[int]]:
        """For one point: its owner cell (>= 0), -1 for none, or -2 and the candidates."""
        col = math.floor((x - self.x0) / self.sx)
        row = math.floor((y - self.y0) / self.sy)
        if not (0 <= col < self.nx and 0 <= row < self.ny):
            return -1, []
        pix = row * self.nx + col
        owner = int(self.owner[pix])
        if owner < self.empty:
            return owner, []
        if owner == self.empty:
            return -1, []
        slot = int(np.searchsorted(self.mixed_pixels, pix))
        return -2, self.cand_cell[self.cand_start[slot] : self.cand_start[slot + 1]].tolist()


def _pixel_size(bounds: NDArray, extent: tuple[float, float, float, float]) -> tuple[float, float]:
    """Pixel width/height in degrees: 1/20 of the median cell, capped at MAX_PIXELS."""
    w = float(np.median(bounds[:, 2] - bounds[:, 0]))
    h = float(np.median(bounds[:, 3] - bounds[:, 1]))
    sx, sy = max(w, 1e-7) / PIXELS_PER_CELL, max(h, 1e-7) / PIXELS_PER_CELL
    pixels = (extent[2] - extent[0]) / sx * (extent[3] - extent[1]) / sy
    if pixels > MAX_PIXELS:
        grow = float(np.sqrt(pixels / MAX_PIXELS))
        sx, sy = sx * grow, sy * grow
    return sx, sy


def _boundary_pixels(edges: Edges, x0: float, y0: float, sx: float, sy: float, nx: int):
    """(pixel, cell) for every pixel a cell's boundary comes within EPS_DEG of."""
    lo_x = np.minimum(edges.x1, edges.x2) - EPS_DEG
    hi_x = np.maximum(edges.x1, edges.x2) + EPS_DEG
    c1 = np.floor((lo_x - x0) / sx).astype(np.int64)
    c2 = np.floor((hi_x - x0) / sx).astype(np.int64)
    e, col = expand(c1, c2 - c1 + 1)
    # The edge's y-extent over the column, widened by EPS_DEG in x and in y.
    left = np.maximum(x0 + col * sx - EPS_DEG, lo_x[e])
    right = np.minimum(x0 + (col + 1) * sx + EPS_DEG, hi_x[e])
    x1, y1, x2, y2 = edges.x1[e], edges.y1[e], edges.x2[e], edges.y2[e]
    dx = x2 - x1
    flat = dx == 0
    safe = np.where(flat, 1.0, dx)
    t1 = np.clip((left - x1) / safe, 0.0, 1.0)
    t2 = np.clip((right - x1) / safe, 0.0, 1.0)
    ya = np.where(flat, y1, y1 + t1 * (y2 - y1))
    yb = np.where(flat, y2, y1 + t2 * (y2 - y1))
    r1 = np.floor((np.minimum(ya, yb) - EPS_DEG - y0) / sy).astype(np.int64)
    r2 = np.floor((np.maximum(ya, yb) + EPS_DEG - y0) / sy).astype(np.int64)
    k, row = expand(r1, r2 - r1 + 1)
    cell = np.searchsorted(edges.cell_start, e[k], side="right") - 1
    return row * nx + col[k], cell


def build_raster(
    edges: Edges,
    geoms: NDArray[np.object_],
    tree: shapely.STRtree,
    *,
    pixel_deg: tuple[float, float] | None = None,
) -> PixelRaster:
    """Classify every pixel of the cells' extent (see the module docstring).

    `pixel_deg` (width, height in degrees) overrides the size made from the cells'
    median size — for a few large polygons, whose own median would make huge pixels.
    """
    n = len(geoms)
    bounds = shapely.bounds(geoms)
    extent = _extent(bounds)
    sx, sy = pixel_deg or _pixel_size(bounds, extent)
    x0, y0 = extent[0] - sx, extent[1] - sy  # one pixel of margin on every side
    nx = int((extent[2] - x0) / sx) + 2
    ny = int((extent[3] - y0) / sy) + 2
    pix, cell = _boundary_pixels(edges, x0, y0, sx, sy, nx)
    pairs = _sorted_unique(pix * n + cell)
    mixed_mask = np.zeros(nx * ny, dtype=bool)
    mixed_mask[pairs // n] = True
    dtype = np.uint16 if n + 1 <= np.iinfo(np.uint16).max else np.int64
    empty, mixed = n, n + 1
    owner = _classify_clear(edges, tree, mixed_mask, nx, ny, x0, y0, sx, sy, empty)
    owner[mixed_mask] = mixed
    extra = _containing(edges, bounds, mixed_mask, pairs, nx, x0, y0, sx, sy)
    if extra.size:
        pairs = _sorted_unique(np.concatenate([pairs, extra]))
    pixel_of_pair = pairs // n
    cand_start = np.flatnonzero(np.r_[True, pixel_of_pair[1:] != pixel_of_pair[:-1]])
    mixed_pixels = pixel_of_pair[cand_start]
    logger.info(
        "raster %d x %d px of %.1f x %.1f m for %d cells: %.0f %% mixed",
        nx,
        ny,
        sx * 111_320 * np.cos(np.radians(y0)),
        sy * 110_574,
        n,
        100.0 * mixed_pixels.size / max(1, int((owner != empty).sum())),
    )
    return PixelRaster(
        x0,
        y0,
        sx,
        sy,
        nx,
        ny,
        owner.astype(dtype),
        empty,
        mixed,
        mixed_pixels.astype(np.int64),
        np.r_[cand_start, pairs.size].astype(np.int64),
        (pairs % n).astype(np.int64),
    )


def _extent(bounds: NDArray[np.float64]) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of all the cells' bounds (empty geometries' NaNs ignored)."""
    return (
        float(np.nanmin(bounds[:, 0])),
        float(np.nanmin(bounds[:, 1])),
        float(np.nanmax(bounds[:, 2])),
        float(np.nanmax(bounds[:, 3])),
    )


def _sorted_unique(values: IntArray) -> IntArray:
    """`np.unique` by sorting (numpy's hash-based unique is far slower on large int arrays)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if values.size else values


def _centres(pixels: IntArray, nx: int, x0: float, y0: float, sx: float, sy: float):
    return x0 + (pixels % nx + 0.5) * sx, y0 + (pixels // nx + 0.5) * sy


def _classify_clear(
    edges: Edges, tree, mixed_mask, nx, ny, x0, y0, sx, sy, empty: int
) -> NDArray[np.int64]:
    """Owner of every clear pixel: label clear regions, test one pixel of each."""
    labels, n_regions = ndimage.label(~mixed_mask.reshape(ny, nx))
    labels = labels.ravel()
    representative = np.zeros(n_regions + 1, dtype=np.int64)
    representative[labels] = np.arange(labels.size)  # any pixel of each region will do
    xs, ys = _centres(representative[1:], nx, x0, y0, sx, sy)
    region_owner = np.full(n_regions + 1, empty, dtype=np.int64)
    region_owner[1:] = _exact(edges, tree, xs, ys, empty)
    return region_owner[labels]


def _exact(edges: Edges, tree, xs: FloatArray, ys: FloatArray, none: int) -> IntArray:
    """Lowest covering cell per point through the R-tree; `none` where no cell covers."""
    pts, cells = tree.query(shapely.points(xs, ys))
    hit = covers_pairs(edges, xs[pts], ys[pts], cells)
    best = lowest(pts[hit], cells[hit], len(xs))
    return np.where(best < 0, none, best)


def _containing(edges: Edges, bounds, mixed_mask, pairs, nx, x0, y0, sx, sy) -> IntArray:
    """(pixel, cell) pairs where a cell's interior holds a whole mixed pixel (overlaps).

    Candidates are the mixed pixels lying wholly inside a cell's bounding box and
    not already listed for that cell; the exact test of the pixel centre decides.
    """
    n = len(bounds)
    c1 = np.ceil((bounds[:, 0] - x0) / sx).astype(np.int64)
    c2 = np.floor((bounds[:, 2] - x0) / sx).astype(np.int64) - 1
    r1 = np.ceil((bounds[:, 1] - y0) / sy).astype(np.int64)
    r2 = np.floor((bounds[:, 3] - y0) / sy).astype(np.int64) - 1
    width = np.maximum(c2 - c1 + 1, 0)
    height = np.maximum(r2 - r1 + 1, 0)
    cell, k = expand(np.zeros(n, dtype=np.int64), width * height)
    pix = (
        (r1[cell] + k // np.maximum(width[cell], 1)) * nx
        + c1[cell]
        + k % np.maximum(width[cell], 1)
    )
    keep = mixed_mask[pix]
    pix, cell = pix[keep], cell[keep]
    code = pix * n + cell
    known = np.searchsorted(pairs, code)
    fresh = (known >= pairs.size) | (pairs[np.minimum(known, pairs.size - 1)] != code)
    pix, cell = pix[fresh], cell[fresh]
    xs, ys = _centres(pix, nx, x0, y0, sx, sy)
    hit = covers_pairs(edges, xs, ys, cell)
    return pix[hit] * n + cell[hit]

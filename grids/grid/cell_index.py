"""Which cell covers a point, and which is nearest: one index over one set of cells.

Covers-semantics with a deterministic tie-break: a point on a shared edge or
vertex is covered by every cell it touches (`grids.grid.pip`, the same arithmetic as
PostGIS ``ST_Covers``), and the answer is the covering cell of lowest *rank* —
the position in the array the index was built from, so callers sort their cells
by code first.  Large batches go through a pixel raster (`grids.grid.cell_raster`),
small ones through an R-tree; both give the same answer.

Coordinates are WGS-84 degrees; distances are metres on a local equirectangular
projection around the cells (error well under 0.1 % across a district).
"""

from __future__ import annotations

import math
import threading

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from grids.grid.cell_raster import MAX_PIXELS, PixelRaster, build_raster
from grids.grid.pip import (
    FloatArray,
    IntArray,
    ScalarEdges,
    covers_one,
    covers_pairs,
    flatten_edges,
    lowest,
)

RASTER_MIN_POINTS = 256
"""Batches at least this large build (once) and use the raster."""
CHUNK_POINTS = 1_000_000
"""Large batches are located this many points at a time: the candidate pairs of one
call grow with the batch (10 M points at once peaked at 20 GB), a chunk's do not."""
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_AT_EQUATOR = 111_320.0


class CellIndex:
    """Covering and nearest cell of each point, over `geoms` ranked by position."""

    def __init__(
        self, geoms: ArrayLike, *, raster: bool = False, pixel_m: float | None = None
    ) -> None:
        """`pixel_m` fixes the raster's pixel size (for a few large areas: streets, communities)."""
        self.geoms: NDArray[np.object_] = np.asarray(geoms, dtype=object)
        self.pixel_m = pixel_m
        self.edges = flatten_edges(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        self._raster: PixelRaster | None = None
        self._metric: tuple[shapely.STRtree, float, float, float, float] | None = None
        self._scalar: ScalarEdges | None = None
        self._lock = threading.Lock()
        if raster and len(self.geoms):
            self.raster()

    def __len__(self) -> int:
        return len(self.geoms)

    def __reduce__(self) -> tuple[object, ...]:
        """Only what the index is built from: a Dask worker builds its own, lazily.

        The raster and trees are derived (and for a city several GB); the lock
        cannot travel.  Answers do not depend on whether the raster was built.
        """
        return (_rebuilt, (shapely.to_wkb(self.geoms), self.pixel_m))

    def raster(self) -> PixelRaster:
        """The pixel raster, built on first use (a few seconds for 17,000 cells)."""
        if self._raster is None:
            with self._lock:
                if self._raster is None:
                    self._raster = build_raster(
                        self.edges, self.geoms, self.tree, pixel_deg=self._pixel_deg()
                    )
        return self._raster

    def _pixel_deg(self) -> tuple[float, float] | None:
        """`pixel_m` in degrees at the areas' latitude, grown to stay within MAX_PIXELS."""
        if self.pixel_m is None:
            return None
        minx, miny, maxx, maxy = shapely.total_bounds(self.geoms)
        sx = self.pixel_m / (M_PER_DEG_LON_AT_EQUATOR * math.cos(math.radians((miny + maxy) / 2)))
        sy = self.pixel_m / M_PER_DEG_LAT
        pixels = (maxx - minx) / sx * (maxy - miny) / sy
        grow = max(1.0, math.sqrt(pixels / MAX_PIXELS))
        return sx * grow, sy * grow

    def covering(self, lons: ArrayLike, lats: ArrayLike) -> IntArray:
        """Rank of the lowest-ranked cell covering each point; -1 where none does."""
        xs, ys = _as_xy(lons, lats)
        out = np.full(len(xs), -1, dtype=np.int64)
        ok = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
        if not len(self) or not ok.size:
            return out
        if self._raster is not None or ok.size >= RASTER_MIN_POINTS:
            raster = self.raster()
            for start in range(0, ok.size, CHUNK_POINTS):
                part = ok[start : start + CHUNK_POINTS]
                out[part] = raster.covering(self.edges, xs[part], ys[part])
            return out
        pts, cells = self.tree.query(shapely.points(xs[ok], ys[ok]))
        hit = covers_pairs(self.edges, xs[ok][pts], ys[ok][pts], cells)
        out[ok] = lowest(pts[hit], cells[hit], ok.size)
        return out

    def covering_one(self, lon: float, lat: float) -> int:
        """`covering` for one point, in plain Python once the raster exists (the hot path)."""
        if self._raster is None or not (math.isfinite(lon) and math.isfinite(lat)):
            return int(self.covering([lon], [lat])[0])
        owner, candidates = self._raster.candidates_one(lon, lat)
        if owner != -2:
            return owner
        if self._scalar is None:
            self._scalar = ScalarEdges.of(self.edges)
        for cell in sorted(candidates):  # lowest rank first: the first hit wins
            if covers_one(self._scalar, cell, lon, lat):
                return cell
        return -1

    def nearest(
        self, lons: ArrayLike, lats: ArrayLike, max_distance_m: float
    ) -> tuple[IntArray, FloatArray]:
        """Nearest cell within `max_distance_m` (ties: lower rank) and its distance in metres."""
        xs, ys = _as_xy(lons, lats)
        idx = np.full(len(xs), -1, dtype=np.int64)
        dist = np.full(len(xs), np.nan)
        ok = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
        if not len(self) or not ok.size or max_distance_m <= 0:
            return idx, dist
        tree, lon0, lat0, kx, ky = self.metric_tree()
        points = shapely.points((xs[ok] - lon0) * kx, (ys[ok] - lat0) * ky)
        (pts, cells), d = tree.query_nearest(
            points, max_distance=max_distance_m, return_distance=True, all_matches=True
        )
        order = np.lexsort((cells, d, pts))  # per point: nearest first, then lowest rank
        pts, cells, d = pts[order], cells[order], d[order]
        first = np.r_[True, pts[1:] != pts[:-1]] if pts.size else np.zeros(0, bool)
        idx[ok[pts[first]]] = cells[first]
        dist[ok[pts[first]]] = d[first]
        return idx, dist

    def metric_tree(self) -> tuple[shapely.STRtree, float, float, float, float]:
        """The R-tree in local metres that `nearest` uses (built once)."""
        if self._metric is None:
            with self._lock:
                if self._metric is None:
                    minx, miny, maxx, maxy = shapely.total_bounds(self.geoms)
                    lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
                    kx = M_PER_DEG_LON_AT_EQUATOR * float(np.cos(np.radians(lat0)))
                    ky = M_PER_DEG_LAT
                    scale = np.array([kx, ky])
                    shift = np.array([lon0, lat0])
                    metric = shapely.transform(self.geoms, lambda c: (c - shift) * scale)
                    self._metric = (shapely.STRtree(metric), lon0, lat0, kx, ky)
        return self._metric


def _rebuilt(wkb: NDArray[np.object_], pixel_m: float | None) -> CellIndex:
    return CellIndex(shapely.from_wkb(wkb), pixel_m=pixel_m)


def _as_xy(lons: ArrayLike, lats: ArrayLike) -> tuple[FloatArray, FloatArray]:
    xs = np.atleast_1d(np.asarray(lons, dtype=np.float64))
    ys = np.atleast_1d(np.asarray(lats, dtype=np.float64))
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValueError("lons and lats must be one-dimensional and of the same length")
    return xs, ys

"""Where a point can be located at all: the district and everything in it, widened by a margin.

Locating a point outside the district used to cost 200 times one inside: no
cell covers it, so it went through every fallback — nearest cells, the covering
community, street and district — and the last of those tests points against
polygons of thousands of edges.  A point farther than the locate tolerance from
the district, its streets, communities and cells can be covered by none of them
and is beyond the tolerance of every cell, so its answer is "outside" whatever
the rules say.  `ReachMask` decides that for whole arrays with one pixel lookup;
only the points it cannot rule out go through the rules, so the answers are
exactly those of the rules alone.

Coordinates are WGS-84 degrees; margins and pixels are metres on a local
equirectangular projection (the one `grids.grid.cell_index` measures with).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from grids.grid.cell_index import M_PER_DEG_LAT, M_PER_DEG_LON_AT_EQUATOR
from grids.grid.cell_raster import MAX_PIXELS, PixelRaster, build_raster
from grids.grid.pip import FloatArray, flatten_edges

logger = logging.getLogger(__name__)

SLACK_M = 10.0
"""Margin beyond the tolerance: the buffer's chords (~1 m) and rounding, with room to spare."""
PIXEL_M = 10.0
"""Pixel side: points within about a pixel of the widened outline go to the rules."""


def margin_for(tolerance_m: float) -> float:
    """The margin a mask needs for `tolerance_m`, rounded up to 10 m so masks are shared."""
    return float(math.ceil((max(tolerance_m, 0.0) + SLACK_M) / 10.0) * 10.0)


@dataclass(frozen=True)
class ReachMask:
    """Pixels wholly outside the widened district: a point in one is outside the district."""

    raster: PixelRaster

    def maybe_inside(self, xs: FloatArray, ys: FloatArray) -> NDArray[np.bool_]:
        """False where a point is certainly outside (off the raster, or in an outside pixel)."""
        pix = self.raster.pixel_of(xs, ys)
        owner = np.where(pix >= 0, self.raster.owner[np.maximum(pix, 0)], self.raster.empty)
        return owner != self.raster.empty


def build_reach(
    outlines: Sequence[NDArray[np.object_]],
    cells: Sequence[NDArray[np.object_]],
    *,
    margin_m: float,
    pixel_m: float = PIXEL_M,
) -> ReachMask | None:
    """The mask around `outlines` (district, streets, communities) widened by `margin_m`.

    Cells are expected inside those outlines; any that is not (a drawing error
    the validation reports) is widened and added, so the mask never rules out a
    point a cell could claim.  None when there is nothing to locate against.
    """
    none = np.zeros(0, object)
    big = np.concatenate([np.asarray(g, dtype=object) for g in outlines]) if outlines else none
    small = np.concatenate([np.asarray(g, dtype=object) for g in cells]) if cells else none
    everything = np.concatenate([big, small]) if len(big) or len(small) else np.zeros(0, object)
    if not len(everything):
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(everything)
    lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
    scale = np.array([M_PER_DEG_LON_AT_EQUATOR * float(np.cos(np.radians(lat0))), M_PER_DEG_LAT])
    shift = np.array([lon0, lat0])
    metric_big = shapely.transform(big, lambda c: (c - shift) * scale) if len(big) else big
    metric_small = shapely.transform(small, lambda c: (c - shift) * scale) if len(small) else small
    core = shapely.union_all(metric_big if len(big) else metric_small)
    reach: shapely.Geometry = shapely.buffer(core, margin_m, quad_segs=4)
    if len(big) and len(small):
        # A cell reaching out of the outlines by d would let points d + tolerance away
        # be located: such cells (beyond float noise, 1 m) are widened on their own.
        near_core = shapely.buffer(core, 1.0, quad_segs=4)
        shapely.prepare(near_core)
        stray = metric_small[~shapely.covers(near_core, metric_small)]
        if len(stray):
            logger.info(
                "%d cells reach out of the district's areas; the mask takes them in", len(stray)
            )
            reach = shapely.union(
                reach, shapely.buffer(shapely.union_all(stray), margin_m, quad_segs=4)
            )
    reach = shapely.transform(reach, lambda c: c / scale + shift)
    geoms = np.array([reach], dtype=object)
    x1, y1, x2, y2 = shapely.bounds(reach)
    sx, sy = pixel_m / scale[0], pixel_m / scale[1]
    pixels = (x2 - x1) / sx * (y2 - y1) / sy
    if pixels > MAX_PIXELS:  # a city rather than a district: coarser pixels, same guarantee
        grow = float(np.sqrt(pixels / MAX_PIXELS))
        sx, sy = sx * grow, sy * grow
    raster = build_raster(flatten_edges(geoms), geoms, shapely.STRtree(geoms), pixel_deg=(sx, sy))
    return ReachMask(raster)

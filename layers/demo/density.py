"""Where people live in the demo district: a smooth, seeded population density.

Chenghua is densest along its western edge, next to the old city centre, and
thins out eastwards towards the Longtan industrial area; neighbourhood centres
add local peaks.  Everything downstream (cell sizes, households, cases)
follows this field, so the demo looks like a city rather than a uniform grid.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.core.geo_arrays import geo_array
from layers.demo.partition import sample_in

CHUNK = 65_536
"""Points evaluated at a time by `DensityField` (a few MB of temporaries)."""


class DensityField:
    """Relative residential density over a district (metric coordinates)."""

    def __init__(self, district: BaseGeometry, rng: np.random.Generator) -> None:
        self.district = district
        minx, _miny, maxx, _maxy = district.bounds
        self.west = minx
        self.width = maxx - minx
        centres = sample_in(district, 18, rng)
        self.centres = centres
        self.sigmas = rng.uniform(500.0, 1400.0, len(centres))
        self.peaks = rng.uniform(0.3, 1.0, len(centres))

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Density at (x, y); roughly 0.1 (east) to 2 (west, near a centre)."""
        if len(x) <= CHUNK:
            return self._at(x, y)
        # in pieces: the (points × centres) temporaries stay in cache (5x quicker for
        # 1.6 M points); every value is computed row by row, so the floats are the same
        return np.concatenate(
            [self._at(x[i : i + CHUNK], y[i : i + CHUNK]) for i in range(0, len(x), CHUNK)]
        )

    def _at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        east = (x - self.west) / self.width
        base = 0.12 + 1.1 * np.exp(-east / 0.28)
        d2 = (x[:, None] - self.centres[:, 0]) ** 2 + (y[:, None] - self.centres[:, 1]) ** 2
        bumps = (self.peaks * np.exp(-d2 / (2 * self.sigmas**2))).sum(axis=1)
        return base + 0.8 * bumps * (0.4 + 0.6 * np.exp(-east / 0.5))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """`n` points inside the district, drawn with probability ∝ density."""
        out: list[np.ndarray] = []
        have = 0
        ceiling = 2.6
        while have < n:
            candidates = sample_in(self.district, max(4096, int(1.6 * (n - have) * 2)), rng)
            dens = self(candidates[:, 0], candidates[:, 1])
            keep = rng.uniform(0, ceiling, len(candidates)) < dens
            out.append(candidates[keep])
            have += int(keep.sum())
        return np.concatenate(out)[:n]


def points_in(
    cells: list[BaseGeometry],
    points: np.ndarray,
    nearest: bool = False,
    geoms: np.ndarray | None = None,
) -> np.ndarray:
    """Index of the cell holding each point; ties go to the lowest index.

    A point in no cell gets -1, or with `nearest` the closest cell (points drawn on
    an outer boundary can fall a float's width outside).  `geoms`: the points already
    as shapely points (the hierarchy locates the same 590,000 samples five times, and
    making the points costs as much as the query).
    """
    pts = geo_array(shapely.points(points)) if geoms is None else geoms
    # The points in the tree and the cells as queries: each cell is prepared once for all
    # its points (3x quicker than one query per point); the pairs, and so the answer, are
    # the same either way round.
    cell_idx, point_idx = shapely.STRtree(pts).query(
        np.asarray(cells, dtype=object), predicate="intersects"
    )
    owner = np.full(len(points), -1, dtype=np.int64)
    order = np.lexsort((cell_idx, point_idx))
    point_idx, cell_idx = point_idx[order], cell_idx[order]
    first = np.r_[True, point_idx[1:] != point_idx[:-1]]
    owner[point_idx[first]] = cell_idx[first]
    if nearest and (lost := np.flatnonzero(owner < 0)).size:
        _, near = shapely.STRtree(cells).query_nearest(pts[lost], all_matches=False)
        owner[lost] = near
    return owner

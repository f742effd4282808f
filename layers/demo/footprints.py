"""Building footprints for the city demo, placed a cell at a time with array calls.

`dwellings._place_in` tries one candidate at a time (a Python loop of a few
shapely calls per candidate: 130 s of a 24,000-cell district).  Here every
candidate of a plot is drawn at once and tested with shapely 2's vectorised
`contains` and `distance`; the rule is the same (up to three footprints along
the plot's long axis, 8 m apart, a small one at the heart of a plot that takes
none), but the random draws come in another order, so the city uses this and
the single-district demo keeps its loop and its rows bit for bit.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from layers.core.geo_arrays import GeoArray, geo_array

_CORNERS = np.array([(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5)])
"""A unit square's closed ring about its centre: scaled to length × width per candidate."""
MIN_GAP_M = 8.0


def rectangles(
    width: np.ndarray, length: np.ndarray, angle: float, x: np.ndarray, y: np.ndarray
) -> GeoArray:
    """Width × length rectangles turned by `angle` degrees, centred on (x, y): one array call."""
    radians = np.radians(angle)
    cosp, sinp = np.cos(radians), np.sin(radians)
    cx = _CORNERS[None, :, 0] * length[:, None]
    cy = _CORNERS[None, :, 1] * width[:, None]
    ring = np.stack(
        [cosp * cx - sinp * cy + x[:, None], sinp * cx + cosp * cy + y[:, None]], axis=-1
    )
    return geo_array(shapely.polygons(ring))


def points_in(region: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` points uniformly inside the prepared `region`, drawn in as few batches as it takes."""
    minx, miny, maxx, maxy = region.bounds
    fill = max(region.area / max((maxx - minx) * (maxy - miny), 1e-9), 0.05)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        batch = int((n - have) / fill * 1.3) + 8
        xs = rng.uniform(minx, maxx, batch)
        ys = rng.uniform(miny, maxy, batch)
        keep = shapely.contains_xy(region, xs, ys)
        out.append(np.column_stack([xs[keep], ys[keep]]))
        have += int(keep.sum())
    return np.concatenate(out)[:n]


def long_axis(region: BaseGeometry) -> float | None:
    """Degrees of the region's long axis (its minimum rotated rectangle's first side), or
    None for a plot too small to build on (under 150 m²): both placers start here."""
    if region.is_empty or region.area < 150:
        return None
    rect = region.minimum_rotated_rectangle
    assert isinstance(rect, Polygon), "an area of 150 m² or more has a rectangle, not a segment"
    xs, ys = rect.exterior.coords.xy
    return float(np.degrees(np.arctan2(ys[1] - ys[0], xs[1] - xs[0])))


def place_in(region: BaseGeometry, rng: np.random.Generator, tries: int = 12) -> list[Polygon]:
    """Up to three non-touching footprints inside `region`, aligned with its long axis."""
    angle = long_axis(region)
    if angle is None:
        return []
    shapely.prepare(region)
    wanted = int(rng.integers(1, 4))
    n = tries * wanted
    tower = rng.random(n) < 0.4
    side = rng.uniform(16, 24, n)
    width = np.where(tower, side, 12.0)
    length = np.where(tower, side, rng.uniform(28, 60, n))
    at = points_in(region, n, rng)
    candidates = rectangles(width, length, angle, at[:, 0], at[:, 1])
    fits = candidates[shapely.contains(region, candidates)]
    placed: list[Polygon] = []
    for fp in fits:
        if len(placed) == wanted:
            break
        if not placed or shapely.distance(fp, placed).min() >= MIN_GAP_M:
            placed.append(fp)
    if not placed:  # small plot: one small building at its heart
        x, y = region.representative_point().coords[0]
        fp = rectangles(np.array([10.0]), np.array([14.0]), angle, np.array([x]), np.array([y]))[0]
        if region.contains(fp):
            placed.append(fp)
    return placed

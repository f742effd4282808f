"""Building footprints for the city demo, placed in all plots of a district with array calls.

`dwellings._place_in` tries one candidate at a time (a Python loop of a few
shapely calls per candidate: 130 s of a 24,000-cell district).  Here every
candidate of every plot is drawn at once and tested with shapely 2's vectorised
`contains` (a plot at a time it was still 14 s of a district: 34,000 plots of a
dozen array calls each; all at once 5 s); the rule is the same (up to three
footprints along the plot's long axis, 8 m apart, a small one at the heart of a
plot that takes none), but the random draws come in another order, so the city
uses this and the single-district demo keeps its loop and its rows bit for bit.
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
    width: np.ndarray, length: np.ndarray, angle: float | np.ndarray, x: np.ndarray, y: np.ndarray
) -> GeoArray:
    """Width × length rectangles turned by `angle` degrees (one, or one each), centred on
    (x, y): one array call."""
    radians = np.radians(np.asarray(angle, dtype=float))[..., None]
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


def _axes(regions: np.ndarray) -> np.ndarray:
    """`long_axis` of every region, in one array call (NaN: too small to build on)."""
    angle = np.full(len(regions), np.nan)
    ok = np.flatnonzero(~shapely.is_empty(regions) & (shapely.area(regions) >= 150))
    if len(ok) == 0:
        return angle
    rects = shapely.oriented_envelope(regions[ok])  # = minimum_rotated_rectangle
    assert np.all(shapely.get_type_id(rects) == 3), "an area of 150 m² or more has a rectangle"
    coords, owner = shapely.get_coordinates(shapely.get_exterior_ring(rects), return_index=True)
    first = np.searchsorted(owner, np.arange(len(ok)))
    d = coords[first + 1] - coords[first]
    angle[ok] = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
    return angle


def _points_for(
    regions: np.ndarray, owner: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One point uniformly inside `regions[owner[j]]` for every j: rounds of array draws."""
    bounds = shapely.bounds(regions)
    fill = np.maximum(
        shapely.area(regions)
        / np.maximum((bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1]), 1e-9),
        0.05,
    )
    x = np.empty(len(owner))
    y = np.empty(len(owner))
    pending = np.arange(len(owner))
    while len(pending):
        tries = np.clip(np.ceil(1.5 / fill[owner[pending]]), 1, 30).astype(np.int64)
        who = np.repeat(pending, tries)
        b = bounds[owner[who]]
        xs = rng.uniform(b[:, 0], b[:, 2])
        ys = rng.uniform(b[:, 1], b[:, 3])
        hit = np.flatnonzero(shapely.contains_xy(regions[owner[who]], xs, ys))
        got, first = np.unique(who[hit], return_index=True)  # each candidate's first hit
        x[got], y[got] = xs[hit[first]], ys[hit[first]]
        pending = np.setdiff1d(pending, got, assume_unique=True)
    return x, y


def place_all(
    regions: list[BaseGeometry], rng: np.random.Generator, tries: int = 12
) -> list[list[Polygon]]:
    """Up to three non-touching footprints inside each of `regions`, along its long axis.

    The candidates of all plots are drawn together (so in another order than plot by
    plot) and tested with one `contains`; only the greedy 8 m spacing runs per plot.
    """
    arr = np.asarray(regions, dtype=object)
    out: list[list[Polygon]] = [[] for _ in regions]
    angle = _axes(arr)
    plots = np.flatnonzero(~np.isnan(angle))
    if len(plots) == 0:
        return out
    shapely.prepare(arr[plots])
    wanted = rng.integers(1, 4, len(plots))
    owner = np.repeat(plots, tries * wanted)
    n = len(owner)
    tower = rng.random(n) < 0.4
    side = rng.uniform(16, 24, n)
    width = np.where(tower, side, 12.0)
    length = np.where(tower, side, rng.uniform(28, 60, n))
    x, y = _points_for(arr, owner, rng)
    candidates = rectangles(width, length, angle[owner], x, y)
    fits = np.asarray(shapely.contains(arr[owner], candidates), dtype=bool)
    bounds = np.asarray(np.searchsorted(owner, np.r_[plots, arr.size]))
    for k, p in enumerate(plots.tolist()):
        placed: list[Polygon] = []
        for fp in candidates[bounds[k] : bounds[k + 1]][fits[bounds[k] : bounds[k + 1]]]:
            if len(placed) == wanted[k]:
                break
            if not placed or shapely.distance(fp, placed).min() >= MIN_GAP_M:
                placed.append(fp)
        out[p] = placed
    empty = np.asarray([p for p in plots.tolist() if not out[p]], dtype=np.int64)
    if len(empty):  # small plots: one small building at the heart of each
        heart = shapely.get_coordinates(shapely.point_on_surface(arr[empty]))
        ones = np.ones(len(empty))
        small = rectangles(10.0 * ones, 14.0 * ones, angle[empty], heart[:, 0], heart[:, 1])
        fits = shapely.contains(arr[empty], small)
        for p, fp, ok in zip(empty.tolist(), small, fits, strict=True):
            if ok:
                out[p] = [fp]
    return out

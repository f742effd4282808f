"""Courtyards, building footprints and the households living in them.

A courtyard is drawn inside one level-2 cell (set back from its edges, the
roads), so it is never split by the grid; buildings are drawn inside one
level-3 cell each.  Households and residents are dealt to buildings so the
published totals come out exactly, and every figure above (courtyard, cell)
is a sum of buildings — the hierarchy adds up by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import cos, pi, sin

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from layers.demo.counts import DemoCounts
from layers.demo.footprints import long_axis
from layers.demo.hierarchy import Hierarchy
from layers.demo.names import courtyard_name
from layers.demo.partition import allocate

ROAD_SETBACK_M = 6.0
MAX_COURTYARD_M2 = 60_000.0
"""A residential compound is at most about 6 ha; a larger level-2 cell holds a part of it
(at small scales level-2 cells are square kilometres)."""
BUILDING_SETBACK_M = 3.0


@dataclass
class Courtyards:
    """Courtyard polygons with the level-2 cell each one sits in."""

    geoms: list[BaseGeometry]
    l2: np.ndarray
    names: list[str]
    entrances: list[list[tuple[float, float]]]
    flags: np.ndarray  # (n, 3) gatekeeper, property management, owners' committee


@dataclass
class Buildings:
    """Footprints with their level-3 cell, courtyard (-1 = none) and people."""

    geoms: list[Polygon]
    l3: np.ndarray
    courtyard: np.ndarray
    floors: np.ndarray
    households: np.ndarray
    population: np.ndarray


def make_courtyards(h: Hierarchy, counts: DemoCounts, rng: np.random.Generator) -> Courtyards:
    """Pick the most populated level-2 cells (weighted draw) and draw a courtyard in each."""
    l2 = h.cells[2]
    mass = np.bincount(h.cells[3].parent[h.sample_l3[h.sample_l3 >= 0]], minlength=len(l2))
    weights = (mass + 1.0) / (mass + 1.0).sum()
    order = rng.choice(len(l2), size=len(l2), replace=False, p=weights)
    geoms: list[BaseGeometry] = []
    chosen: list[int] = []
    for i in order:
        if len(chosen) == counts.courtyards:
            break
        inner = l2.geoms[i].buffer(-ROAD_SETBACK_M, join_style="mitre")
        if inner.is_empty:
            continue
        part = _at_most(max(getattr(inner, "geoms", [inner]), key=lambda g: g.area))
        if part.area < 1500.0:
            continue
        geoms.append(shapely.set_precision(part.simplify(0.5), 0.001))
        chosen.append(i)
    if len(chosen) < counts.courtyards:
        raise RuntimeError(f"only {len(chosen)} level-2 cells can hold a courtyard")
    entrances = [_entrances(g, rng) for g in geoms]
    three_nos = rng.random(len(geoms)) < 0.14
    flags = rng.random((len(geoms), 3)) < np.array([0.7, 0.6, 0.35])
    flags[three_nos] = False
    lonely = ~three_nos & ~flags.any(axis=1)
    flags[lonely, 0] = True  # not 三无: at least one of the three
    names = [courtyard_name(i, rng) for i in range(len(geoms))]
    return Courtyards(geoms, np.asarray(chosen), names, entrances, flags)


def _at_most(part: BaseGeometry) -> BaseGeometry:
    """`part`, or the piece of it inside a square of `MAX_COURTYARD_M2` around its inner point."""
    if part.area <= MAX_COURTYARD_M2:
        return part
    x, y = part.representative_point().coords[0]
    half = MAX_COURTYARD_M2**0.5 / 2
    clipped = part.intersection(shapely.box(x - half, y - half, x + half, y + half))
    return max(getattr(clipped, "geoms", [clipped]), key=lambda g: g.area)


def _entrances(courtyard: BaseGeometry, rng: np.random.Generator) -> list[tuple[float, float]]:
    assert isinstance(courtyard, Polygon), "a courtyard is one polygon"
    ring = courtyard.exterior
    n = int(rng.integers(1, 4))
    start = rng.random()
    fractions = (start + np.arange(n) / n) % 1.0
    return [ring.interpolate(f, normalized=True).coords[0] for f in fractions]


def _footprint(width: float, length: float, angle: float, x: float, y: float) -> Polygon:
    """A width × length rectangle turned by `angle` degrees about its centre, placed at (x, y).

    The arithmetic is `shapely.affinity`'s (rotate about the origin, then
    translate) written out for four corners: the same floats, bit for bit, so
    the demo is unchanged, at a tenth of the cost (the full district places
    288,000 candidates).
    """
    radians = angle * pi / 180.0
    cosp, sinp = cos(radians), sin(radians)
    cosp = 0.0 if abs(cosp) < 2.5e-16 else cosp
    sinp = 0.0 if abs(sinp) < 2.5e-16 else sinp
    half_l, half_w = length / 2, width / 2
    corners = ((-half_l, -half_w), (half_l, -half_w), (half_l, half_w), (-half_l, half_w))
    ring = [
        (cosp * cx + -sinp * cy + 0.0 + x, sinp * cx + cosp * cy + 0.0 + y) for cx, cy in corners
    ]
    return Polygon(ring)


def _one_point_in(
    region: BaseGeometry, bounds: tuple[float, float, float, float], rng: np.random.Generator
) -> tuple[float, float]:
    """`sample_in(region, 1, rng)[0]` with the same draws, without its per-call overhead."""
    minx, miny, maxx, maxy = bounds
    while True:
        xs = rng.uniform(minx, maxx, 64)
        ys = rng.uniform(miny, maxy, 64)
        inside = np.flatnonzero(shapely.contains_xy(region, xs, ys))
        if len(inside):
            return float(xs[inside[0]]), float(ys[inside[0]])


def _place_in(region: BaseGeometry, rng: np.random.Generator, tries: int = 12) -> list[Polygon]:
    """Up to three non-touching footprints inside `region`, aligned with its long axis."""
    angle = long_axis(region)
    if angle is None:
        return []
    shapely.prepare(region)
    bounds = region.bounds
    placed: list[Polygon] = []
    wanted = int(rng.integers(1, 4))
    for _ in range(tries * wanted):
        if len(placed) == wanted:
            break
        tower = rng.random() < 0.4
        width, length = (rng.uniform(16, 24),) * 2 if tower else (12.0, rng.uniform(28, 60))
        x, y = _one_point_in(region, bounds, rng)
        fp = _footprint(width, length, angle, x, y)
        if region.contains(fp) and not any(fp.distance(p) < 8.0 for p in placed):
            placed.append(fp)
    if not placed:  # small plot: one small building at its heart
        fp = _footprint(10.0, 14.0, angle, *region.representative_point().coords[0])
        if region.contains(fp):
            placed.append(fp)
    return placed


Placer = Callable[[BaseGeometry, np.random.Generator], list[Polygon]]
ManyPlacer = Callable[[list[BaseGeometry], np.random.Generator], list[list[Polygon]]]


def _plots(h: Hierarchy, yards: Courtyards) -> tuple[list[BaseGeometry], list[int], list[int]]:
    """The plots buildings go in, in placing order, with each one's level-3 cell and
    courtyard (-1: outside any): a cell's part inside its courtyard, then the rest."""
    yard_of_l2 = np.full(len(h.cells[2]), -1)
    yard_of_l2[yards.l2] = np.arange(len(yards.geoms))
    inner_yard = [g.buffer(-BUILDING_SETBACK_M) for g in yards.geoms]
    plots: list[BaseGeometry] = []
    cell_of: list[int] = []
    yard_of: list[int] = []
    for i, cell in enumerate(h.cells[3].geoms):
        region = cell.buffer(-BUILDING_SETBACK_M - 1.0)
        y = int(yard_of_l2[h.cells[3].parent[i]])
        if y >= 0:
            inside = region.intersection(inner_yard[y])
            outside = region.difference(yards.geoms[y].buffer(BUILDING_SETBACK_M))
            plots += [inside, outside]
            cell_of += [i, i]
            yard_of += [y, -1]
        else:
            plots.append(region)
            cell_of.append(i)
            yard_of.append(-1)
    return plots, cell_of, yard_of


def make_buildings(
    h: Hierarchy,
    yards: Courtyards,
    counts: DemoCounts,
    rng: np.random.Generator,
    place: Placer = _place_in,
    place_many: ManyPlacer | None = None,
) -> Buildings:
    """Footprints in every level-3 cell; households and residents dealt exactly.

    `place` puts the footprints in one plot, plot after plot; `place_many` (the
    city's `footprints.place_all`: the same rule drawn for all plots in array
    calls, other draws, so not the default) in all plots at once.
    """
    plots, cell_of, yard_of = _plots(h, yards)
    if place_many is None:
        placed = [place(plot, rng) for plot in plots]
    else:
        placed = place_many(plots, rng)
    geoms: list[Polygon] = []
    l3_idx: list[int] = []
    yard_idx: list[int] = []
    for fps, i, owner in zip(placed, cell_of, yard_of, strict=True):
        for fp in fps:
            geoms.append(fp)
            l3_idx.append(i)
            yard_idx.append(owner)
    l3 = np.asarray(l3_idx)
    courtyard = np.asarray(yard_idx)
    areas = np.array([g.area for g in geoms])
    towers = np.array([abs(np.sqrt(a) - 20) < 4.5 for a in areas])
    floors = np.where(towers, rng.integers(18, 34, len(geoms)), rng.integers(5, 8, len(geoms)))
    # Courtyards are where most people live; loose buildings are partly shops and offices.
    weight = areas * floors * np.where(courtyard >= 0, 1.0, 0.35)
    households = allocate(weight, counts.households, minimum=0)
    population = allocate(households.astype(float), counts.residents, minimum=0)
    return Buildings(geoms, l3, courtyard, floors, households, population)

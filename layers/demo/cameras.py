"""Cameras of the four video levels, placed where a district puts them.

District and street cameras watch road intersections (where three or more
level-1 grids meet: the demo's roads run along grid edges), community cameras
watch the key public places (service stations, police, schools, clinics,
elderly care) and the roads between grids.  Courtyard cameras are what a
district's courtyard programme installs: a camera at the main gate of every
courtyard with a gatekeeper or property management (and of a few 三无院落), and
in the best-run courtyards — property-managed ones first, then those with a
gatekeeper or owners' committee, never a 三无院落, which has nobody to install or
watch them — a set of "detect"-range cameras in the open ground between the
buildings, enough to see about `INNER_GOAL` of the courtyard, as far as the
courtyard budget reaches.  Some are offline and some are blocked by buildings,
so the coverage analysis finds real gaps of every kind.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.analytics.settings import DEFAULT_KEY_PLACE_KINDS
from layers.demo.counts import DemoCounts
from layers.demo.devices import Table
from layers.demo.dwellings import Buildings, Courtyards
from layers.demo.hierarchy import Hierarchy
from layers.demo.partition import sample_in

# Share of cameras per video level, and per level: (hfov choices, range m, height m).
CAMERA_MIX = {"district": 0.06, "street": 0.14, "community": 0.20, "courtyard": 0.60}
CAMERA_OPTICS = {
    "district": ((50.0, 60.0), (50.0, 80.0), (7.0, 9.0)),
    "street": ((50.0, 70.0), (35.0, 60.0), (6.0, 8.0)),
    "community": ((70.0, 90.0), (15.0, 30.0), (4.0, 6.0)),
    "courtyard": ((90.0, 70.0, 50.0), (8.0, 16.0), (3.0, 4.5)),
}
ONLINE_SHARE = 0.973  # a little under the national 98 % target, as in real districts
THREE_NOS_GATE_SHARE = 0.25
"""Share of 三无院落 whose gate has a camera anyway (a street's or a shop's)."""
INNER_GOAL = 0.36
"""Share of a courtyard's area its inner cameras are laid out to see."""
INNER_VIEW_M2 = 1300.0
"""What one inner "detect" camera (50–90° lenses, 40–90 m) adds to the ground seen inside its
courtyard once buildings and the neighbours' views are taken off (about 60 % of its sector)."""
INNER_MAX = 16
"""Most inner cameras in one courtyard."""


def _boundary_points(geoms: list[BaseGeometry], n: int, rng: np.random.Generator):
    """`n` points just inside the given boundaries (∝ length), with the local road bearing.

    A camera stands at the roadside, half a metre inside the area whose edge it
    watches, so it lies inside the district even on the district's outline.
    """
    lines = [g.boundary for g in geoms]
    lengths = np.array([ln.length for ln in lines])
    picks = rng.choice(len(lines), size=n, p=lengths / lengths.sum())
    out = []
    for i in picks:
        d = rng.uniform(0, lines[i].length)
        a = lines[i].interpolate(d).coords[0]
        b = lines[i].interpolate(min(d + 1.0, lines[i].length)).coords[0]
        bearing = (np.degrees(np.arctan2(b[0] - a[0], b[1] - a[1])) + 360) % 360
        tx, ty = np.subtract(b, a) / max(float(np.hypot(*np.subtract(b, a))), 1e-9)
        inside = [(a[0] - s * ty * 0.5, a[1] + s * tx * 0.5) for s in (1.0, -1.0)]
        a = next((p for p in inside if geoms[i].contains(shapely.Point(p))), inside[0])
        out.append((a, bearing, int(i)))
    return out


def intersections(cells: list[BaseGeometry], snap_m: float = 0.1) -> np.ndarray:
    """Points where three or more of `cells` meet (the demo's road crossings), metric."""
    coords, owner = shapely.get_coordinates(np.asarray(cells, dtype=object), return_index=True)
    snapped = np.round(coords / snap_m) * snap_m
    pairs = np.unique(np.column_stack([snapped, owner]), axis=0)
    points, counts = np.unique(pairs[:, :2], axis=0, return_counts=True)
    return points[counts >= 3]


def _facing(target: np.ndarray, distance: float, rng: np.random.Generator):
    """A spot `distance` metres from `target` and the azimuth from it towards the target."""
    angle = rng.uniform(0, 2 * np.pi)
    spot = (target[0] + distance * np.sin(angle), target[1] + distance * np.cos(angle))
    azimuth = (np.degrees(angle) + 180.0 + rng.normal(0, 6)) % 360
    return spot, azimuth


def make_cameras(
    h: Hierarchy,
    yards: Courtyards,
    buildings: Buildings,
    places: Table,
    counts: DemoCounts,
    rng: np.random.Generator,
) -> Table:
    """Road cameras at crossings and edges, cameras facing key places, courtyard cameras."""
    total = counts.cameras
    per_level = {lv: round(total * share) for lv, share in CAMERA_MIX.items()}
    per_level["courtyard"] = total - sum(v for k, v in per_level.items() if k != "courtyard")
    table = Table()
    crossings = intersections(h.cells[1].geoms)
    road = per_level["district"] + per_level["street"]
    watched = rng.permutation(len(crossings))[: min(road, int(0.55 * len(crossings)))]
    for n, k in enumerate(watched):
        level = "district" if n < per_level["district"] else "street"
        spot, azimuth = _facing(crossings[k], rng.uniform(3.0, 8.0), rng)
        _add_camera(table, level, spot, azimuth, rng, None)
    edges = {"district": h.streets.geoms, "street": h.communities.geoms}
    for level in ("district", "street"):
        left = per_level[level] - sum(1 for lv in table.columns.get("level", []) if lv == level)
        _edge_cameras(table, level, edges[level], left, rng)
    kinds = places.columns["kind"]
    key = [i for i, kind in enumerate(kinds) if kind in DEFAULT_KEY_PLACE_KINDS]
    for i in key[: per_level["community"]]:
        spot, azimuth = _facing(np.asarray(places.points[i]), rng.uniform(6.0, 12.0), rng)
        _add_camera(table, "community", spot, azimuth, rng, None)
    _edge_cameras(table, "community", h.cells[1].geoms, per_level["community"] - len(key), rng)
    _courtyard_cameras(table, yards, buildings, per_level["courtyard"], rng)
    return table


def _courtyard_cameras(
    table: Table, yards: Courtyards, buildings: Buildings, budget: int, rng: np.random.Generator
) -> None:
    """Gate cameras first, then inner cameras courtyard by courtyard until `budget` is spent."""
    three_nos = ~np.any(yards.flags, axis=1)
    gated = ~three_nos | (rng.random(len(yards.geoms)) < THREE_NOS_GATE_SHARE)
    for y in np.flatnonzero(gated):
        if budget <= 0:
            return
        gx, gy = yards.entrances[y][0]
        cx, cy = yards.geoms[y].centroid.coords[0]
        azimuth = (np.degrees(np.arctan2(cx - gx, cy - gy)) + rng.normal(0, 15)) % 360
        _add_camera(table, "courtyard", (gx, gy), azimuth, rng, int(y))
        budget -= 1
    # property management first, then a gatekeeper or owners' committee; 三无 never
    rank = np.where(yards.flags[:, 1], 0, 1) + rng.random(len(yards.geoms))
    order = np.argsort(buildings.courtyard, kind="stable")
    bounds = np.searchsorted(buildings.courtyard[order], np.arange(len(yards.geoms) + 1))
    for y in np.argsort(rank, kind="stable"):
        if three_nos[y] or budget <= 0:
            continue
        n = int(np.clip(np.ceil(INNER_GOAL * yards.geoms[y].area / INNER_VIEW_M2), 2, INNER_MAX))
        n = min(n, budget)
        own = [buildings.geoms[k] for k in order[bounds[y] : bounds[y + 1]]]
        for spot, azimuth in _inner_spots(yards.geoms[y], own, n, rng):
            _add_camera(table, "courtyard", spot, azimuth, rng, int(y), detect=True)
        budget -= n


def _inner_spots(yard: BaseGeometry, own: list[BaseGeometry], n: int, rng):
    """`n` spots spread along the open ground's edge of a courtyard, each looking across it.

    Mounted at the edge and looking inwards, a camera's sector stays inside the
    courtyard instead of watching the road outside; the spots are spread
    (farthest-point) so the views overlap little.
    """
    ground = yard.difference(shapely.union_all(own).buffer(1.0)) if own else yard
    rim = yard.buffer(-2.0)
    band = ground.difference(rim.buffer(-8.0)) if not rim.is_empty else ground
    pool = sample_in(band if band.area > 50.0 else ground, 12 * n, rng)
    chosen = [int(rng.integers(len(pool)))]
    gap = np.hypot(*(pool - pool[chosen[0]]).T)
    while len(chosen) < n:
        chosen.append(int(np.argmax(gap)))
        gap = np.minimum(gap, np.hypot(*(pool - pool[chosen[-1]]).T))
    cx, cy = yard.centroid.coords[0]
    for x, yy in pool[chosen]:
        inwards = np.degrees(np.arctan2(cx - x, cy - yy))
        # the installer points it where most open ground lies (buildings block the rest)
        candidates = [inwards + turn for turn in (-90.0, -45.0, 0.0, 45.0, 90.0)]
        sectors = np.asarray([_sector(x, yy, a) for a in candidates], dtype=object)
        near = shapely.clip_by_rect(ground, x - 61.0, yy - 61.0, x + 61.0, yy + 61.0)
        seen = shapely.area(shapely.intersection(near, sectors))
        azimuth = (candidates[int(np.argmax(seen))] + rng.normal(0, 8)) % 360
        yield (float(x), float(yy)), azimuth


def _sector(x: float, y: float, azimuth: float, fov: float = 70.0, reach: float = 60.0):
    """A nominal view sector (metric), to compare directions."""
    angles = np.radians(azimuth + np.linspace(-fov / 2, fov / 2, 9))
    ring = [(x, y), *zip(x + reach * np.sin(angles), y + reach * np.cos(angles), strict=True)]
    return shapely.Polygon(ring)


def _edge_cameras(
    table: Table, level: str, geoms: list[BaseGeometry], n: int, rng: np.random.Generator
) -> None:
    """`n` cameras along the edges of `geoms`, looking up or down the road."""
    for point, bearing, _ in _boundary_points(geoms, max(n, 0), rng):
        azimuth = (bearing + rng.choice([0.0, 180.0]) + rng.normal(0, 8)) % 360
        _add_camera(table, level, point, azimuth, rng, None)


def _add_camera(
    table: Table,
    level: str,
    point,
    azimuth: float,
    rng,
    courtyard: int | None,
    detect: bool = False,
) -> None:
    """One camera; courtyard gates at "recognise" density, `detect` ones ~5x further."""
    fovs, (rmin, rmax), (hmin, hmax) = CAMERA_OPTICS[level]
    hfov = float(rng.choice(fovs))
    if level == "courtyard":  # recognise density: 90° ≈ 8 m, 70° ≈ 11 m, 50° ≈ 16 m
        rng_m = {90.0: 8.0, 70.0: 11.0, 50.0: 16.0}[hfov] * rng.uniform(0.9, 1.2)
        rng_m *= 5.0 if detect else 1.0
    else:
        rng_m = rng.uniform(rmin, rmax)
    table.add(
        point,
        level=level,
        azimuth_deg=round(float(azimuth) % 360, 1) % 360,
        hfov_deg=hfov,
        range_m=round(float(rng_m), 1),
        mount_height_m=round(float(rng.uniform(hmin, hmax)), 1),
        online=bool(rng.random() < ONLINE_SHARE),
        courtyard=courtyard,
    )

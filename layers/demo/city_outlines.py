"""The city demo's district outlines: five real central Chengdu districts and generated neighbours.

The five real outlines (锦江, 青羊, 金牛, 武侯, 成华) come from the bundled Amap
file (GCJ-02, see data/README.md) and are converted once, like Chenghua's.
Neighbours beyond the five are Voronoi tiles of seeds on rings around the
centre, clipped to a disc and with the real districts cut out, so no two
districts overlap; each keeps only its largest piece, so every district is one
polygon a generator can split.  All coordinates are metric (UTM 48N).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, shape
from shapely.geometry.base import BaseGeometry

from layers.core.crs import to_metric, transform_geometry
from layers.demo.partition import GRID

CITY_FILE = Path(__file__).parent / "data" / "chengdu_central_districts_gcj02.geojson"
REAL_ORDER = ("510108", "510104", "510105", "510106", "510107")
"""Chenghua first (the single-district demo's), then the other central districts."""
RING_KM = (17.0, 33.0)
"""Radii of the generated districts' seed rings (a first ring of 7, the rest further out)."""
FIRST_RING = 7


@dataclass(frozen=True)
class CityDistrict:
    """One district of the city: adcode, name, metric outline, and whether it is real."""

    code: str
    name: str
    outline: BaseGeometry
    real: bool


def _metric(geom: BaseGeometry) -> BaseGeometry:
    wgs = transform_geometry(geom, "gcj02", "wgs84")
    metric = shapely.transform(wgs, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1])))
    return shapely.set_precision(shapely.make_valid(metric), GRID)


def real_districts() -> list[CityDistrict]:
    """The five central districts, Chenghua first, with their stored names."""
    data = json.loads(CITY_FILE.read_text(encoding="utf-8"))
    by_code = {f["properties"]["adcode"]: f for f in data["features"]}
    return [
        CityDistrict(
            code,
            by_code[code]["properties"]["name"],
            _metric(shape(by_code[code]["geometry"])),
            True,
        )
        for code in REAL_ORDER
    ]


def _largest(geom: BaseGeometry) -> BaseGeometry:
    parts = list(getattr(geom, "geoms", [geom]))
    polys = [p for p in parts if p.geom_type == "Polygon"]
    return max(polys, key=lambda p: p.area) if polys else shapely.Polygon()


def _seeds(centre: Point, n: int) -> np.ndarray:
    """`n` seeds on two rings, the second ring turned half a step against the first."""
    first = min(n, FIRST_RING)
    rings = [(RING_KM[0], first, 0.0)]
    if n > first:
        rings.append((RING_KM[1], n - first, 0.5))
    out = []
    for radius_km, k, turn in rings:
        angles = 2 * np.pi * (np.arange(k) + turn) / k + np.pi / 2
        out.append(
            np.column_stack(
                [
                    centre.x + 1000 * radius_km * np.cos(angles),
                    centre.y + 1000 * radius_km * np.sin(angles),
                ]
            )
        )
    return np.concatenate(out)


def generated_districts(core: list[CityDistrict], n: int) -> list[CityDistrict]:
    """`n` neighbours around `core`: Voronoi tiles minus the core, disjoint by construction."""
    if n <= 0:
        return []
    union = shapely.union_all([d.outline for d in core], grid_size=GRID)
    centre = union.centroid
    seeds = _seeds(centre, n)
    reach = 1000 * (RING_KM[0] if n <= FIRST_RING else RING_KM[1]) * 1.35
    disc = centre.buffer(reach, 64)
    cells = shapely.voronoi_polygons(MultiPoint(seeds.tolist()), extend_to=disc)
    out = []
    for k, seed in enumerate(seeds):
        cell = next(c for c in cells.geoms if c.contains(Point(seed)))
        piece = shapely.difference(shapely.intersection(cell, disc), union, grid_size=GRID)
        number = len(core) + k + 1
        out.append(CityDistrict(f"5199{number:02d}", f"新区{number:02d}", _largest(piece), False))
    return out


def city_districts(n: int) -> list[CityDistrict]:
    """The first `n` districts of the city: real ones first, then generated neighbours."""
    if n < 1:
        raise ValueError("a city has one district at least")
    real = real_districts()
    chosen = real[: min(n, len(real))]
    return chosen + generated_districts(real, n - len(real))

"""Read a GeoJSON geometry from outside strictly (RFC 7946), and check lon/lat ranges.

shapely's `shape()` is lenient: it reads `["104.1", "30.6"]` as numbers, closes
an open ring (a 3-point "polygon" becomes a triangle) and takes NaN and
coordinates of any size.  A client that sends such a thing has a bug, and the
database (or a later step: impact, tiles) fails on what got in.  So every
geometry a client or a file gives is read here first: numbers only (no strings,
no booleans), finite, two or three per position, lines of two positions or
more, rings closed with four or more; and, once in WGS-84, longitudes within
±180 and latitudes within ±90.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

LON_RANGE = (-180.0, 180.0)
LAT_RANGE = (-90.0, 90.0)
_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
MAX_POSITIONS = 1_000_000
"""More positions than any district boundary needs; beyond it a geometry is refused."""


class GeometryInputError(ValueError):
    """The reason a GeoJSON geometry is not acceptable (a ValueError, so pydantic reports it)."""


def _position(value: Any) -> None:
    if not isinstance(value, list | tuple) or not 2 <= len(value) <= 3:
        raise GeometryInputError("a position must be 2 or 3 numbers")
    for number in value:
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise GeometryInputError(f"coordinates must be numbers, not {number!r}"[:120])
        if not math.isfinite(number):
            raise GeometryInputError("coordinates must be finite numbers")


def _check_nesting(kind: str, coordinates: Any) -> int:
    """Walk `coordinates` at the depth `kind` needs; returns the number of positions."""
    depth, count = _DEPTH[kind], 0
    todo = [(coordinates, depth)]
    while todo:
        value, level = todo.pop()
        if level == 0:
            _position(value)
            count += 1
            if count > MAX_POSITIONS:
                raise GeometryInputError(f"more than {MAX_POSITIONS:,} positions")
            continue
        if not isinstance(value, list | tuple):
            raise GeometryInputError(f"{kind} coordinates are not nested {depth} deep")
        todo += [(item, level - 1) for item in value]
    return count


def _check_parts(kind: str, coordinates: Any) -> None:
    """Lines of 2+ positions; rings of 4+ positions whose first and last are equal."""
    lines = {"LineString": [coordinates], "MultiLineString": coordinates}.get(kind, [])
    for line in lines:
        if len(line) < 2:
            raise GeometryInputError("a line needs at least 2 positions")
    polygons = {"Polygon": [coordinates], "MultiPolygon": coordinates}.get(kind, [])
    for polygon in polygons:
        if not polygon:
            raise GeometryInputError("a polygon needs an exterior ring")
        for ring in polygon:
            if len(ring) < 4:
                raise GeometryInputError("a ring needs at least 4 positions (closed)")
            if list(ring[0]) != list(ring[-1]):
                raise GeometryInputError("a ring must be closed (its last position = its first)")


def read_geojson_geometry(value: Any, *, depth: int = 0) -> BaseGeometry:
    """A shapely geometry from a strict RFC 7946 geometry object; GeometryInputError if not."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise GeometryInputError("must be a GeoJSON geometry object")
    kind = value["type"]
    if kind == "GeometryCollection":
        parts = value.get("geometries")
        if not isinstance(parts, list) or depth > 0:
            raise GeometryInputError("a GeometryCollection needs a flat list of geometries")
        return shapely.GeometryCollection([read_geojson_geometry(p, depth=1) for p in parts])
    if kind not in _DEPTH:
        raise GeometryInputError(f"unknown geometry type {kind[:40]!r}")
    coordinates = value.get("coordinates")
    if not isinstance(coordinates, list | tuple):  # tuples: shapely's own `mapping()`
        raise GeometryInputError("coordinates must be an array")
    _check_nesting(kind, coordinates)
    _check_parts(kind, coordinates)
    try:
        return shape({"type": kind, "coordinates": coordinates})
    except Exception as exc:  # shapely's own refusals (e.g. empty parts), with its reason
        raise GeometryInputError(f"not a readable geometry ({exc})"[:200]) from None


def lonlat_problem(geom: BaseGeometry) -> str | None:
    """Why a WGS-84 geometry's coordinates are not longitude/latitude degrees, or None."""
    xy = shapely.get_coordinates(geom)
    if not xy.size:
        return None
    if not np.isfinite(xy).all():
        return "has non-finite coordinates"
    (west, east), (south, north) = LON_RANGE, LAT_RANGE
    if not ((xy[:, 0] >= west) & (xy[:, 0] <= east)).all():
        return "has longitudes outside ±180"
    if not ((xy[:, 1] >= south) & (xy[:, 1] <= north)).all():
        return "has latitudes outside ±90"
    return None


def lonlat_bbox(text: str) -> tuple[float, float, float, float]:
    """`minlon,minlat,maxlon,maxlat` in WGS-84: finite, in range, corners in order."""
    try:
        parts = tuple(float(p) for p in text.split(","))
    except ValueError:
        raise GeometryInputError("bbox must be four numbers: minlon,minlat,maxlon,maxlat") from None
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise GeometryInputError("bbox must be four finite numbers: minlon,minlat,maxlon,maxlat")
    west, south, east, north = parts
    if not (LON_RANGE[0] <= west <= east <= LON_RANGE[1]):
        raise GeometryInputError("bbox longitudes must be within ±180, west ≤ east")
    if not (LAT_RANGE[0] <= south <= north <= LAT_RANGE[1]):
        raise GeometryInputError("bbox latitudes must be within ±90, south ≤ north")
    return west, south, east, north

"""Check features before they are written: properties by their field rules, geometry by shape.

Used by both the API's create/replace/update and `wangge import`, so a row is
judged the same way whichever door it comes through.  Checks never stop at the
first problem: every problem of every row is reported with its reason.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from layers.core.geojson_input import GeometryInputError, lonlat_problem, read_geojson_geometry
from layers.ogc.registry import Collection, Field

READ_ONLY_IGNORED = frozenset({"id", "version", "updated_at", "is_three_nos"})


@dataclass(frozen=True)
class Problem:
    """One reason a row cannot be written."""

    field: str
    reason: str
    conflict: bool = False

    def as_dict(self) -> dict[str, str]:
        """JSON-ready."""
        return {"field": self.field, "reason": self.reason}


def _check_value(field: Field, value: Any) -> tuple[Any, str | None]:
    """The value as stored, or a reason it is not acceptable."""
    if value is None:
        return None, ("is required" if field.required else None)
    kind = field.type
    if kind == "string":
        if not isinstance(value, str):
            return None, "must be a string"
        value = value.strip()
        if "\x00" in value:
            return None, "contains a NUL character"
        if field.required and not value:
            return None, "must not be empty"
        if field.max_length and len(value) > field.max_length:
            return None, f"longer than {field.max_length} characters"
        if field.enum and value not in field.enum:
            return None, f"must be one of {', '.join(field.enum)}"
        if field.pattern and not re.match(field.pattern, value):
            return None, f"does not match {field.pattern}"
        return value, None
    if kind == "boolean":
        return (value, None) if isinstance(value, bool) else (None, "must be true or false")
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, f"must be a{'n integer' if kind == 'integer' else ' number'}"
        if not math.isfinite(value):
            return None, "must be finite"
        if kind == "integer":
            if float(value) != int(value):
                return None, "must be an integer"
            value = int(value)
        return _check_range(field, value)
    if kind == "datetime" and isinstance(value, str | datetime):
        return value, None
    return None, f"unsupported value for {kind}"


def _check_range(field: Field, value: float) -> tuple[Any, str | None]:
    low, high = field.minimum, field.maximum
    if low is not None and (value < low or (field.exclusive_minimum and value == low)):
        return None, f"must be {'>' if field.exclusive_minimum else '>='} {low:g}"
    if high is not None and (value > high or (field.exclusive_maximum and value == high)):
        return None, f"must be {'<' if field.exclusive_maximum else '<='} {high:g}"
    return value, None


def check_properties(
    collection: Collection, properties: dict[str, Any], *, partial: bool
) -> tuple[dict[str, Any], list[Problem]]:
    """Writable values keyed by column; unknown names are problems, read-only ones ignored."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    writable = {f.name: f for f in collection.fields if f.writable}
    extra = set(collection.extra_geometries)
    for name in properties:
        if name not in writable and name not in extra and name not in READ_ONLY_IGNORED:
            problems.append(Problem(name, "unknown or read-only property"))
    for name, field in writable.items():
        if name not in properties and (partial or not field.required):
            continue
        value, reason = _check_value(field, properties.get(name))
        if reason:
            problems.append(Problem(name, reason))
        else:
            values[name] = value
    return values, problems


def _fix_type(geom: BaseGeometry, expected: str) -> BaseGeometry:
    if expected == "MultiPolygon" and isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if expected == "Polygon" and isinstance(geom, MultiPolygon) and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


def check_geometry(
    geom: BaseGeometry | None, expected: str, name: str = "geometry"
) -> tuple[BaseGeometry | None, list[Problem]]:
    """A 2-D geometry of the expected type, valid and finite (Polygon ↔ MultiPolygon mended)."""
    if geom is None or geom.is_empty:
        return None, [Problem(name, "is required and must not be empty")]
    geom = _fix_type(shapely.force_2d(geom), expected)
    if geom.geom_type != expected:
        return None, [Problem(name, f"must be a {expected}, not a {geom.geom_type}")]
    if not shapely.get_coordinates(geom).size:
        return None, [Problem(name, "is required and must not be empty")]
    if problem := lonlat_problem(geom):
        return None, [Problem(name, f"{problem} (stored as WGS-84 longitude/latitude)")]
    if not geom.is_valid:
        return None, [Problem(name, f"is not valid: {shapely.is_valid_reason(geom)}")]
    return geom, []


def parse_geojson_geometry(value: Any, name: str = "geometry") -> tuple[Any, list[Problem]]:
    """A shapely geometry from a strict GeoJSON geometry object, or a problem."""
    if value is None:
        return None, []
    try:
        return read_geojson_geometry(value), []
    except GeometryInputError as exc:
        return None, [Problem(name, f"is not a valid GeoJSON geometry: {exc}")]

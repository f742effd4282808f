"""Read many points from a request: a GeoJSON FeatureCollection or a CSV with lon/lat."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from layers.core.errors import InvalidInputError, PayloadTooLargeError
from layers.core.geojson_input import LAT_RANGE, LON_RANGE

LON_NAMES = ("lon", "lng", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")


@dataclass(frozen=True)
class Points:
    """Coordinates with the caller's ids and other properties, in input order."""

    lons: list[float]
    lats: list[float]
    ids: list[Any] | None
    properties: list[dict[str, Any]]


async def read_points(request: Request, *, max_points: int) -> Points:
    """Parse the body by its content type (multipart: the ``file`` field)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInputError("send the points as a `file` field", code="missing_file")
        raw = await upload.read()
        name = (upload.filename or "").lower()
        kind = "text/csv" if name.endswith((".csv", ".txt")) else "application/geo+json"
    else:
        raw = await request.body()
    if kind in ("text/csv", "application/csv"):
        points = _from_csv(raw)
    elif kind in ("application/json", "application/geo+json"):
        points = _from_geojson(raw)
    else:
        raise InvalidInputError(
            "send application/geo+json, application/json or text/csv", code="unsupported_media_type"
        )
    if len(points.lons) > max_points:
        raise PayloadTooLargeError(
            f"at most {max_points} points per request", code="too_many_points"
        )
    return points


def _number(value: Any, where: str, bounds: tuple[float, float], *, text: bool) -> float:
    """A finite coordinate within `bounds`; CSV cells are text, GeoJSON ones must be numbers."""
    if isinstance(value, bool) or not isinstance(value, str if text else int | float):
        raise InvalidInputError(f"{where}: not a number: {value!r}"[:200], code="invalid_points")
    try:
        number = float(value)
    except ValueError:
        raise InvalidInputError(
            f"{where}: not a number: {value!r}"[:200], code="invalid_points"
        ) from None
    if not (math.isfinite(number) and bounds[0] <= number <= bounds[1]):
        raise InvalidInputError(
            f"{where}: {value!r} is not a finite degree within {bounds[0]:g}…{bounds[1]:g}"[:200],
            code="invalid_points",
        )
    return number


def _from_geojson(raw: bytes) -> Points:
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInputError("the body is not JSON", code="invalid_points") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InvalidInputError("expected a GeoJSON FeatureCollection", code="invalid_points")
    lons, lats, ids, props = [], [], [], []
    for i, feature in enumerate(doc.get("features") or []):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not (
            isinstance(geometry, dict)
            and geometry.get("type") == "Point"
            and isinstance(coords, list)
            and len(coords) >= 2
        ):
            raise InvalidInputError(f"features[{i}] is not a Point", code="invalid_points")
        lons.append(_number(coords[0], f"features[{i}]", LON_RANGE, text=False))
        lats.append(_number(coords[1], f"features[{i}]", LAT_RANGE, text=False))
        ids.append(feature.get("id"))
        props.append(feature.get("properties") or {})
    return Points(lons, lats, ids, props)


def _from_csv(raw: bytes) -> Points:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError("the CSV is not UTF-8", code="invalid_points") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower(): f for f in reader.fieldnames or []}
    lon_col = next((fields[n] for n in LON_NAMES if n in fields), None)
    lat_col = next((fields[n] for n in LAT_NAMES if n in fields), None)
    if lon_col is None or lat_col is None:
        raise InvalidInputError(
            "the CSV needs lon/lat columns (lon|lng|longitude|x, lat|latitude|y)",
            code="invalid_points",
        )
    lons, lats, props = [], [], []
    for n, row in enumerate(reader, start=2):
        lons.append(_number(row[lon_col], f"line {n}", LON_RANGE, text=True))
        lats.append(_number(row[lat_col], f"line {n}", LAT_RANGE, text=True))
        props.append({k: v for k, v in row.items() if k not in (lon_col, lat_col)})
    return Points(lons, lats, None, props)

"""Read a GIS file (any format GDAL reads) into rows to validate, in WGS-84.

Column names are matched to the collection's writable fields, also in their
Shapefile-truncated 10-character form; other columns (ids, versions, derived
flags from an export) are ignored and named once.  Coordinates declared as
GCJ-02/BD-09 (`--crs`) are converted with `layers.core.crs`, which PROJ cannot do.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyogrio.errors import DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError

from layers.core.constants import WGS84
from layers.core.crs import transform_geometry
from layers.core.errors import InvalidInputError
from layers.ogc.registry import Collection, Field
from layers.ogc.rows import RowInput
from layers.ogc.validate import Problem

logger = logging.getLogger(__name__)

_TRUE = {"1", "true", "t", "yes", "y", "是"}
_FALSE = {"0", "false", "f", "no", "n", "否"}


@dataclass(frozen=True)
class FileRows:
    """The rows read from a file and the columns that were not used."""

    rows: list[RowInput]
    ignored_columns: list[str]


def _column_map(collection: Collection, columns: list[str]) -> dict[str, str]:
    """File column → field or extra-geometry name (exact, case-insensitive or 10-char)."""
    wanted = [f.name for f in collection.fields if f.writable] + list(collection.extra_geometries)
    found: dict[str, str] = {}
    for column in columns:
        for name in wanted:
            if column.lower() in (name, name[:10]) and name not in found.values():
                found[column] = name
                break
    return found


def _plain(value: Any) -> Any:
    """numpy/pandas scalars to Python; NaN, NaT and empty strings to None."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    if value.__class__.__name__ in ("NaTType", "NAType"):
        return None
    return value


def _coerce(field: Field, value: Any) -> Any:
    """Values as files store them (0/1 booleans, numeric text) into the field's type."""
    if value is None:
        return None
    if field.type == "boolean" and not isinstance(value, bool):
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    if field.type in ("integer", "number") and isinstance(value, str):
        try:
            return float(value) if field.type == "number" else int(value)
        except ValueError:
            return value
    if field.type == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _to_wgs84(frame: gpd.GeoDataFrame, crs: str | None) -> gpd.GeoDataFrame:
    if crs is not None:
        geoms = [
            transform_geometry(g, crs, "wgs84") if g is not None else None for g in frame.geometry
        ]
        return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index), crs=WGS84)
    if frame.crs is not None and frame.crs.to_epsg() != WGS84:
        return frame.to_crs(WGS84)
    return frame


def _json_texts(node: Any) -> Iterator[str]:
    """Every string (keys included) of a JSON value, without recursion."""
    todo = [node]
    while todo:
        value = todo.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            todo += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            todo += value


def geojson_checks(path: Path, *, check_crs: bool = True) -> dict[int, list[Problem]]:
    """What GDAL hides in a GeoJSON file: a `crs` it does not know, and NUL characters.

    GDAL's GeoJSON driver reads an unknown `crs` member as WGS-84 and cuts a
    string at a NUL, silently.  A `crs` that PROJ cannot resolve is an error
    (`unknown_crs`, unless `--crs` overrides it); a feature with a NUL in any
    string is a bad row (by number).  The file is parsed here only when its
    bytes show either.
    """
    if path.suffix.lower() not in (".geojson", ".json"):
        return {}
    raw = path.read_bytes()
    if b'"crs"' not in raw and b"\\u0000" not in raw:
        return {}
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return {}  # not JSON: GDAL's reader says why
    if not isinstance(doc, dict):
        return {}
    crs = doc.get("crs")
    if crs is not None and check_crs:
        props = crs.get("properties") if isinstance(crs, dict) else None
        name = props.get("name") if isinstance(props, dict) else crs
        try:
            CRS.from_user_input(name)
        except (CRSError, TypeError):
            raise InvalidInputError(
                f"{path.name} declares a CRS PROJ does not know: {str(name)[:80]!r}",
                code="unknown_crs",
            ) from None
    features = doc.get("features")
    return {
        number: [Problem("properties", "contains a NUL character (GDAL would cut the text)")]
        for number, feature in enumerate(features if isinstance(features, list) else [], 1)
        if any("\x00" in s for s in _json_texts(feature))
    }


def read_rows(
    path: Path,
    collection: Collection,
    *,
    crs: str | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    report: Callable[[str], None] = logger.info,
) -> FileRows:
    """Every feature of the file as a `RowInput` numbered from 1 (the file's order)."""
    try:
        frame = gpd.read_file(path, engine="pyogrio", layer=layer, encoding=encoding)
    except (DataSourceError, OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}", code="unreadable_file") from None
    hidden = geojson_checks(path, check_crs=crs is None)
    report(f"read {len(frame):,} features from {path.name}")
    frame = _to_wgs84(frame, crs)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    mapping = _column_map(collection, columns)
    fields = {f.name: f for f in collection.fields}
    rows: list[RowInput] = []
    for number, (record, geom) in enumerate(
        zip(frame[list(mapping)].to_dict("records"), frame.geometry, strict=True), start=1
    ):
        properties: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        problems: list[Problem] = list(hidden.get(number, []))
        for column, name in mapping.items():
            value = _plain(record[column])
            if name in collection.extra_geometries:
                extra[name] = _wkt(value, name, problems)
            else:
                properties[name] = _coerce(fields[name], value)
        geometry = None if geom is None or geom.is_empty else geom
        rows.append(RowInput(number, properties, geometry, extra, problems))
    return FileRows(rows, [c for c in columns if c not in mapping])


def _wkt(value: Any, name: str, problems: list[Problem]) -> Any:
    if value is None:
        return None
    try:
        return shapely.from_wkt(str(value))
    except Exception:
        problems.append(Problem(name, "is not WKT"))
        return None

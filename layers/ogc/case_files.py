"""Read files of historical cases into one table with `lon`/`lat` columns.

CSV (columns ``lon``/``lat``, or ``longitude``/``latitude``, ``lng``, ``x``/``y``)
is read with pandas as text, so ids keep their leading zeros; GeoJSON and
GeoPackage (point layers) go through pyogrio.  Column names are lower-cased.
Nothing is validated here beyond the file being readable: the importer rejects
bad rows one by one with a reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

from layers.core.errors import InvalidInputError

LON_NAMES = ("lon", "lng", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
SPATIAL_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet")


def read_case_file(path: Path) -> pd.DataFrame:
    """The rows of `path` as text columns plus float `lon`/`lat` (NaN where unreadable)."""
    if not path.is_file():
        raise InvalidInputError(f"no such file: {path}", code="file_not_found")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _csv(path)
    if suffix in SPATIAL_SUFFIXES:
        return _spatial(path)
    raise InvalidInputError(
        f"cannot read {path.name}: use CSV, GeoJSON or GeoPackage", code="unsupported_file"
    )


def _csv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidInputError(
            f"{path.name} is not a readable CSV: {exc}", code="bad_file"
        ) from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    lon = next((c for c in LON_NAMES if c in frame.columns), None)
    lat = next((c for c in LAT_NAMES if c in frame.columns), None)
    if lon is None or lat is None:
        raise InvalidInputError(
            f"{path.name} needs lon/lat columns (lon|lng|longitude|x, lat|latitude|y)",
            code="missing_coordinates",
        )
    out = frame.drop(columns=[lon, lat])
    out["lon"] = pd.to_numeric(frame[lon], errors="coerce").astype(float)
    out["lat"] = pd.to_numeric(frame[lat], errors="coerce").astype(float)
    return out


def _spatial(path: Path) -> pd.DataFrame:
    try:
        frame = pyogrio.read_dataframe(path)
    except Exception as exc:
        raise InvalidInputError(f"cannot read {path.name}: {exc}", code="bad_file") from exc
    geoms = np.asarray(frame.geometry.values, dtype=object)
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    out.columns = [str(c).strip().lower() for c in out.columns]
    for column in out.columns:
        if out[column].dtype != object or not out[column].map(type).eq(str).all():
            out[column] = out[column].map(_as_text)
    is_point = shapely.get_type_id(geoms) == 0
    xy = np.full((len(geoms), 2), np.nan)
    if is_point.any():
        xy[is_point] = shapely.get_coordinates(geoms[is_point])[:, :2]
    out["lon"], out["lat"] = xy[:, 0], xy[:, 1]
    out["geometry_type"] = np.where(is_point, "Point", shapely.get_type_id(geoms).astype(str))
    return out


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)

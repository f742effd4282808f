"""Write a collection (or the part a query selects) to a GIS file through GeoPandas/pyogrio.

Formats: GeoPackage, Shapefile, FlatGeobuf, GeoParquet, CSV (WKT geometry) and
GeoJSON.  Chinese text stays intact everywhere; the Shapefile's DBF is written
as UTF-8 with a `.cpg` sidecar saying so, which GDAL, QGIS and ArcGIS honour.
Files carry coordinates in x/y (east/north, longitude/latitude) order, as every
GIS file format does, whatever the CRS's formal axis order.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from layers.core.constants import WGS84
from layers.core.crs import transform_geometry
from layers.core.errors import InvalidInputError
from layers.ogc.cql import Binds
from layers.ogc.params import ItemsQuery
from layers.ogc.registry import Collection
from layers.ogc.sql_parts import order_sql, selected_fields, where_sql
from layers.store.sql import quote_ident
from layers.tables.case_scope import CaseScope

logger = logging.getLogger(__name__)

MAX_EXPORT_ROWS = 2_000_000
PROGRESS_EVERY = 5_000
"""Rows fetched (and reported) at a time, as imports report their checks."""
Report = Callable[[str], None]


@dataclass(frozen=True)
class FileFormat:
    """An export format: pyogrio driver (or parquet), file suffix and media type."""

    driver: str
    suffix: str
    media_type: str


FORMATS: dict[str, FileFormat] = {
    "gpkg": FileFormat("GPKG", ".gpkg", "application/geopackage+sqlite3"),
    "shp": FileFormat("ESRI Shapefile", ".shp", "application/zip"),
    "fgb": FileFormat("FlatGeobuf", ".fgb", "application/flatgeobuf"),
    "parquet": FileFormat("parquet", ".parquet", "application/vnd.apache.parquet"),
    "csv": FileFormat("CSV", ".csv", "text/csv; charset=utf-8"),
    "geojson": FileFormat("GeoJSON", ".geojson", "application/geo+json"),
}


def file_format(name: str) -> FileFormat:
    """The format called `name`, or a 400 listing the supported ones."""
    found = FORMATS.get(name.lower())
    if found is None:
        raise InvalidInputError(
            f"unsupported format {name!r}; one of {', '.join(FORMATS)}", code="invalid_format"
        )
    return found


def read_frame(
    *,
    session: Session,
    collection: Collection,
    q: ItemsQuery,
    role: str,
    limit: int | None,
    scope: CaseScope | None = None,
    report: Report | None = None,
) -> gpd.GeoDataFrame:
    """The selected rows (cases: the reader's) as a GeoDataFrame in `q.crs`, ids in `id`.

    With `report`, the rows are counted first and fetched `PROGRESS_EVERY` at a time,
    each batch reported (`read 5,000/26,038 buildings`).
    """
    binds = Binds()
    where = where_sql(collection, q, role, binds, scope)
    fields = selected_fields(collection, role, q.properties)
    srid = q.crs.srid
    out = "t.geom" if srid == WGS84 else f"ST_Transform(t.geom, {srid})"
    columns = ["t.id AS id", *(f"{f.column} AS {quote_ident(f.name)}" for f in fields)]
    for name in collection.extra_geometries:
        col = f"t.{quote_ident(name)}"
        extra = col if srid == WGS84 else f"ST_Transform({col}, {srid})"
        columns.append(f"ST_AsText({extra}) AS {quote_ident(name)}")
    cap = binds.add(min(limit or MAX_EXPORT_ROWS, MAX_EXPORT_ROWS))
    sql = (
        f"SELECT {', '.join(columns)}, ST_AsBinary({out}) AS wkb "  # noqa: S608 - quoted, bound
        f"FROM {quote_ident(collection.table)} t WHERE {where} "
        f"ORDER BY {order_sql(collection, q, role)} LIMIT {cap}"
    )
    total = None
    if report is not None:
        table = quote_ident(collection.table)
        counted = f"SELECT count(*) FROM (SELECT 1 FROM {table} t WHERE {where} LIMIT {cap}) s"  # noqa: S608
        total = int(session.execute(text(counted), binds.values).scalar_one())
    result = session.execute(text(sql), binds.values)
    rows: list[Row[Any]] = []
    while chunk := result.fetchmany(PROGRESS_EVERY):
        rows.extend(chunk)
        if report is not None:
            report(f"read {len(rows):,}/{total:,} {collection.id}")
    frame = pd.DataFrame(rows, columns=list(result.keys()))
    geometry = shapely.from_wkb([bytes(b) for b in frame.pop("wkb")])
    for field in fields:
        if field.type == "datetime":
            frame[field.name] = pd.to_datetime(frame[field.name], utc=True)
        elif field.type == "integer":
            frame[field.name] = frame[field.name].astype("Int64")
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=f"EPSG:{srid}")


def write_frame(frame: gpd.GeoDataFrame, path: Path, fmt: FileFormat, layer: str) -> None:
    """Write `frame` to `path` in `fmt` (UTF-8 everywhere, .cpg for Shapefiles)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt.driver == "parquet":
        frame.to_parquet(path, index=False)
        return
    data = frame
    options: dict[str, str] = {}
    if fmt.driver in ("ESRI Shapefile", "CSV"):
        data = frame.copy()
        for name in data.columns:
            if pd.api.types.is_datetime64_any_dtype(data[name]):
                data[name] = data[name].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt.driver == "CSV":
        options["GEOMETRY"] = "AS_WKT"
    kwargs = {"encoding": "UTF-8"} if fmt.driver == "ESRI Shapefile" else {}
    with warnings.catch_warnings():
        # Shapefile field names are cut to 10 characters; expected, and undone on import.
        warnings.filterwarnings("ignore", message=".*(truncated|laundered).*")
        data.to_file(
            path,
            driver=fmt.driver,
            layer=layer if fmt.driver == "GPKG" else None,
            engine="pyogrio",
            **kwargs,
            **options,
        )


def export_to_file(
    *,
    session: Session,
    collection: Collection,
    q: ItemsQuery,
    role: str,
    fmt: FileFormat,
    path: Path,
    limit: int | None = None,
    shift_to: str | None = None,
    scope: CaseScope | None = None,
    exported_ids: list[int] | None = None,
    report: Report | None = None,
) -> int:
    """Export the selected rows to `path`; returns the number of features written.

    `shift_to` ("gcj02" or "bd09") moves WGS-84 coordinates onto those Chinese map grids,
    which no EPSG code describes: the file is then labelled WGS-84 but holds shifted points.
    The ids written are appended to `exported_ids` when given (for the audit trail);
    `report` gets a line per step (reading in batches, shifting, writing).
    """
    frame = read_frame(
        session=session,
        collection=collection,
        q=q,
        role=role,
        limit=limit,
        scope=scope,
        report=report,
    )
    if exported_ids is not None:
        exported_ids.extend(int(i) for i in frame["id"])
    if report is not None and shift_to is not None:
        report(f"shifting {len(frame):,} geometries to {shift_to}")
    if shift_to is not None:
        frame = frame.set_geometry(
            [transform_geometry(g, "wgs84", shift_to) for g in frame.geometry], crs=WGS84
        )
        for name in collection.extra_geometries:
            frame[name] = [
                None
                if w is None
                else shapely.to_wkt(transform_geometry(shapely.from_wkt(w), "wgs84", shift_to))
                for w in frame[name]
            ]
    if report is not None:
        report(f"writing {len(frame):,} features to {path.name}")
    write_frame(frame, path, fmt, collection.id)
    logger.info("exported %d %s to %s", len(frame), collection.id, path)
    return len(frame)


def export_to_bytes(
    *,
    session: Session,
    collection: Collection,
    q: ItemsQuery,
    role: str,
    fmt: FileFormat,
    limit: int | None = None,
    scope: CaseScope | None = None,
    exported_ids: list[int] | None = None,
) -> bytes:
    """The export as bytes for a download (a Shapefile comes zipped with its sidecars)."""
    with tempfile.TemporaryDirectory(prefix="wangge-export-") as tmp:
        path = Path(tmp) / f"{collection.id}{fmt.suffix}"
        export_to_file(
            session=session,
            collection=collection,
            q=q,
            role=role,
            fmt=fmt,
            path=path,
            limit=limit,
            scope=scope,
            exported_ids=exported_ids,
        )
        if fmt.driver != "ESRI Shapefile":
            return path.read_bytes()
        archive = Path(tmp) / f"{collection.id}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).glob(f"{collection.id}.*")):
                if part != archive:
                    zf.write(part, part.name)
        return archive.read_bytes()

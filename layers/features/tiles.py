"""Mapbox vector tiles of a collection in WebMercatorQuad, made by PostGIS (ST_AsMVT).

The tile envelope is transformed to WGS-84 once, so the spatial index on the
stored geometry picks the rows; only those are projected and clipped.  A tile of
cases holds the reader's cases only (`layers.case_scope`) and no personal data for
anyone: tiles are pictures that browsers cache.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.case_scope import CaseScope, Viewer
from layers.db import without_parallel_workers
from layers.errors import NotFoundError
from layers.features.case_rows import rows_condition, scope_for
from layers.features.cql import Binds
from layers.features.registry import Collection, Field, get_collection
from layers.features.sql_parts import temporal_sql
from layers.sql import quote_ident

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
HALF_WORLD = 20037508.342789244  # metres: half the WebMercatorQuad width


@dataclass(frozen=True)
class Tile:
    """A rendered tile: bytes (empty when no feature falls in it) and their ETag."""

    content: bytes
    etag: str
    private: bool


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """EPSG:3857 bounds of tile z/x/y (y counted from the top, as in XYZ and OGC)."""
    size = 2 * HALF_WORLD / (1 << z)
    west = -HALF_WORLD + x * size
    north = HALF_WORLD - y * size
    return west, north - size, west + size, north


def check_tile(z: int, x: int, y: int) -> None:
    """404 for a tile outside WebMercatorQuad's matrices."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < (1 << z) and 0 <= y < (1 << z)):
        raise NotFoundError(f"no tile {z}/{y}/{x} in WebMercatorQuad", code="tile_out_of_range")


def _mvt_value(field: Field) -> str:
    if field.type == "datetime":
        return f"to_char({field.column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    return field.column


def tile_sql(
    collection: Collection, role: str, binds: Binds, scope: CaseScope | None = None
) -> str:
    """SQL making one MVT layer named after the collection from rows in the tile.

    Rows are picked by the stored geometry's index against the tile (plus its buffer)
    unprojected once; ST_AsMVT drops the rows ST_AsMVTGeom clipped away (NULL).
    """
    props = ", ".join(
        f"{_mvt_value(f)} AS {quote_ident(f.name)}" for f in collection.tile_fields(role)
    )
    where = [collection.where]
    rows = rows_condition(collection, role, scope, binds)
    if rows:
        where.append(rows)
    live = temporal_sql(collection, None, binds)
    if live:
        where.append(live)
    margin = binds.add(BUFFER / EXTENT)
    tile = "ST_MakeEnvelope(:x1, :y1, :x2, :y2, 3857)"
    box = f"ST_Transform(ST_Expand({tile}, (:x2 - :x1) * {margin}), 4326)"
    return (
        f"SELECT ST_AsMVT(r.*, :layer, {EXTENT}, 'geom', 'id') FROM (SELECT t.id, {props}, "  # noqa: S608
        "ST_AsMVTGeom(ST_Transform(t.geom, 3857), "
        f"{tile}::box2d, {EXTENT}, {BUFFER}, true) AS geom "
        f"FROM {quote_ident(collection.table)} t WHERE t.geom && {box} "
        f"AND {' AND '.join(f'({w})' for w in where)}) r"
    )


def render_tile(
    *,
    session: Session,
    collection_id: str,
    role: str,
    z: int,
    x: int,
    y: int,
    viewer: Viewer | None = None,
) -> Tile:
    """The tile's bytes (b"" when empty) for a collection the caller may see."""
    collection = get_collection(collection_id, role)
    check_tile(z, x, y)
    scope = scope_for(session=session, collection=collection, viewer=viewer or Viewer(role))
    binds = Binds()
    sql = tile_sql(collection, role, binds, scope)
    x1, y1, x2, y2 = tile_bounds(z, x, y)
    params = {**binds.values, "x1": x1, "y1": y1, "x2": x2, "y2": y2, "layer": collection.id}
    without_parallel_workers(session)
    content = bytes(session.execute(text(sql), params).scalar() or b"")
    digest = hashlib.blake2b(content, digest_size=12).hexdigest()
    return Tile(content, f'"{digest}"', collection.staff_only)


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (x, y) of the tile holding a WGS-84 point at zoom z."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)

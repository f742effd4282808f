"""Mapbox vector tiles of a collection in WebMercatorQuad, made by PostGIS (ST_AsMVT).

The tile envelope is transformed to WGS-84 once, so the spatial index on the
stored geometry picks the rows; only those are projected and clipped.  A tile of
cases holds the reader's cases only (`layers.tables.case_scope`) and no personal data for
anyone: tiles are pictures that browsers cache.

Tiles are bounded so a web map never fetches megabytes for one square:

- below a collection's `min_zoom` a tile is empty (the API answers 204), as the
  whole layer would fall into a few tiles, too small to read;
- geometries are simplified by one tile unit (1/4096 of the tile side) before
  clipping, which the quantisation to the 4096 grid would lose anyway;
- a tile still over the byte budget is made again with a coarser tolerance
  (`TOLERANCE_STEPS`), then, if need be, with only the largest features that fit
  (ordered by area, then newest first, so the same data give the same tile and a
  thinned tile of points shows the latest ones).
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.constants import WEB_MERCATOR, WGS84
from layers.core.errors import NotFoundError
from layers.ogc.case_rows import rows_condition, scope_for
from layers.ogc.cql import Binds
from layers.ogc.registry import Collection, Field, get_collection
from layers.ogc.sql_parts import temporal_sql
from layers.store.db import without_parallel_workers
from layers.store.sql import quote_ident
from layers.tables.case_scope import CaseScope, Viewer

logger = logging.getLogger(__name__)

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
MAX_TILE_BYTES = 500 * 1024
"""Default budget of one tile (the API's is `WANGGE_TILE_MAX_BYTES`)."""
TOLERANCE_STEPS = (1.0, 4.0, 16.0)
"""Simplification tolerances tried in turn, in tile units (16 units = 1 px of a 256 px tile)."""
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
    collection: Collection,
    role: str,
    binds: Binds,
    scope: CaseScope | None = None,
    *,
    limited: bool = False,
) -> str:
    """SQL making one MVT layer named after the collection from rows in the tile, and its rows.

    Rows are picked by the stored geometry's index against the tile (plus its buffer)
    unprojected once; ST_AsMVT drops the rows ST_AsMVTGeom clipped away (NULL).
    Geometries are simplified by `:tolerance` (metres); `limited` keeps the `:keep`
    largest (then newest) rows only.
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
    tile = f"ST_MakeEnvelope(:x1, :y1, :x2, :y2, {WEB_MERCATOR})"
    box = f"ST_Transform(ST_Expand({tile}, (:x2 - :x1) * {margin}), {WGS84})"
    cap = " ORDER BY ST_Area(t.geom) DESC, t.id DESC LIMIT :keep" if limited else ""
    return (
        f"SELECT ST_AsMVT(r.*, :layer, {EXTENT}, 'geom', 'id') AS mvt, count(*) AS n FROM ("  # noqa: S608
        f"SELECT t.id, {props}, "
        f"ST_AsMVTGeom(ST_Simplify(ST_Transform(t.geom, {WEB_MERCATOR}), :tolerance), "
        f"{tile}::box2d, {EXTENT}, {BUFFER}, true) AS geom "
        f"FROM {quote_ident(collection.table)} t WHERE t.geom && {box} "
        f"AND {' AND '.join(f'({w})' for w in where)}{cap}) r"
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
    max_bytes: int = MAX_TILE_BYTES,
) -> Tile:
    """The tile's bytes, at most `max_bytes` (b"" when empty or below the minimum zoom)."""
    collection = get_collection(collection_id, role)
    check_tile(z, x, y)
    if z < collection.min_zoom:
        content = b""
    else:
        scope = scope_for(session=session, collection=collection, viewer=viewer or Viewer(role))
        content = _bounded(session, collection, role, scope, (z, x, y), max_bytes)
    digest = hashlib.blake2b(content, digest_size=12).hexdigest()
    return Tile(content, f'"{digest}"', collection.staff_only)


def _bounded(
    session: Session,
    collection: Collection,
    role: str,
    scope: CaseScope | None,
    zxy: tuple[int, int, int],
    max_bytes: int,
) -> bytes:
    """The tile at the finest tolerance that fits `max_bytes`, else its largest features."""
    z, x, y = zxy
    x1, y1, x2, y2 = tile_bounds(z, x, y)
    where = {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "layer": collection.id}
    unit = (x2 - x1) / EXTENT
    binds = Binds()
    sql = text(tile_sql(collection, role, binds, scope))
    without_parallel_workers(session)
    content, rows = b"", 0
    points = collection.geometry_type in ("Point", "MultiPoint")  # nothing to simplify
    for step in TOLERANCE_STEPS[:1] if points else TOLERANCE_STEPS:
        row = session.execute(sql, {**binds.values, **where, "tolerance": step * unit}).one()
        content, rows = bytes(row.mvt or b""), int(row.n)
        if len(content) <= max_bytes:
            return content
    binds = Binds()
    limited = text(tile_sql(collection, role, binds, scope, limited=True))
    coarse = {**binds.values, **where, "tolerance": TOLERANCE_STEPS[-1] * unit}
    while len(content) > max_bytes:
        # Shrink in proportion to the overshoot (with a margin): this ends in a few rounds.
        rows = min(rows - 1, int(rows * max_bytes / len(content) * 0.9))
        if rows <= 0:
            return b""
        content = bytes(session.execute(limited, {**coarse, "keep": rows}).one().mvt or b"")
    logger.info("tile %s %d/%d/%d thinned to its %d largest features", collection.id, z, x, y, rows)
    return content


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (x, y) of the tile holding a WGS-84 point at zoom z."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)

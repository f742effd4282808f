"""Is a kept tile still right?  Its layer's version now, and whether a change since meets it.

Why: the version counter alone says a layer changed *somewhere*; `layer_changes`
(migration 0031, written by the same triggers) says where.  A tile made at
version v is still right at the current v' when every version in (v, v'] has
its entry (none pruned yet) and no entry's extent meets the tile's envelope
grown by the tile buffer — the very box `layers.ogc.tiles.tile_sql` picks rows
with, so a row that was or is in the tile is in a change's extent.  A NULL
extent (TRUNCATE, a change without geometry) meets every tile.  One query, by
the primary key (table, version), answers both for one tile.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from layers.core.constants import WEB_MERCATOR, WGS84
from layers.ogc.tiles import BUFFER, EXTENT, tile_bounds

VERSION_SQL = text("SELECT coalesce(max(version), -1) FROM layer_versions WHERE table_name = :t")
_SINCE = "c.table_name = v.table_name AND c.version > :since AND c.version <= v.version"
CURRENT_SQL = text(
    "SELECT v.version, v.version = :since OR (v.version > :since "  # noqa: S608 - constants
    f"AND (SELECT count(*) FROM layer_changes c WHERE {_SINCE}) = v.version - :since "
    f"AND NOT EXISTS (SELECT 1 FROM layer_changes c WHERE {_SINCE} AND (c.extent IS NULL "
    f"OR c.extent && ST_Transform(ST_Expand(ST_MakeEnvelope(:x1, :y1, :x2, :y2, {WEB_MERCATOR}),"
    f" :grow), {WGS84})))) AS still FROM layer_versions v WHERE v.table_name = :t"
)
"""(version now, still right?) for a tile kept at `:since`; the count proves none was pruned."""


def layer_version(conn: Session | Connection, table: str) -> int:
    """The table's counter (-1 when it has none): it grows with every write to it."""
    return int(conn.execute(VERSION_SQL, {"t": table}).scalar_one())


def still_current(
    conn: Session | Connection, table: str, since: int, zxy: tuple[int, int, int]
) -> tuple[int, bool]:
    """The table's version now, and whether a tile z/x/y made at `since` is still right."""
    x1, y1, x2, y2 = tile_bounds(*zxy)
    binds = {"t": table, "since": since, "x1": x1, "y1": y1, "x2": x2, "y2": y2}
    row = conn.execute(CURRENT_SQL, {**binds, "grow": (x2 - x1) * (BUFFER / EXTENT)}).first()
    if row is None:
        return -1, since == -1
    return int(row.version), bool(row.still)

"""The code proposed for a new cell: its place west→east, north→south among its siblings.

Grid sequences are numbered west→east, north→south (the published rule).  Cells
already coded keep their codes (workers, cases and history hold them), so a new
cell is given the lowest free sequence between the sibling before it and the one
after it in reading order; when no number is free there (or it comes last) it gets
the next free one after the highest, as `edit_tree.next_code` does.  Reading order:
rows as high as the square root of the parent's area per child, from north to south,
west to east within a row (the demo grid was numbered so before it was retiled).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.errors import UnprocessableError
from layers.tables.grid_cells import CODE_LENGTH

_SIBLINGS = text(
    "SELECT code, ST_X(p) AS x, ST_Y(p) AS y, area FROM ("
    " SELECT code, ST_Transform(ST_PointOnSurface(geom), :srid) AS p,"
    " ST_Area(ST_Transform(geom, :srid)) AS area FROM grid_draft_cells"
    " WHERE revision_id = :r AND level = :lv AND parent_code = :parent) s"
)
_PARENT_AREA = text(
    "SELECT coalesce((SELECT ST_Area(ST_Transform(geom, :srid)) FROM grid_draft_cells"
    " WHERE revision_id = :r AND code = :parent AND :lv > 1 LIMIT 1),"
    " (SELECT ST_Area(ST_Transform(geom, :srid)) FROM communities WHERE code = :parent"
    " AND :lv = 1 LIMIT 1))"
)
_POINT = text(
    "SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_Transform("
    "ST_PointOnSurface(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326)), :srid) AS p) s"
)


def _order(y_top: float, band: float, x: float, y: float) -> tuple[int, float]:
    return (math.floor((y_top - y) / band), x)


def propose_code(
    *,
    session: Session,
    revision_id: int,
    level: int,
    parent_code: str,
    geometry: str,
    srid: int,
) -> dict[str, Any]:
    """The proposed code for a new cell of `geometry` (GeoJSON text) under `parent_code`."""
    if level not in CODE_LENGTH:
        raise UnprocessableError("level must be 1, 2 or 3", code="bad_level")
    prefix = parent_code[:12] if level == 1 else parent_code
    if len(prefix) + 3 != CODE_LENGTH[level]:
        raise UnprocessableError(
            f"{parent_code!r} is no parent of a level-{level} cell", code="bad_parent"
        )
    rows = session.execute(
        _SIBLINGS, {"r": revision_id, "lv": level, "parent": parent_code, "srid": srid}
    ).all()
    try:
        point = session.execute(_POINT, {"g": geometry, "srid": srid}).one()
    except Exception as exc:  # a GeoJSON PostGIS cannot read: say so, as the edits do
        raise UnprocessableError(
            "the new cell's geometry is not GeoJSON", code="bad_geometry"
        ) from exc
    used = sorted(int(r.code[-3:]) for r in rows if r.code[-3:].isdigit())
    args = {"r": revision_id, "lv": level, "parent": parent_code, "srid": srid}
    parent_area = session.execute(_PARENT_AREA, args).scalar() or sum(r.area for r in rows)
    band = math.sqrt(parent_area / (len(rows) + 1)) if parent_area else 100.0
    y_top = max([r.y for r in rows] + [point.y])
    key = _order(y_top, band or 100.0, point.x, point.y)
    before = [int(r.code[-3:]) for r in rows if _order(y_top, band, r.x, r.y) < key]
    after = [int(r.code[-3:]) for r in rows if _order(y_top, band, r.x, r.y) >= key]
    low, high = (max(before, default=0), min(after, default=1000))
    free = [n for n in range(low + 1, high) if n not in used]
    seq = free[0] if free else max(used, default=0) + 1
    if seq > 999:
        raise UnprocessableError(f"{parent_code} has no free code", code="codes_exhausted")
    return {
        "code": f"{prefix}{seq:03d}",
        "between": [low or None, None if high == 1000 else high],
        "rule": "west→east, north→south; existing codes kept",
    }

"""The grid through time: cells valid at a moment, the list of revisions, a revision's diff."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry import mapping
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.tables.grid_cells import get_revision, valid_at

logger = logging.getLogger(__name__)

MAX_CELLS = 50_000


def cells_at(
    *,
    session: Session,
    at: datetime,
    level: int | None = None,
    community: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> dict[str, Any]:
    """The cells valid at `at` (valid_from <= at < valid_to) as a FeatureCollection."""
    rows = session.execute(
        text(
            "SELECT g.code, g.name, g.level, p.code AS parent_code, c.code AS community, "  # noqa: S608
            "g.revision_id, g.valid_from, g.valid_to, g.households, g.population, "
            "ST_AsBinary(g.geom) AS wkb FROM grid_cells g "
            "JOIN communities c ON c.id = g.community_id "
            "LEFT JOIN grid_cells p ON p.id = g.parent_id "
            f"WHERE {valid_at('g')} "
            "AND (CAST(:level AS int) IS NULL OR g.level = :level) "
            "AND (CAST(:community AS text) IS NULL OR c.code = :community) "
            "AND (CAST(:minx AS float8) IS NULL OR g.geom && ST_MakeEnvelope(:minx, :miny, "
            ":maxx, :maxy, 4326)) ORDER BY g.level, g.code LIMIT :limit"
        ),
        {
            "at": at,
            "level": level,
            "community": community,
            "minx": bbox[0] if bbox else None,
            "miny": bbox[1] if bbox else None,
            "maxx": bbox[2] if bbox else None,
            "maxy": bbox[3] if bbox else None,
            "limit": MAX_CELLS,
        },
    ).all()
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows])
    features = []
    for r, g in zip(rows, geoms, strict=True):
        props = {k: v for k, v in r._mapping.items() if k != "wkb"}
        props["valid_from"] = r.valid_from.isoformat()
        props["valid_to"] = r.valid_to.isoformat() if r.valid_to else None
        features.append(
            {"type": "Feature", "id": r.code, "properties": props, "geometry": mapping(g)}
        )
    return {"type": "FeatureCollection", "at": at.isoformat(), "features": features}


def list_revisions(*, session: Session, status: str | None = None) -> list[dict[str, Any]]:
    """Every revision, newest first, with author, times, scope and its number of draft cells."""
    rows = session.execute(
        text(
            "SELECT r.id, r.status, r.scope, r.scope_code, r.author, r.note, r.created_at, "
            "r.published_at, (SELECT count(*) FROM grid_draft_cells d "
            "WHERE d.revision_id = r.id) AS draft_cells, "
            "(SELECT count(*) FROM grid_cells g WHERE g.revision_id = r.id) AS cells_opened "
            "FROM grid_revisions r WHERE CAST(:status AS text) IS NULL OR r.status = :status "
            "ORDER BY r.id DESC"
        ),
        {"status": status},
    ).all()
    return [dict(r._mapping) for r in rows]


_DIFF_SQL = text(
    """
    WITH base AS (
      SELECT g.code, g.level, CASE WHEN g.level = 1 THEN c.code ELSE p.code END AS parent_code,
        g.geom FROM grid_cells g JOIN communities c ON c.id = g.community_id
      LEFT JOIN grid_cells p ON p.id = g.parent_id WHERE g.id = ANY(:base)),
    draft AS (SELECT code, level, parent_code, geom FROM grid_draft_cells WHERE revision_id = :r)
    SELECT coalesce(d.code, b.code) AS code, coalesce(d.level, b.level) AS level,
      b.parent_code AS parent_before, d.parent_code AS parent_after,
      round(ST_Area(ST_Transform(b.geom, :srid))::numeric, 2) AS area_before,
      round(ST_Area(ST_Transform(d.geom, :srid))::numeric, 2) AS area_after,
      CASE WHEN b.code IS NULL THEN 'added' WHEN d.code IS NULL THEN 'removed'
        ELSE 'changed' END AS change,
      (b.code IS NOT NULL AND d.code IS NOT NULL AND
        ST_AsBinary(ST_Normalize(b.geom)) <> ST_AsBinary(ST_Normalize(d.geom))) AS reshaped
    FROM draft d FULL JOIN base b ON b.code = d.code AND b.level = d.level
    WHERE b.code IS NULL OR d.code IS NULL OR b.parent_code IS DISTINCT FROM d.parent_code
      OR ST_AsBinary(ST_Normalize(b.geom)) <> ST_AsBinary(ST_Normalize(d.geom))
    ORDER BY 2, 1
    """
)


def revision_diff(*, session: Session, revision_id: int, metric_srid: int) -> dict[str, Any]:
    """Cells added, removed and changed by a revision, against the grid it was drafted from."""
    revision = get_revision(session=session, revision_id=revision_id)
    rows = session.execute(
        _DIFF_SQL,
        {"r": revision_id, "base": list(revision.base_cell_ids or ()), "srid": metric_srid},
    ).all()
    out: dict[str, list[dict[str, Any]]] = {"added": [], "removed": [], "changed": []}
    for r in rows:
        item = {k: v for k, v in r._mapping.items() if k not in ("change",)}
        for key in ("area_before", "area_after"):
            item[key] = None if item[key] is None else float(item[key])
        out[r.change].append(item)
    return {
        "revision": revision_id,
        "status": revision.status,
        "counts": {k: len(v) for k, v in out.items()},
        **out,
    }

"""Read a draft as an edit tree, write back only the rows an edit changed, recount them.

An editor edit touches a handful of cells of a draft of thousands: the rows it
changed are updated, inserted or deleted one by one, and households/population
are recounted only for them (buildings whose inner point lies in a touched cell,
lowest code winning on a shared edge, exactly as `drafts.recount_households`).
"""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from grids.planning.edit_tree import Cell, Tree
from grids.planning.validation import (
    ValidationOptions,
    geom_to_wgs84,
    geoms_to_metric,
    scope_context,
)
from layers.core.errors import PreconditionFailedError, PreconditionRequiredError
from layers.tables.grid_cells import GridRevision


def etag_of(revision: GridRevision) -> str:
    """The draft's ETag: its revision and version."""
    return f'"r{revision.id}v{revision.version}"'


def check_if_match(revision: GridRevision, if_match: str | None) -> None:
    """428 without If-Match; 412 (with the current ETag) when it names an older version."""
    current = etag_of(revision)
    if not if_match:
        raise PreconditionRequiredError(
            "send If-Match with the draft's ETag", code="if_match_required", etag=current
        )
    tags = {t.strip().removeprefix("W/") for t in if_match.split(",")}
    if current not in tags and "*" not in tags:
        raise PreconditionFailedError(
            "someone else saved this draft since you loaded it: reload it",
            code="draft_changed",
            etag=current,
            version=revision.version,
        )


def load_tree(
    *, session: Session, revision: GridRevision, options: ValidationOptions
) -> tuple[Tree, dict[int, dict]]:
    """The draft as a tree in metres, and each row's stored state (EPSG:4326 GeoJSON)."""
    rows = session.execute(
        text(
            "SELECT id, code, level, parent_code, name, households, population, "
            "ST_AsBinary(geom) AS wkb "
            "FROM grid_draft_cells WHERE revision_id = :r ORDER BY id"
        ),
        {"r": revision.id},
    ).all()
    wgs = shapely.from_wkb([bytes(r.wkb) for r in rows])
    metric = geoms_to_metric(wgs, options.metric_srid) if len(rows) else []
    ctx = scope_context(
        session=session, scope=revision.scope, code=revision.scope_code or "", options=options
    )
    tree = Tree(
        cells={
            r.id: Cell(r.id, r.code, r.level, r.parent_code, r.name, g)
            for r, g in zip(rows, metric, strict=True)
        },
        communities=dict(ctx.communities),
    )
    stored = {
        r.id: {
            "code": r.code,
            "level": r.level,
            "parent_code": r.parent_code,
            "name": r.name,
            "households": r.households,
            "population": r.population,
            "geometry": shapely.geometry.mapping(g),
        }
        for r, g in zip(rows, wgs, strict=True)
    }
    return tree, stored


def _wkb(cell: Cell, srid: int) -> bytes:
    geom = geom_to_wgs84(cell.geom, srid)
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])  # type: ignore[list-item]
    return shapely.to_wkb(geom)


def write_changes(
    *, session: Session, revision_id: int, tree: Tree, srid: int
) -> tuple[list[int], list[str]]:
    """Store what the edit changed: (ids of changed or new rows, codes of removed rows)."""
    changed: list[int] = []
    removed: list[str] = []
    update = text(
        "UPDATE grid_draft_cells SET code = :code, level = :level, parent_code = :parent, "
        "name = :name, geom = ST_SetSRID(ST_GeomFromWKB(:wkb), 4326) WHERE id = :id"
    )
    insert = text(
        "INSERT INTO grid_draft_cells (revision_id, code, level, parent_code, name, geom) "
        "VALUES (:r, :code, :level, :parent, :name, ST_SetSRID(ST_GeomFromWKB(:wkb), 4326)) "
        "RETURNING id"
    )
    for key, old in tree.before.items():
        cell = tree.cells.get(key)
        if cell is None:
            if key > 0:
                session.execute(text("DELETE FROM grid_draft_cells WHERE id = :id"), {"id": key})
                removed.append(old.code if old else "")
            continue
        params = {
            "code": cell.code,
            "level": cell.level,
            "parent": cell.parent_code,
            "name": cell.name,
            "wkb": _wkb(cell, srid),
        }
        if key > 0:
            session.execute(update, {**params, "id": key})
            changed.append(key)
        else:
            changed.append(session.execute(insert, {**params, "r": revision_id}).scalar_one())
    return changed, sorted(set(removed) - {c.code for c in tree.cells.values()})


_RECOUNT = text(
    "WITH touched AS (SELECT geom FROM grid_draft_cells WHERE id IN :ids), "
    "hit AS (SELECT DISTINCT ON (b.id, d.level) d.id, b.households, b.population "
    "  FROM buildings b JOIN grid_draft_cells d ON d.revision_id = :r AND b.geom && d.geom "
    "  AND ST_IsValid(d.geom) AND ST_Covers(d.geom, ST_PointOnSurface(b.geom)) "
    "  WHERE EXISTS (SELECT 1 FROM touched t WHERE t.geom && b.geom) "
    "  ORDER BY b.id, d.level, d.code), "
    "sums AS (SELECT id, sum(households) AS hh, sum(population) AS pop FROM hit GROUP BY id) "
    "UPDATE grid_draft_cells d SET households = coalesce(s.hh, 0), population = coalesce(s.pop, 0) "
    "FROM grid_draft_cells x LEFT JOIN sums s ON s.id = x.id "
    "WHERE x.id IN :ids AND d.id = x.id"
).bindparams(bindparam("ids", expanding=True))


def recount(*, session: Session, revision_id: int, ids: Sequence[int]) -> None:
    """Households and population of the touched rows (nothing else moves)."""
    if ids:
        session.execute(_RECOUNT, {"r": revision_id, "ids": list(ids)})

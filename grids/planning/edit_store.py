"""Read a draft as an edit tree, write back only the rows an edit changed, recount them.

An editor edit touches a handful of cells of a draft of thousands: the rows it
changed are updated, inserted or deleted one by one, and households/population
are recounted only for them (buildings whose inner point lies in a touched cell,
lowest code winning on a shared edge, exactly as `drafts.recount_households`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
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


@dataclass(frozen=True)
class StoredCell:
    """A row as stored (EPSG:4326), to answer what an edit changed as it was."""

    code: str
    level: int
    parent_code: str | None
    name: str | None
    households: int
    population: int
    geom: BaseGeometry

    def feature(self) -> dict[str, Any]:
        """The row as a GeoJSON Feature (what undo sends back)."""
        props = {
            "code": self.code,
            "level": self.level,
            "parent_code": self.parent_code,
            "name": self.name,
            "households": self.households,
            "population": self.population,
        }
        return {
            "type": "Feature",
            "id": self.code,
            "properties": props,
            "geometry": mapping(self.geom),
        }


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
) -> tuple[Tree, dict[int, StoredCell]]:
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
        r.id: StoredCell(r.code, r.level, r.parent_code, r.name, r.households, r.population, g)
        for r, g in zip(rows, wgs, strict=True)
    }
    return tree, stored


def _wgs(cell: Cell, srid: int) -> BaseGeometry:
    geom = geom_to_wgs84(cell.geom, srid)
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])  # type: ignore[list-item]
    return geom


@dataclass
class Written:
    """What an edit stored: changed or new row ids, removed codes, each row's id and geometry."""

    ids: list[int]
    removed: list[str]
    keys: dict[int, int]
    """Tree key → row id of every changed or new cell."""
    wgs: dict[int, BaseGeometry]
    """Row id → the EPSG:4326 geometry written."""


def write_changes(*, session: Session, revision_id: int, tree: Tree, srid: int) -> Written:
    """Store what the edit changed: one DELETE, one batch of UPDATEs, an INSERT per new row."""
    out = Written([], [], {}, {})
    update = text(
        "UPDATE grid_draft_cells SET code = :code, level = :level, parent_code = :parent, "
        "name = :name, geom = ST_SetSRID(ST_GeomFromWKB(:wkb), 4326) WHERE id = :id"
    )
    insert = text(
        "INSERT INTO grid_draft_cells (revision_id, code, level, parent_code, name, geom) "
        "VALUES (:r, :code, :level, :parent, :name, ST_SetSRID(ST_GeomFromWKB(:wkb), 4326)) "
        "RETURNING id"
    )
    gone = [k for k in tree.before if k > 0 and k not in tree.cells]
    if gone:
        session.execute(text("DELETE FROM grid_draft_cells WHERE id = ANY(:ids)"), {"ids": gone})
        out.removed = [old.code for k in gone if (old := tree.before[k]) is not None]
    updates = []
    for key in tree.before:
        cell = tree.cells.get(key)
        if cell is None:
            continue
        geom = _wgs(cell, srid)
        params = {
            "code": cell.code,
            "level": cell.level,
            "parent": cell.parent_code,
            "name": cell.name,
            "wkb": shapely.to_wkb(geom),
        }
        if key > 0:
            updates.append({**params, "id": key})
            row = key
        else:
            row = session.execute(insert, {**params, "r": revision_id}).scalar_one()
        out.ids.append(row)
        out.keys[key] = row
        out.wgs[row] = geom
    if updates:
        session.execute(update, updates)  # one executemany
    out.removed = sorted(set(out.removed) - {c.code for c in tree.cells.values()})
    return out


_RECOUNT = text(
    "WITH touched AS (SELECT geom FROM grid_draft_cells WHERE id IN :ids), "
    "cand AS (SELECT DISTINCT b.id, b.households, b.population, ST_PointOnSurface(b.geom) AS pt "
    "  FROM buildings b JOIN touched t ON t.geom && b.geom), "
    "hit AS (SELECT DISTINCT ON (c.id, d.level) d.id, c.households, c.population "
    "  FROM cand c JOIN grid_draft_cells d ON d.revision_id = :r AND d.geom && c.pt "
    "  AND ST_IsValid(d.geom) AND ST_Covers(d.geom, c.pt) ORDER BY c.id, d.level, d.code), "
    "sums AS (SELECT id, sum(households) AS hh, sum(population) AS pop FROM hit GROUP BY id) "
    "UPDATE grid_draft_cells d SET households = coalesce(s.hh, 0), population = coalesce(s.pop, 0) "
    "FROM grid_draft_cells x LEFT JOIN sums s ON s.id = x.id "
    "WHERE x.id IN :ids AND d.id = x.id"
).bindparams(bindparam("ids", expanding=True))


def recount(*, session: Session, revision_id: int, ids: Sequence[int]) -> None:
    """Households and population of the touched rows (nothing else moves)."""
    if ids:
        session.execute(_RECOUNT, {"r": revision_id, "ids": list(ids)})

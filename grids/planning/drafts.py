"""Draft revisions: take a copy of the live cells of a scope, read it, replace it.

A draft remembers the ids of the live cells it was taken from (`base_cell_ids`):
cells are never edited in place, so that set changes exactly when someone has
published over the same scope since, and publishing then asks for a rebase.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, text
from sqlalchemy.orm import Session

from layers.core.constants import WGS84
from layers.core.errors import ConflictError, InvalidInputError, UnprocessableError
from layers.core.geojson_input import GeometryInputError, lonlat_problem, read_geojson_geometry
from layers.store.copy import copy_rows
from layers.tables.audit import record
from layers.tables.grid_cells import LIVE, GridRevision, get_revision

logger = logging.getLogger(__name__)

SCOPES = ("community", "street", "district")
DRAFT_COLUMNS = ("revision_id", "code", "level", "parent_code", "name", "geom")


@dataclass(frozen=True)
class DraftRow:
    """A draft cell as read from or written to storage (geometry in EPSG:4326)."""

    code: str
    level: int
    parent_code: str | None
    name: str | None
    geom: BaseGeometry
    households: int = 0
    population: int = 0


_SCOPE_SQL = text(
    "SELECT c.id FROM communities c JOIN streets s ON s.id = c.street_id "
    "JOIN districts d ON d.id = s.district_id "
    "WHERE (:scope = 'district' AND d.code = :code) OR (:scope = 'street' AND s.code = :code) "
    "OR (:scope = 'community' AND c.code = :code) ORDER BY c.id"
)


def scope_community_ids(*, session: Session, scope: str, code: str) -> list[int]:
    """Ids of the communities a scope covers; `unknown_scope` (422) when it names nothing."""
    if scope not in SCOPES:
        raise InvalidInputError(f"scope must be one of {', '.join(SCOPES)}", code="bad_scope")
    ids = list(session.execute(_SCOPE_SQL, {"scope": scope, "code": code}).scalars())
    if not ids:
        raise UnprocessableError(f"no {scope} with code {code!r}", code="unknown_scope")
    return ids


def live_cell_ids(*, session: Session, community_ids: Sequence[int]) -> list[int]:
    """Ids of the live cells of the given communities, sorted (the base of a draft)."""
    sql = text(f"SELECT id FROM grid_cells WHERE {LIVE} AND community_id = ANY(:c) ORDER BY id")  # noqa: S608 - the live-grid condition, a constant
    return list(session.execute(sql, {"c": list(community_ids)}).scalars())


def district_code(*, session: Session) -> str:
    """The code of the (single) district, the scope code of district-wide drafts."""
    code = session.execute(text("SELECT code FROM districts ORDER BY id LIMIT 1")).scalar()
    if code is None:
        raise UnprocessableError("no district is loaded", code="no_district")
    return code


def create_draft(
    *, session: Session, scope: str, code: str | None, author: str, role: str, note: str | None
) -> int:
    """A new draft over `scope` holding a copy of its live cells; returns the revision id."""
    if scope == "district":
        code = code or district_code(session=session)
    if not code:
        raise InvalidInputError(f"a {scope} draft needs the {scope}'s code", code="bad_scope")
    communities = scope_community_ids(session=session, scope=scope, code=code)
    revision = GridRevision(author=author, note=note, status="draft", scope=scope, scope_code=code)
    revision.base_cell_ids = live_cell_ids(session=session, community_ids=communities)
    session.add(revision)
    session.flush()
    session.execute(
        text(
            "INSERT INTO grid_draft_cells "
            "(revision_id, code, level, parent_code, name, households, population, geom) "
            "SELECT :r, g.code, g.level, CASE WHEN g.level = 1 THEN c.code ELSE p.code END, "
            "g.name, g.households, g.population, g.geom FROM grid_cells g "
            "JOIN communities c ON c.id = g.community_id "
            "LEFT JOIN grid_cells p ON p.id = g.parent_id WHERE g.id = ANY(:ids)"
        ),
        {"r": revision.id, "ids": revision.base_cell_ids},
    )
    # Only the owner may ANALYZE; the server's role asks a SECURITY DEFINER function (0011).
    session.execute(text("SELECT analyze_grid_draft_cells()"))
    record(
        session=session,
        actor=author,
        role=role,
        action="grid_draft_create",
        entity="grid_revisions",
        entity_id=revision.id,
        data={"scope": scope, "scope_code": code, "cells": len(revision.base_cell_ids)},
    )
    logger.info("draft %s over %s %s", revision.id, scope, code)
    return revision.id


def bump_version(revision: GridRevision) -> None:
    """A change of the draft's cells: a new version (the editor's ETag) and edit time."""
    revision.version = (revision.version or 1) + 1
    revision.updated_at = func.now()


def require_draft(revision: GridRevision) -> None:
    """Refuse to change a revision that is no longer a draft (409)."""
    if revision.status != "draft":
        raise ConflictError(
            f"revision {revision.id} is {revision.status}, not a draft",
            code="revision_not_draft",
            revision_status=revision.status,
        )


def read_draft(*, session: Session, revision_id: int) -> list[DraftRow]:
    """The draft's cells, ordered by level and code, geometries in EPSG:4326."""
    get_revision(session=session, revision_id=revision_id)
    rows = session.execute(
        text(
            "SELECT code, level, parent_code, name, ST_AsBinary(geom) AS wkb, households, "
            "population FROM grid_draft_cells WHERE revision_id = :r ORDER BY level, code, id"
        ),
        {"r": revision_id},
    ).all()
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows])
    return [
        DraftRow(r.code, r.level, r.parent_code, r.name, g, r.households, r.population)
        for r, g in zip(rows, geoms, strict=True)
    ]


def rows_to_features(rows: Sequence[DraftRow]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of draft cells (full coordinate precision, EPSG:4326)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": r.code,
                "properties": {
                    "code": r.code,
                    "level": r.level,
                    "parent_code": r.parent_code,
                    "name": r.name,
                    "households": r.households,
                    "population": r.population,
                },
                "geometry": mapping(r.geom),
            }
            for r in rows
        ],
    }


def features_to_rows(collection: Any) -> list[DraftRow]:
    """Parse a FeatureCollection of cells; a malformed feature is a 400 naming its index."""
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise InvalidInputError("the body must be a GeoJSON FeatureCollection", code="bad_geojson")
    features = collection.get("features")
    if not isinstance(features, list):
        raise InvalidInputError("`features` must be a list", code="bad_geojson")
    return [_feature_row(i, f) for i, f in enumerate(features)]


def _feature_row(index: int, feature: Any) -> DraftRow:
    def bad(why: str) -> InvalidInputError:
        return InvalidInputError(f"feature {index}: {why}", code="bad_feature", feature=index)

    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        raise bad("not a Feature with properties")
    props = feature["properties"]
    code, level, parent = props.get("code"), props.get("level"), props.get("parent_code")
    if not isinstance(code, str) or not code:
        raise bad("`code` must be a non-empty string")
    if isinstance(level, bool) or not isinstance(level, int) or not -32768 < level < 32768:
        raise bad("`level` must be an integer")
    if parent is not None and not isinstance(parent, str):
        raise bad("`parent_code` must be a string or null")
    name = props.get("name")
    return DraftRow(
        code,
        level,
        parent or None,
        name if isinstance(name, str) else None,
        _polygonal_geometry(feature.get("geometry"), bad),
    )


def _polygonal_geometry(geometry: Any, bad) -> MultiPolygon:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise bad("the geometry must be a Polygon or MultiPolygon")
    try:
        geom = read_geojson_geometry(geometry)
    except GeometryInputError as exc:
        raise bad(f"not a valid GeoJSON geometry: {exc}") from None
    if geom.is_empty:
        raise bad("the geometry is empty")
    problem = lonlat_problem(geom)
    if problem or not shapely.is_valid_input(geom):
        why = f": the geometry {problem}" if problem else ""
        raise bad(f"coordinates must be longitude/latitude degrees (EPSG:4326){why}")
    if isinstance(geom, MultiPolygon):
        return geom
    assert isinstance(geom, Polygon)  # the GeoJSON type was checked above
    return MultiPolygon([geom])


def replace_draft(
    *, session: Session, revision_id: int, rows: Sequence[DraftRow], actor: str, role: str
) -> int:
    """Replace every cell of a draft; households/population are recounted from buildings."""
    revision = get_revision(session=session, revision_id=revision_id, lock=True)
    require_draft(revision)
    session.execute(text("DELETE FROM grid_draft_cells WHERE revision_id = :r"), {"r": revision_id})
    conn = session.connection()
    copy_rows(
        conn,
        "grid_draft_cells",
        DRAFT_COLUMNS,
        [
            (revision_id, r.code, r.level, r.parent_code, r.name, shapely.set_srid(r.geom, WGS84))
            for r in rows
        ],
    )
    # Only the owner may ANALYZE; the server's role asks a SECURITY DEFINER function (0011).
    session.execute(text("SELECT analyze_grid_draft_cells()"))
    recount_households(session=session, revision_id=revision_id)
    bump_version(revision)
    record(
        session=session,
        actor=actor,
        role=role,
        action="grid_draft_replace",
        entity="grid_revisions",
        entity_id=revision_id,
        data={"cells": len(rows)},
    )
    return len(rows)


def recount_households(*, session: Session, revision_id: int) -> None:
    """Households and population of each draft cell: the buildings whose inner point it covers.

    A building on a shared edge counts once per level (lowest code wins), like locate.
    """
    params = {"r": revision_id}
    session.execute(
        text("UPDATE grid_draft_cells SET households = 0, population = 0 WHERE revision_id = :r"),
        params,
    )
    session.execute(
        text(
            "WITH hit AS (SELECT DISTINCT ON (b.id, d.level) d.id, b.households, b.population "
            "  FROM grid_draft_cells d JOIN buildings b ON b.geom && d.geom "
            "  AND ST_Covers(d.geom, ST_PointOnSurface(b.geom)) "
            "  WHERE d.revision_id = :r AND ST_IsValid(d.geom) "
            "  ORDER BY b.id, d.level, d.code), "
            "sums AS (SELECT id, sum(households) AS hh, sum(population) AS pop "
            "  FROM hit GROUP BY id) "
            "UPDATE grid_draft_cells d SET households = s.hh, population = s.pop "
            "FROM sums s WHERE d.id = s.id"
        ),
        params,
    )

"""Checks that need the database, done for many rows in one query each.

Inside the district (with a 1 m tolerance for points digitised on the boundary),
the community a feature lies in (for rows that omit `community_id`), references
that must exist, and codes that must be unique.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.ogc.registry import Collection
from layers.store.sql import quote_ident

BOUNDARY_TOLERANCE_DEG = 1e-5
"""About one metre: points digitised on the district boundary still count as inside."""

REFERENCES = {"community_id": "communities", "courtyard_id": "courtyards"}


def locate(session: Session, geoms: Sequence[BaseGeometry]) -> list[tuple[bool, int | None]]:
    """For each geometry: is it inside the district, and which community holds it."""
    if not geoms:
        return []
    wkbs = [shapely.to_wkb(g) for g in geoms]
    sql = text(
        "WITH d AS (SELECT ST_Buffer(ST_Union(geom), :tol) AS geom FROM districts), "
        "g AS (SELECT u.i, ST_GeomFromWKB(u.w, 4326) AS geom "
        "FROM unnest(CAST(:wkbs AS bytea[])) WITH ORDINALITY AS u(w, i)) "
        "SELECT g.i, COALESCE(ST_CoveredBy(g.geom, d.geom), false) AS inside, "
        "(SELECT c.id FROM communities c WHERE ST_Intersects(c.geom, ST_PointOnSurface(g.geom)) "
        "ORDER BY c.id LIMIT 1) AS community_id FROM g CROSS JOIN d ORDER BY g.i"
    )
    rows = session.execute(sql, {"wkbs": wkbs, "tol": BOUNDARY_TOLERANCE_DEG}).all()
    return [(bool(r.inside), r.community_id) for r in rows]


def missing_references(session: Session, column: str, ids: set[int]) -> set[int]:
    """The ids in `ids` that do not exist in the table `column` refers to."""
    if not ids:
        return set()
    table = quote_ident(REFERENCES[column])
    found = session.execute(
        text(f"SELECT id FROM {table} WHERE id = ANY(:ids)"),  # noqa: S608 - quoted identifier
        {"ids": sorted(ids)},
    ).scalars()
    return ids - set(found)


def taken_codes(
    session: Session, collection: Collection, codes: set[str], except_ids: set[int] | None = None
) -> dict[str, int]:
    """Codes already used by other rows of the collection's table, with the row id."""
    if not codes or collection.code_field is None:
        return {}
    column = quote_ident(collection.code_field)
    rows = session.execute(
        text(
            f"SELECT {column} AS code, id FROM {quote_ident(collection.table)} "  # noqa: S608
            f"WHERE {column} = ANY(:codes)"
        ),
        {"codes": sorted(codes)},
    ).all()
    skip = except_ids or set()
    return {r.code: r.id for r in rows if r.id not in skip}


def reference_problems(session: Session, rows: Sequence[dict[str, Any]]) -> list[set[str]]:
    """Per row, the reference columns whose id does not exist."""
    bad: dict[str, set[int]] = {}
    for column in REFERENCES:
        ids = {r[column] for r in rows if r.get(column) is not None}
        bad[column] = missing_references(session, column, ids)
    return [{c for c in REFERENCES if r.get(c) is not None and r[c] in bad[c]} for r in rows]

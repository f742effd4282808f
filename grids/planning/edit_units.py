"""What the editor lists besides cells: the units it paints, the open drafts, discarding one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.planning.drafts import scope_community_ids
from layers.tables.audit import record
from layers.tables.grid_cells import GridRevision

_UNITS = {
    "courtyard": (
        "SELECT u.id, u.code, u.name, u.households, ST_AsGeoJSON(u.geom, 7)::json AS geometry "
        "FROM courtyards u WHERE u.community_id = ANY(:c) ORDER BY u.id"
    ),
    "building": (
        "SELECT u.id, u.code, u.name, u.households, ST_AsGeoJSON(u.geom, 7)::json AS geometry "
        "FROM buildings u WHERE u.community_id = ANY(:c) ORDER BY u.id"
    ),
}


def scope_units(*, session: Session, revision: GridRevision, kind: str) -> dict[str, Any]:
    """The courtyards or buildings of the draft's scope as GeoJSON (id, code, name, households)."""
    ids = scope_community_ids(session=session, scope=revision.scope, code=revision.scope_code or "")
    rows = session.execute(text(_UNITS[kind]), {"c": ids}).mappings()
    return {
        "type": "FeatureCollection",
        "kind": kind,
        "features": [
            {
                "type": "Feature",
                "id": r["id"],
                "properties": {
                    "id": r["id"],
                    "code": r["code"],
                    "name": r["name"],
                    "households": r["households"],
                },
                "geometry": r["geometry"],
            }
            for r in rows
        ],
    }


def list_drafts(*, session: Session, now: datetime) -> list[dict[str, Any]]:
    """Open drafts newest first: author, scope, cells, version, age and time since the last edit."""
    rows = session.execute(
        text(
            "SELECT r.id, r.author, r.note, r.scope, r.scope_code, r.version, r.created_at, "
            "r.updated_at, (SELECT count(*) FROM grid_draft_cells d WHERE d.revision_id = r.id) "
            "AS cells FROM grid_revisions r WHERE r.status = 'draft' ORDER BY r.id DESC"
        )
    ).mappings()
    out = []
    for r in rows:
        last = r["updated_at"] or r["created_at"]
        out.append(
            {
                **dict(r),
                "age_s": max(0, int((now - r["created_at"]).total_seconds())),
                "edited_s": max(0, int((now - last).total_seconds())),
            }
        )
    return out


def discard_draft(*, session: Session, revision: GridRevision, actor: str, role: str) -> None:
    """Drop a draft's cells and mark it discarded (the row stays: audit and history name it)."""
    n = len(
        session.execute(
            text("DELETE FROM grid_draft_cells WHERE revision_id = :r RETURNING id"),
            {"r": revision.id},
        ).all()
    )
    revision.status = "discarded"
    record(
        session=session,
        actor=actor,
        role=role,
        action="grid_draft_delete",
        entity="grid_revisions",
        entity_id=revision.id,
        data={"scope": revision.scope, "scope_code": revision.scope_code, "cells": n},
    )

"""Retries of intake answered in one round trip: the first answer of each key, read back.

What `report_case` answers a retry with (its `_claim_key`): the case as stored,
the chain it was filed under (distance unknown), its assignee's card, its likely
duplicates and the first answer's case token, with ``replayed``.  Read here for
every retry of a batch at once (`grids.cases.intake_statement.write_batch` found
their keys taken).  A key whose body differs, or that names no case yet, is left
to `report_case` (None), which answers 422 ``idempotency_key_reused`` or 409
``key_in_use`` exactly as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.assign import WorkerContact
from grids.cases.intake import DUPLICATE_HOURS, DUPLICATE_RADIUS_M, IntakeResult
from grids.cases.intake_statement import PreparedCase
from grids.grid.locate import Location
from layers.tables.incidents import Incident

_COLUMNS = [c.name for c in Incident.__table__.columns if c.name != "geom"]
_CHAIN = ("street", "community", "l1", "l2", "l3")
_REPLAY = text(
    "SELECT q.ord, k.fingerprint, k.case_token, "  # noqa: S608 - the table's own column names
    + ", ".join(f"i.{c}" for c in _COLUMNS)
    + ", ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,"
    " s.id AS street_id_, s.code AS street_code, s.name AS street_name,"
    " c.id AS community_id_, c.code AS community_code, c.name AS community_name,"
    " g1.id AS l1_id_, g1.code AS l1_code, g1.name AS l1_name,"
    " g2.id AS l2_id_, g2.code AS l2_code, g2.name AS l2_name,"
    " g3.id AS l3_id_, g3.code AS l3_code, g3.name AS l3_name,"
    " w.id AS w_id, w.code AS w_code, w.name AS w_name, w.phone AS w_phone,"
    " w.level AS w_level, w.on_duty AS w_on_duty,"
    " ARRAY(SELECT d.id FROM incidents d WHERE d.id <> i.id AND d.category_code = i.category_code"
    " AND d.status <> 'void'"
    " AND d.created_at BETWEEN i.created_at - make_interval(hours => :hours) AND i.created_at"
    " AND d.geom && ST_Expand(i.geom,"
    " :radius * 1.5 / 110000.0 / greatest(cos(radians(ST_Y(i.geom))), 0.01))"
    " AND ST_DWithin(d.geom::geography, i.geom::geography, :radius)"
    " ORDER BY d.created_at DESC LIMIT 20) AS duplicates"
    " FROM unnest(CAST(:ord AS int[]), CAST(:scope AS text[]), CAST(:key AS text[]))"
    " AS q(ord, scope, key)"
    " JOIN idempotency_keys k ON k.scope = q.scope AND k.key = q.key"
    " JOIN incidents i ON i.id = k.incident_id"
    " LEFT JOIN streets s ON s.id = i.street_id LEFT JOIN communities c ON c.id = i.community_id"
    " LEFT JOIN grid_cells g1 ON g1.id = i.l1_cell_id"
    " LEFT JOIN grid_cells g2 ON g2.id = i.l2_cell_id"
    " LEFT JOIN grid_cells g3 ON g3.id = i.l3_cell_id"
    " LEFT JOIN workers w ON w.id = i.assignee_worker_id"
)


def replay_batch(*, session: Session, items: list[PreparedCase]) -> list[IntakeResult | None]:
    """The first answer of each item's key (items with a key), None where `report_case` decides."""
    asked = [(i, p) for i, p in enumerate(items) if p.key is not None]
    if not asked:
        return [None] * len(items)
    rows = {
        r.ord: r
        for r in session.execute(
            _REPLAY,
            {
                "ord": [i for i, _ in asked],
                "scope": [p.scope for _, p in asked],
                "key": [p.key for _, p in asked],
                "hours": DUPLICATE_HOURS,
                "radius": DUPLICATE_RADIUS_M,
            },
        )
    }
    return [_replayed(p, rows.get(i)) for i, p in enumerate(items)]


def _replayed(item: PreparedCase, row: Any) -> IntakeResult | None:
    if row is None or row.fingerprint != item.case.fingerprint():
        return None
    values = row._mapping
    incident = Incident(**{c: values[c] for c in _COLUMNS})
    chain: dict[str, Any] = {}
    for layer in _CHAIN:
        chain[f"{layer}_id"] = values[f"{layer}_id_"]
        chain[f"{layer}_code"] = values[f"{layer}_code"]
        chain[f"{layer}_name"] = values[f"{layer}_name"]
    location = Location(
        lon=row.lon,
        lat=row.lat,
        method=row.locate_method or "covers",
        revision_id=row.revision_id,
        distance_m=None,
        **chain,
    )
    assignee = (
        WorkerContact(row.w_id, row.w_code, row.w_name, row.w_phone, row.w_level, row.w_on_duty)
        if row.w_id is not None
        else None
    )
    return IntakeResult(
        incident, location, assignee, list(row.duplicates), row.case_token, replayed=True
    )

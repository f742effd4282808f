"""Field collection (采集): grid workers keep the base records of their own cells current.

A worker states a change — a family moved in or out (`moved_in`, `moved_out`),
a flat became vacant or rented (`dwelling_use`), a shop opened or closed
(`unit_opened`, `unit_closed`), an address plate is wrong (`address_plate`) —
and it is kept as a version in `base_changes` with source `grid_collection`,
the worker and the app clock's time, and a `base_provenance` statement when it
takes effect.  With `review` on (the community reviews, setting
`base_collection_review`) the change waits as `pending` and the record is
untouched; an approval applies it, unless the record changed meanwhile (409
`stale_change`: the worker collects again).  An address-plate report never
changes the standard address by itself (civil affairs names addresses): it
always waits for review, and approved it stands as the grid's statement.

The record's point must be in the worker's own cell (the one locate rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.base_data.changes import Target, apply_change, resolve_target
from grids.base_data.scope import require_in_cell, worker_cell
from layers.core.errors import ConflictError, ForbiddenError, NotFoundError
from layers.core.roles import Role
from layers.tables.audit import record
from layers.tables.sources import FIELD_SOURCE

ALWAYS_REVIEWED = frozenset({"address_plate"})


@dataclass(frozen=True)
class Collector:
    """Who collects or reviews: role, name (for the record and audit), the worker behind the key."""

    role: str
    name: str
    worker_id: int | None = None


@dataclass(frozen=True)
class ChangeRequest:
    """A change as the worker states it: kind, the record (`target`), the new facts, a note."""

    kind: str
    target: int | None
    data: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


def _field_source(session: Session) -> int:
    return int(
        session.execute(
            text("SELECT id FROM sources WHERE code = :c"), {"c": FIELD_SOURCE}
        ).scalar_one()
    )


def _next_version(session: Session, entity: str, entity_id: int | None) -> int:
    if entity_id is None:
        return 1
    return int(
        session.execute(
            text(
                "SELECT coalesce(max(version), 0) + 1 FROM base_changes"
                " WHERE entity = :e AND entity_id = :i"
            ),
            {"e": entity, "i": entity_id},
        ).scalar_one()
    )


def submit_change(
    *,
    session: Session,
    collector: Collector,
    change: ChangeRequest,
    now: datetime,
    review: bool,
    tolerance_m: float | None = None,
) -> dict[str, Any]:
    """Keep the change as a version; apply it now unless it waits for review. Audited."""
    if collector.role != Role.GRID_WORKER:
        raise ForbiddenError("only grid workers collect in the field", code="not_a_collector")
    cell = worker_cell(session, collector.worker_id)
    target = resolve_target(session, change.kind, change.target, change.data)
    require_in_cell(session, cell, target.lon, target.lat, tolerance_m)
    pending = review or change.kind in ALWAYS_REVIEWED
    row = session.execute(
        text(
            "INSERT INTO base_changes (entity, entity_id, kind, version, before, after, note,"
            " status, source_id, worker_id, cell_code, actor, collected_at)"
            " VALUES (:e, :i, :k, :v, CAST(:b AS jsonb), CAST(:a AS jsonb), :n, :s, :src, :w,"
            " :c, :actor, :t) RETURNING id"
        ),
        {
            "e": target.entity,
            "i": target.entity_id,
            "k": change.kind,
            "v": _next_version(session, target.entity, target.entity_id),
            "b": _json(target.before),
            "a": _json(target.after),
            "n": change.note,
            "s": "pending" if pending else "applied",
            "src": _field_source(session),
            "w": collector.worker_id,
            "c": cell[1],
            "actor": collector.name,
            "t": now,
        },
    ).scalar_one()
    if not pending:
        _take_effect(session, int(row), change.kind, target, now, tolerance_m)
    _audit(session, collector, "base_collection.submit", int(row), now, change.kind, target)
    return change_view(session, int(row))


def review_change(
    *,
    session: Session,
    reviewer: Collector,
    change_id: int,
    approve: bool,
    note: str | None,
    now: datetime,
    tolerance_m: float | None = None,
) -> dict[str, Any]:
    """Approve (apply) or reject a pending change; 409 when it is no longer pending or stale."""
    row = (
        session.execute(
            text("SELECT * FROM base_changes WHERE id = :i FOR UPDATE"), {"i": change_id}
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"no change {change_id}", code="change_not_found")
    if row["status"] != "pending":
        raise ConflictError(f"change {change_id} is {row['status']}", code="not_pending")
    status = "rejected"
    if approve:
        target = Target(
            row["entity"], row["entity_id"], 0.0, 0.0, dict(row["before"]), dict(row["after"])
        )
        _take_effect(session, change_id, str(row["kind"]), target, now, tolerance_m)
        status = "applied"
    session.execute(
        text(
            "UPDATE base_changes SET status = :s, reviewed_by = :r, reviewed_at = :t,"
            " review_note = :n WHERE id = :i"
        ),
        {"s": status, "r": reviewer.name, "t": now, "n": note, "i": change_id},
    )
    record(
        session=session,
        actor=reviewer.name,
        role=reviewer.role,
        action="base_collection.review",
        entity="base_changes",
        entity_id=change_id,
        at=now,
        data={"decision": status, "kind": row["kind"]},
    )
    return change_view(session, change_id)


def _take_effect(
    session: Session,
    change_id: int,
    kind: str,
    target: Target,
    now: datetime,
    tolerance_m: float | None = None,
) -> None:
    """Apply the change to its record and keep the grid's statement in `base_provenance`."""
    if not apply_change(session, kind, target, now, tolerance_m):
        raise ConflictError(
            "the record changed since this was collected; collect it again",
            code="stale_change",
            change=change_id,
        )
    session.execute(
        text("UPDATE base_changes SET entity_id = :i WHERE id = :c AND entity_id IS NULL"),
        {"i": target.entity_id, "c": change_id},
    )
    session.execute(
        text(
            "INSERT INTO base_provenance (entity, entity_id, source_id, import_id, attrs,"
            " reported_at) VALUES (:e, :i, :s, NULL, CAST(:a AS jsonb), :t)"
        ),
        {
            "e": target.entity,
            "i": target.entity_id,
            "s": _field_source(session),
            "a": _json({k: v for k, v in target.after.items() if k != "id_hash"}),
            "t": now,
        },
    )


def _audit(
    session: Session,
    who: Collector,
    action: str,
    change_id: int,
    now: datetime,
    kind: str,
    target: Target,
) -> None:
    record(
        session=session,
        actor=who.name,
        role=who.role,
        action=action,
        entity="base_changes",
        entity_id=change_id,
        at=now,
        data={"kind": kind, "record": target.entity, "record_id": target.entity_id},
    )


_VIEW = """
SELECT c.id, c.entity, c.entity_id, c.kind, c.version, c.before, c.after, c.note, c.status,
  'grid_collection' AS source, c.worker_id, c.cell_code, c.actor, c.collected_at,
  c.reviewed_by, c.reviewed_at, c.review_note
FROM base_changes c WHERE {where} ORDER BY c.id DESC LIMIT :k
"""


def change_view(session: Session, change_id: int) -> dict[str, Any]:
    """One change as the API answers it (`after` never holds an ID hash)."""
    rows = list_changes(session=session, where="c.id = :i", params={"i": change_id}, limit=1)
    return rows[0]


def list_changes(
    *, session: Session, where: str, params: dict[str, Any], limit: int = 100
) -> list[dict[str, Any]]:
    """Changes matching `where` (SQL over ``c``), newest first."""
    rows = session.execute(text(_VIEW.format(where=where)), {**params, "k": limit}).mappings()
    out = []
    for r in rows:
        item = dict(r)
        item["after"] = {k: v for k, v in item["after"].items() if k != "id_hash"}
        out.append(item)
    return out


def _json(value: dict[str, Any]) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=str)

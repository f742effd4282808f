"""The dispatcher's tools: the queue, the nearest on-duty workers, all-or-nothing assignment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.access import Actor, scope_sql
from grids.cases.assign import WorkerContact
from grids.cases.workflow import TransitionResult, transition
from layers.core.errors import InvalidInputError, NotFoundError, WanggeError
from layers.tables.incidents import OPEN_STATUSES, STATUSES

KNN_OVERSAMPLE = 4
"""KNN by degrees, re-ranked by metres: fetch this many times k candidates first."""


@dataclass(frozen=True)
class NearbyWorker:
    """A worker and how far they stand from the case (metres, geodesic)."""

    worker: WorkerContact
    distance_m: float
    cell_code: str | None


def nearest_workers(
    *,
    session: Session,
    incident_id: int,
    k: int = 5,
    level: int = 1,
    fresh_since: datetime | None = None,
) -> list[NearbyWorker]:
    """The `k` on-duty workers of `level` nearest to the case, nearest first.

    With `fresh_since`, a worker whose last position is older is left out: where
    they were hours ago says little about who is nearest now.
    """
    found = session.execute(text("SELECT 1 FROM incidents WHERE id = :id"), {"id": incident_id})
    if found.first() is None:
        raise NotFoundError(f"no case {incident_id}", code="incident_not_found")
    rows = session.execute(
        text(
            "SELECT c.*, ST_Distance(c.geom::geography, i.geom::geography) AS distance_m "
            "FROM incidents i CROSS JOIN LATERAL ("
            "  SELECT w.id, w.code, w.name, w.phone, w.level, w.on_duty, w.cell_code, w.geom"
            "  FROM workers w WHERE w.on_duty AND w.level = :level AND w.geom IS NOT NULL"
            "  AND (CAST(:fresh AS timestamptz) IS NULL OR w.position_at >= :fresh)"
            "  ORDER BY w.geom <-> i.geom LIMIT :candidates) c "
            "WHERE i.id = :id ORDER BY distance_m, c.id LIMIT :k"
        ),
        {
            "id": incident_id,
            "level": level,
            "k": k,
            "candidates": max(k * KNN_OVERSAMPLE, k + 20),
            "fresh": fresh_since,
        },
    ).all()
    return [
        NearbyWorker(
            WorkerContact(r.id, r.code, r.name, r.phone, r.level, r.on_duty),
            round(float(r.distance_m), 1),
            r.cell_code,
        )
        for r in rows
    ]


_QUEUE_SQL = (
    "SELECT i.id, i.version, i.status, i.urgency, i.category_code AS category, "
    "i.handling_level, i.due_at, coalesce(i.due_at < :now, false) AS overdue, "
    "i.created_at, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, "
    "s.code AS street_code, c.code AS community_code, g.code AS l1_code, "
    "i.assignee_worker_id, pu.code AS unit_code, i.supervised_at, i.description, "
    "count(*) OVER () AS total "
    "FROM incidents i LEFT JOIN streets s ON s.id = i.street_id "
    "LEFT JOIN platform_units pu ON pu.id = i.unit_id "
    "LEFT JOIN communities c ON c.id = i.community_id "
    "LEFT JOIN grid_cells g ON g.id = i.l1_cell_id WHERE {where} "
    "ORDER BY i.due_at ASC NULLS LAST, i.id LIMIT :limit OFFSET :offset"
)


_COUNT_SQL = "SELECT count(*) FROM incidents i WHERE {where}"


@dataclass(frozen=True)
class QueueFilter:
    """What the dispatcher wants to see (all optional)."""

    bbox: tuple[float, float, float, float] | None = None
    street: str | None = None
    community: str | None = None
    cell: str | None = None
    statuses: tuple[str, ...] = OPEN_STATUSES
    category: str | None = None
    overdue: bool | None = None
    level: str | None = None
    unit: str | None = None
    """A platform unit's code: that unit's queue only."""
    ids: tuple[int, ...] | None = None
    """These cases only (the live board re-reads the cases that moved)."""


@dataclass
class Queue:
    """One page of the queue."""

    total: int
    rows: list[dict[str, Any]] = field(default_factory=list)


OPEN_HORIZON = (
    "i.created_at >= (SELECT coalesce(min(k.created_at), 'infinity')"
    " FROM incident_keys k WHERE k.open)"
)
"""True of every open case in the reader's own snapshot (`incident_keys.open`, migration
0033): with it PostgreSQL skips the months before the oldest open case as it runs."""


def _where(session: Session, f: QueueFilter, actor: Actor, now: datetime):
    clauses = ["i.status = ANY(:statuses)"]
    if set(f.statuses) <= set(OPEN_STATUSES):
        clauses.append(OPEN_HORIZON)
    params: dict[str, Any] = {"statuses": list(f.statuses), "now": now}
    unknown = [s for s in f.statuses if s not in STATUSES]
    if unknown:
        raise InvalidInputError(f"unknown status {unknown[0]!r}", code="unknown_status")
    if f.bbox is not None:
        clauses.append("i.geom && ST_MakeEnvelope(:x1, :y1, :x2, :y2, 4326)")
        params.update(zip(("x1", "y1", "x2", "y2"), f.bbox, strict=True))
    if f.street:
        clauses.append("i.street_id IN (SELECT id FROM streets WHERE code = :street)")
        params["street"] = f.street
    if f.community:
        clauses.append("i.community_id IN (SELECT id FROM communities WHERE code = :community)")
        params["community"] = f.community
    if f.cell:
        clauses.append(
            "EXISTS (SELECT 1 FROM grid_cells g WHERE g.code = :cell "
            "AND g.id IN (i.l1_cell_id, i.l2_cell_id, i.l3_cell_id))"
        )
        params["cell"] = f.cell
    if f.category:
        clauses.append("i.category_code LIKE :category")
        params["category"] = f.category + ("%" if len(f.category) == 2 else "")
    if f.overdue is not None:
        clauses.append(
            "(i.due_at < :now)" if f.overdue else "(i.due_at IS NULL OR i.due_at >= :now)"
        )
    if f.level:
        clauses.append("i.handling_level = :level")
        params["level"] = f.level
    if f.unit:
        clauses.append("i.unit_id IN (SELECT id FROM platform_units WHERE code = :unit)")
        params["unit"] = f.unit
    if f.ids is not None:
        clauses.append("i.id = ANY(:ids)")
        params["ids"] = list(f.ids)
    scope, scope_params = scope_sql(session=session, actor=actor)
    clauses.append(scope)
    params.update(scope_params)
    return " AND ".join(clauses), params


def queue_where(
    session: Session, filters: QueueFilter, actor: Actor, now: datetime
) -> tuple[str, dict[str, Any]]:
    """The queue's WHERE over ``incidents i`` and its binds, for reads shaped otherwise."""
    return _where(session, filters, actor, now)


def queue(
    *,
    session: Session,
    filters: QueueFilter,
    actor: Actor,
    limit: int = 50,
    offset: int = 0,
    now: datetime,
) -> Queue:
    """Cases matching `filters` that `actor` may see, soonest deadline first."""
    where, params = _where(session, filters, actor, now)
    sql = _QUEUE_SQL.format(where=where)  # `where`: fixed fragments, values bound
    rows = session.execute(text(sql), {**params, "limit": limit, "offset": offset}).mappings()
    items = [dict(r) for r in rows]
    total = int(items[0].pop("total")) if items else 0
    for item in items[1:]:
        item.pop("total")
    if not items and offset:
        total = _count(session, where, params)
    return Queue(total, items)


def _count(session: Session, where: str, params: dict[str, Any]) -> int:
    return int(
        session.execute(
            text(_COUNT_SQL.format(where=where)),
            params,
        ).scalar()
        or 0
    )


class AssignmentError(WanggeError):
    """Some assignments of an all-or-nothing batch failed; nothing was written."""

    status_code = 409
    code = "assignment_failed"


def assign(
    *,
    session: Session,
    items: list[tuple[int, int, int]],
    actor: Actor,
    reason: str | None = None,
    now: datetime,
) -> list[TransitionResult]:
    """Dispatch each (incident, worker, version); any failure fails all (and names each)."""
    ids = [i for i, _, _ in items]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("an incident appears twice in the batch", code="duplicate_incident")
    done: list[TransitionResult] = []
    errors: list[dict[str, Any]] = []
    for incident_id, worker_id, version in items:
        try:
            with session.begin_nested():
                done.append(
                    transition(
                        session=session,
                        incident_id=incident_id,
                        action="dispatch",
                        actor=actor,
                        expected_version=version,
                        reason=reason,
                        data={"worker_id": worker_id},
                        now=now,
                    )
                )
        except WanggeError as exc:
            errors.append(
                {
                    "incident_id": incident_id,
                    "status": exc.status_code,
                    "code": exc.code,
                    "detail": exc.message,
                    **exc.details,
                }
            )
    if errors:
        statuses = {e["status"] for e in errors}
        error = AssignmentError(
            f"{len(errors)} of {len(items)} assignments failed; none was made", errors=errors
        )
        if len(statuses) == 1:
            error.status_code = statuses.pop()
        raise error
    return done

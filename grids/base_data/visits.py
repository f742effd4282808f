"""The household-visit log (入户走访): a grid worker's visit of a dwelling in their own cell.

A visit is kept with its date (not after today, Beijing time, by the app
clock), what was checked (`VISIT_CHECKS`), how many residents were met and a
note.  Writing and reading a dwelling's visits are audited: the notes are about
a household.  Grid workers write and read the dwellings of their own cell only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.base_data.changes import dwelling_point
from grids.base_data.collection import Collector
from grids.base_data.scope import require_in_cell, worker_cell
from layers.core.errors import ForbiddenError, InvalidInputError, UnprocessableError
from layers.core.roles import Role
from layers.tables.audit import record
from layers.tables.clocks import LOCAL_TZ
from layers.tables.household_visits import VISIT_CHECKS


@dataclass(frozen=True)
class Visit:
    """What the worker reports of one visit."""

    visited_on: date
    checked: list[str]
    residents_seen: int | None = None
    note: str | None = None


def _scoped(session: Session, who: Collector, dwelling_id: int, tolerance_m: float | None) -> None:
    """404 for no such dwelling; 403 for a grid worker outside their cell."""
    row = dwelling_point(session, dwelling_id)
    if who.role == Role.GRID_WORKER:
        require_in_cell(
            session, worker_cell(session, who.worker_id), row["lon"], row["lat"], tolerance_m
        )


def record_visit(
    *,
    session: Session,
    who: Collector,
    dwelling_id: int,
    visit: Visit,
    now: datetime,
    tolerance_m: float | None = None,
) -> dict[str, Any]:
    """Log one visit; 422 `impossible_date` for a day after today, 400 for unknown checks."""
    if who.role != Role.GRID_WORKER:
        raise ForbiddenError("only grid workers visit households", code="not_a_collector")
    _scoped(session, who, dwelling_id, tolerance_m)
    unknown = sorted(set(visit.checked) - set(VISIT_CHECKS))
    if unknown or not visit.checked:
        raise InvalidInputError(
            f"checked must list some of {', '.join(VISIT_CHECKS)}",
            code="unknown_value",
            unknown=unknown,
        )
    if visit.visited_on > now.astimezone(LOCAL_TZ).date():
        raise UnprocessableError("a visit cannot be in the future", code="impossible_date")
    checked = [c for c in VISIT_CHECKS if c in visit.checked]
    visit_id = session.execute(
        text(
            "INSERT INTO household_visits (dwelling_id, worker_id, actor, visited_on, checked,"
            " residents_seen, note, recorded_at) VALUES (:d, :w, :a, :on, CAST(:c AS jsonb),"
            " :n, :note, :t) RETURNING id"
        ),
        {
            "d": dwelling_id,
            "w": who.worker_id,
            "a": who.name,
            "on": visit.visited_on,
            "c": "[" + ", ".join(f'"{c}"' for c in checked) + "]",
            "n": visit.residents_seen,
            "note": visit.note,
            "t": now,
        },
    ).scalar_one()
    _audit(session, who, "base_collection.visit", dwelling_id, now, {"visit": int(visit_id)})
    return list_visits(
        session=session,
        who=who,
        dwelling_id=dwelling_id,
        now=now,
        tolerance_m=tolerance_m,
        audit=False,
    )[0]


def list_visits(
    *,
    session: Session,
    who: Collector,
    dwelling_id: int,
    now: datetime,
    tolerance_m: float | None = None,
    audit: bool = True,
) -> list[dict[str, Any]]:
    """The dwelling's visits, newest first (audited as a read of household data)."""
    _scoped(session, who, dwelling_id, tolerance_m)
    rows = session.execute(
        text(
            "SELECT id, dwelling_id, worker_id, actor, visited_on, checked, residents_seen, note,"
            " recorded_at FROM household_visits WHERE dwelling_id = :d"
            " ORDER BY visited_on DESC, id DESC"
        ),
        {"d": dwelling_id},
    ).mappings()
    found = [dict(r) for r in rows]
    if audit:
        _audit(
            session,
            who,
            "personal_data.read",
            dwelling_id,
            now,
            {"face": "household_visits", "visits": len(found)},
        )
    return found


def _audit(
    session: Session,
    who: Collector,
    action: str,
    dwelling_id: int,
    now: datetime,
    data: dict[str, Any],
) -> None:
    record(
        session=session,
        actor=who.name,
        role=who.role,
        action=action,
        entity="dwellings",
        entity_id=dwelling_id,
        at=now,
        data=data,
    )

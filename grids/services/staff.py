"""What station staff and departments work from: a station's day, a department's queue.

The day view lists the station's appointments of one local day (contact masked:
staff need to greet, not to copy), the walk-ins registered there that day, and
its open proxy tasks (accepted there, or requested by residents of its
community and not yet accepted).  Each view that shows contact data is audited
as a read of personal data.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from grids.services.points import get_point
from layers.core.errors import InvalidInputError
from layers.tables.audit import record
from layers.tables.clocks import LOCAL_TZ
from layers.tables.personal_data import PERSONAL_READ, id_ranges, mask_name, mask_phone

OPEN = ("requested", "accepted", "materials_collected", "submitted", "decided")


def _appointments(session: Session, point_id: int, first: datetime, last: datetime) -> list:
    return list(
        session.execute(
            text(
                "SELECT a.id, a.starts_at, a.status, a.contact_name, a.contact_phone, "
                "si.code AS item_code, si.name AS item_name FROM appointments a "
                "JOIN service_items si ON si.id = a.item_id WHERE a.service_point_id = :p "
                "AND a.starts_at >= :f AND a.starts_at < :l ORDER BY a.starts_at, a.id"
            ),
            {"p": point_id, "f": first, "l": last},
        ).all()
    )


def _tasks(session: Session, point_id: int, community_id: int | None) -> list:
    return list(
        session.execute(
            text(
                "SELECT r.id, r.status, r.channel, r.due_at, r.created_at, r.contact_name, "
                "si.code AS item_code, si.name AS item_name FROM proxy_requests r "
                "JOIN service_items si ON si.id = r.item_id WHERE r.status = ANY(:open) AND "
                "(r.accepting_point_id = :p OR "
                "(r.status = 'requested' AND r.home_community_id = :c)) "
                "ORDER BY r.due_at NULLS LAST, r.id"
            ),
            {"p": point_id, "c": community_id, "open": list(OPEN)},
        ).all()
    )


def day_view(
    *, session: Session, code: str, day: date, actor: Actor, now: datetime
) -> dict[str, Any]:
    """A station's appointments of `day` (local), its walk-ins that day and its open tasks."""
    if not 2000 <= day.year <= 2100:
        raise InvalidInputError("date must be between 2000 and 2100", code="invalid_date")
    point = get_point(session=session, code=code)
    first = datetime.combine(day, time(0), LOCAL_TZ)
    appts = _appointments(session, point.id, first, first + timedelta(days=1))
    tasks = _tasks(session, point.id, point.community_id)
    walk_ins = [
        t
        for t in tasks
        if t.channel == "walk_in" and first <= t.created_at < first + timedelta(days=1)
    ]
    if appts or tasks:
        record(
            session=session,
            actor=actor.name,
            role=actor.role,
            action=PERSONAL_READ,
            entity="appointments",
            entity_id=point.code,
            at=now,
            data={
                "face": "services_day_view",
                "fields": ["contact_name", "contact_phone"],
                "id_ranges": id_ranges(a.id for a in appts),
                "proxy_id_ranges": id_ranges(t.id for t in tasks),
            },
        )
    return {
        "station": {"code": point.code, "name": point.name},
        "date": day.isoformat(),
        "appointments": [
            {
                "id": a.id,
                "starts_at": a.starts_at,
                "status": a.status,
                "item": {"code": a.item_code, "name": a.item_name},
                "contact_name": mask_name(a.contact_name),
                "contact_phone": mask_phone(a.contact_phone),
            }
            for a in appts
        ],
        "walk_ins": [t.id for t in walk_ins],
        "proxy_tasks": [
            {
                "id": t.id,
                "status": t.status,
                "channel": t.channel,
                "due_at": t.due_at,
                "overdue": t.due_at is not None and t.due_at < now,
                "item": {"code": t.item_code, "name": t.item_name},
                "contact_name": mask_name(t.contact_name),
            }
            for t in tasks
        ],
    }


def department_queue(
    *, session: Session, department: str, now: datetime, limit: int = 200
) -> dict[str, Any]:
    """Requests submitted to `department` and awaiting its decision, oldest deadline first."""
    rows = session.execute(
        text(
            "SELECT r.id, r.due_at, r.updated_at, si.code AS item_code, si.name AS item_name, "
            "sp.code AS station FROM proxy_requests r JOIN service_items si ON si.id = r.item_id "
            "LEFT JOIN service_points sp ON sp.id = r.accepting_point_id "
            "WHERE r.department_code = :d AND r.status = 'submitted' "
            "ORDER BY r.due_at NULLS LAST, r.id LIMIT :l"
        ),
        {"d": department, "l": limit},
    ).all()
    return {
        "department": department,
        "requests": [
            {
                "id": r.id,
                "due_at": r.due_at,
                "overdue": r.due_at is not None and r.due_at < now,
                "submitted_at": r.updated_at,
                "accepting_station": r.station,
                "item": {"code": r.item_code, "name": r.item_name},
            }
            for r in rows
        ],
    }

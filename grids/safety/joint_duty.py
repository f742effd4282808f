"""Joint duty (联勤): the liaisons' rota at the centres, and joint tasks on a case.

Departments post a liaison to the district centre and the street sub-centres per
day (`liaison_shifts`).  A case that needs joint action on site gets a joint task at
its street's sub-centre (its own unit when that is the street or district centre) with
the liaisons on duty there that day for the departments involved: those given, or
else the departments holding an open part of the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grids.cases.access import Actor, can_see, in_queue_of
from grids.cases.workflow import apply_transition
from layers.core.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from layers.core.roles import DISPATCH
from layers.tables.audit import record
from layers.tables.clocks import LOCAL_TZ
from layers.tables.incidents import OPEN_STATUSES, Incident
from layers.tables.joint_duty import JointTask, JointTaskMember, LiaisonShift
from layers.tables.notices import notify


@dataclass(frozen=True)
class JointTaskResult:
    """The task and who takes part in it."""

    task_id: int
    unit_code: str
    members: list[dict[str, Any]]
    case_version: int


def add_shift(
    *,
    session: Session,
    unit: str,
    department: str,
    day: date,
    liaison_name: str,
    liaison_phone: str | None,
    actor: Actor,
    now: datetime,
) -> LiaisonShift:
    """Put a department's liaison on the rota of a centre for a day (one per department a day)."""
    row = session.execute(
        text("SELECT id, level FROM platform_units WHERE code = :c"), {"c": unit}
    ).first()
    if row is None:
        raise NotFoundError(f"no platform unit {unit!r}", code="unit_not_found")
    if row.level == "community":
        raise ConflictError("liaisons sit at the district or a street centre", code="not_a_centre")
    dept = session.execute(
        text("SELECT id FROM departments WHERE code = :c"), {"c": department}
    ).scalar()
    if dept is None:
        raise NotFoundError(f"no department {department!r}", code="department_not_found")
    if not liaison_name.strip():
        raise InvalidInputError("the liaison's name is required", code="name_required")
    shift = LiaisonShift(
        unit_id=row.id,
        department_id=dept,
        day=day,
        liaison_name=liaison_name.strip(),
        liaison_phone=liaison_phone,
    )
    try:
        with session.begin_nested():
            session.add(shift)
            session.flush()
    except IntegrityError:
        raise ConflictError(
            f"{department} already has a liaison at {unit} on {day}", code="shift_taken"
        ) from None
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action="liaison_shift_add",
        entity="liaison_shifts",
        entity_id=shift.id,
        data={"unit": unit, "department": department, "day": day.isoformat()},
        at=now,
    )
    return shift


def rota(*, session: Session, day: date, unit: str | None = None) -> list[dict[str, Any]]:
    """The liaisons on duty on `day` (at one centre, or all)."""
    rows = session.execute(
        text(
            "SELECT s.id, s.day, u.code AS unit, d.code AS department, d.name AS department_name, "
            "s.liaison_name, s.liaison_phone FROM liaison_shifts s "
            "JOIN platform_units u ON u.id = s.unit_id "
            "JOIN departments d ON d.id = s.department_id "
            "WHERE s.day = :day AND (CAST(:unit AS text) IS NULL OR u.code = :unit) "
            "ORDER BY u.code, d.id"
        ),
        {"day": day, "unit": unit},
    ).mappings()
    return [dict(r) for r in rows]


def _centre_of(session: Session, unit_id: int | None) -> tuple[int, str]:
    row = session.execute(
        text(
            "SELECT CASE WHEN u.level = 'community' THEN p.id ELSE u.id END AS id, "
            "CASE WHEN u.level = 'community' THEN p.code ELSE u.code END AS code "
            "FROM platform_units u LEFT JOIN platform_units p ON p.id = u.parent_id WHERE u.id = :u"
        ),
        {"u": unit_id},
    ).first()
    if row is None:
        raise ConflictError("the case sits in no platform unit", code="no_unit")
    return int(row.id), str(row.code)


def _involved(session: Session, incident_id: int, departments: list[str]) -> list[int]:
    if departments:
        ids = (
            session.execute(
                text("SELECT id FROM departments WHERE code = ANY(:c)"), {"c": departments}
            )
            .scalars()
            .all()
        )
        if len(ids) != len(set(departments)):
            raise NotFoundError("an unknown department is named", code="department_not_found")
        return list(ids)
    return list(
        session.execute(
            text(
                "SELECT DISTINCT department_id FROM case_transfers WHERE incident_id = :i "
                "AND status IN ('sent', 'signed', 'in_progress')"
            ),
            {"i": incident_id},
        ).scalars()
    )


def joint_task(
    *,
    session: Session,
    incident_id: int,
    instruction: str,
    actor: Actor,
    expected_version: int,
    departments: list[str] | None = None,
    now: datetime,
) -> JointTaskResult:
    """Give the case a joint task with the liaisons on duty today for the departments involved."""
    now = now.astimezone(UTC)
    if actor.role not in DISPATCH:
        raise ForbiddenError(
            f"role {actor.role} may not call a joint task", code="action_not_allowed"
        )
    incident = session.get(Incident, incident_id, with_for_update=True, populate_existing=True)
    if incident is None or not can_see(session=session, incident=incident, actor=actor):
        raise NotFoundError(f"no case {incident_id}", code="incident_not_found")
    if not in_queue_of(session=session, incident=incident, actor=actor):
        raise ForbiddenError(f"case {incident_id} is not in your unit's queue", code="not_in_queue")
    if expected_version != incident.version:
        raise ConflictError(
            "the case changed", code="stale_version", current_version=incident.version
        )
    if incident.status not in OPEN_STATUSES:
        raise ConflictError(f"the case is {incident.status}", code="invalid_transition")
    if not instruction.strip():
        raise InvalidInputError("a joint task needs an instruction", code="instruction_required")
    unit_id, unit_code = _centre_of(session, incident.unit_id)
    wanted = _involved(session, incident.id, departments or [])
    shifts = (
        session.execute(
            text(
                "SELECT s.id, s.department_id, d.code AS department, s.liaison_name, "
                "s.liaison_phone "
                "FROM liaison_shifts s JOIN departments d ON d.id = s.department_id "
                "WHERE s.unit_id = :u AND s.day = :day AND s.department_id = ANY(:d) ORDER BY d.id"
            ),
            {"u": unit_id, "day": now.astimezone(LOCAL_TZ).date(), "d": wanted},
        )
        .mappings()
        .all()
    )
    if not shifts:
        raise ConflictError(
            f"no liaison of the departments involved is on duty at {unit_code} today",
            code="no_liaison_on_duty",
        )
    return _create(session, incident, unit_id, unit_code, instruction.strip(), shifts, actor, now)


def _create(
    session, incident, unit_id, unit_code, instruction, shifts, actor, now
) -> JointTaskResult:
    task = JointTask(
        incident_id=incident.id,
        unit_id=unit_id,
        instruction=instruction,
        created_by=actor.name,
        created_at=now,
    )
    session.add(task)
    session.flush()
    for s in shifts:
        session.add(JointTaskMember(task_id=task.id, shift_id=s["id"]))
        notify(
            session=session,
            incident_id=incident.id,
            kind="joint_task",
            at=now,
            body=f"joint task on case {incident.id} at {unit_code}: {instruction}",
            department_id=s["department_id"],
            data={"task_id": task.id, "liaison": s["liaison_name"]},
        )
    members = [dict(s) for s in shifts]
    result = apply_transition(session, incident, "joint_task", None, actor, instruction, {}, now)
    result.event.data = {
        "task_id": task.id,
        "unit": unit_code,
        "shifts": [m["id"] for m in members],
    }
    session.flush()
    return JointTaskResult(task.id, unit_code, members, incident.version)

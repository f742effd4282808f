"""What the platform's boards read: the units and their queues, a department's queue, notices.

A department's queue is its parts of cases (`case_transfers`) with the case's
summary — never the reporter's name or phone.  A department key reads its own
department only; dispatchers and admins read any (a local dispatcher reads the notices
of its own unit only).  Supervision (督办) is on every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.access import Actor, actor_scope
from grids.cases.reference import work_calendar
from layers.core.errors import ForbiddenError, InvalidInputError, NotFoundError
from layers.core.roles import Role
from layers.tables.audit import record
from layers.tables.case_transfers import OPEN_TRANSFER, TRANSFER_STATUSES
from layers.tables.clocks import LOCAL_TZ
from layers.tables.departments import department_of_key
from layers.tables.incidents import OPEN_STATUSES

_DEPT_QUEUE_SQL = text(
    "SELECT t.id AS transfer_id, t.version, t.part, t.status, t.instruction, t.sent_at, "
    "t.sign_due_at, t.due_at, (t.due_at < :now) AS overdue, t.signed_at, "
    "i.id AS incident_id, i.status AS case_status, i.category_code AS category, i.urgency, "
    "i.handling_level, pu.code AS unit_code, i.supervised_at, i.description, i.address, "
    "count(*) OVER () AS total "
    "FROM case_transfers t JOIN incidents i ON i.id = t.incident_id "
    "LEFT JOIN platform_units pu ON pu.id = i.unit_id "
    "WHERE t.department_id = :dept AND t.status = ANY(:statuses) "
    "ORDER BY t.due_at, t.id LIMIT :limit OFFSET :offset"
)


@dataclass(frozen=True)
class Page:
    """One page of rows and how many there are in all."""

    total: int
    rows: list[dict[str, Any]]


def _department_id(session: Session, code: str) -> int:
    found = session.execute(
        text("SELECT id FROM departments WHERE code = :c"), {"c": code}
    ).scalar()
    if found is None:
        raise NotFoundError(f"no department {code!r}", code="department_not_found")
    return int(found)


def _readable_department(session: Session, code: str, actor: Actor) -> int:
    dept = _department_id(session, code)
    if (
        actor.role == Role.DEPARTMENT
        and department_of_key(session=session, key_id=actor.key_id) != dept
    ):
        raise ForbiddenError("a department reads its own queue only", code="not_your_department")
    return dept


def department_queue(
    *,
    session: Session,
    code: str,
    actor: Actor,
    statuses: tuple[str, ...] = OPEN_TRANSFER,
    limit: int = 50,
    offset: int = 0,
    now: datetime,
) -> Page:
    """A department's parts of cases, soonest deadline first (no reporter data)."""
    unknown = [s for s in statuses if s not in TRANSFER_STATUSES]
    if unknown:
        raise InvalidInputError(f"unknown transfer status {unknown[0]!r}", code="unknown_status")
    dept = _readable_department(session, code, actor)
    rows = [
        dict(r)
        for r in session.execute(
            _DEPT_QUEUE_SQL,
            {
                "dept": dept,
                "statuses": list(statuses),
                "now": now,
                "limit": limit,
                "offset": offset,
            },
        ).mappings()
    ]
    total = int(rows[0]["total"]) if rows else 0
    for row in rows:
        row.pop("total")
    return Page(total, rows)


def departments(*, session: Session) -> list[dict[str, Any]]:
    """Every department with the categories it answers for and its office contact."""
    rows = session.execute(
        text(
            "SELECT code, name, kind, categories, contact_name, contact_phone, "
            "sign_days::float AS sign_days, handle_days::float AS handle_days "
            "FROM departments ORDER BY kind DESC, id"
        )
    ).mappings()
    return [dict(r) for r in rows]


def units(*, session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every platform unit with its open queue, overdue and supervised counts.

    ``open_now``: whether the unit is at work at `now` — a working day of the district's
    calendar and its own hours (``opens_at`` – ``closes_at``, local time).
    """
    rows = session.execute(
        text(
            "SELECT u.id, u.code, u.name, u.level, p.code AS parent_code, "
            "to_char(u.opens_at, 'HH24:MI') AS opens_at, "
            "to_char(u.closes_at, 'HH24:MI') AS closes_at, "
            "count(i.id) AS open_cases, count(i.id) FILTER (WHERE i.due_at < :now) AS overdue, "
            "count(i.id) FILTER (WHERE i.supervised_at IS NOT NULL) AS supervised, "
            "(SELECT count(*) FROM platform_staff s WHERE s.unit_id = u.id) AS staff "
            "FROM platform_units u LEFT JOIN platform_units p ON p.id = u.parent_id "
            "LEFT JOIN incidents i ON i.unit_id = u.id AND i.status = ANY(:open) "
            "GROUP BY u.id, p.code ORDER BY CASE u.level WHEN 'district' THEN 0 "
            "WHEN 'street' THEN 1 ELSE 2 END, u.code"
        ),
        {"now": now, "open": list(OPEN_STATUSES)},
    ).mappings()
    local = now.astimezone(LOCAL_TZ)
    workday = work_calendar(session=session).is_working_day(local.date())
    hhmm = local.strftime("%H:%M")
    return [{**r, "open_now": workday and r["opens_at"] <= hhmm < r["closes_at"]} for r in rows]


def _check_unit_reader(session: Session, unit_id: int, actor: Actor) -> None:
    """A unit's notices are its own staff's: a local dispatcher's unit, the district any."""
    if actor.role == Role.DEPARTMENT:
        raise ForbiddenError("a department reads its own notices", code="not_your_unit")
    post = actor_scope(session=session, actor=actor).unit
    if post is not None and post.level != "district" and post.id != unit_id:
        raise ForbiddenError(
            "a local dispatcher reads its own unit's notices", code="not_your_unit"
        )


_NOTICES_SQL = (
    "SELECT n.id, n.incident_id, n.kind, n.at, n.body, n.data, n.read_at, "
    "u.code AS unit_code, d.code AS department_code FROM platform_notices n "
    "LEFT JOIN platform_units u ON u.id = n.unit_id "
    "LEFT JOIN departments d ON d.id = n.department_id WHERE {where} "
    "ORDER BY n.at DESC, n.id DESC LIMIT :limit"
)


def notices(
    *,
    session: Session,
    actor: Actor,
    unit: str | None = None,
    department: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The latest notices to a unit or a department, as far as the caller may read them."""
    if (unit is None) == (department is None):
        raise InvalidInputError("name a unit or a department", code="unit_or_department")
    if department is not None:
        dept = _readable_department(session, department, actor)
        where, params = "n.department_id = :d", {"d": dept}
    else:
        row = session.execute(
            text("SELECT id FROM platform_units WHERE code = :c"), {"c": unit}
        ).scalar()
        if row is None:
            raise NotFoundError(f"no platform unit {unit!r}", code="unit_not_found")
        _check_unit_reader(session, int(row), actor)
        where, params = "n.unit_id = :u", {"u": int(row)}
    sql = _NOTICES_SQL.format(where=where)
    return [dict(r) for r in session.execute(text(sql), {**params, "limit": limit}).mappings()]


def mark_read(*, session: Session, actor: Actor, notice_id: int, now: datetime) -> dict[str, Any]:
    """Mark a notice read (``read_at``) by the unit or department that received it.

    A unit's notice: its local dispatcher (or the district centre's, or an admin); a
    department's: that department's key (or an admin) — a dispatcher does not sign for a
    department.  Marking twice keeps the first moment.  Audited (``notice.read``).
    """
    row = session.execute(
        text(
            "SELECT n.unit_id, n.department_id, d.code AS department_code "
            "FROM platform_notices n LEFT JOIN departments d ON d.id = n.department_id "
            "WHERE n.id = :n FOR UPDATE OF n"
        ),
        {"n": notice_id},
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no notice {notice_id}", code="notice_not_found")
    if row.unit_id is not None:
        _check_unit_reader(session, int(row.unit_id), actor)
    elif actor.role != Role.ADMIN:
        if actor.role != Role.DEPARTMENT:
            raise ForbiddenError("a department marks its own notices", code="not_your_department")
        _readable_department(session, row.department_code, actor)
    session.execute(
        text("UPDATE platform_notices SET read_at = coalesce(read_at, :now) WHERE id = :n"),
        {"n": notice_id, "now": now},
    )
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action="notice.read",
        entity="platform_notices",
        entity_id=notice_id,
        at=now,
    )
    sql = _NOTICES_SQL.format(where="n.id = :n")
    return dict(session.execute(text(sql), {"n": notice_id, "limit": 1}).mappings().one())

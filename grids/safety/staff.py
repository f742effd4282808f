"""Who works where: a dispatcher's key at a platform unit, a department key at its department.

The link decides a key's reach (`layers.tables.case_scope`): a dispatcher key staffed at
a street sub-centre or a community station is scoped to it; a department key sees its
department's cases.  Linking is an admin's act, audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from layers.core.errors import ConflictError, NotFoundError, UnprocessableError
from layers.core.roles import Role
from layers.tables.audit import record
from layers.tables.departments import DepartmentStaff
from layers.tables.platform_units import PlatformStaff


def _key_role(session: Session, key_id: int) -> str:
    role = session.execute(
        text("SELECT role FROM api_keys WHERE id = :k AND revoked_at IS NULL"), {"k": key_id}
    ).scalar()
    if role is None:
        raise NotFoundError(f"no live API key {key_id}", code="unknown_key")
    return str(role)


def _id_of(session: Session, table: str, code: str, what: str) -> int:
    found = session.execute(
        text(f"SELECT id FROM {table} WHERE code = :c"),  # noqa: S608 - our table names only
        {"c": code},
    ).scalar()
    if found is None:
        raise NotFoundError(f"no {what} {code!r}", code=f"{what.replace(' ', '_')}_not_found")
    return int(found)


def _add(session: Session, row: object, what: str) -> None:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise ConflictError(f"already staff of a {what}", code="already_staff") from None


def add_unit_staff(
    *,
    session: Session,
    unit: str,
    actor: Actor,
    now: datetime,
    key_id: int | None = None,
    worker_id: int | None = None,
) -> PlatformStaff:
    """Post a dispatcher's key (duty dispatcher) or a worker (duty handler) at a unit."""
    unit_id = _id_of(session, "platform_units", unit, "unit")
    if (key_id is None) == (worker_id is None):
        raise UnprocessableError("name a dispatcher's key or a worker", code="key_or_worker")
    if key_id is not None and _key_role(session, key_id) != Role.DISPATCHER:
        raise UnprocessableError(
            "only a dispatcher's key is posted at a unit", code="not_dispatcher"
        )
    if (
        worker_id is not None
        and session.execute(text("SELECT 1 FROM workers WHERE id = :w"), {"w": worker_id}).first()
        is None
    ):
        raise NotFoundError(f"no worker {worker_id}", code="worker_not_found")
    row = PlatformStaff(
        unit_id=unit_id,
        key_id=key_id,
        worker_id=worker_id,
        duty="dispatcher" if key_id is not None else "handler",
    )
    _add(session, row, "unit")
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action="unit_staff_add",
        entity="platform_staff",
        entity_id=row.id,
        data={"unit": unit, "key_id": key_id, "worker_id": worker_id},
        at=now,
    )
    return row


def add_department_staff(
    *, session: Session, department: str, key_id: int, actor: Actor, now: datetime
) -> DepartmentStaff:
    """Make a department key the staff of `department`."""
    dept = _id_of(session, "departments", department, "department")
    if _key_role(session, key_id) != Role.DEPARTMENT:
        raise UnprocessableError("only a department key joins a department", code="not_department")
    row = DepartmentStaff(key_id=key_id, department_id=dept)
    _add(session, row, "department")
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action="department_staff_add",
        entity="department_staff",
        entity_id=key_id,
        data={"department": department},
        at=now,
    )
    return row

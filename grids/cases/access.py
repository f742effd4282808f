"""Who may see which case, and whose reporter data: `layers.tables.case_scope`'s rule, case side.

The rule itself (dispatchers, admins and planners every case, grid workers their
cells and their assignments, residents their own) is defined once in
`layers.tables.case_scope`, where OGC can reach it too; here it meets the case side's
`Actor` and the case token a resident may hold.  Reporter data is in clear only
for dispatchers, admins and the assigned grid worker of a call-back category,
masked for other staff, absent for residents; every read in clear is audited.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.roles import SYSTEM, Role
from layers.tables.case_scope import SEE_ALL_ROLES, CaseScope, Viewer, resolve_scope
from layers.tables.catalog import Category
from layers.tables.incidents import Incident
from layers.tables.personal_data import mask_name, mask_phone, record_personal_read


@dataclass(frozen=True)
class Actor:
    """Who acts: a display name for the audit trail, a role, and whose key / which worker."""

    name: str
    role: str
    worker_id: int | None = None
    key_id: int | None = None

    @property
    def is_staff(self) -> bool:
        """Staff may see masked personal data; residents never see any."""
        return self.role != Role.RESIDENT

    @property
    def viewer(self) -> Viewer:
        """The actor as `layers.tables.case_scope` knows readers."""
        return Viewer(self.role, self.name, self.worker_id, self.key_id)


@dataclass(frozen=True)
class Reporter:
    """A case's reporter as one caller may see them (`clear` False: masked)."""

    name: str | None
    phone: str | None
    clear: bool


def token_hash(token: str) -> str:
    """Hex SHA-256 of a case token (only the hash is stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def actor_scope(*, session: Session, actor: Actor) -> CaseScope:
    """The actor's case scope (a grid worker's cell looked up once)."""
    return resolve_scope(session=session, viewer=actor.viewer)


def scope_sql(*, session: Session, actor: Actor, alias: str = "i") -> tuple[str, dict[str, Any]]:
    """A WHERE fragment limiting `alias` (incidents) to what `actor` may see."""
    return actor_scope(session=session, actor=actor).rows_sql(alias)


def in_queue_of(*, session: Session, incident: Incident, actor: Actor) -> bool:
    """May `actor` act on this case as its unit's dispatcher (a local one: its queue only)?"""
    scope = actor_scope(session=session, actor=actor)
    if scope.sees_all:
        return True
    clause, params = scope.queue_sql()
    return bool(
        session.execute(
            text(f"SELECT EXISTS (SELECT 1 FROM incidents i WHERE i.id = :id AND {clause})"),  # noqa: S608 - fixed fragments
            {"id": incident.id, **params},
        ).scalar()
    )


def can_see(
    *, session: Session, incident: Incident, actor: Actor, token: str | None = None
) -> bool:
    """May `actor` (holding case `token`, if any) see this case?"""
    if actor.role in SEE_ALL_ROLES and actor.role != Role.DISPATCHER:
        return True  # a dispatcher may be scoped to a street's or community's unit
    if token and incident.access_token_hash:
        if hmac.compare_digest(token_hash(token), incident.access_token_hash):
            return True
    clause, params = scope_sql(session=session, actor=actor)
    if clause == "FALSE":
        return False
    return bool(
        session.execute(
            text(f"SELECT EXISTS (SELECT 1 FROM incidents i WHERE i.id = :id AND {clause})"),  # noqa: S608 - fixed fragments
            {"id": incident.id, **params},
        ).scalar()
    )


def reporter_of(
    *, session: Session, incident: Incident, actor: Actor, now: datetime | None, face: str
) -> Reporter | None:
    """The reporter as `actor` may see them on a case they may see; a clear read is audited.

    None for residents and the system (and when nobody left a name or phone).
    """
    if not actor.is_staff or actor.role == SYSTEM:
        return None
    name, phone = incident.reporter_name, incident.reporter_phone
    if name is None and phone is None:
        return None
    category = session.get(Category, incident.category_code)
    clear = actor_scope(session=session, actor=actor).sees_reporter(
        assignee_worker_id=incident.assignee_worker_id,
        needs_callback=bool(category and category.needs_callback),
    )
    if not clear:
        return Reporter(mask_name(name), mask_phone(phone), clear=False)
    record_personal_read(
        session=session, actor=actor.name, role=actor.role, ids=[incident.id], face=face, at=now
    )
    return Reporter(name, phone, clear=True)

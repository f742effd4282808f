"""Who may see which case: dispatchers all, grid workers their cells, residents their own.

A grid worker sees the cases located in their cell (at their level, by cell
code, so a case stays theirs across revisions that keep the code) and the cases
assigned to them.  A resident sees a case they reported with their key, or
whose case token they hold; never anyone else's.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.incidents import Incident

SEE_ALL = frozenset({"dispatcher", "admin", "planner"})
"""Roles that see every case (with personal data)."""
SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """Who acts: a display name for the audit trail, a role, and whose key / which worker."""

    name: str
    role: str
    worker_id: int | None = None
    key_id: int | None = None

    @property
    def is_staff(self) -> bool:
        """Staff see personal data; residents never do."""
        return self.role not in ("resident",)


def token_hash(token: str) -> str:
    """Hex SHA-256 of a case token (only the hash is stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def worker_scope(*, session: Session, worker_id: int | None) -> tuple[int, str] | None:
    """(level, cell code) of a grid worker, or None when the key has no worker."""
    if worker_id is None:
        return None
    row = session.execute(
        text("SELECT level, cell_code FROM workers WHERE id = :w"), {"w": worker_id}
    ).first()
    return (int(row.level), row.cell_code) if row and row.cell_code else None


def scope_sql(*, session: Session, actor: Actor, alias: str = "i") -> tuple[str, dict[str, Any]]:
    """A WHERE fragment limiting `alias` (incidents) to what `actor` may see."""
    if actor.role in SEE_ALL or actor.role == SYSTEM:
        return "TRUE", {}
    if actor.role == "grid_worker":
        scope = worker_scope(session=session, worker_id=actor.worker_id)
        if scope is None:
            return "FALSE", {}
        level, code = scope
        if level not in (1, 2, 3):
            return "FALSE", {}
        column = f"{alias}.l{level}_cell_id"
        return (
            f"({alias}.assignee_worker_id = :scope_worker OR {column} IN "  # noqa: S608 - ours
            "(SELECT id FROM grid_cells WHERE code = :scope_code))",
            {"scope_worker": actor.worker_id, "scope_code": code},
        )
    if actor.key_id is not None:
        return f"{alias}.reporter_key_id = :scope_key", {"scope_key": actor.key_id}
    return "FALSE", {}


def can_see(
    *, session: Session, incident: Incident, actor: Actor, token: str | None = None
) -> bool:
    """May `actor` (holding case `token`, if any) see this case?"""
    if actor.role in SEE_ALL or actor.role == SYSTEM:
        return True
    if token and incident.access_token_hash:
        if hmac.compare_digest(token_hash(token), incident.access_token_hash):
            return True
    if actor.role == "grid_worker":
        clause, params = scope_sql(session=session, actor=actor)
        return bool(
            session.execute(
                text(f"SELECT EXISTS (SELECT 1 FROM incidents i WHERE i.id = :id AND {clause})"),  # noqa: S608 - fixed fragments
                {"id": incident.id, **params},
            ).scalar()
        )
    return actor.key_id is not None and incident.reporter_key_id == actor.key_id

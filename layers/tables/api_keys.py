"""API keys: only a SHA-256 hash is stored, so a database dump leaks no usable key.

A key has a name, a creation time, an optional expiry and a last-use time, and
is revoked rather than deleted (the audit trail and the cases it reported keep
pointing at it).  A grid worker's key is bound to one worker, whose cells are
the key's "own cells".
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.core.errors import NotFoundError, UnprocessableError
from layers.core.roles import ROLES, Role, role_check_sql
from layers.tables.audit import record
from layers.tables.base import Base
from layers.tables.workers import Worker

KEY_PREFIX = "wg_"
PREFIX_LENGTH = 10
"""Characters of a key kept in clear (`wg_` + 7): enough to tell keys apart in lists and logs."""
MAX_KEY_LENGTH = 200
LAST_USE_EVERY = timedelta(minutes=1)
"""A key's `last_used_at` is written at most this often, so a hot key costs no write per request."""


class ApiKey(Base):
    """A bearer key for one role (and, for grid workers, one worker)."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(role_check_sql(ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    key_prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class KeyOwner:
    """Who a presented key belongs to."""

    key_id: int
    role: str
    name: str
    worker_id: int | None


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key (never its hash, never the key)."""

    id: int
    prefix: str
    role: str
    name: str
    worker_id: int | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def active(self, now: datetime) -> bool:
        """Not revoked and not expired at `now`."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def hash_key(key: str) -> str:
    """Hex SHA-256 of a key (keys are random, so no salt or slow hash is needed)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def key_prefix(key: str) -> str:
    """The clear part of a presented key, printable (safe in audit data and lists)."""
    return "".join(c if c.isprintable() else "?" for c in key[:PREFIX_LENGTH])


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(
        row.id,
        row.key_prefix,
        row.role,
        row.name,
        row.worker_id,
        row.created_at,
        row.expires_at,
        row.last_used_at,
        row.revoked_at,
    )


def _new_key(
    session: Session,
    role: str,
    name: str,
    worker_id: int | None,
    now: datetime | None,
    expires_at: datetime | None,
) -> tuple[str, ApiKey]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        key_hash=hash_key(key),
        key_prefix=key[:PREFIX_LENGTH],
        role=role,
        name=name,
        worker_id=worker_id,
        expires_at=expires_at,
    )
    if now is not None:
        row.created_at = now
    session.add(row)
    session.flush()
    return key, row


def create_key(
    *,
    session: Session,
    role: str,
    name: str,
    worker_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """Store a new key for `role` and return the plain key (shown once, never stored)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    return _new_key(session, role, name, worker_id, now, None)[0]


def issue_key(
    *,
    session: Session,
    role: str,
    name: str,
    now: datetime,
    actor: str,
    actor_role: str,
    worker_id: int | None = None,
    expires_at: datetime | None = None,
) -> tuple[str, KeyInfo]:
    """Create a managed key (checked, audited); the plain key is returned once, with its record.

    A grid worker's key must name the worker it stands for (that is what "own
    cells" means for it); other roles must not.  An expiry must lie ahead.
    """
    name = name.strip()
    if role not in ROLES:
        raise UnprocessableError(
            f"unknown role {role!r}; roles are {', '.join(ROLES)}", code="unknown_role"
        )
    if not name or len(name) > 200 or not name.isprintable():
        raise UnprocessableError("a key's name: 1-200 printable characters", code="bad_name")
    if role == Role.GRID_WORKER and worker_id is None:
        raise UnprocessableError("a grid worker's key names its worker", code="worker_required")
    if role != Role.GRID_WORKER and worker_id is not None:
        raise UnprocessableError("only grid worker keys name a worker", code="worker_not_allowed")
    if worker_id is not None and session.get(Worker, worker_id) is None:
        raise UnprocessableError(f"no worker {worker_id}", code="unknown_worker")
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise UnprocessableError(
            "expires_at must be a time with a zone, after now", code="bad_expiry"
        )
    key, row = _new_key(session, role, name, worker_id, now, expires_at)
    info = _info(row)
    record(
        session=session,
        actor=actor,
        role=actor_role,
        action="key_create",
        entity="api_keys",
        entity_id=info.id,
        data={"role": role, "name": name, "worker_id": worker_id, "prefix": info.prefix},
    )
    return key, info


def _live(now: datetime):
    return (
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )


def find_key_owner(*, session: Session, key: str, now: datetime) -> KeyOwner | None:
    """The owner of a key that is live at `now`; None for an unknown, revoked or expired one."""
    if not key.startswith(KEY_PREFIX) or len(key) > MAX_KEY_LENGTH:
        return None  # not one of ours (a session id, garbage): no database round trip
    row = session.execute(
        select(ApiKey.id, ApiKey.role, ApiKey.name, ApiKey.worker_id).where(
            ApiKey.key_hash == hash_key(key), *_live(now)
        )
    ).first()
    return KeyOwner(row.id, row.role, row.name, row.worker_id) if row else None


def touch_key(*, session: Session, key_id: int, now: datetime) -> None:
    """Note the key's use at `now`, unless a use within `LAST_USE_EVERY` is already noted."""
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USE_EVERY),
        )
        .values(last_used_at=now)
    )


def list_keys(*, session: Session, include_revoked: bool = False) -> list[KeyInfo]:
    """Every key (live ones only unless `include_revoked`), oldest first."""
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return [_info(row) for row in session.execute(query).scalars()]


def revoke_key(
    *, session: Session, key_id: int, now: datetime, actor: str, actor_role: str
) -> KeyInfo:
    """Revoke a key at `now` (audited; its browser sessions die with it); 404 for no such key.

    Revoking a revoked key changes nothing and answers it as it is.
    """
    row = session.get(ApiKey, key_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no API key {key_id}", code="unknown_key")
    if row.revoked_at is None:
        row.revoked_at = now
        record(
            session=session,
            actor=actor,
            role=actor_role,
            action="key_revoke",
            entity="api_keys",
            entity_id=key_id,
            data={"prefix": row.key_prefix, "name": row.name},
        )
        session.flush()
    return _info(row)

"""API keys: only a SHA-256 hash is stored, so a database dump leaks no usable key."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.base import Base

ROLES = ("resident", "grid_worker", "dispatcher", "planner", "admin")
STAFF_ROLES = ("grid_worker", "dispatcher", "planner", "admin")
KEY_PREFIX = "wg_"


class ApiKey(Base):
    """A bearer key for one role (and, for grid workers, one worker)."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(
            "role IN ('resident', 'grid_worker', 'dispatcher', 'planner', 'admin')", name="role"
        ),
    )

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


@dataclass(frozen=True)
class KeyOwner:
    """Who a presented key belongs to."""

    key_id: int
    role: str
    name: str
    worker_id: int | None


def hash_key(key: str) -> str:
    """Hex SHA-256 of a key (keys are random, so no salt or slow hash is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(*, session: Session, role: str, name: str, worker_id: int | None = None) -> str:
    """Store a new key for `role` and return the plain key (shown once, never stored)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            key_hash=hash_key(key), key_prefix=key[:10], role=role, name=name, worker_id=worker_id
        )
    )
    session.flush()
    return key


def find_key_owner(*, session: Session, key: str) -> KeyOwner | None:
    """The owner of a live key, or None for an unknown or revoked one."""
    row = session.execute(
        select(ApiKey.id, ApiKey.role, ApiKey.name, ApiKey.worker_id).where(
            ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)
        )
    ).first()
    return KeyOwner(row.id, row.role, row.name, row.worker_id) if row else None

"""The audit log for writes outside a case's own trail (layers, imports, keys, demo).

Every write is audited in the same transaction as the write itself, so an audit
entry exists exactly when the change does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.tables.base import Base


class AuditEvent(Base):
    """Who changed which entity how, and when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    action: Mapped[str] = mapped_column(Text, nullable=False)
    entity: Mapped[str] = mapped_column(Text, nullable=False)
    entity_id: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


def record(
    *,
    session: Session,
    actor: str,
    role: str,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Add an audit event to the caller's transaction (at `at`, else the database's time)."""
    session.add(
        AuditEvent(
            **({"at": at} if at is not None else {}),
            actor=actor,
            role=role,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            data=data,
        )
    )

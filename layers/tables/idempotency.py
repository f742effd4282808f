"""Idempotency keys of case intake: a retried report returns the case it created.

A key is scoped to its caller (`scope`: the API key, or for a caller without
one a hash of their client's address and user agent, so two residents never
share a scope) and remembers a fingerprint of the request body, so the same key with
another body is refused instead of silently answering with the wrong case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import AT_COMMIT, Base


class IdempotencyKey(Base):
    """One `Idempotency-Key` seen at intake and the incident it produced."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    key: Mapped[str] = mapped_column(Text, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident_keys.id", ondelete="CASCADE", **AT_COMMIT), index=True
    )
    case_token: Mapped[str | None] = mapped_column(Text)
    """The case token handed out with the first answer, so a retry receives it too."""
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

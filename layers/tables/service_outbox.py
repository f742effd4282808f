"""Messages to residents waiting to be sent (`service_outbox`): reminders and notices.

Written in the same transaction as the change they announce; a sender
(`grids.services.outbox`) picks pending rows later.  The body names the matter
and the time, never the resident's name or phone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base


class OutboxMessage(Base):
    """One message for one appointment or proxy request."""

    __tablename__ = "service_outbox"
    __table_args__ = (Index("ix_service_outbox_pending", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE")
    )
    proxy_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("proxy_requests.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="pending")
    sender: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

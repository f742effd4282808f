"""Appointment slots as counter rows: the database refuses the eleventh booking of ten places.

A slot row (point, item, start) is made on its first booking with the offer's
staff as `capacity`.  A booking is ``UPDATE … SET booked = booked + 1 WHERE id = …
AND booked < capacity``: concurrent bookings queue on the row lock and each
re-checks the guard after the previous one commits, so no interleaving can
overbook; the CHECK ``booked <= capacity`` backs that up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base


class AppointmentSlot(Base):
    """One bookable time window of one item at one point."""

    __tablename__ = "appointment_slots"
    __table_args__ = (
        UniqueConstraint(
            "service_point_id", "item_id", "starts_at", name="uq_appointment_slots_point_item_start"
        ),
        Index("ix_appointment_slots_item_id", "item_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    service_point_id: Mapped[int] = mapped_column(
        ForeignKey("service_points.id", ondelete="CASCADE"), nullable=False
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("service_items.id", ondelete="CASCADE"), nullable=False
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    booked: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")

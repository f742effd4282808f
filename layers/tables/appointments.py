"""Residents' appointments at service points (`appointments`).

The resident holds a token (only its SHA-256 is stored) and sends it back as
``X-Appointment-Token``; contact details are personal data (masked to staff,
never logged).  `person_id` links to the base-data centre's person when known.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

APPOINTMENT_STATUSES = ("booked", "cancelled", "kept", "missed")
APPOINTMENT_CHANNELS = ("online", "walk_in")  # walk_in: taken at the window, an offline matter


class Appointment(Base):
    """A booked place in a slot."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_point_start", "service_point_id", "starts_at"),
        Index("ix_appointments_slot_id", "slot_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slot_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_slots.id", ondelete="CASCADE"), nullable=False
    )
    service_point_id: Mapped[int] = mapped_column(
        ForeignKey("service_points.id", ondelete="CASCADE"), nullable=False
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("service_items.id", ondelete="CASCADE"), nullable=False
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="booked")
    channel: Mapped[str] = mapped_column(Text, nullable=False, server_default="online")
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    contact_name: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(Text)
    person_id: Mapped[int | None] = mapped_column(Integer)
    materials: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    document_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

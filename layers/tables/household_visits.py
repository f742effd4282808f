"""The household-visit log (入户走访): which dwelling a grid worker visited, when, what checked."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

VISIT_CHECKS = ("residents", "use", "address_plate", "gas_safety", "fire_safety", "service_flags")
"""What a visit may have checked: who lives there, the flat's use, the plate, safety, the flags."""


class HouseholdVisit(Base):
    """A visit of `dwelling_id` on `visited_on`; `checked` lists `VISIT_CHECKS` items."""

    __tablename__ = "household_visits"
    __table_args__ = (
        CheckConstraint("residents_seen IS NULL OR residents_seen >= 0", name="residents_seen"),
        Index("ix_household_visits_dwelling", "dwelling_id", "visited_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dwelling_id: Mapped[int] = mapped_column(
        ForeignKey("dwellings.id", ondelete="CASCADE"), nullable=False
    )
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    visited_on: Mapped[date] = mapped_column(Date, nullable=False)
    checked: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    residents_seen: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

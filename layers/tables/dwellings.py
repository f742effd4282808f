"""Real housing (实有房屋): a flat or room at an address, with its use."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

DWELLING_USES = ("self_occupied", "rented", "vacant", "commercial")


class Dwelling(Base):
    """Room `room` at address `address_id`; residents point at it (`persons.dwelling_id`)."""

    __tablename__ = "dwellings"
    __table_args__ = (
        CheckConstraint("use IN ('self_occupied', 'rented', 'vacant', 'commercial')", name="use"),
        CheckConstraint("area_m2 IS NULL OR area_m2 > 0", name="area"),
        UniqueConstraint("address_id", "room"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address_id: Mapped[int] = mapped_column(
        ForeignKey("addresses.id", ondelete="CASCADE"), nullable=False, index=True
    )
    room: Mapped[str] = mapped_column(Text, nullable=False)
    floor: Mapped[int | None] = mapped_column(SmallInteger)
    use: Mapped[str] = mapped_column(Text, nullable=False, server_default="self_occupied")
    area_m2: Mapped[float | None] = mapped_column(Float)

"""Which service point offers which catalogue item, and with how many staff per slot."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base


class ServiceOffer(Base):
    """Point × item; `staff` is the number of people serving it at once (a slot's capacity)."""

    __tablename__ = "service_offers"
    __table_args__ = (Index("ix_service_offers_item_id", "item_id"),)

    service_point_id: Mapped[int] = mapped_column(
        ForeignKey("service_points.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("service_items.id", ondelete="CASCADE"), primary_key=True
    )
    staff: Mapped[int] = mapped_column(Integer, nullable=False)

"""Real units and places (实有单位/场所): shops, schools, clinics, sites, ...

`contact_*` is personal data: the public `units` collection leaves it out.
"""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base, geometry, geometry_checks

UNIT_CLASSES = (
    "company",
    "shop",
    "school",
    "clinic",
    "restaurant",
    "hotel",
    "internet_cafe",
    "construction_site",
)
KEY_PLACE_CLASSES = frozenset({"school", "clinic", "hotel", "internet_cafe", "construction_site"})
"""Classes that are key places for safety (camera coverage targets) by default."""


class Unit(Base):
    """A unit at an address (its point is the address's entrance unless the file had one)."""

    __tablename__ = "units"
    __table_args__ = (
        *geometry_checks("units"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    unit_class: Mapped[str] = mapped_column("class", Text, nullable=False, index=True)
    licence_no: Mapped[str | None] = mapped_column(Text, unique=True)
    contact_name: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(Text)
    address_id: Mapped[int | None] = mapped_column(
        ForeignKey("addresses.id", ondelete="SET NULL"), index=True
    )
    is_key_place: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    geom: Mapped[WKBElement] = mapped_column(geometry("Point"), nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="open")
    """`open`, or `closed` when a grid worker saw it shut (a closed unit keeps its history)."""

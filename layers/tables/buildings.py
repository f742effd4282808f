"""Building footprints: where households live and what blocks a camera's view."""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base, Versioned, geometry, geometry_checks


class Building(Versioned, Base):
    """A footprint polygon with floors/height; `courtyard_id` is NULL for loose buildings."""

    __tablename__ = "buildings"
    __table_args__ = (
        *geometry_checks("buildings"),
        CheckConstraint("floors IS NULL OR floors > 0", name="floors"),
        CheckConstraint("height_m IS NULL OR height_m > 0", name="height"),
        CheckConstraint("households >= 0 AND population >= 0", name="counts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    courtyard_id: Mapped[int | None] = mapped_column(
        ForeignKey("courtyards.id", ondelete="SET NULL"), index=True
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id"), nullable=False, index=True
    )
    floors: Mapped[int | None] = mapped_column(SmallInteger)
    height_m: Mapped[float | None] = mapped_column(Float)
    households: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    population: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    geom: Mapped[WKBElement] = mapped_column(geometry("Polygon"), nullable=False)

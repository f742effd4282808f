"""Grid workers of the three levels; their phone numbers are personal data (staff only)."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from layers.base import Base, geometry


class Worker(Base):
    """A grid worker serving the cell with `cell_code` (codes survive unchanged revisions)."""

    __tablename__ = "workers"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 3", name="level"),
        CheckConstraint("geom IS NULL OR ST_IsValid(geom)", name="geom_valid"),
        Index("ix_workers_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    cell_code: Mapped[str | None] = mapped_column(String(21), index=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id"), nullable=False, index=True
    )
    on_duty: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    position_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom: Mapped[WKBElement | None] = mapped_column(geometry("Point"))

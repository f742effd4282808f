"""Standard addresses (标准地址): road, house number, 栋, 单元 of a building entrance.

The building and courtyard an address belongs to are stored (footprints do not
move when the grid is redrawn); its grid cells are not: they are asked of the
one locate rule when needed (`grids.grid.locate`, `grids.grid.locate_sql`), so a
published revision never leaves an address in a closed cell.
"""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base, geometry, geometry_checks


class Address(Base):
    """One entrance: `full_text` is the normalised address, unique."""

    __tablename__ = "addresses"
    __table_args__ = (
        *geometry_checks("addresses"),
        Index("ix_addresses_components", "road", "number", "building_no", "unit_no"),
        Index(
            "ix_addresses_full_text_trgm",
            "full_text",
            postgresql_using="gin",
            postgresql_ops={"full_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    road: Mapped[str] = mapped_column(Text, nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    building_no: Mapped[int | None] = mapped_column(SmallInteger)
    unit_no: Mapped[int | None] = mapped_column(SmallInteger)
    full_text: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    building_id: Mapped[int | None] = mapped_column(
        ForeignKey("buildings.id", ondelete="SET NULL"), index=True
    )
    courtyard_id: Mapped[int | None] = mapped_column(
        ForeignKey("courtyards.id", ondelete="SET NULL"), index=True
    )
    geom: Mapped[WKBElement] = mapped_column(geometry("Point"), nullable=False)

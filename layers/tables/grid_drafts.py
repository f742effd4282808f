"""Draft cells of a grid revision: the planner's working copy, free to be wrong.

A draft holds a copy of the live cells of its scope and is edited as a whole
(GeoJSON PUT, GeoPackage import, suggestions).  Draft geometry is deliberately
not checked by the database: an invalid ring must be storable so the validation
report can point at it; only a published revision reaches `grid_cells`.
"""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base, geometry


class GridDraftCell(Base):
    """One cell of a draft revision, linked to its parent by code (ids exist only once live)."""

    __tablename__ = "grid_draft_cells"
    __table_args__ = (
        Index("ix_grid_draft_cells_revision_code", "revision_id", "code"),
        Index("ix_grid_draft_cells_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("grid_revisions.id", ondelete="CASCADE"), nullable=False
    )
    code: Mapped[str] = mapped_column(Text, nullable=False)
    level: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    parent_code: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    households: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    population: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    geom: Mapped[WKBElement] = mapped_column(geometry("MultiPolygon"), nullable=False)

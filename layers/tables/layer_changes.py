"""`layer_changes`: where each version of a published table changed, for the tile cache.

Why: a layer's version says *that* it changed; a kept tile also needs to know
*where*, so that an edit in one street does not make every tile of the district
render again.  Migration 0031 makes the triggers that bump `layer_versions`
write one row here per bump: the extent (WGS-84) of the old and new geometries
of the rows the statement touched, NULL for "the whole layer" (TRUNCATE, a
table without geometry, rows without one).  The triggers keep the last entries
of each table only (`KEEP` in the migration); `layers.ogc.tile_cache` reads them.
"""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import BigInteger, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base, geometry

__all__ = ["LayerChange"]


class LayerChange(Base):
    """One write statement's version of a table and the extent it touched (NULL: all)."""

    __tablename__ = "layer_changes"
    __table_args__ = (Index("ix_layer_changes_extent", "extent", postgresql_using="gist"),)

    table_name: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    extent: Mapped[WKBElement | None] = mapped_column(geometry("GEOMETRY"))

"""`layer_versions`: one counter per published table, bumped by a trigger on every write.

Why a table and not a timestamp on each row: "has anything in this layer
changed?" must be one indexed lookup, for the tile cache of every server
process; migration 0029 installs the statement-level triggers that keep it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

__all__ = ["LayerVersion"]


class LayerVersion(Base):
    """How many write statements a published table has seen (its data version)."""

    __tablename__ = "layer_versions"

    table_name: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )

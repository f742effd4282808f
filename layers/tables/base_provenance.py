"""Which source said what about a base record, and when: conflicts are kept, not overwritten.

The record itself shows the newest statement (`reported_at`); every older or
conflicting one stays here with its source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base


class BaseProvenance(Base):
    """`source_id` said `attrs` about `entity` #`entity_id` on `reported_at`."""

    __tablename__ = "base_provenance"
    __table_args__ = (Index("ix_base_provenance_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entity: Mapped[str] = mapped_column(Text, nullable=False)
    entity_id: Mapped[int] = mapped_column(Integer, nullable=False)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), nullable=False, index=True)
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("base_imports.id", ondelete="CASCADE"), index=True
    )
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

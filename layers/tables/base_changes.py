"""Field collection (采集): a grid worker's change of a base record, kept as a version.

Every change a worker makes from the field — a family moved in or out, a flat
became vacant or rented, a shop opened or closed, an address plate is wrong —
is one row: what the record was (`before`), what the worker says it is now
(`after`), the worker, and when (the app clock).  Source `grid_collection`.
Where the community reviews changes (setting `base_collection_review`) the row
waits as `pending` and the record is untouched until it is approved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

CHANGE_KINDS = (
    "dwelling_use",
    "moved_in",
    "moved_out",
    "unit_opened",
    "unit_closed",
    "address_plate",
)
CHANGE_STATUSES = ("applied", "pending", "rejected")
CHANGE_ENTITIES = ("dwellings", "persons", "units", "addresses")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class BaseChange(Base):
    """Version `version` of `entity` #`entity_id`, collected by `worker_id` at `collected_at`."""

    __tablename__ = "base_changes"
    __table_args__ = (
        CheckConstraint(f"entity IN ({_in(CHANGE_ENTITIES)})", name="entity"),
        CheckConstraint(f"kind IN ({_in(CHANGE_KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({_in(CHANGE_STATUSES)})", name="status"),
        Index("ix_base_changes_entity", "entity", "entity_id", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(Text, nullable=False)
    entity_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    before: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    after: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), nullable=False)
    worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("workers.id", ondelete="SET NULL"), index=True
    )
    cell_code: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    collected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str | None] = mapped_column(Text)

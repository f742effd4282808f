"""Real population (实有人口): the ID number only as a keyed hash and a masked form.

The plain ID number never reaches the database: `id_hash` is an HMAC under the
deployment's key (`layers.base_data.privacy`), so the same person from two
departments is one row, and a copy of the table does not reveal who they are.
The phone is kept the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

RESIDENCE_TYPES = ("registered", "migrant", "foreign")
SERVICE_FLAGS = ("elderly_alone", "disabled", "minor", "low_income", "veteran")


class Person(Base):
    """One person; `flags` maps a service flag to the source that set it."""

    __tablename__ = "persons"
    __table_args__ = (
        CheckConstraint("residence_type IN ('registered', 'migrant', 'foreign')", name="residence"),
        CheckConstraint("sex IS NULL OR sex IN ('M', 'F')", name="sex"),
        CheckConstraint("length(id_hash) = 64", name="id_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    id_masked: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str | None] = mapped_column(Text)
    residence_type: Mapped[str] = mapped_column(Text, nullable=False)
    dwelling_id: Mapped[int | None] = mapped_column(
        ForeignKey("dwellings.id", ondelete="SET NULL"), index=True
    )
    flags: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

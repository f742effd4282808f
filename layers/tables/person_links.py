"""Who owns or rents which dwelling, as a department said it."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base


class PersonLink(Base):
    """`person_id` is the `kind` (owner / tenant) of `dwelling_id`."""

    __tablename__ = "person_links"
    __table_args__ = (
        CheckConstraint("kind IN ('owner', 'tenant')", name="kind"),
        UniqueConstraint("person_id", "dwelling_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), nullable=False, index=True
    )
    dwelling_id: Mapped[int] = mapped_column(
        ForeignKey("dwellings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))

"""Who governs a courtyard: its self-governance group, owners' committee, property management.

A courtyard has at most one group of each kind.  A 三无院落 has none of the last
two (its `is_three_nos` flag is the courtyard's own); the demo gives most of them
a self-governance group, which is how the seed brings them under management.
The contact's name and phone are personal data (staff only, masked unless the
role reads personal data in clear).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

GROUP_KINDS = ("self_governance", "owners_committee", "property_management")
"""院落自治小组, 业主委员会, 物业管理."""


class CourtyardGroup(Base):
    """One governing body of one courtyard."""

    __tablename__ = "courtyard_groups"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('self_governance', 'owners_committee', 'property_management')", name="kind"
        ),
        UniqueConstraint("courtyard_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    courtyard_id: Mapped[int] = mapped_column(
        ForeignKey("courtyards.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    contact_name: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(String(32))

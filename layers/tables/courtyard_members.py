"""The people of a courtyard who take turns on duty (轮流值守).

Group members, building and unit leaders (楼栋长、单元长 — the level-3 grid
workers where the courtyard has them, `worker_id`), volunteers and the heads of
social organisations serving the courtyard.  CHECK constraints keep each role's
links coherent: a leader has a building, a unit leader a unit, a social
organisation's head an organisation.  Name and phone are personal data.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

MEMBER_ROLES = (
    "group_leader",
    "group_member",
    "building_leader",
    "unit_leader",
    "volunteer",
    "social_org_head",
)


class CourtyardMember(Base):
    """One person serving one courtyard, in one role."""

    __tablename__ = "courtyard_members"
    __table_args__ = (
        CheckConstraint(
            "role IN ('group_leader', 'group_member', 'building_leader', 'unit_leader',"
            " 'volunteer', 'social_org_head')",
            name="role",
        ),
        CheckConstraint(
            "role NOT IN ('building_leader', 'unit_leader') OR building_id IS NOT NULL",
            name="leader_building",
        ),
        CheckConstraint("(role = 'unit_leader') = (unit_no IS NOT NULL)", name="unit"),
        CheckConstraint("unit_no IS NULL OR unit_no > 0", name="unit_no"),
        CheckConstraint(
            "(role = 'social_org_head') = (organisation_id IS NOT NULL)", name="organisation"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    courtyard_id: Mapped[int] = mapped_column(
        ForeignKey("courtyards.id", ondelete="CASCADE"), nullable=False, index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("courtyard_groups.id", ondelete="SET NULL")
    )
    role: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"))
    unit_no: Mapped[int | None] = mapped_column(SmallInteger)
    worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("workers.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("social_organisations.id", ondelete="CASCADE")
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True
    )
    """The person (实有人口) this record is: one person's records in several courtyards
    share it, so their shifts never overlap anywhere (`courtyard_shifts.person_key`)."""

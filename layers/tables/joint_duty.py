"""Joint duty (联勤): the departments' liaisons on duty per day at the centres, and joint tasks.

The rota (`LiaisonShift`) says which liaison of which department sits at the district
centre or a street sub-centre on a day; a case needing joint action on site gets a
`JointTask` whose members are the shifts on duty that day for the departments involved.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import AT_COMMIT, Base


class LiaisonShift(Base):
    """One department's liaison on duty at one unit on one day."""

    __tablename__ = "liaison_shifts"
    __table_args__ = (
        UniqueConstraint("unit_id", "department_id", "day", name="uq_liaison_shifts_unit_dept_day"),
        Index("ix_liaison_shifts_day_unit", "day", "unit_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("platform_units.id"), nullable=False)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    liaison_name: Mapped[str] = mapped_column(Text, nullable=False)
    liaison_phone: Mapped[str | None] = mapped_column(Text)


class JointTask(Base):
    """On-site joint action on a case by the liaisons on duty."""

    __tablename__ = "joint_tasks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident_keys.id", ondelete="CASCADE", **AT_COMMIT), nullable=False, index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("platform_units.id"), nullable=False)
    instruction: Mapped[str] = mapped_column(Text, nullable=False)
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class JointTaskMember(Base):
    """A liaison shift taking part in a joint task."""

    __tablename__ = "joint_task_members"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("joint_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    shift_id: Mapped[int] = mapped_column(ForeignKey("liaison_shifts.id"), primary_key=True)

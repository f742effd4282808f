"""Notices (通知) to platform units and departments: the outbox of the case's moves.

Escalating a case writes a notice to the unit that receives it and one to the unit it
left (the lower level kept informed); handing down, supervision (督办), transfers,
returns and joint tasks write theirs.  A unit's or department's staff read their
notices; `read_at` marks them seen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.tables.base import AT_COMMIT, Base

NOTICE_KINDS = (
    "escalated",
    "informed",
    "handed_down",
    "supervised",
    "transferred",
    "returned",
    "finished",
    "joint_task",
)


class Notice(Base):
    """One notice to one unit or one department about one case."""

    __tablename__ = "platform_notices"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('escalated', 'informed', 'handed_down', 'supervised', 'transferred', "
            "'returned', 'finished', 'joint_task')",
            name="kind",
        ),
        CheckConstraint("(unit_id IS NULL) <> (department_id IS NULL)", name="to_whom"),
        # partial: a notice goes to a unit or a department, never both (migration 0020)
        Index(
            "ix_platform_notices_unit_at",
            "unit_id",
            "at",
            postgresql_where=text("unit_id IS NOT NULL"),
        ),
        Index(
            "ix_platform_notices_department_at",
            "department_id",
            "at",
            postgresql_where=text("department_id IS NOT NULL"),
        ),
        Index("ix_platform_notices_incident_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident_keys.id", ondelete="CASCADE", **AT_COMMIT), nullable=False
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("platform_units.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def notify(
    *,
    session: Session,
    incident_id: int,
    kind: str,
    at: datetime,
    body: str,
    unit_id: int | None = None,
    department_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Queue one notice in the caller's transaction."""
    session.add(
        Notice(
            incident_id=incident_id,
            unit_id=unit_id,
            department_id=department_id,
            kind=kind,
            at=at,
            body=body,
            data=data,
        )
    )

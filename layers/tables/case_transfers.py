"""Transfers (转办) of a case to departments: one lead (主办) and any supporting (协办).

A row is one department's part in one case: sent with an instruction by a unit,
signed, started, then returned (退回, with a reason, back to the sender) or finished
(with a result) — each step timed on the department's working-day limits.  At most
one open part per department and case, and at most one open lead per case (partial
unique indexes), so two dispatchers cannot hand the same case twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.tables.base import AT_COMMIT, Base

TRANSFER_PARTS = ("lead", "support")
TRANSFER_STATUSES = ("sent", "signed", "in_progress", "returned", "finished", "withdrawn")
OPEN_TRANSFER = ("sent", "signed", "in_progress")
_OPEN_SQL = "status IN ('sent', 'signed', 'in_progress')"


class CaseTransfer(Base):
    """One department's part in a case."""

    __tablename__ = "case_transfers"
    __table_args__ = (
        CheckConstraint("part IN ('lead', 'support')", name="part"),
        CheckConstraint(
            "status IN ('sent', 'signed', 'in_progress', 'returned', 'finished', 'withdrawn')",
            name="status",
        ),
        Index(
            "uq_case_transfers_open_department",
            "incident_id",
            "department_id",
            unique=True,
            postgresql_where=text(_OPEN_SQL),
        ),
        Index(
            "uq_case_transfers_open_lead",
            "incident_id",
            unique=True,
            postgresql_where=text(f"part = 'lead' AND {_OPEN_SQL}"),
        ),
        Index("ix_case_transfers_department_status_due", "department_id", "status", "due_at"),
        Index("ix_case_transfers_incident_id", "incident_id"),
        Index(
            "ix_case_transfers_open_due",
            "due_at",
            postgresql_where=text(f"{_OPEN_SQL} AND overdue_noticed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident_keys.id", ondelete="CASCADE", **AT_COMMIT), nullable=False
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), nullable=False)
    part: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="sent")
    instruction: Mapped[str] = mapped_column(Text, nullable=False)
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("platform_units.id"))
    sent_by: Mapped[str] = mapped_column(Text, nullable=False)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sign_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    """Why it was returned, or what was done (the result) when finished."""
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    overdue_noticed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the SLA sweep told the department its open part ran over (督办), once per part."""
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")


_OVERDUE_SQL = text(
    """
WITH late AS (
  UPDATE case_transfers t SET overdue_noticed_at = :now
  WHERE status IN ('sent', 'signed', 'in_progress') AND overdue_noticed_at IS NULL
    AND due_at <= :now
  RETURNING t.id, t.incident_id, t.department_id, t.part, t.due_at
), told AS (
  INSERT INTO platform_notices (incident_id, department_id, kind, at, body, data)
  SELECT incident_id, department_id, 'supervised', :now,
    '督办: your ' || part || ' part of case ' || incident_id || ' is past its time limit',
    jsonb_build_object('transfer_id', id, 'due_at', due_at, 'overdue', true)
  FROM late RETURNING 1
)
SELECT count(*) FROM told
"""
)


def notice_overdue_parts(*, session: Session, now: datetime) -> int:
    """Tell each department once about each open part past its limit (督办); how many."""
    return int(session.execute(_OVERDUE_SQL, {"now": now}).scalar() or 0)

"""The reporter's rating (评价) of a closed case: one per case, 1–5 with a comment.

Only the reporter rates (the holder of the case token, or the resident key that
reported it); a dispatcher's satisfaction entry stays on the `evaluate` event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import AT_COMMIT, Base


class CaseRating(Base):
    """How the reporter judged the handling of their case."""

    __tablename__ = "case_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score"),)

    incident_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("incident_keys.id", ondelete="CASCADE", **AT_COMMIT),
        primary_key=True,
    )
    score: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    rated_by: Mapped[str] = mapped_column(Text, nullable=False)

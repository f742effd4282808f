"""Reference data of the case system: intake channels, categories and their time limits.

Time limits are a table, not code, because districts tune them: one row per
category × urgency × step, with the clock that step runs on.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

URGENCIES = ("urgent", "normal")
STEPS = ("accept", "dispatch", "sign", "handle", "check")
CLOCKS = ("continuous", "working_hours", "working_days", "calendar_days")
"""Clock types: continuous and working_hours count minutes; the day clocks count days."""


class Channel(Base):
    """One of the district's 17 intake channels (96966 hotline, 12345, app, …)."""

    __tablename__ = "channels"

    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    name_en: Mapped[str] = mapped_column(Text, nullable=False)
    public: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    """False for channels whose cases are never published (letters and visits, mediation)."""


class Category(Base):
    """A case class: 2-digit major + 2-digit minor, with its default urgency."""

    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{4}$'", name="code_shape"),
        CheckConstraint("default_urgency IN ('urgent', 'normal')", name="urgency"),
    )

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    major_code: Mapped[str] = mapped_column(String(2), nullable=False)
    major_name: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    name_en: Mapped[str] = mapped_column(Text, nullable=False)
    domain: Mapped[str] = mapped_column(Text, nullable=False)
    default_urgency: Mapped[str] = mapped_column(Text, nullable=False, server_default="normal")
    public: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    """Anonymous Open311 callers see this category's cases (generalised); never for disputes,
    security, petitions or personal matters."""
    needs_callback: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    """The assigned grid worker phones the reporter back, so they see the reporter in clear."""


class TimeLimit(Base):
    """How long one step may take for a category at an urgency, on which clock."""

    __tablename__ = "time_limits"
    __table_args__ = (
        UniqueConstraint("category_code", "urgency", "step"),
        CheckConstraint("urgency IN ('urgent', 'normal')", name="urgency"),
        CheckConstraint("step IN ('accept', 'dispatch', 'sign', 'handle', 'check')", name="step"),
        CheckConstraint(
            "clock IN ('continuous', 'working_hours', 'working_days', 'calendar_days')",
            name="clock",
        ),
        CheckConstraint("amount > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(
        ForeignKey("categories.code", ondelete="CASCADE"), nullable=False
    )
    urgency: Mapped[str] = mapped_column(Text, nullable=False)
    step: Mapped[str] = mapped_column(Text, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    clock: Mapped[str] = mapped_column(Text, nullable=False)

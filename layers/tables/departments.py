"""Functional departments (职能部门): who is responsible for which categories, and their staff.

The safety platform joins the business of 30+ departments (综治、司法、信访、维稳、
大调解 …) and the base data of 25 more.  A department has the categories it answers
for (`categories`: codes or two-digit majors), an office contact, its time limits in
working days (the district's work calendar), and its own queue: the cases
transferred to it (`case_transfers`).  A key of role ``department`` belongs to one
department through `DepartmentStaff`; without that link it sees nothing.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.tables.base import Base

DEPARTMENT_KINDS = ("safety", "base_data")


class Department(Base):
    """One department, its responsibilities, contact and limits."""

    __tablename__ = "departments"
    __table_args__ = (
        CheckConstraint("kind IN ('safety', 'base_data')", name="kind"),
        CheckConstraint("sign_days > 0 AND handle_days > 0", name="limits"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    categories: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")
    )
    contact_name: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(Text)
    sign_days: Mapped[float] = mapped_column(Numeric, nullable=False, server_default="1")
    """Working days to sign a transfer."""
    handle_days: Mapped[float] = mapped_column(Numeric, nullable=False, server_default="5")
    """Working days from the transfer to finishing it."""


class DepartmentStaff(Base):
    """A department key's department (one per key)."""

    __tablename__ = "department_staff"

    key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), nullable=False, index=True
    )


def department_of_key(*, session: Session, key_id: int | None) -> int | None:
    """The department a key belongs to, if any."""
    if key_id is None:
        return None
    return session.execute(
        text("SELECT department_id FROM department_staff WHERE key_id = :k"), {"k": key_id}
    ).scalar()

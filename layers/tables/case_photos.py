"""Photos of a case: the reporter's (up to 3), and staff's before/after handling (处置前/处置后).

The file is content-addressed by the SHA-256 of what was stored (after EXIF
stripping), under the media directory (`layers.store.media`); this row says
which case it belongs to and who added it, so it is served only to those who
may see the case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import AT_COMMIT, Base

PHOTO_KINDS = ("report", "before", "after")


class CasePhoto(Base):
    """One stored photo of one case."""

    __tablename__ = "case_photos"
    __table_args__ = (
        CheckConstraint("kind IN ('report', 'before', 'after')", name="kind"),
        UniqueConstraint("incident_id", "sha256"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("incident_keys.id", ondelete="CASCADE", **AT_COMMIT), nullable=False
    )
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    content_type: Mapped[str] = mapped_column(Text, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    uploaded_by: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)

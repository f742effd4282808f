"""The materials library (证照库): a resident's documents, stored once with consent.

The row is metadata only; the bytes live content-addressed under the media
directory (``<media>/<sha[:2]>/<sha>``), so two uploads of the same scan are one
file.  The owner holds a library token (only its hash is here); staff read a
document only for a stated purpose on a request that references it, audited.
`retention_until` bounds how long it is kept; `deleted_at` marks deletion on
request (the file goes when no live row references its hash).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base


class ResidentDocument(Base):
    """One stored document of one resident (no content, no name in this row)."""

    __tablename__ = "resident_documents"
    __table_args__ = (Index("ix_resident_documents_owner", "owner_token_hash"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    owner_token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    media_type: Mapped[str] = mapped_column(Text, nullable=False)
    consent_purpose: Mapped[str] = mapped_column(Text, nullable=False)
    consent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    retention_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    person_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

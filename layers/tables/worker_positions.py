"""Where grid workers were (巡查轨迹): one row per position their handheld reported.

The handheld page sends the browser's position every 30 s while its worker is
on duty, in batches (`POST /workers/me/positions`); the newest also becomes the
worker's current position (`workers.geom`, `workers.position_at`), which the
nearest-worker search uses.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import WKBElement
from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base, geometry


class WorkerPosition(Base):
    """One reported position of one worker."""

    __tablename__ = "worker_positions"
    __table_args__ = (
        Index("ix_worker_positions_worker_at", "worker_id", "at"),
        Index("ix_worker_positions_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    worker_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workers.id", ondelete="CASCADE"), nullable=False
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    geom: Mapped[WKBElement] = mapped_column(geometry("Point"), nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)

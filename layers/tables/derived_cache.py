"""The tables of derived layers: cached camera views and cached results per parameter set.

Their rows are computed (`layers.analytics.derived` keeps them fresh); the models
live here, beside the other tables, so the schema is complete without the analytics.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import DateTime, Float, ForeignKey, Integer, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base, geometry

__all__ = ["CameraView", "DerivedCache"]


class CameraView(Base):
    """A camera's view sector and its visible part after building occlusion (online or not)."""

    __tablename__ = "camera_views"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    inputs_key: Mapped[str] = mapped_column(Text, nullable=False)
    sector: Mapped[WKBElement] = mapped_column(geometry("Polygon"), nullable=False)
    visible: Mapped[WKBElement] = mapped_column(geometry("Geometry"), nullable=False)
    sector_area_m2: Mapped[float] = mapped_column(Float, nullable=False)
    visible_area_m2: Mapped[float] = mapped_column(Float, nullable=False)


class DerivedCache(Base):
    """One cached result of a derived layer for one parameter set (`params_key`)."""

    __tablename__ = "derived_cache"

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    params_key: Mapped[str] = mapped_column(Text, primary_key=True)
    inputs_key: Mapped[str] = mapped_column(Text, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    seconds: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    rows: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

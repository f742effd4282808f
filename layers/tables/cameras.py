"""Cameras of the four-level video network (district, street, community, courtyard).

Positions are sensitive: only staff roles may see this layer.  The view sector is
derived (position, azimuth ± hfov/2, range) and clipped by buildings elsewhere.
"""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base, Versioned, geometry, geometry_checks

CAMERA_LEVELS = ("district", "street", "community", "courtyard")


class Camera(Versioned, Base):
    """One camera; `device_id` is its GB/T 28181 20-digit code."""

    __tablename__ = "cameras"
    __table_args__ = (
        *geometry_checks("cameras"),
        CheckConstraint("device_id ~ '^[0-9]{20}$'", name="device_id_shape"),
        CheckConstraint("level IN ('district', 'street', 'community', 'courtyard')", name="level"),
        CheckConstraint("azimuth_deg >= 0 AND azimuth_deg < 360", name="azimuth"),
        CheckConstraint("hfov_deg > 0 AND hfov_deg <= 360", name="hfov"),
        CheckConstraint("range_m > 0 AND range_m <= 1000", name="range"),
        CheckConstraint("mount_height_m > 0 AND mount_height_m <= 100", name="height"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    level: Mapped[str] = mapped_column(Text, nullable=False)
    mount_height_m: Mapped[float] = mapped_column(Float, nullable=False)
    azimuth_deg: Mapped[float] = mapped_column(Float, nullable=False)
    hfov_deg: Mapped[float] = mapped_column(Float, nullable=False)
    range_m: Mapped[float] = mapped_column(Float, nullable=False)
    online: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    courtyard_id: Mapped[int | None] = mapped_column(
        ForeignKey("courtyards.id", ondelete="SET NULL"), index=True
    )
    geom: Mapped[WKBElement] = mapped_column(geometry("Point"), nullable=False)

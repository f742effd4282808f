"""Service points residents look for: stations, liaison posts, clinics, police, schools…"""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base, Versioned, geometry, geometry_checks

SERVICE_POINT_KINDS = (
    "service_station",  # 社区综合服务管理站, one per community
    "liaison_post",  # 院落连心驿站
    "appointment_point",  # online-service appointment point
    "police",
    "clinic",
    "school",
    "elderly_care",
    "legal_aid",
    "volunteer_post",
)


class ServicePoint(Versioned, Base):
    """A public service point; `opening_hours` uses the OpenStreetMap syntax."""

    __tablename__ = "service_points"
    __table_args__ = (
        *geometry_checks("service_points"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in SERVICE_POINT_KINDS) + ")", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    address: Mapped[str | None] = mapped_column(Text)
    opening_hours: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    geom: Mapped[WKBElement] = mapped_column(geometry("Point"), nullable=False)

"""Courtyards (院落): residential compounds, the unit residents identify with.

A courtyard with no gatekeeper, no property management and no owners' committee
is a "三无院落"; `is_three_nos` is derived by the database so it cannot drift.
"""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import Boolean, CheckConstraint, Computed, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base, Versioned, geometry, geometry_checks


class Courtyard(Versioned, Base):
    """A courtyard polygon with its households, residents and management flags."""

    __tablename__ = "courtyards"
    __table_args__ = (
        *geometry_checks("courtyards"),
        CheckConstraint("households >= 0 AND residents >= 0", name="counts"),
        CheckConstraint("entrances IS NULL OR ST_IsValid(entrances)", name="entrances_valid"),
        Index("ix_courtyards_entrances", "entrances", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id"), nullable=False, index=True
    )
    households: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    residents: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    has_gatekeeper: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    has_property_management: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="false"
    )
    has_owners_committee: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="false"
    )
    is_three_nos: Mapped[bool] = mapped_column(
        Boolean,
        Computed(
            "NOT (has_gatekeeper OR has_property_management OR has_owners_committee)",
            persisted=True,
        ),
    )
    entrances: Mapped[WKBElement | None] = mapped_column(geometry("MultiPoint"))
    geom: Mapped[WKBElement] = mapped_column(geometry("MultiPolygon"), nullable=False)

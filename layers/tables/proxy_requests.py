"""Proxy handling (网下代办) requests and their trail (`proxy_requests`, `proxy_events`).

A request runs requested → accepted → materials_collected → submitted → decided →
closed (or withdrawn); each running step has a deadline on working days in
`deadlines` (`due_at` is the running one).  `accepting_point_id` is the station
that took it (any station may: 全区通办), `home_community_id` the resident's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

PROXY_STATUSES = (
    "requested",
    "accepted",
    "materials_collected",
    "submitted",
    "decided",
    "closed",
    "withdrawn",
)


class ProxyRequest(Base):
    """One matter a community worker handles on a resident's behalf."""

    __tablename__ = "proxy_requests"
    __table_args__ = (
        Index("ix_proxy_requests_department", "department_code", "status"),
        Index("ix_proxy_requests_accepting_point_id", "accepting_point_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("service_items.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="requested")
    channel: Mapped[str] = mapped_column(Text, nullable=False, server_default="online")
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    home_community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="SET NULL")
    )
    accepting_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_points.id", ondelete="SET NULL")
    )
    department_code: Mapped[str] = mapped_column(Text, nullable=False)
    handover: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    document_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False)
    contact_name: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(Text)
    person_id: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadlines: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")


class ProxyEvent(Base):
    """One step of a proxy request: who moved it from which status to which, and when."""

    __tablename__ = "proxy_events"
    __table_args__ = (Index("ix_proxy_events_request_id", "request_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("proxy_requests.id", ondelete="CASCADE"), nullable=False
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text, nullable=False)
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

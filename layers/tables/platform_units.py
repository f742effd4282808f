"""The three-level platform: the district centre, the street sub-centres, the community stations.

Each unit has a queue (the cases whose ``incidents.unit_id`` is the unit), its staff
(dispatcher keys and handling workers, `PlatformStaff`) and its working hours.  The
units mirror the administrative areas: one district centre (大联动中心), one
sub-centre per street (大联动分中心), one station per community (综合服务管理站).
`build_units` derives them from the areas, so the demo and a migrated database agree.
"""

from __future__ import annotations

from datetime import time

from sqlalchemy import (
    CheckConstraint,
    Connection,
    ForeignKey,
    Index,
    Integer,
    Text,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from layers.tables.base import Base

UNIT_LEVELS = ("community", "street", "district")
"""The platform's levels, bottom up; a case's `handling_level` maps onto one of them."""
LEVEL_OF_HANDLING = {
    "grid": "community",
    "community": "community",
    "street": "street",
    "district": "district",
}
"""The unit level a case's `handling_level` sits at (a grid worker works a station's queue)."""
STAFF_DUTIES = ("dispatcher", "handler")


class PlatformUnit(Base):
    """One unit of the platform and where it sits in the tree."""

    __tablename__ = "platform_units"
    __table_args__ = (
        CheckConstraint("level IN ('community', 'street', 'district')", name="level"),
        CheckConstraint("(level = 'district') = (parent_id IS NULL)", name="parent"),
        CheckConstraint("opens_at < closes_at", name="hours"),
        Index("ix_platform_units_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    level: Mapped[str] = mapped_column(Text, nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("platform_units.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"), unique=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), unique=True)
    opens_at: Mapped[time] = mapped_column(Time, nullable=False, server_default="08:30")
    closes_at: Mapped[time] = mapped_column(Time, nullable=False, server_default="17:30")
    phone: Mapped[str | None] = mapped_column(Text)


class PlatformStaff(Base):
    """A member of a unit's staff: a dispatcher's key (scopes it) or a handling worker."""

    __tablename__ = "platform_staff"
    __table_args__ = (
        CheckConstraint("duty IN ('dispatcher', 'handler')", name="duty"),
        CheckConstraint("(key_id IS NULL) <> (worker_id IS NULL)", name="who"),
        Index("ix_platform_staff_unit_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("platform_units.id", ondelete="CASCADE"), nullable=False
    )
    key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), unique=True
    )
    worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("workers.id", ondelete="CASCADE"), unique=True
    )
    duty: Mapped[str] = mapped_column(Text, nullable=False)


BUILD_UNITS_SQL = (
    "INSERT INTO platform_units (code, name, level, parent_id, phone) "
    "SELECT 'D' || d.code, d.name || '服务治理大联动中心', 'district', NULL, '028-12345' "
    "FROM districts d ORDER BY d.id LIMIT 1 ON CONFLICT (code) DO NOTHING",
    "INSERT INTO platform_units (code, name, level, parent_id, street_id) "
    "SELECT 'S' || s.code, s.name || '大联动分中心', 'street', "
    "(SELECT min(id) FROM platform_units WHERE level = 'district'), s.id "
    "FROM streets s ORDER BY s.id ON CONFLICT DO NOTHING",
    "INSERT INTO platform_units (code, name, level, parent_id, community_id) "
    "SELECT 'C' || c.code, c.name || '综合服务管理站', 'community', u.id, c.id "
    "FROM communities c JOIN platform_units u ON u.street_id = c.street_id "
    "ORDER BY c.id ON CONFLICT DO NOTHING",
)
"""The units derived from the areas (idempotent); the migration carries its own copy."""

PLACE_CASES_SQL = """
UPDATE incidents i SET unit_id = coalesce(
  CASE WHEN i.handling_level IN ('grid', 'community')
       THEN (SELECT u.id FROM platform_units u WHERE u.community_id = i.community_id) END,
  CASE WHEN i.handling_level IN ('grid', 'community', 'street')
       THEN (SELECT u.id FROM platform_units u WHERE u.street_id = i.street_id) END,
  (SELECT min(u.id) FROM platform_units u WHERE u.level = 'district'))
WHERE i.unit_id IS NULL
"""
"""Put every case without a unit into the queue its handling level and area name."""


def build_units(conn: Connection) -> int:
    """Create the units of the loaded areas and place unplaced cases; the number of units."""
    for sql in BUILD_UNITS_SQL:
        conn.execute(text(sql))
    conn.execute(text(PLACE_CASES_SQL))
    return int(conn.execute(text("SELECT count(*) FROM platform_units")).scalar() or 0)

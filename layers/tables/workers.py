"""Grid workers of the three levels; their phone numbers are personal data (staff only)."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.tables.base import Base, geometry


class Worker(Base):
    """A grid worker serving the cell with `cell_code` (codes survive unchanged revisions)."""

    __tablename__ = "workers"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 3", name="level"),
        CheckConstraint("geom IS NULL OR ST_IsValid(geom)", name="geom_valid"),
        CheckConstraint("substitute_id IS NULL OR substitute_id <> id", name="substitute"),
        Index("ix_workers_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    cell_code: Mapped[str | None] = mapped_column(String(21), index=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id"), nullable=False, index=True
    )
    on_duty: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    substitute_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id", ondelete="SET NULL"))
    """Who takes this worker's new cases while they are off duty (顶岗), if configured."""
    position_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom: Mapped[WKBElement | None] = mapped_column(geometry("Point"))


def worker_names_for_cells(
    *, session: Session, cells: list[tuple[int, str]]
) -> dict[tuple[int, str], str]:
    """Name of the worker serving each (level, cell code); on-duty first, then lowest id.

    Names only: a phone number is personal data and is fetched elsewhere, for staff.
    """
    if not cells:
        return {}
    rows = session.execute(
        text(
            "SELECT DISTINCT ON (level, cell_code) level, cell_code, name FROM workers"
            " WHERE (level, cell_code) IN (SELECT * FROM unnest(:levels, :codes))"
            " ORDER BY level, cell_code, on_duty DESC, id"
        ),
        {"levels": [lv for lv, _ in cells], "codes": [code for _, code in cells]},
    ).all()
    return {(r.level, r.cell_code): r.name for r in rows}

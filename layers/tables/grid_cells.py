"""The three-level grid and its revisions.

Cells are never edited in place: a published revision closes the old cells
(`valid_to`) and opens new ones (`valid_from`), so any moment's grid can be
answered and a case keeps the cells it was filed under.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import WKBElement
from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.core.errors import NotFoundError
from layers.tables.base import Base, geometry, geometry_checks

LEVELS = (1, 2, 3)


def live(alias: str = "") -> str:
    """The SQL condition "this cell is in the live grid" (no revision closed it), for `alias`.

    The one spelling of the live grid: every query that means "the grid now" uses it,
    so a change of what "live" means (a view, a status) is made here.
    """
    condition = "valid_to IS NULL"
    return f"{alias}.{condition}" if alias else condition


LIVE = live()
"""`live()` without an alias: for the partial indexes and single-table queries."""


def valid_at(alias: str = "", moment: str = ":at") -> str:
    """The SQL condition "this cell was in the grid at `moment`" (a bound parameter's name).

    The cell had opened by then and no revision had closed it yet: the grid of a past
    day is answered from the same rows as the live one.
    """
    prefix = f"{alias}." if alias else ""
    return f"{prefix}valid_from <= {moment} AND ({live(alias)} OR {prefix}valid_to > {moment})"


CODE_LENGTH = {1: 15, 2: 18, 3: 21}
"""Code length per level: 6 district + 3 street + 3 community + 3 per grid level."""


class GridRevision(Base):
    """A set of boundary changes: a draft until `published_at` is set."""

    __tablename__ = "grid_revisions"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'discarded')", name="status"),
        CheckConstraint("scope IN ('district', 'street', 'community')", name="scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    author: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="draft")
    scope: Mapped[str] = mapped_column(Text, nullable=False, server_default="district")
    scope_code: Mapped[str | None] = mapped_column(String(12))
    base_cell_ids: Mapped[list[int] | None] = mapped_column(ARRAY(Integer))
    """Ids of the live cells in scope when the draft was taken: publish refuses a stale base."""
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    """Bumped by every change of a draft's cells: the draft's ETag (`If-Match` on edits)."""
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the draft's cells last changed (None: never since it was taken)."""


class GridCell(Base):
    """One cell of one level in one revision, valid in [valid_from, valid_to)."""

    __tablename__ = "grid_cells"
    __table_args__ = (
        *geometry_checks("grid_cells"),
        CheckConstraint("level BETWEEN 1 AND 3", name="level"),
        CheckConstraint("(level = 1) = (parent_id IS NULL)", name="parent_by_level"),
        CheckConstraint("code ~ '^[0-9]+$' AND length(code) = 12 + 3 * level", name="code_shape"),
        CheckConstraint(f"{LIVE} OR valid_to > valid_from", name="validity"),
        CheckConstraint("households >= 0 AND population >= 0", name="counts"),
        Index(
            "uq_grid_cells_live_code",
            "code",
            unique=True,
            postgresql_where=text(LIVE),
        ),
        Index("ix_grid_cells_validity", "valid_from", "valid_to"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(21), nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    level: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id"), index=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id"), nullable=False, index=True
    )
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("grid_revisions.id"), nullable=False, index=True
    )
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    households: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    population: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    geom: Mapped[WKBElement] = mapped_column(geometry("MultiPolygon"), nullable=False)


def get_revision(*, session: Session, revision_id: int, lock: bool = False) -> GridRevision:
    """The revision, or 404; `lock` takes a row lock (one publisher at a time per revision)."""
    query = session.query(GridRevision).filter(GridRevision.id == revision_id)
    revision = (query.with_for_update() if lock else query).one_or_none()
    if revision is None:
        raise NotFoundError(f"no grid revision {revision_id}", code="revision_not_found")
    return revision

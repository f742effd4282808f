"""A grid worker's own cell, and whether a record's point lies in it (the one locate rule).

Field collection, household visits and the exports let a grid worker touch the
records of their own cell only.  "In the cell" is what the locate rule says of
the record's point at the worker's level — the same rule that routes cases — so
a record near an edge belongs to exactly one worker.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.config import resolve_tolerance
from grids.grid.locate import locate_one
from grids.grid.locate_sql import locate_sql, without_jit
from layers.core.errors import ForbiddenError
from layers.tables.grid_cells import live


def worker_cell(session: Session, worker_id: int | None) -> tuple[int, str]:
    """(level, cell code) of the worker behind a key; 403 `no_cell` when it serves none."""
    row = session.execute(
        text("SELECT level, cell_code FROM workers WHERE id = :w"), {"w": worker_id}
    ).first()
    if row is None or row.cell_code is None:
        raise ForbiddenError("this key serves no grid cell", code="no_cell")
    return int(row.level), str(row.cell_code)


def point_in_cell(
    session: Session, cell: tuple[int, str], lon: float, lat: float, tolerance_m: float | None
) -> bool:
    """Whether the locate rule puts (lon, lat) in `cell` at its level."""
    loc = locate_one(session=session, lon=lon, lat=lat, tolerance_m=tolerance_m)
    return bool(getattr(loc, f"l{cell[0]}_code") == cell[1])


def require_in_cell(
    session: Session, cell: tuple[int, str], lon: float, lat: float, tolerance_m: float | None
) -> None:
    """403 `not_your_cell` unless the point is in the worker's cell."""
    if not point_in_cell(session, cell, lon, lat, tolerance_m):
        raise ForbiddenError("this record is not in your grid cell", code="not_your_cell")


_NEAR_CELL = (
    "SELECT a.id, a.geom AS pt FROM addresses a JOIN grid_cells g"  # noqa: S608
    f" ON g.code = :cell AND g.level = :level AND {live('g')}"
    " WHERE a.geom && ST_Expand(g.geom, :pad)"
)


def cell_address_ids(
    session: Session, cell: tuple[int, str], tolerance_m: float | None
) -> list[int]:
    """The standard addresses the locate rule puts in `cell` (set-based, in SQL)."""
    without_jit(session)
    metres = resolve_tolerance(tolerance_m)  # the box must hold what the nearest-cell rule takes
    located = locate_sql(points=_NEAR_CELL)
    rows = session.execute(
        text(f"SELECT id FROM ({located}) loc WHERE l{int(cell[0])} = :cell"),  # noqa: S608
        {"cell": cell[1], "level": cell[0], "tolerance_m": metres, "pad": metres / 90_000 + 1e-4},
    )
    return [int(r.id) for r in rows]

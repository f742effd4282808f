"""Households and population of every live grid cell, from the records, through the locate rule.

An address's cell is asked of `grids.grid.locate_sql` (the one rule, set-based):
a household is a dwelling with residents, counted in the cells of its entrance;
level-2 and level-1 cells add up their located addresses too.  Run after an
import (`wangge base import`), so the planners' figures are sums of records.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.config import resolve_tolerance
from grids.grid.locate_sql import locate_sql, without_jit
from layers.tables.grid_cells import live

_FIGURES = """
WITH loc AS ({located}),
per_address AS (
  SELECT w.address_id, count(DISTINCT w.id) AS hh, count(p.id) AS pop
  FROM dwellings w JOIN persons p ON p.dwelling_id = w.id GROUP BY w.address_id),
per_cell AS (
  SELECT c.id, sum(coalesce(f.hh, 0)) AS hh, sum(coalesce(f.pop, 0)) AS pop
  FROM loc JOIN per_address f ON f.address_id = loc.id
  CROSS JOIN LATERAL (VALUES (loc.l3_id), (loc.l2_id), (loc.l1_id)) c(id)
  WHERE c.id IS NOT NULL GROUP BY c.id)
UPDATE grid_cells g SET households = coalesce(pc.hh, 0), population = coalesce(pc.pop, 0)
FROM grid_cells g2 LEFT JOIN per_cell pc ON pc.id = g2.id
WHERE g.id = g2.id AND {live}
  AND (g.households, g.population) IS DISTINCT FROM (coalesce(pc.hh, 0), coalesce(pc.pop, 0))
"""


def refresh_cell_figures(*, session: Session, tolerance_m: float | None = None) -> int:
    """Recount every live cell's households and population; the number of cells changed."""
    without_jit(session)
    located = locate_sql(points="SELECT id, geom AS pt FROM addresses")
    statement = _FIGURES.format(located=located, live=live("g2"))
    result = session.connection().execute(
        text(statement), {"tolerance_m": resolve_tolerance(tolerance_m)}
    )
    return int(result.rowcount or 0)


def refresh_cells_at(
    *, session: Session, points: list[tuple[float, float]], tolerance_m: float | None = None
) -> int:
    """Recount only the cells (levels 3, 2, 1) the locate rule puts `points` in; cells changed.

    A field change moves a person or two: recounting the handful of cells their
    entrances lie in keeps the grid's figures sums of the records without
    locating every address of the district.
    """
    from grids.base_data.scope import cell_address_ids
    from grids.grid.locate import locate_one

    cells: set[tuple[int, str]] = set()
    for lon, lat in points:
        loc = locate_one(session=session, lon=lon, lat=lat, tolerance_m=tolerance_m)
        cells |= {(n, c) for n in (1, 2, 3) if (c := getattr(loc, f"l{n}_code")) is not None}
    changed = 0
    for level, code in sorted(cells):
        ids = cell_address_ids(session, (level, code), tolerance_m)
        changed += int(
            session.connection()
            .execute(
                text(
                    "WITH f AS (SELECT count(DISTINCT w.id) AS hh, count(p.id) AS pop"  # noqa: S608
                    " FROM dwellings w JOIN persons p ON p.dwelling_id = w.id"
                    " WHERE w.address_id = ANY(:ids))"
                    " UPDATE grid_cells g SET households = f.hh, population = f.pop FROM f"
                    f" WHERE g.code = :c AND g.level = :l AND {live('g')}"
                    " AND (g.households, g.population) IS DISTINCT FROM (f.hh, f.pop)"
                ),
                {"ids": ids, "c": code, "l": level},
            )
            .rowcount
            or 0
        )
    return changed

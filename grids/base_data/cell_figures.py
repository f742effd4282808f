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

"""Households and population of buildings and courtyards, counted from the records.

A household is a dwelling with at least one resident; the population is the
persons living in the building's dwellings.  The demo's figures and every
import end with `refresh_counts`, so the planners' figures are sums of records.
Grid cells are summed through the locate rule (`grids.base_data.cell_figures`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

_BUILDINGS = """
WITH d AS (
  SELECT a.building_id, count(DISTINCT w.id) AS hh, count(p.id) AS pop
  FROM addresses a JOIN dwellings w ON w.address_id = a.id
  JOIN persons p ON p.dwelling_id = w.id
  WHERE CAST(:only AS int[]) IS NULL OR a.building_id = ANY(:only) GROUP BY a.building_id)
UPDATE buildings b SET households = coalesce(d.hh, 0), population = coalesce(d.pop, 0)
FROM buildings b2 LEFT JOIN d ON d.building_id = b2.id
WHERE b.id = b2.id AND (CAST(:only AS int[]) IS NULL OR b2.id = ANY(:only))
  AND (b.households, b.population) IS DISTINCT FROM (coalesce(d.hh, 0), coalesce(d.pop, 0))
"""
_COURTYARDS = """
WITH c AS (SELECT courtyard_id, sum(households) AS hh, sum(population) AS pop FROM buildings
  WHERE courtyard_id IS NOT NULL GROUP BY courtyard_id)
UPDATE courtyards y SET households = coalesce(c.hh, 0), residents = coalesce(c.pop, 0)
FROM courtyards y2 LEFT JOIN c ON c.courtyard_id = y2.id WHERE y.id = y2.id
  AND (y.households, y.residents) IS DISTINCT FROM (coalesce(c.hh, 0), coalesce(c.pop, 0))
"""


def refresh_counts(conn: Connection, buildings: Sequence[int] | None = None) -> int:
    """Recompute the figures of `buildings` (None: all) and of every courtyard; rows changed."""
    only = None if buildings is None else list(buildings)
    changed = conn.execute(text(_BUILDINGS), {"only": only}).rowcount
    return changed + conn.execute(text(_COURTYARDS)).rowcount

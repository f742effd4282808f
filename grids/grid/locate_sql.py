"""The locate rule as one SQL query, for set-based work inside the database.

The same rule as the in-memory locate (`grids.grid.grid_snapshot`), step by step:

1. the deepest cell covering the point — level 3, else 2, else 1 — lowest code
   first on a shared edge (``covers``);
2. else the nearest level-3, then level-1 cell within the tolerance, ties by
   code (``nearest``, with ``distance_m``);
3. else the covering community (``community_fallback``), else the covering
   street, or the nearest street when the point is in the district
   (``street_fallback``); else ``outside``.

A found cell brings its parents (by parent code) and its own community; the
community brings its street.  Distances are measured as in memory
(`grids.grid.cell_index`): on a local plane around the layer's extent
(``loc_frame``), so a point near two cells picks the same one.

Publishing moves cases with it (`grids.planning.reassign`), the impact preview
and the balance suggestion place cases with it, so what the preview promises is
what the publish does.  The grid is any relation of cells with the columns of
`LIVE_CELLS`; the points any relation of ``(id, pt)`` (EPSG:4326 points).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.tables.grid_cells import live

CELL_COLUMNS = ("id", "code", "level", "parent_code", "community_id", "geom")
"""Columns of a grid relation: `id` may be NULL (a draft cell); `parent_code` links levels."""

LIVE_CELLS = (
    "SELECT g.id, g.code, g.level, p.code AS parent_code, g.community_id, g.geom "  # noqa: S608
    f"FROM grid_cells g LEFT JOIN grid_cells p ON p.id = g.parent_id WHERE {live('g')}"
)
"""The live grid as a grid relation."""

LOCATED_COLUMNS = "id, method, distance_m, l3_id, l3, l2_id, l2, l1_id, l1, community_id, street_id"
"""What `locate_sql` answers per point (``l*`` are codes, ``l*_id`` the cells' ids)."""

_LOCATE_SQL = """
WITH loc_cells AS NOT MATERIALIZED ({cells}),
loc_pts AS MATERIALIZED ({points}),
loc_codes AS MATERIALIZED (
  SELECT DISTINCT ON (level, code) id, code, level, parent_code FROM loc_cells
  ORDER BY level, code, id
),
loc_frame AS MATERIALIZED (
  SELECT level, lon0, lat0, 111320.0 * cos(radians(lat0)) AS kx, 110574.0 AS ky FROM (
    SELECT level, (ST_XMin(e) + ST_XMax(e)) / 2 AS lon0, (ST_YMin(e) + ST_YMax(e)) / 2 AS lat0
    FROM (SELECT level, ST_Extent(geom) AS e FROM loc_cells WHERE level IN (1, 3) GROUP BY level
      UNION ALL SELECT 0, ST_Extent(geom) FROM streets) b WHERE e IS NOT NULL) c
),
loc_found AS (
  SELECT p.id, p.pt, coalesce(cov.id, nea.id) AS cell_id, coalesce(cov.code, nea.code) AS code,
    coalesce(cov.level, nea.level) AS level, coalesce(cov.parent_code, nea.parent_code) AS up,
    coalesce(cov.community_id, nea.community_id) AS cell_community, nea.d AS distance_m,
    CASE WHEN cov.code IS NOT NULL THEN 'covers' WHEN nea.code IS NOT NULL THEN 'nearest' END
      AS method
  FROM loc_pts p
  LEFT JOIN LATERAL (SELECT c.id, c.code, c.level, c.parent_code, c.community_id FROM loc_cells c
    WHERE c.geom && p.pt AND ST_Covers(c.geom, p.pt) ORDER BY c.level DESC, c.code LIMIT 1
  ) cov ON true
  LEFT JOIN LATERAL (SELECT c.id, c.code, c.level, c.parent_code, c.community_id, nd.d
    FROM loc_frame f JOIN loc_cells c ON c.level = f.level
    CROSS JOIN LATERAL (SELECT {cell_m} AS d) nd
    WHERE cov.code IS NULL AND f.level IN (1, 3) AND CAST(:tolerance_m AS float8) > 0
      AND c.geom && ST_Expand(p.pt, :tolerance_m / f.kx * 1.001, :tolerance_m / f.ky * 1.001)
      AND nd.d <= :tolerance_m
    ORDER BY c.level DESC, nd.d, c.code LIMIT 1
  ) nea ON true
),
loc_chained AS (
  SELECT f.*, c2.id AS l2_id, c2.code AS l2, c1.id AS l1_id, c1.code AS l1,
    coalesce(f.cell_community, fb.id) AS community_id
  FROM loc_found f
  LEFT JOIN loc_codes c2 ON c2.level = 2
    AND c2.code = CASE f.level WHEN 3 THEN f.up WHEN 2 THEN f.code END
  LEFT JOIN loc_codes c1 ON c1.level = 1
    AND c1.code = CASE f.level WHEN 1 THEN f.code ELSE c2.parent_code END
  LEFT JOIN LATERAL (SELECT m.id FROM communities m WHERE f.code IS NULL
    AND m.geom && f.pt AND ST_Covers(m.geom, f.pt) ORDER BY m.code, m.id LIMIT 1) fb ON true
),
loc_streets AS (
  SELECT x.*, coalesce(m.street_id, cs.id, ns.id) AS street_id, m.street_id AS own_street
  FROM loc_chained x
  LEFT JOIN communities m ON m.id = x.community_id
  LEFT JOIN LATERAL (SELECT s.id FROM streets s WHERE m.street_id IS NULL
    AND s.geom && x.pt AND ST_Covers(s.geom, x.pt) ORDER BY s.code, s.id LIMIT 1) cs ON true
  LEFT JOIN LATERAL (SELECT s.id FROM loc_frame f JOIN streets s ON f.level = 0
    WHERE m.street_id IS NULL AND cs.id IS NULL
    AND EXISTS (SELECT 1 FROM districts d WHERE ST_Covers(d.geom, x.pt))
    ORDER BY {street_m}, s.code, s.id LIMIT 1) ns ON true
)
SELECT id,
  CASE WHEN method IS NOT NULL THEN method
    WHEN community_id IS NOT NULL THEN 'community_fallback'
    WHEN street_id IS NOT NULL THEN 'street_fallback' ELSE 'outside' END AS method,
  distance_m, CASE WHEN level = 3 THEN cell_id END AS l3_id,
  CASE WHEN level = 3 THEN code END AS l3,
  l2_id, l2, l1_id, l1, community_id, street_id
FROM loc_streets
"""


def without_jit(session: Session) -> None:
    """Turn JIT compilation off for the rest of the transaction, before asking `locate_sql`.

    The query's many lateral lookups give it a large cost estimate, so PostgreSQL
    JIT-compiles it — which takes seconds, many times what running it takes.
    """
    session.execute(text("SET LOCAL jit = off"))


def _plane(geom: str) -> str:
    """`geom` on the local plane of frame ``f`` (metres), as `grids.grid.cell_index` has it."""
    return f"ST_Scale(ST_Translate({geom}, -f.lon0, -f.lat0), f.kx, f.ky)"


def _metres(geom: str, point: str) -> str:
    return f"ST_Distance({_plane(geom)}, {_plane(point)})"


def locate_sql(*, points: str, cells: str = LIVE_CELLS) -> str:
    """The query locating every point of `points` in the grid `cells` (bind ``:tolerance_m``).

    `points` is SQL answering ``(id, pt)``; it may name the CTEs of an enclosing
    query (wrap the answer in parentheses to use it as a subquery).  Answers
    `LOCATED_COLUMNS`, one row per point.
    """
    return _LOCATE_SQL.format(
        points=points,
        cells=cells,
        cell_m=_metres("c.geom", "p.pt"),
        street_m=_metres("s.geom", "x.pt"),
    )

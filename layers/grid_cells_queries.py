"""Which live grid cells and grid worker serve a point (for the resident map).

A small stand-in for the grid domain's locator: live cells (`valid_to IS NULL`)
that cover the point, with a deterministic tie-break on shared edges (lowest
code per level, each deeper level chosen among the children of the cell above).
Only worker names are returned: phones are personal data.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.map_types import CellChain, ChainCell

logger = logging.getLogger(__name__)


_SQL = """
SELECT g.id, g.level, g.code, g.name, g.parent_id, g.community_id,
       (SELECT w.name FROM workers w WHERE w.cell_code = g.code AND w.level = g.level
         ORDER BY w.on_duty DESC, w.id LIMIT 1) AS worker_name
FROM grid_cells g
WHERE g.valid_to IS NULL AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY g.level, g.code
"""


def live_cell_chain_at(*, session: Session, lon: float, lat: float) -> CellChain | None:
    """The live cell chain covering WGS-84 (lon, lat), or None outside every level-1 cell."""
    rows = session.execute(text(_SQL), {"lon": float(lon), "lat": float(lat)}).mappings().all()
    chain: list[ChainCell] = []
    parent: int | None = None
    community_id = None
    for level in (1, 2, 3):
        candidates = [r for r in rows if r["level"] == level]
        if level > 1:
            candidates = [r for r in candidates if r["parent_id"] == parent]
        if not candidates:
            break
        row = candidates[0]
        chain.append(ChainCell(row["id"], level, row["code"], row["name"], row["worker_name"]))
        parent = row["id"]
        community_id = community_id or row["community_id"]
    if not chain:
        return None
    area = (
        session.execute(
            text(
                "SELECT c.code, c.name, s.code AS street_code, s.name AS street_name"
                " FROM communities c JOIN streets s ON s.id = c.street_id WHERE c.id = :id"
            ),
            {"id": community_id},
        )
        .mappings()
        .one()
    )
    return CellChain(chain, area["code"], area["name"], area["street_code"], area["street_name"])

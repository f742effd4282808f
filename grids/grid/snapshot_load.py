"""Read the grid valid at one moment from the database into a `GridSnapshot`.

Kept apart from the snapshot itself (`grids.grid.grid_snapshot`, the rules that
answer points): this is the one place that knows the tables and their order.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid.cell_index import CellIndex
from grids.grid.grid_snapshot import LEVELS, AreaSet, GridSnapshot
from layers.tables.grid_cells import LIVE, valid_at

AREA_PIXEL_M = 20.0
"""Raster pixels of streets, communities and the district: their own size would give
pixels of hundreds of metres, and every point in such a pixel is tested against
polygons of thousands of edges."""


def _areas(
    rows, parent: list[int], community: list[int] | None = None, raster=False, pixel_m=None
) -> AreaSet:
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows]) if rows else np.zeros(0, object)
    return AreaSet(
        ids=np.array([r.id for r in rows], dtype=np.int64),
        codes=np.array([r.code for r in rows], dtype=object),
        names=np.array([r.name for r in rows], dtype=object),
        parent=np.array(parent, dtype=np.int64),
        community=np.array(community if community is not None else [-1] * len(rows), np.int64),
        revision=np.array([getattr(r, "revision_id", None) or -1 for r in rows], dtype=np.int64),
        index=CellIndex(geoms, raster=raster, pixel_m=pixel_m),
    )


def load_snapshot(*, session: Session, at: datetime | None, raster: bool) -> GridSnapshot:
    """The grid valid at `at` (valid_from <= at < valid_to), or the live grid (`at` None).

    The live grid is the cells no revision has closed (`layers.tables.grid_cells.live()`): what a
    publish left in force, whatever any clock says, so a server whose clock is not
    the database's (or a test's fixed clock) still routes by the newest grid.
    """
    streets = session.execute(
        text("SELECT id, code, name, ST_AsBinary(geom) AS wkb FROM streets ORDER BY code, id")
    ).all()
    street_pos = {r.id: i for i, r in enumerate(streets)}
    communities = session.execute(
        text(
            "SELECT id, code, name, street_id, ST_AsBinary(geom) AS wkb FROM communities "
            "ORDER BY code, id"
        )
    ).all()
    comm_pos = {r.id: i for i, r in enumerate(communities)}
    rows = session.execute(
        text(
            "SELECT id, code, name, level, parent_id, community_id, revision_id, "  # noqa: S608
            "ST_AsBinary(geom) AS wkb FROM grid_cells "
            f"WHERE (CAST(:at AS timestamptz) IS NULL AND {LIVE}) OR ({valid_at()}) "
            "ORDER BY level, code, id"
        ),
        {"at": at},
    ).all()
    district = session.execute(text("SELECT ST_AsBinary(geom) AS wkb FROM districts")).all()
    cells: dict[int, AreaSet] = {}
    above: dict[int, int] = {}
    for level in LEVELS:
        mine = [r for r in rows if r.level == level]
        cells[level] = _areas(
            mine,
            [above.get(r.parent_id, -1) for r in mine],
            [comm_pos.get(r.community_id, -1) for r in mine],
            raster=raster and level == 3,
        )
        above = {r.id: i for i, r in enumerate(mine)}
    revisions = [r.revision_id for r in rows]
    snapshot = GridSnapshot(
        cells=cells,
        communities=_areas(
            communities,
            [street_pos.get(r.street_id, -1) for r in communities],
            pixel_m=AREA_PIXEL_M,
        ),
        streets=_areas(streets, [-1] * len(streets), pixel_m=AREA_PIXEL_M),
        district=CellIndex(
            shapely.from_wkb([bytes(r.wkb) for r in district]), pixel_m=AREA_PIXEL_M
        ),
        revision_id=max(revisions) if revisions else None,
        stats={f"l{lv}": len(cells[lv]) for lv in LEVELS},
    )
    if raster:  # the live grid: build what the fallbacks use now, not in a request
        snapshot.warm()
    return snapshot

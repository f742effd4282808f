"""The grid chain a resident sees: cells and grid-worker names, never phones.

Built on `grids.grid.locate` (covers + lowest-code tie-break, the same answer as
`GET /locate`), so the resident map and the case router never disagree about
which grid serves a point.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from grids.grid.locate import locate_one
from layers.core.errors import UnprocessableError
from layers.core.map_types import CellChain, ChainCell, ResidentLayers
from layers.map_data.map_layers import resident_layers
from layers.tables.workers import worker_names_for_cells


def cell_chain_at(*, session: Session, lon: float, lat: float) -> CellChain | None:
    """The live chain at WGS-84 (lon, lat) with worker names; None outside the district."""
    try:
        loc = locate_one(session=session, lon=lon, lat=lat)
    except UnprocessableError as exc:
        if exc.code == "outside_district":
            return None
        raise
    levels = [
        (1, loc.l1_id, loc.l1_code, loc.l1_name),
        (2, loc.l2_id, loc.l2_code, loc.l2_name),
        (3, loc.l3_id, loc.l3_code, loc.l3_name),
    ]
    present = [
        (lv, i, code, name) for lv, i, code, name in levels if code is not None and i is not None
    ]
    names = worker_names_for_cells(
        session=session, cells=[(lv, code) for lv, _, code, _ in present]
    )
    cells = [ChainCell(i, lv, code, name, names.get((lv, code))) for lv, i, code, name in present]
    return CellChain(
        cells, loc.community_code, loc.community_name, loc.street_code, loc.street_name
    )


def resident_view(
    *,
    session: Session,
    lon: float,
    lat: float,
    kinds: tuple[str, ...] = (),
    radius_m: float = 2000.0,
    limit: int = 30,
    now: datetime,
    with_outlines: bool = True,
) -> ResidentLayers:
    """What a resident at (lon, lat) sees: their grid chain and the service points near them."""
    return resident_layers(
        session=session,
        chain=cell_chain_at(session=session, lon=lon, lat=lat),
        lon=lon,
        lat=lat,
        kinds=kinds,
        radius_m=radius_m,
        limit=limit,
        now=now,
        with_outlines=with_outlines,
    )

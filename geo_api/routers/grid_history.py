"""The grid as it was: `GET /grid/cells?at=` answers from the cells valid at that time."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fastapi import APIRouter, Query

from geo_api.auth import EVERYONE, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.routers.params import Moment
from geo_api.schemas.residents import GridCells
from grids.grid.history import cells_at
from layers.core.errors import InvalidInputError
from layers.core.geojson_input import GeometryInputError, lonlat_bbox

router = APIRouter(prefix="/grid", tags=["grid"])


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        return lonlat_bbox(text)
    except GeometryInputError as exc:
        raise InvalidInputError(str(exc), code="bad_bbox") from None


@router.get(
    "/cells",
    response_model=GridCells,
    dependencies=[allow(*EVERYONE)],
    summary="Grid cells valid at a time",
)
def grid_cells(
    session: SessionDep,
    now: NowDep,
    at: Moment | None = Query(default=None, description="ISO time; default now."),
    level: int | None = Query(default=None, ge=1, le=3),
    community: str | None = Query(default=None, max_length=12),
    bbox: str | None = Query(default=None, description="minlon,minlat,maxlon,maxlat (WGS-84)"),
) -> dict[str, Any]:
    """A FeatureCollection of the cells valid at `at` (a time without zone is UTC)."""
    moment = at or now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return cells_at(session=session, at=moment, level=level, community=community, bbox=_bbox(bbox))

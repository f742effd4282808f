"""`GET /geocode` (address → standard addresses and their grid) and `GET /geocode/reverse`.

Public: a resident types their address and learns their grid and worker's name;
no personal data of anybody comes out (the worker's phone only for staff).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from geo_api.auth import EVERYONE, Principal, allow
from geo_api.deps import SessionDep, SettingsDep
from geo_api.routers.residents_nearby import wgs84_point
from geo_api.schemas.base_data import GeocodeOut
from geo_api.schemas.case_shapes import location_out, worker_out
from geo_api.schemas.cases import CRS
from grids.base_data.geocode import Geocoded, geocode, reverse_geocode
from grids.cases.assign import contacts_for

router = APIRouter(prefix="/geocode", tags=["geocode"])


def _hit(session: Any, g: Geocoded, staff: bool) -> dict[str, Any]:
    worker, _ = contacts_for(session=session, location=g.location)
    return {
        "address_id": g.address_id,
        "full_text": g.full_text,
        "score": g.score,
        "method": g.method,
        "lon": g.lon,
        "lat": g.lat,
        "distance_m": g.distance_m,
        "building": g.building,
        "courtyard": g.courtyard,
        "courtyard_code": g.courtyard_code,
        "grid": location_out(g.location),
        "worker": worker_out(worker, staff=staff),
    }


@router.get(
    "",
    response_model=GeocodeOut,
    response_model_exclude_none=True,
    summary="Standard addresses for an address text, ranked, with their grid and worker",
)
def search(
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    q: Annotated[str, Query(max_length=200, description="An address as a resident writes it.")],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> dict[str, Any]:
    """Exact, then component, then fuzzy (trigram) matches; `score` 0–1, best first."""
    found = geocode(
        session=session, q=q, limit=limit, tolerance_m=settings.cases.locate_tolerance_m
    )
    return {"query": q, "results": [_hit(session, g, principal.is_staff) for g in found]}


@router.get(
    "/reverse",
    response_model=GeocodeOut,
    response_model_exclude_none=True,
    summary="The standard addresses (entrances) nearest to a point",
)
def reverse(
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    lon: float = Query(ge=-180, le=180),
    lat: float = Query(ge=-90, le=90),
    crs: CRS = "wgs84",
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> dict[str, Any]:
    """Nearest entrances first, with the distance in metres."""
    x, y = wgs84_point(lon, lat, crs)
    found = reverse_geocode(
        session=session, lon=x, lat=y, limit=limit, tolerance_m=settings.cases.locate_tolerance_m
    )
    return {"query": f"{x},{y}", "results": [_hit(session, g, principal.is_staff) for g in found]}

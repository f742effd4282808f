"""What residents ask: which service points and offers are near me, which grid serves me."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from geo_api.auth import EVERYONE, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.routers.params import split_codes
from geo_api.schemas.residents import Nearby
from geo_api.schemas.self_governance import OfferOut
from grids.cases.residents import resident_view
from layers.core.crs import to_wgs84
from layers.tables.enterprise_offers import nearby_offers

router = APIRouter(prefix="/residents", tags=["residents"])


def wgs84_point(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """The point in WGS-84 (400 `unknown_crs` for an unknown CRS)."""
    x, y = to_wgs84(lon, lat, crs)
    return float(x), float(y)


@router.get(
    "/nearby",
    response_model=Nearby,
    dependencies=[allow(*EVERYONE)],
    summary="Nearest service points (distance in metres, open now) and the grid serving a point",
)
def nearby(
    session: SessionDep,
    now: NowDep,
    lon: float = Query(ge=-180, le=180),
    lat: float = Query(ge=-90, le=90),
    crs: str = Query("wgs84", description="wgs84, cgcs2000, gcj02 (Amap/Tencent) or bd09."),
    kind: Annotated[list[str] | None, Query(description="Service point kinds.")] = None,
    radius: float = Query(2000.0, gt=0, le=20_000, description="Metres."),
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    """GeoJSON of service points nearest first; `grid` names the cells and grid workers."""
    x, y = wgs84_point(lon, lat, crs)
    found = resident_view(
        session=session,
        lon=x,
        lat=y,
        kinds=split_codes(kind),
        radius_m=radius,
        limit=limit,
        now=now,
        with_outlines=False,
    )
    chain = found.chain
    grid = None
    if chain is not None:
        grid = {
            "street": {"code": chain.street_code, "name": chain.street_name},
            "community": {"code": chain.community_code, "name": chain.community_name},
            "cells": [
                {"level": c.level, "code": c.code, "name": c.name, "worker_name": c.worker_name}
                for c in chain.cells
            ],
            "worker_name": chain.worker_name,
        }
    features = []
    for p in found.points:
        props = asdict(p)
        lon_p, lat_p = props.pop("lon"), props.pop("lat")
        features.append(
            {
                "type": "Feature",
                "id": p.code,
                "geometry": {"type": "Point", "coordinates": [lon_p, lat_p]},
                "properties": props,
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "query": {"lon": x, "lat": y, "crs": "wgs84", "radius_m": radius},
        "grid": grid,
    }


@router.get(
    "/offers",
    response_model=list[OfferOut],
    dependencies=[allow(*EVERYONE)],
    summary="Enterprise offers (jobs, charity, services) at courtyards near a point",
)
def offers(
    session: SessionDep,
    now: NowDep,
    lon: float = Query(ge=-180, le=180),
    lat: float = Query(ge=-90, le=90),
    crs: str = Query("wgs84", description="wgs84, cgcs2000, gcj02 (Amap/Tencent) or bd09."),
    kind: Annotated[list[str] | None, Query(description="job, charity or service.")] = None,
    radius: float = Query(2000.0, gt=0, le=20_000, description="Metres."),
    limit: int = Query(30, ge=1, le=100),
) -> list[dict[str, Any]]:
    """Offers available today, nearest courtyard first (龙潭家空间); no personal data."""
    x, y = wgs84_point(lon, lat, crs)
    found = nearby_offers(
        session=session,
        lon=x,
        lat=y,
        radius_m=radius,
        now=now,
        kinds=split_codes(kind),
        limit=limit,
    )
    return [asdict(o) for o in found]

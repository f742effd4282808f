"""Service points near a resident: nearest first (KNN in PostGIS), distances in metres, open now?

The index does the nearest-neighbour work (`<->` on geography, prefiltered by a
bounding box around the point), the radius is a true geodesic distance, and
"open now" is read from the OSM opening hours in China Standard Time.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core import opening_hours
from layers.core.errors import InvalidInputError
from layers.core.map_types import NearbyPoint
from layers.tables.service_points import SERVICE_POINT_KINDS

logger = logging.getLogger(__name__)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MAX_RADIUS_M = 20_000
MAX_LIMIT = 100


_SQL = """
WITH here AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g)
SELECT sp.code, sp.kind, sp.name, sp.address, sp.phone, sp.opening_hours,
       ST_X(sp.geom) AS lon, ST_Y(sp.geom) AS lat,
       ST_Distance(sp.geom::geography, here.g::geography) AS distance_m
FROM service_points sp, here
WHERE (cardinality(CAST(:kinds AS text[])) = 0 OR sp.kind = ANY(:kinds))
  AND sp.geom && ST_Expand(here.g, :deg)
  AND ST_DWithin(sp.geom::geography, here.g::geography, :radius)
ORDER BY sp.geom::geography <-> here.g::geography, sp.code
LIMIT :limit
"""


def check_kinds(kinds: tuple[str, ...]) -> None:
    """400 `unknown_kind` for a kind that is not a service point kind."""
    unknown = sorted(set(kinds) - set(SERVICE_POINT_KINDS))
    if unknown:
        raise InvalidInputError(
            f"unknown service point kind: {', '.join(unknown)}",
            code="unknown_kind",
            allowed=list(SERVICE_POINT_KINDS),
        )


def nearby_service_points(
    *,
    session: Session,
    lon: float,
    lat: float,
    kinds: tuple[str, ...] = (),
    radius_m: float = 2000.0,
    limit: int = 20,
    now: datetime,
) -> list[NearbyPoint]:
    """Service points within `radius_m` of WGS-84 (lon, lat), nearest first."""
    check_kinds(kinds)
    if not 0 < radius_m <= MAX_RADIUS_M:
        raise InvalidInputError(f"radius must be in (0, {MAX_RADIUS_M}] m", code="invalid_radius")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be in [1, {MAX_LIMIT}]", code="invalid_limit")
    deg = radius_m / (111_000.0 * max(math.cos(math.radians(lat)), 0.01)) * 1.05
    rows = session.execute(
        text(_SQL),
        {"lon": lon, "lat": lat, "kinds": list(kinds), "deg": deg, "radius": radius_m}
        | {"limit": limit},
    ).mappings()
    local = now.astimezone(LOCAL_TZ)
    out = []
    for r in rows:
        schedule = opening_hours.parse(r["opening_hours"])
        out.append(
            NearbyPoint(
                code=r["code"],
                kind=r["kind"],
                name=r["name"],
                address=r["address"],
                phone=r["phone"],
                opening_hours=r["opening_hours"],
                open_now=None if schedule is None else schedule.is_open(local),
                hours_today=None if schedule is None else schedule.hours_on(local.weekday()),
                lon=float(r["lon"]),
                lat=float(r["lat"]),
                distance_m=round(float(r["distance_m"]), 1),
            )
        )
    return out

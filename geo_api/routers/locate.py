"""`GET /locate` (one point, everyone) and `POST /locate` (many points, staff)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from geo_api.auth import EVERYONE, STAFF, Principal, allow
from geo_api.batch_points import read_points
from geo_api.deps import SessionDep, SettingsDep
from geo_api.fast_auth import allow_fast
from geo_api.routers.params import Moment
from geo_api.schemas.case_shapes import location_out, station_out, worker_out
from geo_api.schemas.cases import CRS, LocateOut
from geo_api.schemas.preview import LocatedBatchOut
from grids.cases.assign import contacts_for, contacts_ready
from grids.grid.locate import live_ready, locate_one
from grids.grid.locate_batch import locate_batch

router = APIRouter(tags=["locate"])


@router.get(
    "/locate",
    response_model=LocateOut,
    summary="Which street, community and grid cells a point belongs to, and who serves it",
)
async def locate(
    request: Request,
    principal: Annotated[Principal, allow_fast(*EVERYONE)],
    lon: Annotated[float, Query(description="Longitude in `crs`, degrees.")],
    lat: Annotated[float, Query(description="Latitude in `crs`, degrees.")],
    crs: CRS = "wgs84",
    at: Annotated[
        Moment | None, Query(description="Answer from the grid valid then (ISO time with zone).")
    ] = None,
) -> JSONResponse:
    """The chain (codes and names at every level), the level-1 worker and the service station.

    Covers-semantics with a lowest-code tie-break; no cell → the nearest within
    the tolerance (``method: nearest``), else the community's or street's
    fallback; outside the district → 422 ``outside_district``.  Staff see the
    worker's phone; residents see the name only.
    """
    state = request.app.state

    def answer() -> JSONResponse:
        with state.sessionmaker() as session:
            loc = locate_one(
                session=session,
                lon=lon,
                lat=lat,
                crs=crs,
                at=at,
                tolerance_m=state.settings.cases.locate_tolerance_m,
            )
            worker, station = contacts_for(session=session, location=loc)
        body = location_out(loc)
        body["worker"] = worker_out(worker, staff=principal.is_staff)
        body["service_station"] = station_out(station)
        return JSONResponse(body)  # built by hand: the hot path; the model documents it

    # The hot path: with the grid and contacts in memory, answering takes tens of
    # microseconds and runs on the event loop (no thread hop, no GIL convoy under
    # load); otherwise (history, a reload) it runs in a worker thread.
    with state.sessionmaker() as probe:
        warm = at is None and live_ready(session=probe) and contacts_ready(session=probe)
    return answer() if warm else await run_in_threadpool(answer)


@router.post(
    "/locate",
    response_model=LocatedBatchOut,
    response_model_exclude_unset=True,
    dependencies=[allow(*STAFF)],
    summary="Locate many points at once (GeoJSON FeatureCollection or CSV with lon/lat)",
)
async def locate_many(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    crs: CRS = "wgs84",
    at: Moment | None = None,
) -> dict[str, Any]:
    """A FeatureCollection: each input point (WGS-84 geometry out) with its chain in properties.

    Send ``application/geo+json`` / ``application/json`` (a FeatureCollection of
    Points) or ``text/csv`` (columns ``lon``/``lat``, or ``longitude``/``latitude``,
    ``lng``, ``x``/``y``; other columns are echoed), or a multipart upload with a
    ``file`` field.  Points outside the district get ``method: outside``.
    """
    points = await read_points(request, max_points=settings.limits.locate_batch_points)
    located = await run_in_threadpool(
        locate_batch,
        session=session,
        lons=points.lons,
        lats=points.lats,
        ids=points.ids,
        properties=points.properties,
        crs=crs,
        at=at,
        tolerance_m=settings.cases.locate_tolerance_m,
    )
    return located.as_geojson()

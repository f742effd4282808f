"""`GET /geocode` (address → standard addresses and their grid) and `GET /geocode/reverse`.

Public: a resident types their address and learns their grid and worker's name;
no personal data of anybody comes out (the worker's phone only for staff).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from geo_api.auth import EVERYONE, Principal, allow
from geo_api.deps import SessionDep, SettingsDep
from geo_api.fast_auth import allow_fast
from geo_api.routers.residents_nearby import wgs84_point
from geo_api.schemas.base_data import GeocodeHit, GeocodeOut
from geo_api.schemas.case_shapes import location_out, worker_out
from geo_api.schemas.cases import CRS
from grids.base_data.address_cache import ADDRESSES, Book, recall, remember
from grids.base_data.geocode import (
    Geocoded,
    answer_key,
    geocode,
    placed,
    reverse_geocode,
    structural_matches,
)
from grids.cases.assign import contacts_for, contacts_ready, contacts_stamp
from grids.grid.grid_cache import GRIDS
from grids.grid.locate import live_ready
from layers.core.errors import InvalidInputError

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


def _results_json(session: Any, found: list[Geocoded], staff: bool) -> str:
    """The results as the response model writes them (validated once, then kept as text)."""
    hits = [
        GeocodeHit.model_validate(_hit(session, g, staff)).model_dump(
            mode="json", exclude_none=True
        )
        for g in found
    ]
    return json.dumps(hits, ensure_ascii=False, separators=(",", ":"))


def _respond(q: str, results: str) -> Response:
    body = '{"query":' + json.dumps(q, ensure_ascii=False) + ',"results":' + results + "}"
    return Response(body.encode(), media_type="application/json")


def _hot(request: Request) -> Book | None:
    """The address book when everything a geocode needs is in memory and trusted, else None."""
    with request.app.state.sessionmaker() as probe:
        if ADDRESSES.trusted(probe) and live_ready(session=probe) and contacts_ready(session=probe):
            return ADDRESSES.peek(probe)
    return None


@router.get(
    "",
    response_model=GeocodeOut,
    response_model_exclude_none=True,
    summary="Standard addresses for an address text, ranked, with their grid and worker",
)
async def search(
    request: Request,
    principal: Annotated[Principal, allow_fast(*EVERYONE)],
    q: Annotated[str, Query(max_length=200, description="An address as a resident writes it.")],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> Response:
    """Exact, then component, then fuzzy (trigram) matches; `score` 0–1, best first.

    The hot path: with the addresses, the grid and the contacts in memory and
    trusted (a LISTEN follows their changes), an answer kept for the same
    normalised text is sent again, and an exact or component match is made on
    the event loop without a query; a fuzzy one asks the trigram index in a
    worker thread.
    """
    if not q.strip():
        raise InvalidInputError("send an address in q", code="empty_query")
    state, staff = request.app.state, principal.is_staff
    tolerance = state.settings.cases.locate_tolerance_m
    size = state.settings.cases.geocode_cache_size
    book = _hot(request)
    if book is not None:
        key = answer_key(book, q, limit, staff)
        with state.sessionmaker() as session:
            # what a kept answer depends on besides the book: the live grid, the contacts
            stamp = (GRIDS.generation, contacts_stamp(session=session))
            kept = recall(book, key, stamp)
            if kept is not None:
                return _respond(q, kept)
            matches = structural_matches(book, q, limit)
            if matches is not None:
                results = _results_json(session, placed(session, book, matches, tolerance), staff)
                remember(book, key, stamp, results, size)
                return _respond(q, results)

    def answer() -> str:
        with state.sessionmaker() as session:
            found = geocode(session=session, q=q, limit=limit, tolerance_m=tolerance)
            results = _results_json(session, found, staff)
            if book is not None:  # made from the trusted book: keep it (fuzzy answers too)
                remember(book, key, stamp, results, size)
            return results

    return _respond(q, await run_in_threadpool(answer))


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

"""What a resident's pages call besides intake: nearby reports, a case's live events, the rating.

- `GET /reports/nearby`: same-category reports ≤ 50 m / 24 h of a point, nothing personal.
- `GET /incidents/{id}/stream`: Server-Sent Events of the case's new events, pushed
  through PostgreSQL LISTEN/NOTIFY (`geo_api.background.case_events`); resume with
  ``Last-Event-ID``.  Residents send their case token in ``X-Case-Token`` (the
  page reads the stream with `fetch`, which can send headers; EventSource cannot).
- `POST /incidents/{id}/rating` (the reporter, once, after closure), `GET` to read it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from geo_api.auth import EVERYONE, Principal, Role, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.routers.incidents import CaseId, CaseToken
from geo_api.routers.residents_nearby import wgs84_point
from geo_api.schemas.case_shapes import actor_of
from geo_api.schemas.cases import CRS
from geo_api.schemas.faces import NearbyReportOut, RatingOut
from grids.cases.nearby_reports import nearby_reports
from grids.cases.rating import rate_case, rating_of
from grids.cases.views import visible_case
from layers.core.errors import NotFoundError, WanggeError
from layers.tables.incidents import IncidentEvent

router = APIRouter(tags=["residents"])

KEEPALIVE_S = 15.0
"""A comment line this often keeps proxies from closing a quiet stream."""


class NotAcceptableError(WanggeError):
    """The client did not ask for what the endpoint answers (406)."""

    status_code = 406
    code = "not_acceptable"


class RatingIn(BaseModel):
    """The reporter's rating: 1–5 and an optional comment."""

    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5, strict=True)
    comment: str | None = Field(None, max_length=500)


@router.get(
    "/reports/nearby",
    response_model=list[NearbyReportOut],
    dependencies=[allow(*EVERYONE)],
    summary="Recent reports near a point",
)
def nearby(
    session: SessionDep,
    now: NowDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    category: Annotated[str, Query(pattern=r"^[0-9]{4}$")],
    crs: CRS = "wgs84",
) -> list[dict[str, Any]]:
    """Same category, ≤ 50 m, the 24 h before now: number, status, time, distance — no text."""
    x, y = wgs84_point(lon, lat, crs)
    found = nearby_reports(session=session, lon=x, lat=y, category=category, now=now)
    return [
        {
            "id": r.id,
            "category": r.category,
            "category_name": r.category_name,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
            "distance_m": round(r.distance_m, 1),
        }
        for r in found
    ]


def _event_json(e: IncidentEvent, staff: bool) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "action": e.action,
        "role": e.role,
        "actor": e.actor if staff else None,
        "from_status": e.from_status,
        "to_status": e.to_status,
    }


@router.get(
    "/incidents/{incident_id}/stream",
    response_class=StreamingResponse,
    summary="A case's new events, pushed (SSE)",
)
def stream(
    incident_id: CaseId,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: CaseToken = None,
    accept: Annotated[str | None, Header()] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """``text/event-stream``: each event as ``id``/``data`` (JSON), after ``Last-Event-ID``.

    404 when the caller may not see the case; 406 unless ``Accept: text/event-stream``.
    """
    visible_case(session=session, incident_id=incident_id, actor=actor_of(principal), token=token)
    session.close()  # the stream may stay open for hours: hold no connection meanwhile
    if "text/event-stream" not in (accept or ""):
        raise NotAcceptableError("send Accept: text/event-stream", code="event_stream_only")
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    body = _events(request, incident_id, after, principal.is_staff)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


async def _events(
    request: Request, incident_id: int, after: int, staff: bool
) -> AsyncIterator[str]:
    hub = request.app.state.case_events
    sub = hub.subscribe(incident_id)
    maker = request.app.state.sessionmaker

    def newer(last: int) -> list[dict[str, Any]]:
        with maker() as s:
            rows = s.scalars(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == incident_id, IncidentEvent.id > last)
                .order_by(IncidentEvent.id)
                .limit(500)
            )
            return [_event_json(e, staff) for e in rows]

    try:
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            for event in await run_in_threadpool(newer, after):
                after = event["id"]
                yield f"id: {after}\nevent: case\ndata: {json.dumps(event)}\n\n"
            if not await sub.wait(KEEPALIVE_S):
                yield ": keep-alive\n\n"
    finally:
        hub.unsubscribe(sub)


@router.post(
    "/incidents/{incident_id}/rating",
    response_model=RatingOut,
    status_code=201,
    summary="The reporter rates a closed case (评价)",
)
def rate(
    incident_id: CaseId,
    body: RatingIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.RESIDENT)],
    token: CaseToken = None,
) -> dict[str, Any]:
    """Once per case, after closure, by the reporter (case token or the reporting key); audited.

    404 for anyone but the reporter, 409 ``not_closed`` before closure, 409
    ``already_rated`` the second time.  A closed case becomes ``evaluated``.
    """
    rating = rate_case(
        session=session,
        incident_id=incident_id,
        actor=actor_of(principal),
        token=token,
        score=body.score,
        comment=body.comment,
        now=now,
    )
    session.commit()
    return {
        "incident_id": rating.incident_id,
        "score": rating.score,
        "comment": rating.comment,
        "rated_at": rating.rated_at.isoformat(),
        "status": rating.status,
    }


@router.get(
    "/incidents/{incident_id}/rating",
    response_model=RatingOut,
    summary="A case's rating by its reporter",
)
def read_rating(
    incident_id: CaseId,
    session: SessionDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: CaseToken = None,
) -> dict[str, Any]:
    """The rating, to whoever may see the case; 404 when there is none (yet)."""
    visible_case(session=session, incident_id=incident_id, actor=actor_of(principal), token=token)
    found = rating_of(session=session, incident_id=incident_id)
    if found is None:
        raise NotFoundError(f"case {incident_id} is not rated", code="not_rated")
    return {
        "incident_id": found.incident_id,
        "score": found.score,
        "comment": found.comment,
        "rated_at": found.rated_at.isoformat(),
    }

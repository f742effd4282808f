"""The dispatchers' live board: the page (`/board`), its data and its push stream.

- `GET /board/cases`: the open cases the caller may see as GeoJSON, in pages
  (``next_offset`` until none: the board loads them all, nothing dropped silently),
  with the queue's filters, each with its overdue ``alarm``; the first page carries
  the ``cursor`` to follow from.
- `GET /board/workers`: on-duty workers at their positions with their open load.
- `GET /board/stream`: Server-Sent Events of case events and worker positions after
  ``Last-Event-ID`` (the cursor), woken through PostgreSQL LISTEN/NOTIFY (one
  listening connection per server, `geo_api.background.case_events`), no polling.

Writes (dispatching) use the existing `POST /incidents/{id}/transitions` with
``If-Match`` through the sign-in session and its CSRF token, as the handheld does.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from geo_api.auth import SESSION_COOKIE, Principal, Role, allow, csrf_token
from geo_api.background.case_events import EVERY_CASE
from geo_api.deps import NowDep, SessionDep, SettingsDep
from geo_api.routers.case_faces import KEEPALIVE_S, NotAcceptableError
from geo_api.routers.dispatch import _bbox
from geo_api.routers.maps import _options, page
from geo_api.schemas.case_shapes import actor_of
from grids.cases.access import Actor
from grids.cases.board import (
    MAX_CHANGES,
    Changes,
    Cursor,
    Watermark,
    board_changes,
    board_workers,
    cursor_now,
    home_street,
    with_alarms,
)
from grids.cases.dispatch import QueueFilter, queue
from layers.tables.incidents import OPEN_STATUSES
from maps import board

router = APIRouter(tags=["board"])
DISPATCHERS = allow(Role.DISPATCHER, Role.ADMIN)
PAGE_MAX = 2000
GAP_POLL_S = 0.5
"""While an id below sent ones is missing, look again this often (its commit also wakes us)."""
COALESCE_S = 0.2
"""After a wake-up, gather this long: at 100 intakes/s a board reads 5 times a second, not 100."""


class FeaturesOut(BaseModel):
    """A GeoJSON FeatureCollection page (``next_offset`` null on the last page)."""

    type: str = "FeatureCollection"
    features: list[dict[str, Any]]
    total: int
    next_offset: int | None = None
    cursor: str | None = None
    now: datetime | None = None


def _point(row: dict[str, Any]) -> dict[str, Any]:
    lon, lat = row.pop("lon"), row.pop("lat")
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": row,
    }


@router.get("/board", response_class=HTMLResponse, summary="The dispatchers' live board")
def board_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, DISPATCHERS],
) -> HTMLResponse:
    """The map, the queue, the case panel; a street unit's dispatcher starts on their street."""
    cookie = request.cookies.get(SESSION_COOKIE)
    options = _options(settings)
    html = board.board_page(
        options,
        csrf=csrf_token(cookie) if cookie else "",
        me=principal.name,
        street=home_street(session=session, actor=actor_of(principal)),
    )
    return page(html, settings, options)


@router.get("/board/cases", response_model=FeaturesOut, summary="The board's cases (GeoJSON)")
def board_cases(
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, DISPATCHERS],
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    street: Annotated[str | None, Query(max_length=9)] = None,
    community: Annotated[str | None, Query(max_length=12)] = None,
    cell: Annotated[str | None, Query(max_length=21)] = None,
    status: Annotated[str | None, Query(description="Comma-separated; default open")] = None,
    category: Annotated[str | None, Query(pattern=r"^[0-9]{2}([0-9]{2})?$")] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_MAX,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Soonest deadline first, as the queue; follow ``next_offset`` to the last page."""
    cursor = cursor_now(session=session) if offset == 0 else None
    statuses = tuple(s.strip() for s in status.split(",") if s.strip()) if status else OPEN_STATUSES
    found = queue(
        session=session,
        filters=QueueFilter(
            bbox=_bbox(bbox),
            street=street,
            community=community,
            cell=cell,
            statuses=statuses,
            category=category,
            overdue=overdue,
        ),
        actor=actor_of(principal),
        limit=limit,
        offset=offset,
        now=now,
    )
    with_alarms(session=session, rows=found.rows, now=now)
    more = offset + len(found.rows) < found.total
    return {
        "features": [_point(r) for r in found.rows],
        "total": found.total,
        "next_offset": offset + len(found.rows) if more else None,
        "cursor": str(cursor) if cursor else None,
        "now": now,
    }


@router.get("/board/workers", response_model=FeaturesOut, summary="On-duty workers (GeoJSON)")
def workers(session: SessionDep, principal: Annotated[Principal, DISPATCHERS]) -> dict[str, Any]:
    """Where each on-duty worker last was, and how many open cases they hold."""
    rows = board_workers(session=session)
    return {"features": [_point(r) for r in rows], "total": len(rows)}


def _json(value: Any) -> str:
    return json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


@router.get("/board/stream", response_class=StreamingResponse, summary="The board's pushes (SSE)")
def stream(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, DISPATCHERS],
    accept: Annotated[str | None, Header()] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """``text/event-stream``: ``case`` and ``position`` events after ``Last-Event-ID``.

    The id is the cursor ``"<event id>.<position id>"`` from `GET /board/cases`
    or the stream itself; without one the stream starts from now.
    """
    if "text/event-stream" not in (accept or ""):
        raise NotAcceptableError("send Accept: text/event-stream", code="event_stream_only")
    after = Cursor.parse(last_event_id) or cursor_now(session=session)
    session.close()  # the stream may stay open for hours: hold no connection meanwhile
    body = _pushes(request, actor_of(principal), after)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


async def _pushes(request: Request, actor: Actor, after: Cursor) -> AsyncIterator[str]:
    hub = request.app.state.case_events
    sub = hub.subscribe(EVERY_CASE)
    maker, clock = request.app.state.sessionmaker, request.app.state.clock
    marks = (Watermark(after.event_id), Watermark(after.position_id))

    def read() -> Changes:
        with maker() as s:
            return board_changes(
                session=s,
                actor=actor,
                after=Cursor(marks[0].mark, marks[1].mark),
                now=clock(),
                sent=(marks[0].sent, marks[1].sent),
            )

    try:
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            changes = await run_in_threadpool(read)
            for e in changes.events:
                yield f"event: case\ndata: {_json(e)}\n\n"
            for p in changes.positions:
                yield f"event: position\ndata: {_json(p)}\n\n"
            t = time.monotonic()
            for mark, ids in zip(marks, (changes.event_ids, changes.position_ids), strict=True):
                mark.fresh(ids)
                mark.advance(ids, t)
            moved = Cursor(marks[0].mark, marks[1].mark)
            if moved != after:  # the safe cursor: a resume from it misses nothing
                yield f"id: {moved}\nevent: cursor\ndata: {_json(str(moved))}\n\n"
            full = MAX_CHANGES in (len(changes.event_ids), len(changes.position_ids))
            if full and moved != after:
                after = moved
                continue  # more waiting: read on before sleeping
            after = moved
            waiting = marks[0].waiting or marks[1].waiting
            if await sub.wait(GAP_POLL_S if waiting else KEEPALIVE_S):
                await asyncio.sleep(COALESCE_S)  # one read for the burst, not one per commit
                sub.event.clear()  # what woke us meanwhile is in the next read
            elif not waiting:
                yield ": keep-alive\n\n"
    finally:
        hub.unsubscribe(sub)

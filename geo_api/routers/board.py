"""The dispatchers' live board: the page (`/board`), its data and its push stream.

- `GET /board/cases`: the open cases the caller may see as GeoJSON, in pages
  (``next_offset`` until none: the board loads them all, nothing dropped silently),
  with the queue's filters, each with its overdue ``alarm``; the first page carries
  the ``cursor`` to follow from.
- `GET /board/workers`: on-duty workers at their positions with their open load.
- `GET /board/stream`: Server-Sent Events of case events and worker positions after
  ``Last-Event-ID`` (the cursor), woken through PostgreSQL LISTEN/NOTIFY (one
  listening connection per server, `geo_api.background.case_events`), no polling;
  one shared reader per server process reads the changes once for all its boards
  (`geo_api.background.board_feed`) and each board sends what its scope may see.

Writes (dispatching) use the existing `POST /incidents/{id}/transitions` with
``If-Match`` through the sign-in session and its CSRF token, as the handheld does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from geo_api.auth import SESSION_COOKIE, Principal, Role, allow, csrf_token
from geo_api.background.board_feed import Batch, Board, BoardFeed, catch_up, sse_json
from geo_api.deps import NowDep, SessionDep, SettingsDep
from geo_api.routers.case_faces import KEEPALIVE_S, NotAcceptableError
from geo_api.routers.dispatch import _bbox
from geo_api.routers.maps import _options, page
from geo_api.schemas.case_shapes import actor_of
from grids.cases.access import Actor
from grids.cases.board import (
    Cursor,
    ScopeKey,
    board_workers,
    cursor_now,
    home_street,
    scope_key,
    visible_cases,
    with_alarms,
)
from grids.cases.dispatch import QueueFilter, queue
from layers.core.errors import InvalidInputError
from layers.tables.incidents import OPEN_STATUSES
from maps import board

router = APIRouter(tags=["board"])
DISPATCHERS = allow(Role.DISPATCHER, Role.ADMIN)
PAGE_MAX = 2000
IDS_MAX = 500


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


def board_filters(
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat")] = None,
    street: Annotated[str | None, Query(max_length=9)] = None,
    community: Annotated[str | None, Query(max_length=12)] = None,
    cell: Annotated[str | None, Query(max_length=21)] = None,
    status: Annotated[str | None, Query(description="Comma-separated; default open")] = None,
    category: Annotated[str | None, Query(pattern=r"^[0-9]{2}([0-9]{2})?$")] = None,
    overdue: bool | None = None,
    ids: Annotated[
        str | None,
        Query(
            max_length=IDS_MAX * 21,
            pattern=r"^[0-9]{1,18}(,[0-9]{1,18})*$",
            description=f"Only these cases (comma-separated, at most {IDS_MAX})",
        ),
    ] = None,
) -> QueueFilter:
    """The board's filters (the queue's), shared by its GeoJSON pages and its columns."""
    statuses = tuple(s.strip() for s in status.split(",") if s.strip()) if status else OPEN_STATUSES
    named = tuple(int(i) for i in ids.split(",")) if ids else None
    if named is not None and len(named) > IDS_MAX:
        raise InvalidInputError(f"{len(named)} ids (at most {IDS_MAX})", code="too_many_ids")
    return QueueFilter(
        ids=named,
        bbox=_bbox(bbox),
        street=street,
        community=community,
        cell=cell,
        statuses=statuses,
        category=category,
        overdue=overdue,
    )


BoardFilters = Annotated[QueueFilter, Depends(board_filters)]


@router.get("/board/cases", response_model=FeaturesOut, summary="The board's cases (GeoJSON)")
def board_cases(
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, DISPATCHERS],
    filters: BoardFilters,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_MAX,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Soonest deadline first, as the queue; follow ``next_offset`` to the last page."""
    cursor = cursor_now(session=session) if offset == 0 else None
    found = queue(
        session=session,
        filters=filters,
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


_json = sse_json


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
    actor = actor_of(principal)
    scope = scope_key(session=session, actor=actor)
    session.close()  # the stream may stay open for hours: hold no connection meanwhile
    body = _pushes(request, actor, scope, after)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


async def _pushes(
    request: Request, actor: Actor, scope: ScopeKey, after: Cursor
) -> AsyncIterator[str]:
    """The board's stream: what it missed (read for it alone), then the process's shared feed."""
    feed: BoardFeed = request.app.state.board_feed
    board = feed.join(scope, after)
    cursor = after
    try:
        yield "retry: 2000\n\n"
        maker, clock = request.app.state.sessionmaker, request.app.state.clock
        async for chunk in catch_up(maker, clock, actor, board):
            yield chunk
        moved = _higher(after, board.joined.mark)
        texts: list[str] = []
        while True:
            # One write per wake-up, the cursor in it: a send costs the whole middleware
            # stack and a syscall, and 50 boards x 10 batches a second add up.
            chunk = "".join(texts)
            if moved != cursor:  # the safe cursor: a resume from it misses nothing
                cursor = moved
                chunk += f"id: {cursor}\nevent: cursor\ndata: {_json(str(cursor))}\n\n"
            if chunk:
                yield chunk
            try:
                async with asyncio.timeout(KEEPALIVE_S):
                    batch = await board.queue.get()
            except TimeoutError:
                if await request.is_disconnected():  # else Starlette's listener ends us
                    return
                texts = []
                yield ": keep-alive\n\n"
                continue
            if batch is None:
                return  # fell too far behind: the board resumes from its cursor
            texts = await _mine(batch, board, maker)
            moved = _higher(after, batch.cursor)
    finally:
        feed.leave(board)


def _higher(a: Cursor, b: Cursor) -> Cursor:
    return Cursor(max(a.event_id, b.event_id), max(a.position_id, b.position_id))


async def _mine(batch: Batch, board: Board, maker: Any) -> list[str]:
    """The batch's texts this board may see and has not had (its start may be ahead of the feed)."""
    visible = batch.visible.get(board.scope)
    if visible is None and batch.events:  # joined during the read: ask for this scope alone

        def ask() -> frozenset[int]:
            with maker() as s:
                ids = {i for _, i, _ in batch.events}
                return visible_cases(session=s, scopes=[board.scope], ids=ids)[board.scope]

        visible = await run_in_threadpool(ask)
    start = board.start
    texts = [t for i, case, t in batch.events if i > start.event_id and case in (visible or ())]
    texts.extend(t for i, t in batch.positions if i > start.position_id)
    return texts

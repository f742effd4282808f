"""The leader's dashboard (`/dashboard`): the district at a glance, as a command centre's wall.

- `GET /dashboard`: the page (ECharts served from /static, nothing from a CDN);
- `GET /dashboard/figures`: every chart as a small table, as of the app clock;
- `GET /dashboard/figures/{chart}.csv`: one chart's table as CSV (what the chart shows);
- `GET /dashboard/stream`: Server-Sent Events ``changed`` when any case moves, woken by
  the case event hub (PostgreSQL LISTEN/NOTIFY); the page then refetches the figures.
  No case data travels on this stream, so it is open to everyone who may see the figures.

Roles: those who read the case KPIs (`OVERSIGHT`: dispatchers, planners — the district's
leaders' keys — and admins), as `GET /analytics/kpis`.  Aggregates only: no personal data.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from geo_api.auth import Principal, allow
from geo_api.background.case_events import EVERY_CASE
from geo_api.deps import NowDep, SessionDep, SettingsDep
from geo_api.routers.analytics import _report
from geo_api.routers.case_faces import KEEPALIVE_S, NotAcceptableError
from geo_api.routers.maps import _options, page
from geo_api.schemas.dashboard import Figures
from grids.cases.dashboard import camera_chart, case_charts, periods
from layers.core.errors import NotFoundError
from layers.core.roles import OVERSIGHT
from maps import dashboard

router = APIRouter(tags=["dashboard"])
LEADERS = allow(*OVERSIGHT)
SETTLE_S = 1.0
"""After a wake-up, wait this long and send one ``changed`` for the whole burst."""


@router.get("/dashboard", response_class=HTMLResponse, summary="The leader's dashboard")
def dashboard_page(settings: SettingsDep, principal: Annotated[Principal, LEADERS]) -> HTMLResponse:
    """The page shell; dashboard.js loads the figures and follows the stream."""
    options = _options(settings)
    return page(dashboard.dashboard_page(options, me=principal.name), settings, options)


def _figures(session, settings, principal: Principal, now: datetime) -> dict[str, Any]:
    charts = case_charts(session=session, now=now)
    report = _report(session, settings, principal, None, None)
    charts.insert(-1, camera_chart(dataclasses.asdict(report.summary)))
    starts = periods(now)
    return {
        "now": now,
        "today_from": starts["today"],
        "month_from": starts["month"],
        "window_from": starts["window"],
        "charts": charts,
    }


@router.get("/dashboard/figures", response_model=Figures, summary="Every chart's numbers")
def figures(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Annotated[Principal, LEADERS],
) -> dict[str, Any]:
    """Counts, on-time rates, levels, rework, satisfaction, channels, cameras, hot cells."""
    return _figures(session, settings, principal, now)


@router.get(
    "/dashboard/figures/{chart}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="One chart's numbers as CSV",
)
def figures_csv(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Annotated[Principal, LEADERS],
    chart: Annotated[str, Path(pattern=r"^[a-z_]{1,40}$")],
) -> Response:
    """The chart's columns as the header row, then its rows (UTF-8 with a BOM, for Excel)."""
    found = next((c for c in _figures(session, settings, principal, now)["charts"]
                  if c["id"] == chart), None)  # fmt: skip
    if found is None:
        raise NotFoundError(f"no chart {chart!r}", code="chart_not_found")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(found["columns"])
    writer.writerows(["" if v is None else v for v in row] for row in found["rows"])
    headers = {
        "Content-Disposition": f'attachment; filename="{chart}.csv"',
        "Cache-Control": "no-store",
    }
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers=headers)  # fmt: skip


@router.get(
    "/dashboard/stream", response_class=StreamingResponse, summary="Pushes: the figures changed"
)
def stream(
    request: Request,
    principal: Annotated[Principal, LEADERS],
    accept: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """``text/event-stream``: one ``changed`` per burst of case events, keep-alives between."""
    if "text/event-stream" not in (accept or ""):
        raise NotAcceptableError("send Accept: text/event-stream", code="event_stream_only")
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(_changes(request), media_type="text/event-stream", headers=headers)


async def _changes(request: Request) -> AsyncIterator[str]:
    hub = request.app.state.case_events
    sub = hub.subscribe(EVERY_CASE)
    maker = request.app.state.sessionmaker

    def newest() -> int:  # a worker's position wakes the hub too: only case events count
        with maker() as s:
            return int(s.execute(text("SELECT coalesce(max(id), 0) FROM incident_events")).one()[0])

    try:
        seen = await run_in_threadpool(newest)
        yield "retry: 2000\n\nevent: ready\ndata: {}\n\n"
        while not await request.is_disconnected():
            if not await sub.wait(KEEPALIVE_S):
                yield ": keep-alive\n\n"
                continue
            await asyncio.sleep(SETTLE_S)
            sub.event.clear()  # the burst's later wake-ups are covered by this read
            now = await run_in_threadpool(newest)
            if now != seen:
                seen = now
                yield f"id: {now}\nevent: changed\ndata: {now}\n\n"
    finally:
        hub.unsubscribe(sub)

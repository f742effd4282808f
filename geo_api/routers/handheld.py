"""The grid worker's handheld: the page (`/handheld`), positions and the on-duty switch.

The page is used signed in (`POST /login`); its writes go through the sign-in
session with the session's CSRF token in `X-CSRF-Token` (written into the page
by the server), so another site can make the browser send the cookie but never
a write.  API clients use their Bearer keys as everywhere.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from geo_api.auth import SESSION_COOKIE, Principal, Role, allow, csrf_token
from geo_api.deps import NowDep, SessionDep, SettingsDep
from geo_api.routers.handheld_rota import rota_section
from geo_api.routers.maps import _options, page
from geo_api.schemas.base_data import HereOut
from geo_api.schemas.cases import Lat, Lon
from geo_api.schemas.faces import DutyOut, StoredOut
from grids.base_data.here import Reader, records_here
from grids.cases.positions import MAX_BATCH, Fix, record_positions, set_duty
from layers.core.errors import ForbiddenError, InvalidInputError
from layers.tables.workers import Worker
from maps.assets import asset_urls

router = APIRouter(tags=["handheld"])
WORKER = allow(Role.GRID_WORKER)


class FixIn(BaseModel):
    """One position: when (`at`, or `age_s` seconds before the request), where, how precise.

    Pages send `age_s`: a phone's clock may be wrong, the time since the fix is not.
    """

    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None
    age_s: float | None = Field(None, ge=0, le=7 * 86400)
    lon: Lon
    lat: Lat
    accuracy_m: float | None = Field(None, ge=0, le=100_000)


class PositionsIn(BaseModel):
    """A batch of positions (the page sends what it gathered while offline, too)."""

    model_config = ConfigDict(extra="forbid")

    positions: list[FixIn] = Field(max_length=MAX_BATCH)


class DutyIn(BaseModel):
    """Start (true) or end (false) the shift."""

    model_config = ConfigDict(extra="forbid")

    on_duty: bool


def _worker_id(principal: Principal) -> int:
    if principal.worker_id is None:
        raise ForbiddenError("this key belongs to no grid worker", code="no_worker")
    return principal.worker_id


@router.post(
    "/workers/me/positions", response_model=StoredOut, summary="Report my positions (a batch)"
)
def positions(
    body: PositionsIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, WORKER],
) -> dict[str, Any]:
    """Appended to my track; the newest becomes my current position."""
    if any((p.at is None) == (p.age_s is None) for p in body.positions):
        raise InvalidInputError("give each position `at` or `age_s`", code="position_time")
    fixes = [
        Fix(p.at or now - timedelta(seconds=p.age_s or 0), p.lon, p.lat, p.accuracy_m)
        for p in body.positions
    ]
    n = record_positions(session=session, worker_id=_worker_id(principal), fixes=fixes, now=now)
    session.commit()
    return {"stored": n}


@router.post("/workers/me/duty", response_model=DutyOut, summary="Start or end my shift")
def duty(
    body: DutyIn, session: SessionDep, now: NowDep, principal: Annotated[Principal, WORKER]
) -> dict[str, Any]:
    """Assignment follows duty (an off-duty worker's new cases go to the substitute)."""
    worker = set_duty(
        session=session,
        worker_id=_worker_id(principal),
        on_duty=body.on_duty,
        actor=principal.name,
        role=str(principal.role),
        now=now,
    )
    session.commit()
    return {"worker_id": worker.id, "on_duty": worker.on_duty}


@router.get(
    "/workers/me/records-here",
    response_model=HereOut,
    response_model_exclude_none=True,
    summary="The records near my position in my own cell (masked; the read is audited)",
)
def here(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Annotated[Principal, WORKER],
    lon: Annotated[float, Query(ge=-180, le=180, description="My position, WGS-84.")],
    lat: Annotated[float, Query(ge=-90, le=90)],
    purpose: Annotated[
        str, Query(min_length=2, max_length=200, description="Why you look (kept in the audit).")
    ],
    radius_m: Annotated[float, Query(gt=0, le=500)] = 100.0,
) -> dict[str, Any]:
    """Addresses nearest first with their dwellings, residents (masked), owners and tenants, and
    units; only what the locate rule puts in my cell, so each can be changed from here."""
    found = records_here(
        session=session,
        reader=Reader(str(principal.role), principal.name, _worker_id(principal)),
        lon=lon,
        lat=lat,
        radius_m=radius_m,
        purpose=purpose,
        now=now,
        tolerance_m=settings.cases.locate_tolerance_m,
    )
    session.commit()  # the audit entry of the read
    return found


_PAGE = """<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>网格员手持终端 handheld</title>
<link rel="stylesheet" href="{css}">
</head><body>
<main id="wg-hand" class="wg-face" data-csrf="{csrf}" data-worker="{worker}" data-name="{name}"
 data-duty="{duty}">
<h1>网格员 Grid worker: <span id="wg-me">{name}</span></h1>
<p><label><input type="checkbox" id="wg-duty"> 在岗 On duty</label>
 <span id="wg-net" aria-live="polite"></span></p>
<p id="wg-msg" role="status" aria-live="polite"></p>
<p><a href="/report">报告所见 Report what I see</a></p>
<p>待发送 Queued: <b id="wg-queued">0</b> · 位置 Positions sent: <b id="wg-sent">0</b></p>
<ol id="wg-cases" class="wg-cases"></ol>
<section id="wg-here">
 <h2>此处档案 Records here</h2>
 <label for="wg-here-purpose">用途 Purpose (audited)</label>
 <input id="wg-here-purpose" maxlength="200" value="入户走访 household visit">
 <label for="wg-here-radius">范围 Within</label>
 <select id="wg-here-radius"><option value="50">50 m</option>
  <option value="100" selected>100 m</option><option value="300">300 m</option></select>
 <button type="button" id="wg-here-go">查看此处档案 Show records here</button>
 <p id="wg-here-msg" role="status" aria-live="polite"></p>
 <ol id="wg-here-list"></ol>
</section>
{rota}
</main>
<script src="{status_js}"></script>
<script src="{js}"></script>
<script src="{here_js}"></script>
<script src="{rota_js}"></script>
</body></html>
"""


@router.get("/handheld", response_class=HTMLResponse, summary="The grid worker's handheld page")
def handheld_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, WORKER],
) -> HTMLResponse:
    """My open cases by deadline with distance, two-tap actions, positions, an offline queue."""
    cookie = request.cookies.get(SESSION_COOKIE)
    worker = session.get(Worker, principal.worker_id) if principal.worker_id else None
    urls = asset_urls("/static")
    body = _PAGE.format(
        css=urls["wangge_faces_css"],
        status_js=urls["wangge_status_js"],
        js=urls["wangge_handheld_js"],
        here_js=urls["wangge_here_js"],
        csrf=csrf_token(cookie) if cookie else "",
        worker=principal.worker_id or "",
        name=html.escape(principal.name),
        duty="true" if worker is not None and worker.on_duty else "false",
        rota=rota_section(session),
        rota_js=urls["wangge_handheld_rota_js"],
    )
    return page(body, settings, _options(settings))

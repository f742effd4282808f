"""The residents' pages: `/report` (file a problem on a map) and `/my-case` (follow it).

Public (no sign-in): a resident writes through `POST /incidents` with an
`Idempotency-Key` the page makes, and reads their case with the case token in
the `X-Case-Token` header.  The token is never part of a URL the server sees.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from geo_api.auth import EVERYONE, SESSION_COOKIE, Principal, Role, allow, csrf_token
from geo_api.deps import SessionDep, SettingsDep
from geo_api.routers.maps import _options, page
from grids.cases.nearby_reports import report_categories
from layers.map_data.map_layers import outlines
from maps import report

router = APIRouter(tags=["residents"])


@router.get(
    "/report",
    response_class=HTMLResponse,
    summary="Report a problem on a map (residents' page; grid workers' 'report what I see')",
)
def report_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
) -> HTMLResponse:
    """Pick the spot, see the grid and its worker, choose a category, describe, submit once.

    A signed-in grid worker gets the handheld's variant: channel ``handheld``, the
    spot taken from their position at once, the report written through their
    session (its CSRF token is in the page, which is then private).
    """
    options = _options(settings)
    worker = None
    cookie = request.cookies.get(SESSION_COOKIE)
    if principal.role == Role.GRID_WORKER and cookie:
        worker = report.WorkerReport(csrf=csrf_token(cookie))
    html = report.report_page(
        outlines(session=session), report_categories(session=session), options, worker
    )
    return page(html, settings, options, private=worker is not None)


@router.get(
    "/my-case",
    response_class=HTMLResponse,
    dependencies=[allow(*EVERYONE)],
    summary="Follow a case: the seven steps, live; rate it after closure (residents' page)",
)
def my_case_page(
    session: SessionDep, settings: SettingsDep, id: int | None = Query(None, ge=1, le=2**62)
) -> HTMLResponse:
    """The page only; the case itself is read by the page with the token in a header."""
    options = _options(settings)
    html = report.case_page(id, report_categories(session=session), options.static_url)
    return page(html, settings, options, private=False, blob_images=True)

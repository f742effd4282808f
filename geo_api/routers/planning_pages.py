"""The planners' editor page (`/planning/editor?revision=ID`): planners and admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from geo_api.auth import SESSION_COOKIE, Principal, allow, csrf_token
from geo_api.deps import SessionDep, SettingsDep
from geo_api.routers.maps import _options, page
from grids.planning.drafts import get_revision
from layers.core.roles import EDITORS
from maps.planning_editor import editor_page

router = APIRouter(tags=["planning editor"])


@router.get("/planning/editor", response_class=HTMLResponse, summary="The planners' map editor")
def editor(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: Annotated[Principal, allow(*EDITORS)],
    revision: Annotated[int, Query(ge=1, le=2_147_483_647)],
) -> HTMLResponse:
    """A draft's cells on a map with live figures, problems, undo, preview and publish."""
    get_revision(session=session, revision_id=revision)
    cookie = request.cookies.get(SESSION_COOKIE)
    options = _options(settings)
    html = editor_page(options, revision=revision, csrf=csrf_token(cookie) if cookie else "")
    return page(html, settings, options)

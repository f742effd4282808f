"""The handheld's duty section (值守): my shifts at the liaison posts, check in and out, and
what I saw on the patrol filed as a case (channel ``courtyard_patrol``).

A grid worker who is also a courtyard member (楼栋长, 单元长 … `courtyard_members.worker_id`)
sees the shifts they hold around now (`GET /workers/me/shifts`); the page's module
(`maps/static/wangge/handheld-rota.js`) checks them in and out and files reports through
the rota's own routes (`/self-governance/shifts/{id}/…`), which check that the shift is
theirs, in their community, and checked in before a report.  Kept apart from the rest of
the handheld so each part of the page can change on its own.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from geo_api.auth import Principal, Role, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.schemas.self_governance import MyShiftOut
from grids.cases.nearby_reports import report_categories
from grids.self_governance.rota import my_shifts
from layers.core.errors import ForbiddenError
from maps import escape
from maps.compact import script_json

router = APIRouter(tags=["handheld"])

SECTION = """<section id="wg-rota" class="wg-rota" aria-labelledby="wg-rota-h"
 data-categories="{categories}">
<h2 id="wg-rota-h">值守 My duty shifts</h2>
<p id="wg-rota-msg" role="status" aria-live="polite"></p>
<ol id="wg-shifts" class="wg-cases"></ol>
</section>"""


def rota_section(session: Session) -> str:
    """The page's duty section, with the categories a patrol report chooses from."""
    categories = [
        {"code": c["code"], "name": f"{c['name']} {c['name_en']}"}
        for c in report_categories(session=session)
    ]
    return SECTION.format(categories=escape.text(script_json(categories)))


@router.get(
    "/workers/me/shifts",
    response_model=list[MyShiftOut],
    summary="My duty shifts at the courtyards' liaison posts (from 12 h ago to 36 h ahead)",
)
def shifts(
    session: SessionDep, now: NowDep, principal: Annotated[Principal, allow(Role.GRID_WORKER)]
) -> list[dict[str, Any]]:
    """The shifts I hold as a courtyard member, oldest first, with their check-ins."""
    if principal.worker_id is None:
        raise ForbiddenError("this key belongs to no grid worker", code="no_worker")
    return my_shifts(session=session, worker_id=principal.worker_id, now=now)

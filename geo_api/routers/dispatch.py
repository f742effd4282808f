"""The dispatcher's queue and all-or-nothing assignment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from geo_api.auth import Principal, Role, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.schemas.case_shapes import actor_of, case_out
from geo_api.schemas.cases import AssignIn, IncidentOut, QueuePage
from grids.cases.dispatch import QueueFilter, assign, queue
from layers.core.errors import InvalidInputError
from layers.core.geojson_input import GeometryInputError, lonlat_bbox
from layers.tables.incidents import OPEN_STATUSES

router = APIRouter(prefix="/dispatch", tags=["dispatch"])


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        return lonlat_bbox(value)
    except GeometryInputError as exc:
        raise InvalidInputError(f"{exc} (WGS-84)", code="invalid_bbox") from None


@router.get("/queue", response_model=QueuePage, summary="Cases to work on, soonest deadline first")
def work_queue(
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.DISPATCHER, Role.ADMIN, Role.GRID_WORKER)],
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS-84)")] = None,
    street: Annotated[str | None, Query(max_length=9)] = None,
    community: Annotated[str | None, Query(max_length=12)] = None,
    cell: Annotated[str | None, Query(max_length=21, description="Cell code, any level.")] = None,
    status: Annotated[
        str | None, Query(description="Comma-separated statuses; default: every open one.")
    ] = None,
    category: Annotated[
        str | None, Query(pattern=r"^[0-9]{2}([0-9]{2})?$", description="Code or 2-digit major.")
    ] = None,
    overdue: bool | None = None,
    level: Literal["grid", "community", "street", "district"] | None = None,
    unit: Annotated[
        str | None, Query(max_length=16, description="A platform unit's code: its queue.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Paged; grid workers see only the cases of their cells and their own."""
    statuses = tuple(s.strip() for s in status.split(",") if s.strip()) if status else OPEN_STATUSES
    page = queue(
        session=session,
        filters=QueueFilter(
            bbox=_bbox(bbox),
            street=street,
            community=community,
            cell=cell,
            statuses=statuses,
            category=category,
            overdue=overdue,
            level=level,
            unit=unit,
        ),
        actor=actor_of(principal),
        limit=limit,
        offset=offset,
        now=now,
    )
    return {"total": page.total, "limit": limit, "offset": offset, "items": page.rows}


@router.post(
    "/assign",
    response_model=list[IncidentOut],
    response_model_exclude_unset=True,
    summary="Dispatch one or many cases, all or none",
)
def assign_many(
    body: AssignIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.DISPATCHER, Role.ADMIN)],
) -> list[dict[str, Any]]:
    """Each case goes to its worker at the version you saw; one failure fails the batch.

    The error lists every failed item (``errors``: incident, status, code).
    """
    results = assign(
        session=session,
        items=[(a.incident_id, a.worker_id, a.version) for a in body.assignments],
        actor=actor_of(principal),
        reason=body.reason,
        now=now,
    )
    session.commit()
    return [
        case_out(
            r.view.incident, r.view.location, r.view.assignee, principal, reporter=r.view.reporter
        )
        for r in results
    ]

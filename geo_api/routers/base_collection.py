"""Field collection (采集) over HTTP: grid workers' changes, the community's review, visits.

Grid workers change the records of their own cells only (403 `not_your_cell`);
dispatchers and admins — the community service stations and the centre —
review the changes that wait (`WANGGE_BASE_COLLECTION_REVIEW=true`).  Every
write is audited, and so is every read of changes and visits (they name
households).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from geo_api.auth import Principal, allow
from geo_api.deps import NowDep, SessionDep, SettingsDep
from geo_api.schemas.base_data import ChangeOut, ChangesOut, VisitOut, VisitsOut
from grids.base_data.collection import (
    ChangeRequest,
    Collector,
    list_changes,
    review_change,
    submit_change,
)
from grids.base_data.exports import export_xlsx
from grids.base_data.scope import worker_cell
from grids.base_data.visits import Visit, list_visits, record_visit
from layers.core.roles import DISPATCH, FIELD_WORK, SERVICE_STAFF, Role
from layers.tables.audit import record
from layers.tables.base_changes import CHANGE_KINDS, CHANGE_STATUSES

router = APIRouter(prefix="/base", tags=["base data"])
EXPORTERS = (Role.GRID_WORKER, Role.DISPATCHER, Role.PLANNER, Role.ADMIN)
"""Who exports (planners: addresses and units only, without contacts)."""


class ChangeIn(BaseModel):
    """A change seen in the field: its kind, the record's id (`target`), the new facts."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal[CHANGE_KINDS]  # type: ignore[valid-type]
    target: int | None = Field(None, ge=1, description="dwelling, person, unit or address id")
    data: dict[str, Any] = Field(default_factory=dict)
    note: str | None = Field(None, max_length=500)


class ReviewIn(BaseModel):
    """The community's decision on a pending change."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    note: str | None = Field(None, max_length=500)


class VisitIn(BaseModel):
    """One household visit: the day, what was checked, residents met, a note."""

    model_config = ConfigDict(extra="forbid")

    visited_on: date
    checked: list[str] = Field(min_length=1, max_length=10)
    residents_seen: int | None = Field(None, ge=0, le=100)
    note: str | None = Field(None, max_length=1000)


def _who(principal: Principal) -> Collector:
    return Collector(principal.role, principal.name, principal.worker_id)


@router.post(
    "/changes",
    status_code=201,
    response_model=ChangeOut,
    summary="Collect a change of a record in your cell",
)
def post_change(
    body: ChangeIn,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*FIELD_WORK)],
) -> dict[str, Any]:
    """Kept as a version with source `grid_collection`; applied now unless it waits for review."""
    change = submit_change(
        session=session,
        collector=_who(principal),
        change=ChangeRequest(body.kind, body.target, body.data, body.note),
        now=now,
        review=settings.base_collection_review,
        tolerance_m=settings.cases.locate_tolerance_m,
    )
    session.commit()
    return change


@router.get(
    "/changes",
    response_model=ChangesOut,
    summary="Collected changes (yours, or all for the community; audited)",
)
def get_changes(
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*SERVICE_STAFF)],
    status: Annotated[Literal[CHANGE_STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """A grid worker sees the changes collected in their cell; dispatchers and admins all."""
    where, params = ["TRUE"], {}
    if principal.role == Role.GRID_WORKER:
        where.append("c.cell_code = :cell")
        params["cell"] = worker_cell(session, principal.worker_id)[1]
    if status is not None:
        where.append("c.status = :status")
        params["status"] = status
    found = list_changes(session=session, where=" AND ".join(where), params=params, limit=limit)
    record(
        session=session,
        actor=principal.name,
        role=principal.role,
        action="personal_data.read",
        entity="base_changes",
        at=now,
        data={"face": "base_changes", "status": status, "changes": [c["id"] for c in found]},
    )
    session.commit()
    return {"results": found}


@router.post(
    "/changes/{change_id}/review",
    response_model=ChangeOut,
    summary="Approve or reject a pending change",
)
def post_review(
    change_id: int,
    body: ReviewIn,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*DISPATCH)],
) -> dict[str, Any]:
    """Approved, the change applies (409 `stale_change` when the record moved on meanwhile)."""
    change = review_change(
        session=session,
        reviewer=_who(principal),
        change_id=change_id,
        approve=body.decision == "approve",
        note=body.note,
        now=now,
        tolerance_m=settings.cases.locate_tolerance_m,
    )
    session.commit()
    return change


@router.post(
    "/dwellings/{dwelling_id}/visits",
    status_code=201,
    response_model=VisitOut,
    summary="Log a household visit (入户走访)",
)
def post_visit(
    dwelling_id: int,
    body: VisitIn,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*FIELD_WORK)],
) -> dict[str, Any]:
    """A dwelling of your own cell; the date not after today."""
    visit = record_visit(
        session=session,
        who=_who(principal),
        dwelling_id=dwelling_id,
        visit=Visit(body.visited_on, body.checked, body.residents_seen, body.note),
        now=now,
        tolerance_m=settings.cases.locate_tolerance_m,
    )
    session.commit()
    return visit


@router.get(
    "/dwellings/{dwelling_id}/visits",
    response_model=VisitsOut,
    summary="A dwelling's visit log (audited)",
)
def get_visits(
    dwelling_id: int,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*SERVICE_STAFF)],
) -> dict[str, Any]:
    """Newest first; grid workers only for the dwellings of their cell."""
    found = list_visits(
        session=session,
        who=_who(principal),
        dwelling_id=dwelling_id,
        now=now,
        tolerance_m=settings.cases.locate_tolerance_m,
    )
    session.commit()
    return {"results": found}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
    summary="The records you may see as XLSX with Chinese headers (audited)",
)
def get_export(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*EXPORTERS)],
    base_class: Annotated[
        Literal["addresses", "dwellings", "persons", "units", "visits"], Query(alias="class")
    ],
    purpose: Annotated[
        str | None, Query(max_length=200, description="Why (personal data).")
    ] = None,
    cell: Annotated[str | None, Query(max_length=21, description="Only this grid cell.")] = None,
) -> Response:
    """Grid workers: their cell; planners: addresses and units without contacts; IDs masked."""
    data, rows = export_xlsx(
        session=session,
        who=_who(principal),
        base_class=base_class,
        purpose=purpose,
        now=now,
        cell_code=cell,
        tolerance_m=settings.cases.locate_tolerance_m,
    )
    session.commit()
    name = f"{base_class}-{now:%Y%m%d}.xlsx"
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Rows": str(rows)},
    )

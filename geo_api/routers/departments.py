"""The departments (职能部门): their list, staff, queue and notices; transfers and their steps."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from geo_api.auth import STAFF, Principal, Role, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.routers.params import Moment
from geo_api.schemas.case_shapes import actor_of, case_out
from geo_api.schemas.safety import (
    DepartmentKPI,
    DepartmentOut,
    DepartmentQueue,
    DepartmentStaffIn,
    NoticeOut,
    StaffOut,
    StepIn,
    TransferIn,
    TransferOut,
)
from grids.cases.views import get_case
from grids.safety.boards import department_queue, departments, notices
from grids.safety.kpis import department_kpis
from grids.safety.staff import add_department_staff
from grids.safety.transfers import TransferResult, department_step, parts_of, transfer
from layers.core.errors import InvalidInputError
from layers.tables.case_transfers import OPEN_TRANSFER

router = APIRouter(tags=["departments"])

DeptCode = Annotated[str, Path(max_length=16, pattern=r"^[A-Za-z0-9_]+$")]
CaseId = Annotated[int, Path(ge=1, le=2**62, description="The incident id.")]
DEPT_READERS = (Role.DEPARTMENT, Role.DISPATCHER, Role.ADMIN)


def _out(result: TransferResult, principal: Principal, session) -> dict[str, Any]:
    view = result.view
    return {
        "incident": case_out(
            view.incident, view.location, view.assignee, principal, reporter=view.reporter
        ),
        "parts": parts_of(session=session, incident_id=view.incident.id),
    }


@router.get(
    "/departments",
    response_model=list[DepartmentOut],
    dependencies=[allow(*STAFF)],
    summary="The departments and the categories they answer for",
)
def list_departments(session: SessionDep) -> list[dict[str, Any]]:
    """The safety platform's departments first, then the base-data ones."""
    return departments(session=session)


@router.post(
    "/departments/{code}/staff",
    response_model=StaffOut,
    status_code=201,
    summary="Make a department key the staff of a department",
)
def join_department(
    code: DeptCode,
    body: DepartmentStaffIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.ADMIN)],
) -> dict[str, Any]:
    """The key then sees that department's cases (audited)."""
    add_department_staff(
        session=session, department=code, key_id=body.key_id, actor=actor_of(principal), now=now
    )
    session.commit()
    return {"department": code, "key_id": body.key_id}


@router.get(
    "/departments/{code}/queue",
    response_model=DepartmentQueue,
    summary="A department's parts of cases, soonest deadline first",
)
def queue_of_department(
    code: DeptCode,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*DEPT_READERS)],
    status: Annotated[str | None, Query(description="Comma-separated; default: open.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """A department key reads its own department's queue only; no reporter data."""
    statuses = tuple(s.strip() for s in status.split(",") if s.strip()) if status else OPEN_TRANSFER
    page = department_queue(
        session=session,
        code=code,
        actor=actor_of(principal),
        statuses=statuses,
        limit=limit,
        offset=offset,
        now=now,
    )
    return {"total": page.total, "limit": limit, "offset": offset, "items": page.rows}


@router.get(
    "/departments/{code}/notices",
    response_model=list[NoticeOut],
    summary="The latest notices to a department",
)
def department_notices(
    code: DeptCode,
    session: SessionDep,
    principal: Annotated[Principal, allow(*DEPT_READERS)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Transfers, returns of the lead, joint tasks: newest first."""
    return notices(session=session, actor=actor_of(principal), department=code, limit=limit)


@router.post(
    "/incidents/{incident_id}/transfers",
    response_model=TransferOut,
    status_code=201,
    summary="Transfer (转办) a case to a lead and supporting departments",
)
def transfer_case(
    incident_id: CaseId,
    body: TransferIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.DISPATCHER, Role.ADMIN)],
) -> dict[str, Any]:
    """The case goes to `dispatched`; each department gets its part, a notice and limits."""
    result = transfer(
        session=session,
        incident_id=incident_id,
        lead=body.lead,
        supports=body.support,
        instruction=body.instruction,
        actor=actor_of(principal),
        expected_version=body.version,
        now=now,
    )
    session.commit()
    return _out(result, principal, session)


@router.get(
    "/incidents/{incident_id}/transfers",
    response_model=TransferOut,
    summary="A case and its departments' parts",
)
def case_parts(
    incident_id: CaseId,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*DEPT_READERS)],
) -> dict[str, Any]:
    """Visible to the departments involved and to dispatchers of the case's area."""
    view = get_case(session=session, incident_id=incident_id, actor=actor_of(principal), now=now)
    session.commit()  # a reporter read in clear is audited
    return {
        "incident": case_out(
            view.incident, view.location, view.assignee, principal, reporter=view.reporter
        ),
        "parts": parts_of(session=session, incident_id=incident_id),
    }


@router.post(
    "/transfers/{transfer_id}/steps",
    response_model=TransferOut,
    summary="A department signs, starts, returns (退回) or finishes its part",
)
def step(
    transfer_id: Annotated[int, Path(ge=1, le=2**62)],
    body: StepIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.DEPARTMENT)],
) -> dict[str, Any]:
    """The lead's steps move the case: sign, start, finish (→ handled), return (→ returned)."""
    result = department_step(
        session=session,
        transfer_id=transfer_id,
        action=body.action,
        actor=actor_of(principal),
        expected_version=body.version,
        reason=body.reason,
        now=now,
    )
    session.commit()
    return _out(result, principal, session)


@router.get(
    "/analytics/kpis/departments",
    response_model=list[DepartmentKPI],
    dependencies=[allow(Role.DISPATCHER, Role.PLANNER, Role.ADMIN)],
    summary="Per department: received, on time, returned, rework",
)
def kpis_of_departments(
    session: SessionDep,
    now: NowDep,
    start: Annotated[Moment | None, Query(alias="from")] = None,
    end: Annotated[Moment | None, Query(alias="to")] = None,
) -> list[dict[str, Any]]:
    """Parts sent in [from, to) (default: the 30 days up to now)."""
    for moment in (start, end):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInputError("from/to need a time zone", code="invalid_period")
    end = end or now
    return department_kpis(session=session, start=start or end - timedelta(days=30), end=end)

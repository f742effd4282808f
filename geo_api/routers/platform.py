"""The three-level platform: its units and their staff and notices, the liaison rota, joint tasks.

Escalating (``escalate``), handing down (``hand_down``) and supervising (``supervise``)
a case are actions of `POST /incidents/{id}/transitions`; a unit's queue is
`GET /dispatch/queue?unit=`.  Where cases were resolved: `GET /analytics/kpis/levels`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from geo_api.auth import Principal, Role, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.routers.params import Moment
from geo_api.schemas.case_shapes import actor_of
from geo_api.schemas.safety import (
    JointTaskIn,
    JointTaskOut,
    LevelKPIs,
    NoticeOut,
    ShiftIn,
    ShiftOut,
    StaffIn,
    StaffOut,
    UnitOut,
)
from grids.safety.boards import mark_read, notices, units
from grids.safety.joint_duty import add_shift, joint_task, rota
from grids.safety.kpis import level_kpis
from grids.safety.staff import add_unit_staff
from layers.core.errors import InvalidInputError
from layers.tables.clocks import LOCAL_TZ

router = APIRouter(tags=["platform"])

UnitCode = Annotated[str, Path(max_length=16, pattern=r"^[A-Za-z0-9_]+$")]
CaseId = Annotated[int, Path(ge=1, le=2**62, description="The incident id.")]
BOARD = (Role.DISPATCHER, Role.PLANNER, Role.ADMIN)


@router.get(
    "/platform/units",
    response_model=list[UnitOut],
    dependencies=[allow(*BOARD)],
    summary="The district centre, the street sub-centres, the community stations",
)
def list_units(session: SessionDep, now: NowDep) -> list[dict[str, Any]]:
    """Each unit with its open queue, overdue and supervised (督办) counts."""
    return units(session=session, now=now)


@router.post(
    "/platform/units/{code}/staff",
    response_model=StaffOut,
    status_code=201,
    summary="Post a dispatcher's key or a handling worker at a unit",
)
def post_staff(
    code: UnitCode,
    body: StaffIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.ADMIN)],
) -> dict[str, Any]:
    """A dispatcher posted at a street or community unit is scoped to it (audited)."""
    add_unit_staff(
        session=session,
        unit=code,
        actor=actor_of(principal),
        now=now,
        key_id=body.key_id,
        worker_id=body.worker_id,
    )
    session.commit()
    return {"unit": code, "key_id": body.key_id, "worker_id": body.worker_id}


@router.get(
    "/platform/units/{code}/notices",
    response_model=list[NoticeOut],
    summary="The latest notices to a unit (escalated, informed, handed down, …)",
)
def unit_notices(
    code: UnitCode,
    session: SessionDep,
    principal: Annotated[Principal, allow(Role.DISPATCHER, Role.ADMIN)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """A local dispatcher reads its own unit's; the district centre any unit's."""
    return notices(session=session, actor=actor_of(principal), unit=code, limit=limit)


@router.post(
    "/platform/notices/{notice_id}/read",
    response_model=NoticeOut,
    summary="Mark a notice read by the unit or department that received it",
)
def read_notice(
    notice_id: Annotated[int, Path(ge=1, le=2**62)],
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.DISPATCHER, Role.ADMIN, Role.DEPARTMENT)],
) -> dict[str, Any]:
    """Sets ``read_at`` once (audited); 403 when the caller is not the receiver's staff."""
    notice = mark_read(session=session, actor=actor_of(principal), notice_id=notice_id, now=now)
    session.commit()
    return notice


@router.get(
    "/platform/liaisons",
    response_model=list[ShiftOut],
    dependencies=[allow(Role.DISPATCHER, Role.ADMIN, Role.DEPARTMENT)],
    summary="The joint-duty (联勤) rota of a day",
)
def liaisons(
    session: SessionDep,
    now: NowDep,
    day: date | None = None,
    unit: Annotated[str | None, Query(max_length=16)] = None,
) -> list[dict[str, Any]]:
    """Which department's liaison sits at which centre (default: today, local time)."""
    return rota(session=session, day=day or now.astimezone(LOCAL_TZ).date(), unit=unit)


@router.post(
    "/platform/liaisons",
    response_model=ShiftOut,
    status_code=201,
    summary="Put a department's liaison on the rota",
)
def post_liaison(
    body: ShiftIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.DISPATCHER, Role.ADMIN)],
) -> dict[str, Any]:
    """One liaison per department, centre and day; 409 ``shift_taken`` otherwise."""
    shift = add_shift(
        session=session,
        unit=body.unit,
        department=body.department,
        day=body.day,
        liaison_name=body.liaison_name,
        liaison_phone=body.liaison_phone,
        actor=actor_of(principal),
        now=now,
    )
    session.commit()
    row = [r for r in rota(session=session, day=body.day, unit=body.unit) if r["id"] == shift.id]
    return row[0]


@router.post(
    "/incidents/{incident_id}/joint-tasks",
    response_model=JointTaskOut,
    status_code=201,
    summary="Call the on-duty liaisons to a joint task (联勤) on a case",
)
def post_joint_task(
    incident_id: CaseId,
    body: JointTaskIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(Role.DISPATCHER, Role.ADMIN)],
) -> dict[str, Any]:
    """At the case's street sub-centre (or the district centre), with today's liaisons."""
    result = joint_task(
        session=session,
        incident_id=incident_id,
        instruction=body.instruction,
        actor=actor_of(principal),
        expected_version=body.version,
        departments=body.departments,
        now=now,
    )
    session.commit()
    return {
        "task_id": result.task_id,
        "unit": result.unit_code,
        "members": result.members,
        "case_version": result.case_version,
    }


@router.get(
    "/analytics/kpis/levels",
    response_model=LevelKPIs,
    dependencies=[allow(*BOARD)],
    summary="Where closed cases were resolved: community, street, district",
)
def kpis_of_levels(
    session: SessionDep,
    now: NowDep,
    start: Annotated[Moment | None, Query(alias="from")] = None,
    end: Annotated[Moment | None, Query(alias="to")] = None,
    street: Annotated[str | None, Query(max_length=9)] = None,
) -> dict[str, Any]:
    """Cases reported in [from, to) and closed, by the level of the unit they closed in."""
    for moment in (start, end):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInputError("from/to need a time zone", code="invalid_period")
    end = end or now
    start = start or end - timedelta(days=30)
    return level_kpis(session=session, start=start, end=end, street=street)

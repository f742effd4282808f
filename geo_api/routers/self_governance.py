"""Courtyard self-governance (邻里守望): people, the duty rota, patrols, coverage, density.

Staff only; names and phones of members and contacts are masked unless the role
reads personal data (each clear answer audited).  Writes (shifts, check-in and
check-out, patrol reports) are audited in the transaction that makes them.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from geo_api.auth import STAFF, Principal, Role, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.routers.params import Moment
from geo_api.schemas.case_shapes import actor_of
from geo_api.schemas.self_governance import (
    CourtyardPeopleOut,
    CoverageOut,
    DensityOut,
    MemberIn,
    OrganisationOut,
    PatrolIn,
    PatrolOut,
    RotaShift,
    ShiftIn,
    ShiftOut,
)
from grids.self_governance.coverage import WEEK_HOURS, list_shifts, week_coverage
from grids.self_governance.patrol import CHANNEL, PatrolReport, file_patrol_report
from grids.self_governance.people import courtyard_people, organisations
from grids.self_governance.rota import NewShift, add_shift, check_in, check_out
from layers.tables.courtyard_shifts import CourtyardShift
from layers.tables.social_organisations import NATIONAL_AVERAGE, density

router = APIRouter(prefix="/self-governance", tags=["self-governance"])

ROTA = (Role.GRID_WORKER, Role.DISPATCHER, Role.ADMIN)
"""Who keeps the rota and files for the posts: community staff (grid workers) and dispatch."""
ShiftId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CourtyardId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def shift_out(row: CourtyardShift) -> dict[str, Any]:
    """A shift as the routes answer it."""
    return {
        "id": row.id,
        "courtyard_id": row.courtyard_id,
        "member_id": row.member_id,
        "start": row.during.lower,
        "end": row.during.upper,
        "checked_in_at": row.checked_in_at,
        "checked_out_at": row.checked_out_at,
    }


@router.get(
    "/courtyards/{courtyard_id}",
    response_model=CourtyardPeopleOut,
    summary="A courtyard's groups and members (contacts masked unless you read personal data)",
)
def courtyard(
    courtyard_id: CourtyardId,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*STAFF)],
) -> dict[str, Any]:
    """Self-governance group, owners' committee, property management; leaders and volunteers."""
    out = courtyard_people(
        session=session, courtyard_id=courtyard_id, actor=actor_of(principal), now=now
    )
    session.commit()  # the audit entry of a clear read
    return out


@router.get(
    "/courtyards/{courtyard_id}/shifts",
    response_model=list[RotaShift],
    summary="A courtyard's rota over a period",
)
def rota(
    courtyard_id: CourtyardId,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*STAFF)],
    start: Moment = Query(),
    end: Moment = Query(),
) -> list[dict[str, Any]]:
    """Shifts meeting ``[start, end)`` (≤ 62 days), oldest first, with who holds them."""
    out = list_shifts(
        session=session,
        courtyard_id=courtyard_id,
        start=start,
        end=end,
        actor=actor_of(principal),
        now=now,
    )
    session.commit()
    return out


@router.post("/shifts", status_code=201, response_model=ShiftOut, summary="Book a duty shift")
def book(
    body: ShiftIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*ROTA)],
) -> dict[str, Any]:
    """409 ``shift_overlap`` (with ``conflicting_shift_ids``) when the member is on duty then.

    The database refuses the overlap (an exclusion constraint), so concurrent
    bookings of one person cannot both succeed; 422 for a period that is empty,
    longer than 24 h, or a member who does not serve the courtyard.
    """
    row = add_shift(
        session=session,
        shift=NewShift(body.courtyard_id, body.member_id, body.start, body.end),
        actor=actor_of(principal),
        now=now,
    )
    session.commit()
    return shift_out(row)


@router.post(
    "/shifts/{shift_id}/check-in", response_model=ShiftOut, summary="Arrive at the liaison post"
)
def arrive(
    shift_id: ShiftId,
    body: MemberIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*ROTA)],
) -> dict[str, Any]:
    """From 30 minutes before the start to the end (409 ``outside_shift``), once."""
    row = check_in(
        session=session,
        shift_id=shift_id,
        member_id=body.member_id,
        actor=actor_of(principal),
        now=now,
    )
    session.commit()
    return shift_out(row)


@router.post(
    "/shifts/{shift_id}/check-out", response_model=ShiftOut, summary="Leave the liaison post"
)
def leave(
    shift_id: ShiftId,
    body: MemberIn,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*ROTA)],
) -> dict[str, Any]:
    """After checking in (409 ``not_checked_in``), once (409 ``already_checked_out``)."""
    row = check_out(
        session=session,
        shift_id=shift_id,
        member_id=body.member_id,
        actor=actor_of(principal),
        now=now,
    )
    session.commit()
    return shift_out(row)


@router.post(
    "/shifts/{shift_id}/reports",
    status_code=201,
    response_model=PatrolOut,
    summary="File what the patrol saw as a case (channel courtyard_patrol)",
)
def patrol(
    shift_id: ShiftId,
    body: PatrolIn,
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*ROTA)],
) -> dict[str, Any]:
    """Through the ordinary intake: located, assigned and timed like any case."""
    result = file_patrol_report(
        session=session,
        shift_id=shift_id,
        report=PatrolReport(
            body.member_id,
            body.category,
            body.description,
            body.lon,
            body.lat,
            body.crs,
            body.urgency,
        ),
        actor=actor_of(principal),
        tolerance_m=request.app.state.settings.cases.locate_tolerance_m,
        now=now,
    )
    session.commit()
    case = result.incident
    return {
        "incident_id": case.id,
        "shift_id": shift_id,
        "channel": CHANNEL,
        "status": case.status,
        "category": case.category_code,
        "community_code": result.location.community_code,
        "l1_code": result.location.l1_code,
        "assignee_worker_id": case.assignee_worker_id,
    }


@router.get("/coverage", response_model=CoverageOut, summary="Rota coverage per courtyard")
def coverage(
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*STAFF)],
    week: date | None = Query(None, description="Any day of the week; default this week."),
    street: str | None = Query(None, max_length=9),
    community: str | None = Query(None, max_length=12),
    three_nos_only: bool = Query(False, description="Only 三无院落."),
) -> dict[str, Any]:
    """Hours someone is on duty in the week (the union of shifts: overlaps count once)."""
    start, end, rows = week_coverage(
        session=session,
        week=week,
        now=now,
        street=street,
        community=community,
        three_nos_only=three_nos_only,
    )
    items = [{**asdict(r), "share_of_week": round(r.hours_covered / WEEK_HOURS, 4)} for r in rows]
    return {
        "start": start,
        "end": end,
        "week_hours": WEEK_HOURS,
        "courtyards": items,
        "uncovered_three_nos": sum(1 for r in rows if r.is_three_nos and r.hours_covered == 0),
    }


@router.get(
    "/social-organisations",
    response_model=list[OrganisationOut],
    summary="Registered social organisations and whom they serve",
)
def social_organisations(
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*STAFF)],
    community: str | None = Query(None, max_length=12),
) -> list[dict[str, Any]]:
    """Fields, contact (masked unless you read personal data), communities and courtyards."""
    out = organisations(session=session, community=community, actor=actor_of(principal), now=now)
    session.commit()
    return out


@router.get(
    "/density",
    response_model=DensityOut,
    summary="Social organisations per 10,000 residents, per community or street",
)
def organisation_density(
    session: SessionDep,
    principal: Annotated[Principal, allow(*STAFF)],
    level: str = Query("community", description="community or street"),
) -> dict[str, Any]:
    """Below the national average of 7 is where the district is thin."""
    areas = density(session=session, level=level)
    return {
        "level": level,
        "national_average": NATIONAL_AVERAGE,
        "areas": [asdict(a) for a in areas],
    }

"""What a patrol saw, filed as a case through the ordinary intake (channel `courtyard_patrol`).

The same intake every channel uses locates, assigns and times the case, so a
patrol's report is routed to the cell's grid worker like any other.  Only a member
checked in on a shift may file through it, which is what makes it a patrol report;
the member is the reporter (their name and phone are masked in the case as any
reporter's), and the audit log links the case to the shift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from grids.cases.intake import IntakeResult, NewCase, report_case
from grids.self_governance.rota import own_shift
from layers.core.errors import ConflictError
from layers.tables.audit import record
from layers.tables.courtyard_members import CourtyardMember

CHANNEL = "courtyard_patrol"
"""院落巡查: the intake channel of what the rota's patrols saw."""


@dataclass(frozen=True)
class PatrolReport:
    """What the member on duty saw, where (the post when no point is given)."""

    member_id: int
    category_code: str
    description: str
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    urgency: str | None = None


_POST_SQL = text(
    "SELECT ST_X(p) AS lon, ST_Y(p) AS lat, name FROM (SELECT name, coalesce("
    " ST_GeometryN(entrances, 1), ST_PointOnSurface(geom)) AS p FROM courtyards"
    " WHERE id = :id) q"
)


def file_patrol_report(
    *,
    session: Session,
    shift_id: int,
    report: PatrolReport,
    actor: Actor,
    tolerance_m: float | None,
    now: datetime,
) -> IntakeResult:
    """File `report` as a case of channel `courtyard_patrol` from a checked-in shift."""
    shift = own_shift(session, shift_id, report.member_id, actor)
    if shift.checked_in_at is None:
        raise ConflictError("check in to the shift before reporting", code="not_checked_in")
    member = session.get(CourtyardMember, report.member_id)
    assert member is not None  # the shift's foreign key
    post = session.execute(_POST_SQL, {"id": shift.courtyard_id}).one()
    at_post = report.lon is None or report.lat is None
    case = NewCase(
        lon=post.lon if at_post else float(report.lon),  # type: ignore[arg-type]
        lat=post.lat if at_post else float(report.lat),  # type: ignore[arg-type]
        crs="wgs84" if at_post else report.crs,
        category_code=report.category_code,
        channel_code=CHANNEL,
        description=report.description,
        address=f"{post.name} 院落连心驿站",
        reporter_name=member.name,
        reporter_phone=member.phone,
        urgency=report.urgency,
    )
    result = report_case(session=session, case=case, actor=actor, tolerance_m=tolerance_m, now=now)
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action="courtyard_patrol.report",
        entity="courtyard_shifts",
        entity_id=shift.id,
        data={"incident_id": result.incident.id, "member_id": member.id},
        at=now,
    )
    return result

"""The working-day calendar of time limits: read by staff, local overrides edited by admins."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from geo_api.auth import STAFF, Principal, Role, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.schemas.meta import CalendarDay, OverrideOut
from grids.cases.reference import forget_reference
from layers.core.errors import NotFoundError
from layers.tables.calendar_overrides import (
    CalendarOverride,
    calendar_days,
    delete_override,
    list_overrides,
    set_override,
)

router = APIRouter(prefix="/calendar", tags=["calendar"])
Admin = Annotated[Principal, allow(Role.ADMIN)]


class OverrideIn(BaseModel):
    """Whether people work on the date, and why (e.g. the district's own rest day)."""

    model_config = ConfigDict(extra="forbid")

    is_working_day: bool
    note: str | None = Field(default=None, max_length=500)


def _out(row: CalendarOverride) -> OverrideOut:
    return OverrideOut(
        date=row.day.isoformat(),
        is_working_day=row.is_working_day,
        note=row.note,
        updated_at=row.updated_at.isoformat(),
        updated_by=row.updated_by,
    )


@router.get(
    "",
    response_model=list[CalendarDay],
    dependencies=[allow(*STAFF)],
    summary="Working days of a date range",
)
def days(
    session: SessionDep,
    first: date = Query(alias="from", description="first date (local)"),
    last: date = Query(alias="to", description="last date (local), at most 366 days on"),
) -> list[dict[str, Any]]:
    """Each day: working or not, and whether that is `official`, an `override` or `provisional`."""
    return calendar_days(session=session, first=first, last=last)


@router.get(
    "/overrides",
    response_model=list[OverrideOut],
    summary="The district's overrides of the official calendar",
)
def overrides(session: SessionDep, who: Admin) -> list[OverrideOut]:
    """Every override, by date."""
    return [_out(r) for r in list_overrides(session=session)]


@router.put(
    "/overrides/{day}", response_model=OverrideOut, summary="Set a date's working-day status"
)
def put_override(
    day: date, body: OverrideIn, session: SessionDep, who: Admin, now: NowDep
) -> OverrideOut:
    """Create or replace the override of `day`; deadlines started from now on use it."""
    row = set_override(
        session=session,
        day=day,
        is_working_day=body.is_working_day,
        note=body.note,
        actor=who.name,
        role=str(who.role),
        now=now,
    )
    out = _out(row)
    session.commit()
    forget_reference()
    return out


@router.delete(
    "/overrides/{day}", status_code=204, response_class=Response, summary="Remove a date's override"
)
def remove_override(day: date, session: SessionDep, who: Admin) -> Response:
    """The date follows the official calendar again."""
    if not delete_override(session=session, day=day, actor=who.name, role=str(who.role)):
        raise NotFoundError(f"no override for {day.isoformat()}", code="override_not_found")
    session.commit()
    forget_reference()
    return Response(status_code=204)

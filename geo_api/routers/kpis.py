"""`GET /analytics/kpis`: on-time rates, rework and resolution levels, per street and community."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from geo_api.auth import Role, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.routers.params import Moment
from geo_api.schemas.kpis import KPIs
from grids.cases.kpis import case_kpis
from layers.core.errors import InvalidInputError

router = APIRouter(tags=["analytics"])


@router.get(
    "/analytics/kpis",
    response_model=KPIs,
    response_model_exclude_unset=True,
    dependencies=[allow(Role.DISPATCHER, Role.PLANNER, Role.ADMIN)],
    summary="Case KPIs of a period (小事不出社、大事不出街)",
)
def kpis(
    session: SessionDep,
    now: NowDep,
    start: Annotated[
        Moment | None, Query(alias="from", description="Start (ISO, default: `to` − 30 days).")
    ] = None,
    end: Annotated[Moment | None, Query(alias="to", description="End (ISO, default: now).")] = None,
    street: Annotated[str | None, Query(max_length=9, description="Street code.")] = None,
    community: Annotated[str | None, Query(max_length=12, description="Community code.")] = None,
) -> dict[str, Any]:
    """Cases reported in [from, to): rates for the whole area, every street and community."""
    for moment in (start, end):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInputError("from/to need a time zone", code="invalid_period")
    end = end or now
    start = start or end - timedelta(days=30)
    return case_kpis(session=session, start=start, end=end, street=street, community=community)

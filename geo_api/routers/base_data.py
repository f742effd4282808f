"""The base-data centre for staff: people search (scoped, audited) and figures (aggregates)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import text

from geo_api.auth import STAFF, Principal, allow
from geo_api.deps import NowDep, SessionDep, SettingsDep
from geo_api.schemas.base_data import FiguresOut, PersonsOut
from grids.base_data.people import Searcher, search_people
from layers.core.roles import Role
from layers.tables.grid_cells import live

router = APIRouter(prefix="/base", tags=["base data"])
SEARCHERS = (Role.GRID_WORKER, Role.DISPATCHER, Role.ADMIN)
"""Who may look persons up: planners see aggregates only."""


@router.get(
    "/persons",
    response_model=PersonsOut,
    summary="Find persons by name, ID number or phone (scoped to your cells; audited)",
)
def persons(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*SEARCHERS)],
    q: Annotated[str, Query(min_length=1, max_length=60, description="Name, ID number or phone.")],
    purpose: Annotated[
        str, Query(min_length=2, max_length=200, description="Why you look (kept in the audit).")
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> dict[str, Any]:
    """ID numbers and phones come masked; grid workers find only the persons of their cell."""
    searcher = Searcher(principal.role, principal.name, principal.worker_id)
    found = search_people(
        session=session,
        searcher=searcher,
        q=q,
        purpose=purpose,
        now=now,
        limit=limit,
        tolerance_m=settings.cases.locate_tolerance_m,
    )
    session.commit()  # the audit entry of the read
    return {"results": found}


@router.get(
    "/figures",
    response_model=FiguresOut,
    dependencies=[allow(*STAFF)],
    summary="Record counts and the live cells' households and population (aggregates only)",
)
def figures(session: SessionDep, level: Annotated[int, Query(ge=1, le=3)] = 1) -> dict[str, Any]:
    """No person is named: counts per class, and each cell's figures counted from the records."""
    records = {
        table: int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
        for table in ("addresses", "dwellings", "persons", "units")
    }
    cells = (
        session.execute(
            text(
                "SELECT code, name, households, population FROM grid_cells"  # noqa: S608
                f" WHERE level = :l AND {live()} ORDER BY code"
            ),
            {"l": level},
        )
        .mappings()
        .all()
    )
    return {"records": records, "level": level, "cells": [dict(c) for c in cells]}

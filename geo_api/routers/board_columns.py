"""The board's bulk reads as compact columns: every open case and on-duty worker, fast.

- `GET /board/cases/columns`: the cases of `GET /board/cases` (same filters, same
  scope, same fields) as ``{"columns": [...], "rows": [[...], ...]}``, written by
  PostgreSQL (`grids.cases.board_columns`), optionally one of ``parts`` by id so a
  page fetches the parts side by side.  Each part carries its own ``total`` and a
  ``cursor`` taken before its read: following the stream from the smallest misses
  nothing.  ``describe=N`` sends descriptions in the first N rows only; ``ids=1,2``
  (the board's filter) reads named cases, descriptions included.
- `GET /board/workers/columns`: the on-duty workers the same way.

The GeoJSON routes stay for GIS clients; these are what the board page loads, at a
fifth of the bytes and a tenth of the server time (docs/cases.md, the board).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from geo_api.auth import Principal
from geo_api.deps import NowDep, SessionDep
from geo_api.routers.board import DISPATCHERS, BoardFilters
from geo_api.schemas.case_shapes import actor_of
from grids.cases.board import cursor_now
from grids.cases.board_columns import CASE_COLUMNS, WORKER_COLUMNS, case_columns, worker_columns
from layers.core.errors import InvalidInputError

router = APIRouter(tags=["board"])
MAX_PARTS = 16


class ColumnsOut(BaseModel):
    """Rows as arrays in `columns` order (``lon``/``lat`` WGS-84, times ISO 8601 UTC)."""

    columns: list[str]
    rows: list[list[Any]]
    total: int
    cursor: str | None = None
    now: datetime | None = None
    described: int | None = None
    """Rows after the first `described` carry a null description: ask for them by ``ids``."""


def _json(columns: tuple[str, ...], rows_json: str, **rest: Any) -> Response:
    """The body spliced around PostgreSQL's array: nothing re-parsed, nothing re-encoded."""
    head = ColumnsOut(columns=list(columns), rows=[], total=rest.pop("total"), **rest)
    body = head.model_dump_json()
    return Response(
        body.replace('"rows":[]', '"rows":' + rows_json, 1), media_type="application/json"
    )


@router.get(
    "/board/cases/columns",
    response_model=ColumnsOut,
    summary="The board's cases as compact columns",
)
def board_case_columns(
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, DISPATCHERS],
    filters: BoardFilters,
    parts: Annotated[int, Query(ge=1, le=MAX_PARTS, description="Split by id into")] = 1,
    part: Annotated[int, Query(ge=0, lt=MAX_PARTS, description="Which part (0-based)")] = 0,
    describe: Annotated[
        int | None,
        Query(ge=0, le=100_000, description="Descriptions in the first N rows only (default all)"),
    ] = None,
) -> Response:
    """Every matching case of the part, soonest deadline first (no paging: nothing dropped)."""
    if part >= parts:
        raise InvalidInputError(f"part {part} of {parts} parts", code="invalid_part")
    cursor = cursor_now(session=session)
    found = case_columns(
        session=session,
        filters=filters,
        actor=actor_of(principal),
        now=now,
        parts=parts,
        part=part,
        described=describe,
    )
    return _json(
        CASE_COLUMNS,
        found.rows_json,
        total=found.total,
        cursor=str(cursor) if cursor else None,
        now=now,
        described=describe,
    )


@router.get(
    "/board/workers/columns",
    response_model=ColumnsOut,
    summary="On-duty workers as compact columns",
)
def board_worker_columns(
    session: SessionDep, principal: Annotated[Principal, DISPATCHERS]
) -> Response:
    """Where each on-duty worker last was, and how many open cases they hold."""
    found = worker_columns(session=session)
    return _json(WORKER_COLUMNS, found.rows_json, total=found.total)

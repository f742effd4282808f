"""Worker management for planners and admins: list, create, rename, move, duty on/off.

- `GET /workers?revision=ID`: the level-1 workers of a draft's communities (no phones);
- `POST /workers`: a new level-1 worker for a live cell, or a cell of draft `revision`;
- `PATCH /workers/{id}`: `name`, `cell_code` (a level-1 cell) and/or `on_duty`.

Unknown cells and cells that are not level 1 are refused with 422 (`unknown_cell`,
`not_level_1`), an unknown worker with 404; every change is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from geo_api.auth import Principal, allow
from geo_api.deps import SessionDep
from grids.cases.worker_admin import (
    Actor,
    create_worker,
    scope_workers,
    update_worker,
    worker_out,
)
from grids.planning.drafts import get_revision, scope_community_ids
from layers.core.roles import EDITORS

router = APIRouter(tags=["workers"])
Planner = Annotated[Principal, allow(*EDITORS)]
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=r"\S")]
CellCode = Annotated[str, Field(min_length=15, max_length=21, pattern=r"^\d+$")]


class WorkerOut(BaseModel):
    """A grid worker as planners see it (no phone: personal data)."""

    id: int
    code: str
    name: str
    level: int
    cell_code: str | None
    community_id: int
    on_duty: bool


class WorkerIn(BaseModel):
    """A new level-1 worker; `revision` lets `cell_code` be a cell of that draft."""

    name: Name
    cell_code: CellCode
    on_duty: bool = True
    revision: int | None = Field(default=None, ge=1, le=2_147_483_647)


class WorkerPatch(BaseModel):
    """Any of: a new name, a level-1 cell to serve, duty on/off."""

    name: Name | None = None
    cell_code: CellCode | None = None
    on_duty: bool | None = None
    revision: int | None = Field(default=None, ge=1, le=2_147_483_647)


@router.get(
    "/workers", response_model=list[WorkerOut], summary="Level-1 workers of a draft's scope"
)
def list_workers(
    session: SessionDep,
    who: Planner,
    revision: Annotated[int, Query(ge=1, le=2_147_483_647)],
) -> list[dict[str, Any]]:
    """Whom the editor offers for a cell without a worker (by code)."""
    rev = get_revision(session=session, revision_id=revision)
    ids = scope_community_ids(session=session, scope=rev.scope, code=rev.scope_code or "")
    return scope_workers(session=session, community_ids=ids)


@router.post("/workers", response_model=WorkerOut, status_code=201, summary="Create a worker")
def add_worker(body: WorkerIn, session: SessionDep, who: Planner) -> dict[str, Any]:
    """A level-1 worker serving `cell_code`; audited `worker_create`."""
    if body.revision is not None:
        get_revision(session=session, revision_id=body.revision)
    worker = create_worker(
        session=session,
        name=body.name.strip(),
        cell_code=body.cell_code,
        on_duty=body.on_duty,
        revision_id=body.revision,
        actor=Actor(who.name, who.role),
    )
    session.commit()
    return worker_out(worker)


@router.patch("/workers/{worker_id}", response_model=WorkerOut, summary="Rename, move, duty")
def change_worker(
    worker_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    body: WorkerPatch,
    session: SessionDep,
    who: Planner,
) -> dict[str, Any]:
    """Only the fields given change; audited `worker_update` with before/after."""
    if body.revision is not None:
        get_revision(session=session, revision_id=body.revision)
    changes = body.model_dump(exclude_unset=True, exclude_none=True, exclude={"revision"})
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    worker = update_worker(
        session=session,
        worker_id=worker_id,
        changes=changes,
        revision_id=body.revision,
        actor=Actor(who.name, who.role),
    )
    session.commit()
    return worker_out(worker)

"""The editor's helpers that read, never write: the live grid beside the draft, a new code.

- `GET /planning/revisions/{id}/live`: the live cells of the draft's scope (the compare view);
- `POST /planning/revisions/{id}/proposed-code`: the code the rule gives a new cell drawn
  there (west→east, north→south among its siblings; existing codes kept), which the
  planner may change before the new-cell edit.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from geo_api.auth import Principal, allow
from geo_api.deps import SessionDep, SettingsDep
from geo_api.schemas.geojson import Feature, FeatureCollection
from grids.planning.code_proposal import propose_code
from grids.planning.compare import live_cells
from grids.planning.drafts import get_revision
from layers.core.roles import EDITORS

router = APIRouter(prefix="/planning", tags=["planning editor"])
Planner = Annotated[Principal, allow(*EDITORS)]


class ProposeIn(BaseModel):
    """Where the new cell is drawn and under which parent."""

    level: Literal[1, 2, 3] = 1
    parent_code: str = Field(min_length=12, max_length=21)
    geometry: dict[str, Any]


class ProposedOut(BaseModel):
    """The proposed code, the sibling sequences it falls between, the rule's wording."""

    code: str
    between: list[int | None]
    rule: str


class LiveCells(FeatureCollection[Feature]):
    """The live cells over the draft's communities (code, level, households, population)."""


@router.get(
    "/revisions/{revision_id}/live",
    response_model=LiveCells,
    summary="The live cells of a draft's scope",
)
def live(revision_id: int, session: SessionDep, who: Planner) -> dict[str, Any]:
    """GeoJSON of what is live now over the same communities (code, level, households)."""
    revision = get_revision(session=session, revision_id=revision_id)
    return live_cells(session=session, revision=revision)


@router.post(
    "/revisions/{revision_id}/proposed-code",
    response_model=ProposedOut,
    summary="The code proposed for a new cell",
)
def proposed_code(
    revision_id: int, body: ProposeIn, session: SessionDep, settings: SettingsDep, who: Planner
) -> dict[str, Any]:
    """Nothing is written: the new-cell edit takes the code (this one or the planner's)."""
    get_revision(session=session, revision_id=revision_id)
    return propose_code(
        session=session,
        revision_id=revision_id,
        level=body.level,
        parent_code=body.parent_code,
        geometry=json.dumps(body.geometry),
        srid=settings.metric_srid,
    )

"""Planners redraw the grid: drafts, validation, impact, publish, history, suggestions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from geo_api.auth import Principal, allow
from geo_api.background.suggest_runs import suggest_or_submit, wants_async
from geo_api.deps import NowDep, SessionDep, SettingsDep
from geo_api.schemas.jobs import JobOut, job_out, owner_of
from geo_api.schemas.planning import (
    CellsReplaced,
    DraftCells,
    DraftCreated,
    LiveValidation,
    RevisionDiff,
    RevisionListed,
    RevisionOut,
    Suggestion,
    ValidationReport,
)
from geo_api.schemas.preview import ImpactOut, PublishOut
from geo_api.settings import Settings
from grids.grid.history import list_revisions, revision_diff
from grids.grid.live_check import LiveCheckOptions, check_live_grid
from grids.planning.balance import SuggestOptions
from grids.planning.drafts import (
    create_draft,
    features_to_rows,
    get_revision,
    read_draft,
    replace_draft,
    rows_to_features,
)
from grids.planning.edit_store import check_if_match
from grids.planning.impact import impact
from grids.planning.publish import publish
from grids.planning.validation import ValidationOptions, validate_draft
from grids.planning.validation import ValidationReport as DraftValidation
from layers.core.constants import MIN_SLIVER_M2
from layers.core.roles import EDITORS

router = APIRouter(prefix="/planning", tags=["planning"])
Planner = Annotated[Principal, allow(*EDITORS)]


class DraftCreate(BaseModel):
    """A new draft: its scope and the code of the community or street it covers."""

    scope: Literal["community", "street", "district"]
    community: str | None = Field(default=None, max_length=12)
    street: str | None = Field(default=None, max_length=9)
    note: str | None = Field(default=None, max_length=2000)


class SuggestRequest(BaseModel):
    """Balanced cells for a level: a target size in households, or a number of cells."""

    level: Literal[1, 2] = 1
    target_households: int | None = Field(default=None, gt=0)
    cells: int | None = Field(default=None, gt=0, le=10_000)
    """Static ceiling of the schema; `WANGGE_LIMIT_SUGGEST_CELLS` bounds what is drawn."""


def _options(settings: Settings, tolerance_m: float | None = None) -> ValidationOptions:
    return ValidationOptions(
        tolerance_m=settings.planning_tolerance_m if tolerance_m is None else tolerance_m,
        min_area_m2=settings.planning_min_cell_area_m2,
        metric_srid=settings.metric_srid,
    )


@router.post(
    "/revisions",
    status_code=201,
    response_model=DraftCreated,
    summary="Take a draft of a scope's live cells",
)
def create(body: DraftCreate, session: SessionDep, who: Planner) -> DraftCreated:
    """A draft holding a copy of the live cells of a community, a street or the district."""
    code = {"community": body.community, "street": body.street, "district": None}[body.scope]
    rid = create_draft(
        session=session,
        scope=body.scope,
        code=code,
        author=who.name,
        role=who.role,
        note=body.note,
    )
    session.commit()
    return DraftCreated(id=rid)


@router.get(
    "/revisions",
    response_model=list[RevisionListed],
    summary="Every revision, drafts and published",
)
def revisions(
    session: SessionDep, who: Planner, status: Literal["draft", "published"] | None = None
) -> list[dict[str, Any]]:
    """Revisions newest first, with author, scope and times."""
    return list_revisions(session=session, status=status)


@router.get("/revisions/{revision_id}", response_model=RevisionOut, summary="One revision")
def revision(revision_id: int, session: SessionDep, who: Planner) -> RevisionOut:
    """A revision's status, scope, author and times."""
    r = get_revision(session=session, revision_id=revision_id)
    return RevisionOut(
        id=r.id,
        status=r.status,
        scope=r.scope,
        scope_code=r.scope_code,
        author=r.author,
        note=r.note,
        created_at=r.created_at,
        published_at=r.published_at,
    )


@router.get(
    "/revisions/{revision_id}/cells",
    response_model=DraftCells,
    summary="The draft's cells as GeoJSON",
)
def cells(revision_id: int, session: SessionDep, who: Planner) -> dict[str, Any]:
    """A FeatureCollection: code, level, parent_code, households, population per cell."""
    return rows_to_features(read_draft(session=session, revision_id=revision_id))


@router.put(
    "/revisions/{revision_id}/cells",
    response_model=CellsReplaced,
    summary="Replace the draft's cells",
)
def put_cells(
    revision_id: int,
    session: SessionDep,
    who: Planner,
    body: dict[str, Any] = Body(...),
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> CellsReplaced:
    """Cells may be added, removed, reshaped, recoded; validation is a separate step.

    With ``If-Match`` (the editor's ETag) a draft saved by someone else meanwhile is 412.
    """
    rows = features_to_rows(body)
    if if_match:
        check_if_match(get_revision(session=session, revision_id=revision_id), if_match)
    n = replace_draft(
        session=session, revision_id=revision_id, rows=rows, actor=who.name, role=who.role
    )
    session.commit()
    return CellsReplaced(id=revision_id, cells=n)


@router.post(
    "/revisions/{revision_id}/validate",
    response_model=ValidationReport,
    summary="Validate the draft",
)
def validate(
    revision_id: int,
    session: SessionDep,
    settings: SettingsDep,
    who: Planner,
    tolerance_m: float | None = Query(default=None, ge=0, le=10),
) -> DraftValidation:
    """Overlaps, gaps, pieces outside parent or scope, bad rings and codes, with geometry."""
    options = _options(settings, tolerance_m)
    return validate_draft(session=session, revision_id=revision_id, options=options)


@router.get(
    "/live/validation", response_model=LiveValidation, summary="Does the live grid tile exactly?"
)
def live_validation(
    session: SessionDep,
    settings: SettingsDep,
    who: Planner,
    tolerance_m: float | None = Query(default=None, ge=0, le=10),
    min_sliver_m2: float = Query(default=MIN_SLIVER_M2, gt=0, le=1e6),
) -> dict[str, Any]:
    """Overlaps, gaps and slivers between communities and between their level-1 cells."""
    options = LiveCheckOptions(
        tolerance_m=settings.planning_tolerance_m if tolerance_m is None else tolerance_m,
        min_sliver_m2=min_sliver_m2,
        metric_srid=settings.metric_srid,
    )
    return check_live_grid(session=session, options=options)


@router.get(
    "/revisions/{revision_id}/impact",
    response_model=ImpactOut,
    response_model_exclude_unset=True,
    summary="What publishing would change",
)
def preview(
    revision_id: int, session: SessionDep, settings: SettingsDep, who: Planner
) -> dict[str, Any]:
    """Per changed cell: area, households, open cases and worker, before and after."""
    return impact(
        session=session,
        revision_id=revision_id,
        metric_srid=settings.metric_srid,
        tolerance_m=settings.cases.locate_tolerance_m,
    ).as_json()


@router.post(
    "/revisions/{revision_id}/publish",
    response_model=PublishOut,
    summary="Publish the draft atomically",
)
def publish_revision(
    revision_id: int, session: SessionDep, settings: SettingsDep, who: Planner, now: NowDep
) -> dict[str, Any]:
    """409 when stale (rebase), 422 with the report when invalid; else the new live grid."""
    result = publish(
        session=session,
        revision_id=revision_id,
        actor=who.name,
        role=who.role,
        options=_options(settings),
        now=now,
        tolerance_m=settings.cases.locate_tolerance_m,
    )
    session.commit()
    return result.as_json()


@router.get(
    "/revisions/{revision_id}/diff",
    response_model=RevisionDiff,
    summary="Cells added, removed and changed",
)
def diff(
    revision_id: int, session: SessionDep, settings: SettingsDep, who: Planner
) -> dict[str, Any]:
    """Against the live cells the draft was taken from."""
    return revision_diff(session=session, revision_id=revision_id, metric_srid=settings.metric_srid)


@router.post(
    "/revisions/{revision_id}/suggest",
    response_model=Suggestion,
    summary="Suggest balanced cells (big drafts, or `Prefer: respond-async`: a job)",
    responses={
        202: {
            "model": JobOut,
            "description": "Queued as a job: follow `Location` (`GET /jobs/{id}`).",
        }
    },
)
def suggest_cells(
    revision_id: int,
    body: SuggestRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: Planner,
    prefer: Annotated[
        str | None,
        Header(description="`respond-async` runs the suggestion as a job whatever its size."),
    ] = None,
) -> Any:
    """Contiguous cells of whole courtyards balanced in households and open cases.

    Answers the balance figures at once when the work is small; bigger drafts
    (``WANGGE_LIMIT_SUGGEST_SYNC_WORK``) and ``Prefer: respond-async`` get 202
    with the job (``Location: /jobs/{id}``), whose ``result`` holds the figures.
    Beyond ``WANGGE_LIMIT_SUGGEST_CELLS`` / ``_WORK``: 422 ``limit_exceeded``.
    """
    options = SuggestOptions(
        level=body.level,
        target_households=body.target_households,
        cells=body.cells,
        metric_srid=settings.metric_srid,
        locate_tolerance_m=settings.cases.locate_tolerance_m,
    )
    asked = wants_async(prefer)
    outcome = suggest_or_submit(
        session=session,
        runner=request.app.state.jobs,
        settings=settings,
        revision_id=revision_id,
        options=options,
        owner=owner_of(who),
        prefer_async=asked,
    )
    if outcome.job is None:
        return outcome.result
    headers = {"Location": f"/jobs/{outcome.job.id}"}
    if asked:
        headers["Preference-Applied"] = "respond-async"
    body_out = job_out(outcome.job).model_dump(mode="json")
    return JSONResponse(body_out, status_code=202, headers=headers)

"""The planners' editor on the server: small edits of a draft, its figures, its units, its list.

Every edit (`POST /planning/revisions/{id}/edits/{op}`) needs ``If-Match`` with
the draft's ETag (428 without, 412 with the current ETag when someone saved in
between) and answers only what changed: the changed cells with their figures,
the codes removed, the cells as they were (for undo), the problems around them
and the draft's balance; the new ETag is in the answer and its ``ETag`` header.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field

from geo_api.auth import Principal, allow
from geo_api.deps import NowDep, SessionDep, SettingsDep
from geo_api.schemas.planning_edits import DraftFigures, DraftListed, EditOut, UnitsOut
from geo_api.settings import Settings
from grids.planning.drafts import get_revision, require_draft
from grids.planning.edit_checks import (
    DEFAULT_TOLERANCE,
    cell_features_json,
    draft_balance,
)
from grids.planning.edit_requests import (
    delete_edit,
    merge_edit,
    move_edit,
    new_cell_edit,
    reshape_edit,
    restore_edit,
    split_edit,
)
from grids.planning.edit_store import check_if_match, etag_of
from grids.planning.edit_units import discard_draft, list_drafts, scope_units
from grids.planning.edits import Edit, EditContext, run_edit
from grids.planning.validation import ValidationOptions
from layers.core.roles import EDITORS

router = APIRouter(prefix="/planning", tags=["planning editor"])
Planner = Annotated[Principal, allow(*EDITORS)]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="The draft's ETag")]
Tolerance = Annotated[float, Query(gt=0, lt=1, description="On-target band (±share)")]
GeoJSON = dict[str, Any]


class MoveIn(BaseModel):
    """Units to move into a target cell: courtyard or building ids, or level-3 cell codes."""

    target: str = Field(max_length=21)
    kind: Literal["courtyard", "building", "cell"] = "courtyard"
    units: list[int | str] = Field(min_length=1, max_length=500)


class SplitIn(BaseModel):
    """A cell and a GeoJSON LineString crossing it from edge to edge (EPSG:4326)."""

    cell: str = Field(max_length=21)
    line: GeoJSON


class MergeIn(BaseModel):
    """Two sibling cells: `other` joins `cell` (which keeps its code)."""

    cell: str = Field(max_length=21)
    other: str = Field(max_length=21)


class ReshapeIn(BaseModel):
    """A cell's new shape (GeoJSON Polygon or MultiPolygon, EPSG:4326)."""

    cell: str = Field(max_length=21)
    geometry: GeoJSON


class NewCellIn(BaseModel):
    """A new cell; its code is proposed (next free under the parent) when not given."""

    level: Literal[1, 2, 3] = 1
    parent_code: str = Field(max_length=21)
    geometry: GeoJSON
    code: str | None = Field(default=None, max_length=21)
    carve: bool = True
    """Take the new cell's area from its siblings (else it overlaps them, reported)."""


class DeleteIn(BaseModel):
    """A cell to remove with every cell below it."""

    cell: str = Field(max_length=21)


class RestoreIn(BaseModel):
    """Undo/redo: cells as an earlier answer's `before` (or `cells`) held them; codes to drop."""

    cells: list[GeoJSON] = Field(default_factory=list, max_length=5000)
    remove: list[str] = Field(default_factory=list, max_length=5000)


def _options(settings: Settings) -> ValidationOptions:
    return ValidationOptions(
        tolerance_m=settings.planning_tolerance_m,
        min_area_m2=settings.planning_min_cell_area_m2,
        metric_srid=settings.metric_srid,
    )


def _run(
    op: str,
    edit_of,
    revision_id: int,
    session,
    settings,
    who: Principal,
    if_match,
    tolerance,
    response,
) -> dict[str, Any]:
    """Build the edit (input errors are 4xx before any lock), run it, commit, answer."""
    ctx = EditContext(revision_id, if_match, who.name, who.role, _options(settings), tolerance)
    edit: Edit = edit_of(settings.metric_srid)
    result = run_edit(session=session, ctx=ctx, op=op, edit=edit)
    session.commit()
    response.headers["ETag"] = result["etag"]
    return result


def _edit_route(op: str, path: str, summary: str):
    return router.post(
        f"/revisions/{{revision_id}}/edits/{path}", response_model=EditOut, summary=summary
    )


@_edit_route("move", "move", "Move units (courtyards, buildings, level-3 cells) into a cell")
def move(
    revision_id: int,
    body: MoveIn,
    session: SessionDep,
    settings: SettingsDep,
    who: Planner,
    response: Response,
    if_match: IfMatch = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """The target, its ancestors and its best child at each level gain the units' union."""
    revision = get_revision(session=session, revision_id=revision_id)

    def of(srid: int) -> Edit:
        return move_edit(
            session, revision, target=body.target, kind=body.kind, ids=body.units, srid=srid
        )

    return _run("move", of, revision_id, session, settings, who, if_match, tolerance, response)


@_edit_route("split", "split", "Split a cell by a line")
def split(
    revision_id: int,
    body: SplitIn,
    session: SessionDep,
    settings: SettingsDep,
    who: Planner,
    response: Response,
    if_match: IfMatch = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """The largest piece keeps the code; 422 `split_line_misses` when the line does not cut it."""

    def of(srid: int) -> Edit:
        return split_edit(code=body.cell, line=body.line, srid=srid)

    return _run("split", of, revision_id, session, settings, who, if_match, tolerance, response)


@_edit_route("merge", "merge", "Merge two sibling cells")
def merge(
    revision_id: int,
    body: MergeIn,
    session: SessionDep,
    settings: SettingsDep,
    who: Planner,
    response: Response,
    if_match: IfMatch = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """`other`'s children are recoded under `cell`."""
    return _run(
        "merge",
        lambda _s: merge_edit(keep=body.cell, other=body.other),
        revision_id,
        session,
        settings,
        who,
        if_match,
        tolerance,
        response,
    )


@_edit_route("reshape", "reshape", "Give a cell a new shape")
def reshape(
    revision_id: int,
    body: ReshapeIn,
    session: SessionDep,
    settings: SettingsDep,
    who: Planner,
    response: Response,
    if_match: IfMatch = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """422 `invalid_geometry` (with the GEOS reason) or `outside_parent`; neighbours untouched."""

    def of(srid: int) -> Edit:
        return reshape_edit(code=body.cell, geometry=body.geometry, srid=srid)

    return _run("reshape", of, revision_id, session, settings, who, if_match, tolerance, response)


@_edit_route("new", "new-cell", "Draw a new cell")
def add_cell(
    revision_id: int,
    body: NewCellIn,
    session: SessionDep,
    settings: SettingsDep,
    who: Planner,
    response: Response,
    if_match: IfMatch = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """Code proposed as the next free one under the parent when none is given."""

    def of(srid: int) -> Edit:
        return new_cell_edit(
            level=body.level,
            parent_code=body.parent_code,
            geometry=body.geometry,
            code=body.code,
            carve=body.carve,
            srid=srid,
        )

    return _run("new_cell", of, revision_id, session, settings, who, if_match, tolerance, response)


@_edit_route("delete", "delete-cell", "Remove a cell and the cells below it")
def delete_cell(
    revision_id: int,
    body: DeleteIn,
    session: SessionDep,
    settings: SettingsDep,
    who: Planner,
    response: Response,
    if_match: IfMatch = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """What it covered becomes a gap until a neighbour takes it."""
    return _run(
        "delete_cell",
        lambda _s: delete_edit(code=body.cell),
        revision_id,
        session,
        settings,
        who,
        if_match,
        tolerance,
        response,
    )


@_edit_route("restore", "restore", "Put cells back as they were (undo / redo)")
def restore_cells(
    revision_id: int,
    body: RestoreIn,
    session: SessionDep,
    settings: SettingsDep,
    who: Planner,
    response: Response,
    if_match: IfMatch = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """The client's undo stack replays an edit's `before` and drops the cells it created."""

    def of(srid: int) -> Edit:
        return restore_edit(features=body.cells, remove=body.remove, srid=srid)

    return _run("restore", of, revision_id, session, settings, who, if_match, tolerance, response)


@router.get(
    "/revisions/{revision_id}/figures",
    response_model=DraftFigures,
    summary="Every cell with figures",
)
def figures(
    revision_id: int,
    session: SessionDep,
    settings: SettingsDep,
    who: Planner,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> Response:
    """The editor's first load: all cells with their figures, the draft's balance and ETag.

    The body is written as JSON text (the cells' GeoJSON as PostGIS wrote it), not
    through the response model: a district draft is 22,000 cells (see `DraftFigures`).
    """
    revision = get_revision(session=session, revision_id=revision_id)
    balance, draft = draft_balance(session=session, revision_id=revision_id, tolerance=tolerance)
    feats = cell_features_json(
        session=session,
        revision_id=revision_id,
        ids=None,
        balance=balance,
        srid=settings.metric_srid,
    )
    head = {
        "revision": revision.id,
        "status": revision.status,
        "scope": revision.scope,
        "scope_code": revision.scope_code,
        "version": revision.version,
        "etag": etag_of(revision),
        "draft": draft,
    }
    body = json.dumps(head)[:-1] + ',"cells":{"type":"FeatureCollection","features":' + feats + "}}"
    return Response(body, media_type="application/json", headers={"ETag": etag_of(revision)})


@router.get("/revisions/{revision_id}/units", response_model=UnitsOut, summary="The draft's units")
def units(
    revision_id: int,
    session: SessionDep,
    who: Planner,
    kind: Literal["courtyard", "building"] = "courtyard",
) -> dict[str, Any]:
    """Courtyards (or buildings) of the draft's scope with their households: what is painted."""
    revision = get_revision(session=session, revision_id=revision_id)
    return scope_units(session=session, revision=revision, kind=kind)


@router.get("/drafts", response_model=list[DraftListed], summary="Open drafts with author and age")
def drafts(session: SessionDep, who: Planner, now: NowDep) -> list[dict[str, Any]]:
    """Newest first; `age_s` from the service's clock, `edited_s` since the last edit."""
    return list_drafts(session=session, now=now)


@router.delete(
    "/revisions/{revision_id}", status_code=204, response_class=Response, summary="Delete a draft"
)
def delete_draft(
    revision_id: int, session: SessionDep, who: Planner, if_match: IfMatch = None
) -> Response:
    """Discarded, its cells dropped (409 unless a draft; 412 when If-Match is stale)."""
    revision = get_revision(session=session, revision_id=revision_id, lock=True)
    require_draft(revision)
    if if_match:
        check_if_match(revision, if_match)
    discard_draft(session=session, revision=revision, actor=who.name, role=who.role)
    session.commit()
    return Response(status_code=204)

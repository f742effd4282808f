"""What the impact preview, the publish and the batch locate answer, as response models.

The domain returns typed values (`grids.planning.impact_types.Impact`,
`grids.planning.publish.PublishResult`, `grids.grid.locate_batch.LocatedBatch`) whose
`as_json` is the wire shape; these models declare that shape in the OpenAPI document.
Members the domain leaves out (the worker fields of a cell above level 1, a case's
assignees when its level-1 cell stays, a feature without an id) stay out: the routes
answer with `response_model_exclude_unset`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from geo_api.schemas.geojson import Geometry, Number, Out


class ImpactCell(Out):
    """One cell the draft adds, removes, reshapes or reparents, before and after."""

    code: str
    level: int
    parent_before: str | None
    parent_after: str | None
    area_before: Number | None
    area_after: Number | None
    change: str
    households_before: int
    households_after: int
    households_in: int
    households_out: int
    population_before: int
    population_after: int
    open_incidents_before: int
    open_incidents_after: int
    worker_before: int | None = None
    worker_after: int | None = None
    worker_after_on_duty: bool | None = None
    assignee_after: int | None = None
    assignment_reason_after: str | None = None


class CaseMoving(Out):
    """An open case whose cell codes change (`from`/`to` per level), and its assignees."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: int
    from_: dict[str, str | None] = Field(alias="from")
    to: dict[str, str | None]
    assignee_before: int | None = None
    assignee_after: int | None = None


class WorkerLoad(Out):
    """A level-1 worker's open cases and households, before and after."""

    worker_id: int
    cell_code: str | None
    open_cases_before: int
    open_cases_after: int
    households_before: int
    households_after: int


class OffDuty(Out):
    """A draft level-1 cell whose worker is off duty, and who would stand in."""

    cell_code: str
    worker_id: int | None
    worker_name: str | None
    stand_in_id: int | None
    stand_in_name: str | None
    stand_in_reason: str | None


class ImpactTotals(Out):
    """The preview in four numbers."""

    changed_cells: int
    households_moved: int
    population_moved: int
    open_incidents_moving: int


class ImpactOut(Out):
    """``GET /planning/revisions/{id}/impact``."""

    revision: int
    changed_cells: list[ImpactCell]
    incidents_moving: list[CaseMoving]
    workload: list[WorkerLoad]
    cells_without_worker: list[str]
    workers_off_duty: list[OffDuty]
    totals: ImpactTotals


class PublishOut(Out):
    """``POST /planning/revisions/{id}/publish``: the new live grid in counts."""

    revision: int
    status: str
    closed: int
    opened: int
    kept: int
    cases_moved: int


class LocatedFeature(Out):
    """An input point (WGS-84, null when unusable) with its chain in `properties`."""

    type: Literal["Feature"]
    geometry: Geometry | None
    properties: dict[str, Any]
    id: str | int | None = None


class LocatedBatchOut(Out):
    """``POST /locate``: the points located, and how many by each method."""

    type: Literal["FeatureCollection"]
    features: list[LocatedFeature]
    counts: dict[str, int]

"""What planners get back: drafts, their cells, validation reports, diffs and suggestions.

The impact preview and the publish answer are typed with their own result
types (grids.planning.impact / publish); this module covers the other routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from geo_api.schemas.geojson import FeatureCollection, Geometry, Number, Out


class DraftCreated(Out):
    """The id of the new draft."""

    id: int


class RevisionOut(Out):
    """A revision's status, scope, author and times."""

    id: int
    status: str
    scope: str
    scope_code: str | None
    author: str
    note: str | None
    created_at: datetime
    published_at: datetime | None


class RevisionListed(RevisionOut):
    """A revision in the list, with its number of draft cells and of cells it opened."""

    draft_cells: int
    cells_opened: int


class CellProperties(Out):
    """A draft cell's code, level, parent, name and population figures."""

    code: str
    level: int
    parent_code: str | None
    name: str | None
    households: int | None
    population: int | None


class CellFeature(Out):
    """One cell of a draft (the id is its code)."""

    type: Literal["Feature"]
    id: str
    properties: CellProperties
    geometry: Geometry


class DraftCells(FeatureCollection[CellFeature]):
    """The draft's cells, full coordinate precision, EPSG:4326."""


class CellsReplaced(Out):
    """The draft and how many cells it holds now."""

    id: int
    cells: int


class Problem(Out):
    """One problem of a draft: kind, cells involved, what, area and where."""

    kind: str
    cells: list[str]
    detail: str
    area_m2: float
    geometry: Geometry | None


class ValidationReport(Out):
    """A draft's validation: valid or not, counts per kind and every problem."""

    revision: int
    valid: bool
    cells: int
    tolerance_m: float
    min_area_m2: float
    counts: dict[str, int]
    problems: list[Problem]


class LiveProblem(Out):
    """An overlap, gap or sliver of the live grid, with its width and outline."""

    kind: str
    layer: str
    cells: list[str]
    detail: str
    area_m2: float
    width_m: float
    geometry: Geometry


class LiveValidation(Out):
    """Does the live grid tile exactly: counts, areas per layer and every problem."""

    valid: bool
    tolerance_m: float
    min_sliver_m2: float
    counts: dict[str, int]
    area_m2: dict[str, Number]
    problems: list[LiveProblem]


class DiffRow(Out):
    """A cell added, removed or changed: parents and areas before and after."""

    code: str
    level: int
    parent_before: str | None
    parent_after: str | None
    area_before: float | None
    area_after: float | None
    reshaped: bool | None


class RevisionDiff(Out):
    """Cells added, removed and changed against the grid the draft was taken from."""

    revision: int
    status: str
    counts: dict[str, int]
    added: list[DiffRow]
    removed: list[DiffRow]
    changed: list[DiffRow]


class BalanceFigures(Out):
    """Min, max, mean and coefficient of variation of per-cell totals."""

    cells: int
    min: float
    max: float
    mean: float
    cv: float


class BeforeAfter(Out):
    """Figures before and after the suggestion."""

    before: BalanceFigures
    after: BalanceFigures


class Balance(Out):
    """Balance of households and of open cases."""

    households: BeforeAfter
    open_cases: BeforeAfter


class Suggestion(Out):
    """What a suggestion wrote and how balanced the cells are before and after."""

    revision: int
    level: int
    groups: int
    cells_before: int
    cells_after: int
    balance: Balance

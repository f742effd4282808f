"""What the planners' editor gets back: an edit's changes, the draft's figures, units, drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict

from geo_api.schemas.geojson import Out


class Balance(Out):
    """The draft's balance over its level-1 cells."""

    cells: int
    households: int
    workers: int
    target_households_per_worker: float
    tolerance: float
    over: int
    under: int
    household_cv: float


class ProblemOut(Out):
    """One validation problem near the edit, its geometry in EPSG:4326."""

    kind: str
    cells: list[str]
    detail: str
    area_m2: float
    geometry: dict[str, Any] | None


class EditOut(Out):
    """What one edit changed (only that), the problems around it and the new ETag.

    Besides the members below, each edit says what it did (`target`, `units`,
    `from` for a move; `pieces` for a split; `cell`, …) — the audit's words.
    """

    model_config = ConfigDict(extra="allow")

    revision: int
    version: int
    etag: str
    op: str
    cells: dict[str, Any]
    removed: list[str]
    before: list[dict[str, Any]]
    problems: list[ProblemOut]
    draft: Balance


class DraftFigures(Out):
    """Every cell of a draft with its figures, the balance and the ETag (the editor's load)."""

    revision: int
    status: str
    scope: str
    scope_code: str | None
    version: int
    etag: str
    cells: dict[str, Any]
    draft: Balance


class UnitsOut(Out):
    """The courtyards or buildings of a draft's scope (GeoJSON)."""

    type: str
    kind: str
    features: list[dict[str, Any]]


class DraftListed(Out):
    """An open draft in the list: who took it, when, how big, how old."""

    id: int
    author: str
    note: str | None
    scope: str
    scope_code: str | None
    version: int
    created_at: datetime
    updated_at: datetime | None
    cells: int
    age_s: int
    edited_s: int

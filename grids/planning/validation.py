"""Validate a stored draft: load it in metres, run `grids.planning.topology`, report in GeoJSON.

The report carries each problem's geometry back in EPSG:4326, so a planner's
map (or QGIS) can draw the overlap, the gap or the self-intersection point.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.planning.drafts import DraftRow, get_revision, read_draft, scope_community_ids
from grids.planning.topology import DraftCell, Problem, ScopeContext, validate
from layers.core.constants import GRID_NOISE_M, MIN_CELL_AREA_M2, UTM48N
from layers.core.crs import from_metric, to_metric

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidationOptions:
    """Tolerances of a validation: float-noise width (m) and smallest cell (m²)."""

    tolerance_m: float = GRID_NOISE_M
    min_area_m2: float = MIN_CELL_AREA_M2
    metric_srid: int = UTM48N


def geoms_to_metric(
    geoms: Sequence[BaseGeometry] | NDArray[np.object_], srid: int = UTM48N
) -> list[BaseGeometry]:
    """EPSG:4326 geometries projected to the metric CRS `srid` (metres)."""
    arr = np.asarray(geoms, dtype=object)
    return list(
        shapely.transform(arr, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1], srid=srid)))
    )


def geom_to_wgs84(geom: BaseGeometry, srid: int = UTM48N) -> BaseGeometry:
    """A metric geometry back to EPSG:4326."""
    return shapely.transform(
        geom, lambda xy: np.column_stack(from_metric(xy[:, 0], xy[:, 1], srid=srid))
    )


def scope_context(
    *, session: Session, scope: str, code: str, options: ValidationOptions
) -> ScopeContext:
    """The communities of a scope and its outline, in metres."""
    ids = scope_community_ids(session=session, scope=scope, code=code)
    rows = session.execute(
        text("SELECT code, ST_AsBinary(geom) AS wkb FROM communities WHERE id = ANY(:ids)"),
        {"ids": ids},
    ).all()
    geoms = geoms_to_metric(shapely.from_wkb([bytes(r.wkb) for r in rows]), options.metric_srid)
    outline = shapely.union_all(geoms)
    return ScopeContext(
        communities={r.code: g for r, g in zip(rows, geoms, strict=True)},
        scope=outline,
        tolerance_m=options.tolerance_m,
        min_area_m2=options.min_area_m2,
    )


def draft_cells_metric(rows: Sequence[DraftRow], srid: int = UTM48N) -> list[DraftCell]:
    """Draft rows as `topology.DraftCell`s in metres."""
    geoms = geoms_to_metric([r.geom for r in rows], srid)
    return [DraftCell(r.code, r.level, r.parent_code, g) for r, g in zip(rows, geoms, strict=True)]


@dataclass(frozen=True, kw_only=True)
class ReportedProblem:
    """One problem as reported: its geometry in EPSG:4326 GeoJSON, its area rounded."""

    kind: str
    cells: list[str]
    detail: str
    area_m2: float
    geometry: dict[str, Any] | None


@dataclass(frozen=True, kw_only=True)
class ValidationReport:
    """A draft's validation: `valid`, counts per kind and every problem."""

    revision: int
    valid: bool
    cells: int
    tolerance_m: float
    min_area_m2: float
    counts: dict[str, int]
    problems: list[ReportedProblem]

    def as_json(self) -> dict[str, Any]:
        """The report as the 422 of a refused publish carries it (plain JSON)."""
        return asdict(self)


def reported_problem(problem: Problem, srid: int = UTM48N) -> ReportedProblem:
    """One problem as reported, its geometry in EPSG:4326 GeoJSON."""
    geom = None if problem.geom is None else mapping(geom_to_wgs84(problem.geom, srid))
    return ReportedProblem(
        kind=problem.kind,
        cells=list(problem.cells),
        detail=problem.detail,
        area_m2=round(problem.area_m2, 4),
        geometry=geom,
    )


def validate_draft(
    *, session: Session, revision_id: int, options: ValidationOptions
) -> ValidationReport:
    """The validation report of a draft: `valid`, counts per kind and every problem."""
    revision = get_revision(session=session, revision_id=revision_id)
    rows = read_draft(session=session, revision_id=revision_id)
    ctx = scope_context(
        session=session, scope=revision.scope, code=revision.scope_code or "", options=options
    )
    problems = validate(draft_cells_metric(rows, options.metric_srid), ctx)
    return ValidationReport(
        revision=revision_id,
        valid=not problems,
        cells=len(rows),
        tolerance_m=options.tolerance_m,
        min_area_m2=options.min_area_m2,
        counts=dict(Counter(p.kind for p in problems)),
        problems=[reported_problem(p, options.metric_srid) for p in problems],
    )

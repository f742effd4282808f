"""Camera siting: where k new cameras would cover most of the uncovered required targets.

Targets are the point targets (courtyard entrances, key places, intersections)
that no online camera sees today, inside the chosen street or community.
Candidates are building corners and road points near them, each tried at
`azimuths` evenly spaced directions with the requested optics; a candidate covers
a target when the target lies in its occluded view (`layers.analytics.visibility`).  The k
views are chosen by MCLP and, for comparison, greedily (`layers.analytics.siting_solve`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from sqlalchemy.orm import Session

from layers.analytics import coverage, siting_candidates
from layers.analytics.coverage_report import Scope, coverage_report
from layers.analytics.settings import AnalyticsSettings
from layers.analytics.siting_solve import SOLVERS, Choice, greedy, mclp
from layers.analytics.visibility import Cameras, Obstacles, visibility_polygons
from layers.core.errors import InvalidInputError, UnprocessableError
from layers.core.limit_settings import LimitSettings

logger = logging.getLogger(__name__)

DEFAULT_WEIGHTS = {"key_place": 3.0, "entrance": 2.0, "intersection": 1.0}


@dataclass(frozen=True, kw_only=True)
class SitingRequest:
    """Budget, candidate generation and the optics of the new cameras."""

    k: int
    candidates: tuple[str, ...] = siting_candidates.CANDIDATE_KINDS
    road_spacing_m: float = 30.0
    corner_offset_m: float = 1.0
    azimuths: int = 8
    hfov_deg: float = 70.0
    range_m: float = 30.0
    height_m: float = 6.0
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    solver: str = "auto"
    time_limit_s: float = 20.0


@dataclass(frozen=True)
class SitingResult:
    """Targets, candidates, the MCLP and greedy choices and the chosen views (metric)."""

    targets: pd.DataFrame
    views: pd.DataFrame  # candidate views kept (x, y, azimuth, kind, visible polygon)
    cover: sparse.csc_matrix
    weights: np.ndarray
    optimal: Choice
    greedy: Choice
    stats: dict[str, Any]


def _check(req: SitingRequest) -> None:
    unknown = sorted(set(req.candidates) - set(siting_candidates.CANDIDATE_KINDS))
    if unknown or not req.candidates:
        raise InvalidInputError(
            "candidates must be among " + ", ".join(siting_candidates.CANDIDATE_KINDS),
            code="invalid_candidates",
        )
    if req.solver not in SOLVERS:
        raise InvalidInputError(f"solver must be one of {', '.join(SOLVERS)}", code="bad_solver")
    bad = sorted(set(req.weights) - set(DEFAULT_WEIGHTS))
    if bad:
        raise InvalidInputError(f"no target kind {', '.join(bad)}", code="invalid_weights")


def _sites(session: Session, srid: int, scope: Scope, req: SitingRequest, targets: np.ndarray):
    communities = None if scope.community_ids is None else sorted(scope.community_ids)
    parts = []
    if "building_corners" in req.candidates:
        parts.append(
            siting_candidates.building_corner_sites(
                session=session, srid=srid, communities=communities, offset_m=req.corner_offset_m
            )
        )
    if "road_points" in req.candidates:
        parts.append(
            siting_candidates.road_point_sites(
                session=session, srid=srid, communities=communities, spacing_m=req.road_spacing_m
            )
        )
    sites = siting_candidates.concat(parts)
    return siting_candidates.near_targets(sites, targets, req.range_m)


def _check_views(sites, req: SitingRequest, max_views: int) -> None:
    n = len(sites) * req.azimuths
    if n > max_views:  # refused before the (expensive) visibility of every view
        raise UnprocessableError(
            f"{n:,} candidate views; narrow the scope (street or community), lower `azimuths` or"
            f" raise `road_spacing_m` (limit {max_views:,}, WANGGE_LIMIT_SITING_VIEWS)",
            code="too_many_candidates",
            value=n,
            limit=max_views,
        )


def _candidate_views(sites, req: SitingRequest, obstacles: Obstacles) -> pd.DataFrame:
    n = len(sites) * req.azimuths
    az = np.tile(np.arange(req.azimuths) * 360.0 / req.azimuths, len(sites))
    rep = np.repeat(np.arange(len(sites)), req.azimuths)
    cams = Cameras(
        x=sites.x[rep],
        y=sites.y[rep],
        azimuth_deg=az,
        hfov_deg=np.full(n, req.hfov_deg),
        range_m=np.full(n, req.range_m),
        height_m=np.full(n, req.height_m),
    )
    _, visible = visibility_polygons(cams, obstacles)
    return pd.DataFrame(
        {"x": cams.x, "y": cams.y, "azimuth": az, "kind": sites.kind[rep], "visible": visible}
    )


def _cover_matrix(views: pd.DataFrame, points: np.ndarray) -> tuple[sparse.csc_matrix, np.ndarray]:
    """Targets × candidates coverage, candidates that cover nothing or repeat another dropped."""
    tree = shapely.STRtree(views["visible"].to_numpy())
    t_idx, c_idx = tree.query(points, predicate="intersects")  # in or on a view
    matrix = sparse.csc_matrix(
        (np.ones(len(t_idx), dtype=np.int8), (t_idx, c_idx)), shape=(len(points), len(views))
    )
    matrix.sum_duplicates()
    useful = np.flatnonzero(np.diff(matrix.indptr) > 0)
    signatures: dict[bytes, np.intp] = {}
    for j in useful:
        key = matrix.indices[matrix.indptr[j] : matrix.indptr[j + 1]].tobytes()
        signatures.setdefault(key, j)
    keep = np.array(sorted(signatures.values()), dtype=int)
    return matrix[:, keep], keep


@dataclass(frozen=True)
class SitingProblem:
    """What siting reads from the database: the uncovered targets, the sites, the obstacles."""

    request: SitingRequest
    targets: pd.DataFrame
    sites: Any
    obstacles: Obstacles
    started: float


def prepare_siting(
    *,
    session: Session,
    settings: AnalyticsSettings,
    limits: LimitSettings,
    srid: int,
    scope: Scope,
    request: SitingRequest,
    actor: str = "system",
    role: str = "system",
) -> SitingProblem:
    """Read (and bound) everything siting needs; the caller may then end its transaction.

    The solve can take minutes (`time_limit_s`), so it runs on this snapshot with
    no transaction open: an idle transaction would hold the derived layers' locks
    and be ended by the service role's `idle_in_transaction_session_timeout`.
    """
    _check(request)
    started = time.perf_counter()
    report = coverage_report(
        session=session, settings=settings, srid=srid, scope=scope, actor=actor, role=role
    )
    t = report.targets
    t = t[(~t["covered"]) & t["kind"].isin(list(request.weights))].reset_index(drop=True)
    if t.empty:
        raise UnprocessableError("every target in scope is already covered", code="nothing_to_do")
    points = shapely.points(t["x"].to_numpy(float), t["y"].to_numpy(float))
    sites = _sites(session, srid, scope, request, points)
    _check_views(sites, request, limits.siting_views)
    obstacles = coverage.load_obstacles(session=session, srid=srid)
    return SitingProblem(request, t, sites, obstacles, started)


def solve_siting(problem: SitingProblem) -> SitingResult:
    """Candidate views, coverage matrix, MCLP and greedy choices (no database)."""
    request, t = problem.request, problem.targets
    points = shapely.points(t["x"].to_numpy(float), t["y"].to_numpy(float))
    views = _candidate_views(problem.sites, request, problem.obstacles)
    cover, keep = _cover_matrix(views, points)
    views = views.iloc[keep].reset_index(drop=True)
    weights = t["kind"].map(request.weights).to_numpy(float)
    prep = time.perf_counter() - problem.started
    first = greedy(cover, weights, request.k)
    best = mclp(
        cover,
        weights,
        request.k,
        solver=request.solver,
        time_limit=request.time_limit_s,
        warm=first,
    )
    stats = {
        "targets": len(t),
        "target_weight": float(weights.sum()),
        "sites": len(problem.sites),
        "candidate_views": len(problem.sites) * request.azimuths,
        "useful_views": len(views),
        "prepare_seconds": round(prep, 3),
    }
    return SitingResult(t, views, cover, weights, best, first, stats)


def plan_sites(
    *,
    session: Session,
    settings: AnalyticsSettings,
    limits: LimitSettings,
    srid: int,
    scope: Scope,
    request: SitingRequest,
    actor: str = "system",
    role: str = "system",
) -> SitingResult:
    """`prepare_siting` then `solve_siting`, in the caller's transaction (scripts, benchmarks)."""
    problem = prepare_siting(
        session=session,
        settings=settings,
        limits=limits,
        srid=srid,
        scope=scope,
        request=request,
        actor=actor,
        role=role,
    )
    return solve_siting(problem)

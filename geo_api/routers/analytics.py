"""Spatial analytics for staff: hotspots, emerging trends, camera coverage and siting."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from geo_api.auth import STAFF, Principal, Role, allow
from geo_api.deps import SessionDep, SettingsDep
from geo_api.routers.params import Moment, case_filter, split_codes
from geo_api.schemas.analytics import Coverage, CoverageGaps, Hotspots, Sites, Trends
from geo_api.schemas.geojson import Feature, FeatureCollection
from layers.analytics import coverage_geojson
from layers.analytics.coverage_report import coverage_report, resolve_scope
from layers.analytics.hotspots import HotspotQuery, hotspots, to_feature_collection
from layers.analytics.siting import SitingRequest, prepare_siting, solve_siting
from layers.analytics.siting_response import SitingAnswer, siting_response
from layers.analytics.trends import TrendQuery, trends

router = APIRouter(prefix="/analytics", tags=["analytics"])

Codes = Annotated[list[str], Query(description="Repeat or comma-separate.")]


@router.get(
    "/hotspots",
    response_model=Hotspots,
    summary="Gi* hot and cold spots of incidents on H3 cells (GeoJSON)",
)
def get_hotspots(
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = allow(*STAFF),
    resolution: int = Query(None, ge=5, le=12, description="H3 resolution (default 9)."),
    category: Codes = None,
    channel: Codes = None,
    start: Moment | None = Query(None, description="Cases created at or after (ISO)."),
    end: Moment | None = Query(None, description="Cases created before (ISO)."),
    inference: str = Query("analytic", description="analytic (normal z) or permutation."),
    permutations: int = Query(None, ge=0, le=99_999),
    fdr: bool = Query(True, description="Benjamini-Hochberg correction of the p-values."),
) -> dict[str, Any]:
    """Counts, Gi* z, two-sided p (analytic and permutation), FDR q and class per H3 cell."""
    a = settings.analytics
    query = HotspotQuery(
        resolution=resolution or a.h3_resolution,
        filters=case_filter(category, channel, start, end),
        permutations=a.permutations if permutations is None else permutations,
        inference=inference,
        fdr=fdr,
        seed=a.seed,
    )
    table = hotspots(
        session=session,
        query=query,
        limits=settings.limits,
        actor=principal.name,
        role=principal.role,
    )
    session.commit()
    classes = table["class"].value_counts().to_dict()
    return to_feature_collection(
        table,
        resolution=query.resolution,
        inference=query.inference,
        permutations=query.permutations,
        fdr=query.fdr,
        classes={k: int(v) for k, v in classes.items()},
        incidents=int(table["count"].sum()),
    )


@router.get(
    "/trends", response_model=Trends, summary="Emerging hot spot analysis on H3 cells (GeoJSON)"
)
def get_trends(
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = allow(*STAFF),
    resolution: int = Query(None, ge=5, le=12),
    interval: str = Query("month", description="week or month"),
    category: Codes = None,
    channel: Codes = None,
    start: Moment | None = Query(None),
    end: Moment | None = Query(None),
    alpha: float = Query(None, gt=0, lt=0.5, description="Mann-Kendall significance."),
    fdr: bool = Query(True),
) -> dict[str, Any]:
    """One of Esri's 17 outcomes per cell, with the trend z/p and the Gi bins per slice."""
    a = settings.analytics
    query = TrendQuery(
        resolution=resolution or a.h3_resolution,
        interval=interval,
        filters=case_filter(category, channel, start, end),
        alpha=alpha or a.trend_alpha,
        fdr=fdr,
    )
    table, slices = trends(
        session=session,
        query=query,
        limits=settings.limits,
        actor=principal.name,
        role=principal.role,
    )
    session.commit()
    return to_feature_collection(
        table,
        resolution=query.resolution,
        interval=query.interval,
        slices=slices,
        categories={k: int(v) for k, v in table["category"].value_counts().items()},
    )


def _report(session, settings, principal: Principal, street, community):
    scope = resolve_scope(session=session, street=street, community=community)
    report = coverage_report(
        session=session,
        settings=settings.analytics,
        srid=settings.metric_srid,
        scope=scope,
        actor=principal.name,
        role=principal.role,
    )
    session.commit()
    return report


@router.get(
    "/coverage", response_model=Coverage, summary="Camera coverage figures per street and community"
)
def get_coverage(
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = allow(*STAFF),
    street: str | None = Query(None, description="Street code (9 digits)."),
    community: str | None = Query(None, description="Community code (12 digits)."),
) -> dict[str, Any]:
    """Shares of required targets covered, national targets, per-area table."""
    report = _report(session, settings, principal, street, community)
    return {"summary": report.summary, "areas": report.areas}


@router.get(
    "/coverage/gaps",
    response_model=CoverageGaps,
    summary="Uncovered required targets with the reason (GeoJSON)",
)
def get_coverage_gaps(
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = allow(*STAFF),
    street: str | None = Query(None),
    community: str | None = Query(None),
    kind: Codes = None,
    reason: Codes = None,
) -> dict[str, Any]:
    """Gap targets: entrances, key places, intersections, courtyard areas not seen."""
    report = _report(session, settings, principal, street, community)
    return coverage_geojson.gaps_geojson(
        report, settings.metric_srid, kinds=split_codes(kind), reasons=split_codes(reason)
    )


@router.get(
    "/coverage/courtyards",
    response_model=FeatureCollection[Feature],
    summary="Courtyards by covered share (GeoJSON)",
)
def get_coverage_courtyards(
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = allow(*STAFF),
    street: str | None = Query(None),
    community: str | None = Query(None),
) -> dict[str, Any]:
    """Covered share of each courtyard's area and how many of its entrances are seen."""
    report = _report(session, settings, principal, street, community)
    return coverage_geojson.courtyards_geojson(report, settings.metric_srid)


@router.get(
    "/coverage/views",
    response_model=FeatureCollection[Feature],
    summary="Camera views clipped by buildings (GeoJSON)",
)
def get_coverage_views(
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = allow(*STAFF),
    online: bool | None = Query(None, description="Only online (true) or offline (false)."),
) -> dict[str, Any]:
    """The visible part of every camera's sector; an offline camera covers nothing."""
    report = _report(session, settings, principal, None, None)
    return coverage_geojson.views_geojson(report, settings.metric_srid, online=online)


class SitingBody(BaseModel):
    """A siting request: budget k, optional scope, candidates and optics of new cameras."""

    model_config = ConfigDict(extra="forbid")

    k: int = Field(ge=1, le=500, description="How many new cameras.")
    street: str | None = None
    community: str | None = None
    candidates: list[str] = Field(default=["building_corners", "road_points"])
    road_spacing_m: float = Field(30.0, ge=5, le=500)
    corner_offset_m: float = Field(1.0, ge=0.1, le=10)
    azimuths: int = Field(8, ge=1, le=36)
    hfov_deg: float = Field(70.0, gt=0, le=360)
    range_m: float = Field(30.0, gt=0, le=300)
    height_m: float = Field(6.0, gt=0, le=100)
    weights: dict[str, float] | None = None
    solver: str = "auto"
    time_limit_s: float = Field(20.0, gt=0, le=120)


@router.post(
    "/siting",
    response_model=Sites,
    summary="Where k new cameras cover most uncovered targets (MCLP vs greedy)",
)
def post_siting(
    body: SitingBody,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = allow(Role.PLANNER, Role.ADMIN),
) -> SitingAnswer:
    """Chosen sites with their view sectors and coverage gain, beside the greedy choice."""
    scope = resolve_scope(session=session, street=body.street, community=body.community)
    fields = body.model_dump(exclude={"street", "community", "candidates", "weights"})
    request = SitingRequest(
        candidates=tuple(body.candidates),
        **({"weights": body.weights} if body.weights is not None else {}),
        **fields,
    )
    problem = prepare_siting(
        session=session,
        settings=settings.analytics,
        limits=settings.limits,
        srid=settings.metric_srid,
        scope=scope,
        request=request,
        actor=principal.name,
        role=principal.role,
    )
    session.commit()  # the solve may take minutes: no transaction waits idle meanwhile
    result = solve_siting(problem)
    return siting_response(result, request, scope, settings.metric_srid)

"""The map pages as HTML: coverage, hotspots, workload, self-governance (staff), residents,
dispatch.

Each page is built by `maps` from data gathered by `layers`; its scripts and styles
come from /static only, and inline scripts run only with the response's nonce, which
the Content-Security-Policy enforces in the browser.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from geo_api.auth import EVERYONE, STAFF, Principal, Role, allow
from geo_api.deps import NowDep, ReadSessionDep, SessionDep, SettingsDep
from geo_api.middleware.security_headers import map_csp, new_nonce
from geo_api.replica_route import ReplicaFallbackRoute
from geo_api.routers.params import Moment, case_filter, split_codes
from geo_api.routers.residents_nearby import wgs84_point
from geo_api.schemas.case_shapes import viewer_of
from geo_api.settings import Settings
from grids.cases.residents import resident_view
from grids.self_governance.coverage import week_window
from layers.analytics.coverage_report import resolve_scope
from layers.analytics.hotspots import HotspotQuery
from layers.analytics.trends import TrendQuery
from layers.map_data.dispatch_layers import QueueFilter, dispatch_layers
from layers.map_data.map_layers import (
    coverage_layers,
    hotspot_layers,
    outlines,
    workload_layers,
)
from layers.map_data.self_governance_layers import self_governance_layers
from maps import coverage, dispatch, hotspots, residents, self_governance, workload
from maps.base import PageOptions

router = APIRouter(prefix="/maps", tags=["maps"], route_class=ReplicaFallbackRoute)

Codes = Annotated[list[str] | None, Query()]


def _options(settings: Settings) -> PageOptions:
    """This response's page options, with a fresh nonce for the page's inline script."""
    return PageOptions.from_settings(settings.maps, "/static", script_nonce=new_nonce())


def tile_source(tiles_url: str) -> str:
    """The CSP source of a tile URL template: its origin, `*.` for a `{s}.` subdomain part."""
    parts = urlsplit(tiles_url)
    host = parts.netloc
    if "{" in host:  # {s}.tiles.example: any subdomain of what follows the placeholder
        host = "*." + host.rsplit("}", 1)[1].lstrip(".")
    return f" {parts.scheme}://{host}" if host else ""


def page(
    html: str,
    settings: Settings,
    options: PageOptions,
    *,
    private: bool = True,
    blob_images: bool = False,
) -> HTMLResponse:
    """An HTML page whose scripts, styles and data may come from this service only.

    Inline scripts run only with the nonce the page was rendered with; the
    basemap's tile server (if one is configured) is the only other image source.
    """
    img = (
        "'self' data: blob:" if blob_images else "'self' data:"
    )  # blob: photos fetched with a token
    if settings.maps.tiles_url:
        img += tile_source(settings.maps.tiles_url)
    headers = {
        "Content-Security-Policy": map_csp(options.script_nonce or new_nonce(), img),
        "Cache-Control": "no-store" if private else "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    return HTMLResponse(html, headers=headers)


@router.get("/coverage", response_class=HTMLResponse, summary="Camera coverage and gaps (staff)")
def coverage_map(
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = allow(*STAFF),
    street: str | None = Query(None),
    community: str | None = Query(None),
) -> HTMLResponse:
    """Views clipped by buildings, courtyards by covered share, gap targets, figures."""
    scope = resolve_scope(session=session, street=street, community=community)
    data = coverage_layers(
        session=session,
        settings=settings.analytics,
        srid=settings.metric_srid,
        scope=scope,
        actor=principal.name,
    )
    session.commit()
    options = _options(settings)
    return page(coverage.build_page(data, options), settings, options)


@router.get("/hotspots", response_class=HTMLResponse, summary="Incident hotspots (staff)")
def hotspots_map(
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = allow(*STAFF),
    resolution: int | None = Query(None, ge=5, le=12),
    category: Codes = None,
    channel: Codes = None,
    start: Moment | None = Query(None),
    end: Moment | None = Query(None),
    interval: str = Query("month", description="Trend slices: week, month, or none."),
) -> HTMLResponse:
    """Gi* classes on H3 with FDR, emerging trends, a layer per period, clustered cases.

    The classes are aggregates of every case; the clustered points are the caller's
    cases (a grid worker: their cells and assignments).
    """
    a = settings.analytics
    filters = case_filter(category, channel, start, end)
    res = resolution or a.h3_resolution
    query = HotspotQuery(
        resolution=res,
        filters=filters,
        permutations=a.permutations,
        inference="analytic",
        fdr=True,
        seed=a.seed,
    )
    trend = None
    if interval != "none":
        trend = TrendQuery(resolution=res, interval=interval, filters=filters, alpha=a.trend_alpha)
    data = hotspot_layers(
        session=session,
        query=query,
        trend=trend,
        limits=settings.limits,
        actor=principal.name,
        viewer=viewer_of(principal),
    )
    session.commit()
    options = _options(settings)
    return page(hotspots.build_page(data, options), settings, options)


@router.get("/workload", response_class=HTMLResponse, summary="Grid workload (staff)")
def workload_map(
    session: ReadSessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Principal = allow(*STAFF),
) -> HTMLResponse:
    """Cells of the three levels by open cases and households per worker."""
    data = workload_layers(session=session, now=now)
    options = _options(settings)
    return page(workload.build_page(data, options), settings, options)


@router.get(
    "/self-governance",
    response_class=HTMLResponse,
    summary="Courtyards by rota coverage, three-nos courtyards with nobody on duty (staff)",
)
def self_governance_map(
    session: ReadSessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Principal = allow(*STAFF),
    week: date | None = Query(None, description="Any day of the week; default this week."),
) -> HTMLResponse:
    """Hours on duty per courtyard this week; social organisations per 10,000 residents."""
    start, end = week_window(week, now)
    data = self_governance_layers(session=session, start=start, end=end, now=now)
    options = _options(settings)
    return page(self_governance.build_page(data, options), settings, options)


@router.get(
    "/residents",
    response_class=HTMLResponse,
    dependencies=[allow(*EVERYONE)],
    summary="Your grid, your grid worker and service points near you (public)",
)
def residents_map(
    request: Request,
    session: ReadSessionDep,
    settings: SettingsDep,
    now: NowDep,
    lon: float | None = Query(None, ge=-180, le=180),
    lat: float | None = Query(None, ge=-90, le=90),
    crs: str = Query("wgs84"),
    kind: Codes = None,
    radius: float = Query(2000.0, gt=0, le=20_000),
) -> HTMLResponse:
    """No camera and no personal data: cell names, worker names, public service points."""
    options = _options(settings)
    if lon is None or lat is None:
        html = residents.locate_page(outlines(session=session), options, request.url.path)
        return page(html, settings, options, private=False)
    x, y = wgs84_point(lon, lat, crs)
    data = resident_view(
        session=session, lon=x, lat=y, kinds=split_codes(kind), radius_m=radius, now=now
    )
    return page(residents.build_page(data, options), settings, options, private=False)


@router.get("/dispatch", response_class=HTMLResponse, summary="Dispatcher's map")
def dispatch_map(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    principal: Principal = allow(Role.DISPATCHER, Role.ADMIN),
    status: Codes = None,
    category: str | None = Query(None),
    street: str | None = Query(None),
    overdue_only: bool = Query(False),
    limit: int = Query(3000, ge=1, le=10_000),
) -> HTMLResponse:
    """Open cases by status and overdue state, workers on duty, the queue filters."""
    filters = QueueFilter(
        split_codes(status), category or None, street or None, overdue_only, limit
    )
    data = dispatch_layers(session=session, filters=filters, now=now)
    options = _options(settings)
    return page(dispatch.build_page(data, options), settings, options)

"""The data behind each map page, as GeoDataFrames in WGS-84 (the `maps` package draws them).

One function per page gathers what it shows; nothing here renders.  Personal
data stays out unless the page is for staff and needs it: the resident page
gets worker names only and no camera, the dispatcher page gets case texts.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.analytics.coverage import to_wgs84_geoms
from layers.analytics.coverage_report import Scope, coverage_report
from layers.analytics.hotspots import HotspotQuery, case_points, cell_polygon, hotspots
from layers.analytics.settings import AnalyticsSettings
from layers.analytics.trends import TrendQuery, trends
from layers.core import constants
from layers.core.errors import UnprocessableError
from layers.core.limit_settings import LimitSettings
from layers.core.map_types import (
    CellChain,
    CoverageLayers,
    HotspotLayers,
    Outlines,
    ResidentLayers,
    WorkloadLayers,
)
from layers.tables.case_scope import Viewer, resolve_scope
from layers.tables.enterprise_offers import nearby_offers
from layers.tables.grid_cells import live
from layers.tables.incidents import OPEN_STATUSES
from layers.tables.nearby import nearby_service_points

logger = logging.getLogger(__name__)

WGS84 = f"EPSG:{constants.WGS84}"
VIEW_SIMPLIFY_M = 0.5
"""Camera views are simplified by this much (metres) for display; figures use exact views."""


def _gdf(frame: pd.DataFrame | list[dict[str, Any]], geometry) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(frame), geometry=list(geometry), crs=WGS84)


def _wkb_frame(session: Session, sql: str, params: dict[str, Any] | None = None):
    frame = pd.DataFrame(list(session.execute(text(sql), params or {}).mappings()))
    if frame.empty:
        return gpd.GeoDataFrame(frame, geometry=[], crs=WGS84)
    geoms = shapely.from_wkb([bytes(b) for b in frame.pop("wkb")])
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs=WGS84)


def outlines(*, session: Session) -> Outlines:
    """Street and community polygons for the base layer."""
    streets = _wkb_frame(session, "SELECT code, name, ST_AsBinary(geom) AS wkb FROM streets")
    communities = _wkb_frame(
        session, "SELECT code, name, ST_AsBinary(geom) AS wkb FROM communities ORDER BY code"
    )
    return Outlines(streets, communities)


def coverage_layers(
    *, session: Session, settings: AnalyticsSettings, srid: int, scope: Scope, actor: str = "system"
) -> CoverageLayers:
    """Everything the coverage map shows, for the district or one street/community."""
    report = coverage_report(
        session=session, settings=settings, srid=srid, scope=scope, actor=actor
    )
    views = report.views
    if scope.community_ids is not None:
        views = views[views["community_id"].isin(list(scope.community_ids))]
    shown = shapely.simplify(views["visible"].to_numpy(), VIEW_SIMPLIFY_M)
    view_gdf = _gdf(
        views[["device_id", "name", "level", "online"]].reset_index(drop=True),
        to_wgs84_geoms(shown, srid),
    )
    yards = report.courtyards
    yard_cols = ["code", "name", "households", "is_three_nos", "entrances", "entrances_seen"]
    yard_gdf = _gdf(
        yards[[*yard_cols, "covered_share"]].reset_index(drop=True),
        to_wgs84_geoms(yards["geometry"].to_numpy(), srid),
    )
    gaps = report.targets[~report.targets["covered"]].reset_index(drop=True)
    names = _area_names(session)
    gap_gdf = _gdf(
        pd.DataFrame(
            {
                "kind": gaps["kind"],
                "ref": gaps["ref"],
                "name": gaps["name"].fillna(""),
                "reason": gaps["reason"],
                "community": gaps["community_id"].map(names["community"]).fillna(""),
                "street": gaps["community_id"].map(names["street"]).fillna(""),
            }
        ),
        to_wgs84_geoms(shapely.points(gaps["x"].to_numpy(float), gaps["y"].to_numpy(float)), srid),
    )
    return CoverageLayers(
        outlines(session=session),
        view_gdf,
        yard_gdf,
        gap_gdf,
        asdict(report.summary),
        [asdict(a) for a in report.areas],
    )


def _area_names(session: Session) -> pd.DataFrame:
    rows = session.execute(
        text(
            "SELECT c.id, c.name AS community, s.name AS street"
            " FROM communities c JOIN streets s ON s.id = c.street_id"
        )
    ).mappings()
    return pd.DataFrame(list(rows)).set_index("id")


def hotspot_layers(
    *,
    session: Session,
    query: HotspotQuery,
    trend: TrendQuery | None,
    limits: LimitSettings,
    actor: str = "system",
    viewer: Viewer | None = None,
) -> HotspotLayers:
    """Hotspot and trend tables as H3 polygons plus the filtered case points.

    The statistics are aggregates over every case; the points are the cases `viewer`
    may see (all of them without a viewer: the CLI's page for the district centre).
    """
    table = hotspots(session=session, query=query, limits=limits, actor=actor)
    hot = _gdf(table, [shapely.geometry.shape(cell_polygon(c)) for c in table["cell"]])
    trend_gdf, missing = None, None
    slices: list[str] = []
    if trend is not None:
        try:
            ttable, slices = trends(session=session, query=trend, limits=limits, actor=actor)
        except UnprocessableError as exc:
            if exc.code not in _NO_TRENDS:
                raise
            missing = exc.message
        else:
            polygons = [shapely.geometry.shape(cell_polygon(c)) for c in ttable["cell"]]
            trend_gdf = _gdf(ttable, polygons)
    scope = resolve_scope(session=session, viewer=viewer) if viewer else None
    lon, lat, _ = case_points(session=session, filters=query.filters, scope=scope)
    points = np.column_stack([np.round(lat, 6), np.round(lon, 6)])
    return HotspotLayers(
        outlines(session=session), hot, trend_gdf, slices, points, query, trends_missing=missing
    )


_NO_TRENDS = frozenset({"no_incidents", "too_few_time_steps"})
"""Why a period can have no trends; a map shows these as a note, the API as a 422."""


_WORKLOAD_SQL = f"""
WITH open_cases AS (
  SELECT cell_id, count(*) AS open_cases,
         count(*) FILTER (WHERE due_at < :now) AS overdue
  FROM (SELECT CASE :level WHEN 1 THEN l1_cell_id WHEN 2 THEN l2_cell_id ELSE l3_cell_id END
               AS cell_id, due_at
        FROM incidents WHERE status = ANY(:open)) o
  GROUP BY cell_id)
SELECT g.code, g.name, g.households, g.population,
       coalesce(o.open_cases, 0) AS open_cases, coalesce(o.overdue, 0) AS overdue,
       (SELECT count(*) FROM workers w WHERE w.cell_code = g.code AND w.level = g.level) AS workers,
       (SELECT string_agg(w.name, '、' ORDER BY w.id) FROM workers w
         WHERE w.cell_code = g.code AND w.level = g.level) AS worker_names,
       ST_AsBinary(geom) AS wkb
FROM grid_cells g LEFT JOIN open_cases o ON o.cell_id = g.id
WHERE g.level = :level AND {live("g")}
ORDER BY g.code
"""  # noqa: S608 - the live-grid condition, a constant


def workload_layers(*, session: Session, now: datetime) -> WorkloadLayers:
    """Workload per live cell of the three levels."""
    levels = {}
    for level in (1, 2, 3):
        gdf = _wkb_frame(
            session, _WORKLOAD_SQL, {"level": level, "open": list(OPEN_STATUSES), "now": now}
        )
        if not gdf.empty:
            per = gdf["households"] / gdf["workers"].where(gdf["workers"] > 0)
            gdf["households_per_worker"] = per.round(1)
        levels[level] = gdf
    return WorkloadLayers(outlines(session=session), levels, now)


def resident_layers(
    *,
    session: Session,
    chain: CellChain | None,
    lon: float,
    lat: float,
    kinds: tuple[str, ...] = (),
    radius_m: float = 2000.0,
    limit: int = 30,
    now: datetime,
    with_outlines: bool = True,
) -> ResidentLayers:
    """The resident's cells (the `chain` located by the grid domain), nearby points and offers."""
    ids = [c.id for c in chain.cells] if chain else []
    cells = _wkb_frame(
        session,
        "SELECT level, code, name, ST_AsBinary(geom) AS wkb FROM grid_cells"
        " WHERE id = ANY(:ids) ORDER BY level",
        {"ids": ids},
    )
    points = nearby_service_points(
        session=session, lon=lon, lat=lat, kinds=kinds, radius_m=radius_m, limit=limit, now=now
    )
    offers = nearby_offers(
        session=session, lon=lon, lat=lat, radius_m=radius_m, now=now, limit=limit
    )
    base = outlines(session=session) if with_outlines else None
    return ResidentLayers(base, lon, lat, chain, cells, points, offers)

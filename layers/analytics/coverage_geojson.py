"""A coverage report as GeoJSON (WGS-84): gap targets, courtyards, camera views."""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd
import shapely

from layers.analytics.coverage import to_wgs84_geoms
from layers.analytics.coverage_report import REASONS, CoverageReport
from layers.analytics.coverage_targets import TARGET_KINDS
from layers.core.errors import InvalidInputError

logger = logging.getLogger(__name__)

DECIMALS = 7


def _geojson(geoms: np.ndarray, srid: int) -> list[dict[str, Any]]:
    ll = shapely.set_precision(to_wgs84_geoms(geoms, srid), 10.0**-DECIMALS, mode="pointwise")
    return [json.loads(g) for g in shapely.to_geojson(ll)]


def _value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _collection(frame: pd.DataFrame, geoms: list[dict], columns: list[str], **members):
    features = [
        {
            "type": "Feature",
            "geometry": geom,
            "properties": {c: _value(row[c]) for c in columns},
        }
        for geom, (_, row) in zip(geoms, frame.iterrows(), strict=True)
    ]
    return {"type": "FeatureCollection", "features": features, **members}


def gaps_geojson(
    report: CoverageReport, srid: int, *, kinds: tuple[str, ...] = (), reasons: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Uncovered targets (points; courtyard areas as polygons) with kind, ref, reason."""
    bad = sorted((set(kinds) - set(TARGET_KINDS)) | (set(reasons) - set(REASONS)))
    if bad:
        raise InvalidInputError(f"unknown kind or reason: {', '.join(bad)}", code="invalid_filter")
    gaps = report.targets[~report.targets["covered"]]
    if kinds:
        gaps = gaps[gaps["kind"].isin(kinds)]
    if reasons:
        gaps = gaps[gaps["reason"].isin(reasons)]
    gaps = gaps.reset_index(drop=True)
    columns = ["kind", "ref", "name", "reason", "community_id", "street_id"]
    geoms = _geojson(gaps["geometry"].to_numpy(), srid)
    return _collection(gaps, geoms, columns, numberMatched=len(gaps))


def courtyards_geojson(report: CoverageReport, srid: int) -> dict[str, Any]:
    """Courtyards with their covered share, entrances and entrances seen."""
    yards = report.courtyards.reset_index(drop=True).copy()
    yards["covered_share"] = yards["covered_share"].round(4)
    columns = ["code", "name", "covered_share", "covered", "entrances", "entrances_seen"]
    return _collection(yards, _geojson(yards["geometry"].to_numpy(), srid), [*columns, "reason"])


def views_geojson(report: CoverageReport, srid: int, *, online: bool | None = None):
    """Visible part of each camera's view (offline cameras: what they would see, flagged)."""
    views = report.views
    if online is not None:
        views = views[views["online"] == online]
    views = views.reset_index(drop=True)
    columns = ["device_id", "name", "level", "online", "visible_area_m2"]
    return _collection(views, _geojson(views["visible"].to_numpy(), srid), columns)

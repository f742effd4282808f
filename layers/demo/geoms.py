"""Metric demo geometries to stored WGS-84 ones (valid, with SRID, Multi* where asked)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry

from layers.core.constants import WGS84
from layers.core.crs import from_metric
from layers.core.geo_arrays import geo_array
from layers.demo.partition import polygonal


def to_wgs84(geoms: Sequence[BaseGeometry], multi: bool = False) -> list[BaseGeometry]:
    """Metric (UTM 48N) geometries to EPSG:4326, made valid, optionally as Multi*."""
    arr = np.asarray(geoms, dtype=object)
    out = shapely.transform(arr, lambda xy: np.column_stack(from_metric(xy[:, 0], xy[:, 1])))
    bad = ~shapely.is_valid(out)
    if bad.any():
        out[bad] = [polygonal(shapely.make_valid(g)) for g in out[bad]]
    if multi:
        multis = [g if g.geom_type == "MultiPolygon" else MultiPolygon([g]) for g in out]
        out = np.asarray(multis, dtype=object)
    return list(shapely.set_srid(out, WGS84))


def points_wgs84(xy: Sequence[tuple[float, float]] | np.ndarray) -> list[Point]:
    """Metric (x, y) pairs as WGS-84 points with SRID 4326."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    lon, lat = from_metric(xy[:, 0], xy[:, 1])
    return list(geo_array(shapely.set_srid(shapely.points(lon, lat), WGS84)))

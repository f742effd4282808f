"""The real outline of Chenghua (adcode 510108), bundled in GCJ-02 and converted once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from layers.core.crs import to_metric, transform_geometry
from layers.demo.partition import GRID

OUTLINE_FILE = Path(__file__).parent / "data" / "chenghua_510108_gcj02.geojson"
DISTRICT_CODE = "510108"
DISTRICT_NAME = "成华区"


def district_outline_wgs84() -> BaseGeometry:
    """The district outline in WGS-84 (the file is GCJ-02; see data/README.md)."""
    data = json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))
    feature = next(f for f in data["features"] if f["properties"]["adcode"] == DISTRICT_CODE)
    return transform_geometry(shape(feature["geometry"]), "gcj02", "wgs84")


def district_outline_metric() -> BaseGeometry:
    """The outline in UTM 48N on the generator's precision grid."""
    wgs = district_outline_wgs84()
    metric = shapely.transform(wgs, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1])))
    return shapely.set_precision(shapely.make_valid(metric), GRID)

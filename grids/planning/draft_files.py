"""Drafts as GeoPackage files, so planners can edit cells in QGIS and bring them back.

One layer (`draft_cells`) of MultiPolygons in EPSG:4326 with the columns code,
level, parent_code, name, households, population.  On import a file in another
CRS is reprojected to EPSG:4326 first; every feature goes through the same
checks as a GeoJSON PUT, so a bad file changes nothing.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import mapping

from grids.planning.drafts import features_to_rows, read_draft, replace_draft
from layers.core.constants import WGS84
from layers.core.errors import InvalidInputError

logger = logging.getLogger(__name__)

LAYER = "draft_cells"


def export_geopackage(*, session: Any, revision_id: int, path: Path) -> int:
    """Write the draft's cells to a GeoPackage at `path` (replaced); returns the cell count."""
    rows = read_draft(session=session, revision_id=revision_id)
    frame = gpd.GeoDataFrame(
        {
            "code": [r.code for r in rows],
            "level": [r.level for r in rows],
            "parent_code": [r.parent_code for r in rows],
            "name": [r.name for r in rows],
            "households": [r.households for r in rows],
            "population": [r.population for r in rows],
        },
        geometry=[r.geom for r in rows],
        crs=f"EPSG:{WGS84}",
    )
    path.unlink(missing_ok=True)
    frame.to_file(path, layer=LAYER, driver="GPKG", engine="pyogrio")
    logger.info("revision %s: %d cells exported to %s", revision_id, len(rows), path)
    return len(rows)


def read_geopackage(path: Path) -> dict[str, Any]:
    """A GeoPackage's cells as a GeoJSON-like FeatureCollection in EPSG:4326."""
    try:
        frame = gpd.read_file(path, layer=LAYER, engine="pyogrio")
    except Exception:
        try:
            frame = gpd.read_file(path, engine="pyogrio")
        except Exception as exc:
            raise InvalidInputError(f"cannot read {path} as a GeoPackage", code="bad_file") from exc
    missing = {"code", "level"} - set(frame.columns)
    if missing:
        raise InvalidInputError(
            f"the layer lacks the column(s) {', '.join(sorted(missing))}", code="bad_file"
        )
    if frame.crs is not None and frame.crs.to_epsg() != WGS84:
        frame = frame.to_crs(WGS84)
    return {"type": "FeatureCollection", "features": [_feature(row) for _, row in frame.iterrows()]}


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _feature(row: Any) -> dict[str, Any]:
    level = _plain(row.get("level"))
    if isinstance(level, float) and level.is_integer():
        level = int(level)
    return {
        "type": "Feature",
        "properties": {
            "code": _plain(row.get("code")),
            "level": level,
            "parent_code": _plain(row.get("parent_code")),
            "name": _plain(row.get("name")),
        },
        "geometry": None if row.geometry is None else mapping(row.geometry),
    }


def import_geopackage(*, session: Any, revision_id: int, path: Path, actor: str, role: str) -> int:
    """Replace the draft's cells with the file's; returns the cell count."""
    rows = features_to_rows(read_geopackage(path))
    return replace_draft(
        session=session, revision_id=revision_id, rows=rows, actor=actor, role=role
    )

"""Does the live grid tile exactly?  Overlaps and gaps between communities and across them.

A draft is validated against its own scope (`grids.planning.validation`); this check
looks at what is published: pairs of communities, and pairs of level-1 cells of
*different* communities, that share area, and pieces of the district that no
community (or no level-1 cell) covers.  Such pieces make a point belong to two
units or to none.

It runs in PostGIS on the stored geometries (EPSG:4326), not on reprojected
copies: edges are straight in the CRS the geometries are stored and located in,
and reprojecting straightens them elsewhere, which hides (or invents) slivers of
a fraction of a millimetre along kilometres of border.  Areas are geodesic (m²).
A piece into which a disc of `tolerance_m` fits is an ``overlap`` or ``gap``;
a narrower one with at least `min_sliver_m2` of area is a ``sliver`` (float
noise of a real editor's snapping is far below that).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.constants import GRID_NOISE_M, MIN_SLIVER_M2, UTM48N
from layers.tables.grid_cells import LIVE, live

LIVE_KINDS = ("overlap", "gap", "sliver")
"""Problem kinds of the live check, in report order."""


@dataclass(frozen=True)
class LiveCheckOptions:
    """Pieces wider than `tolerance_m` (m) are problems; narrower, slivers from `min_sliver_m2`."""

    tolerance_m: float = GRID_NOISE_M
    min_sliver_m2: float = MIN_SLIVER_M2
    metric_srid: int = UTM48N


_PIECES = """
    pieces AS (
      SELECT p.a, p.b, p.a_group, p.b_group, d.geom
      FROM pairs p, ST_Dump(ST_CollectionExtract(p.x, 3)) d),
    measured AS (
      SELECT a, b, a_group, b_group, geom, ST_Area(geom::geography) AS area_m2,
        (ST_MaximumInscribedCircle(ST_Transform(geom, :srid))).radius * 2 AS width_m
      FROM pieces)
    SELECT a, b, a_group, b_group, area_m2, width_m, ST_AsGeoJSON(geom, 9) AS geojson
    FROM measured WHERE area_m2 >= :min_area ORDER BY a, b, area_m2 DESC
"""
_COMMUNITY_OVERLAPS = text(  # constant fragments only
    """
    WITH pairs AS (
      SELECT a.code AS a, b.code AS b, NULL::text AS a_group, NULL::text AS b_group,
        ST_Intersection(a.geom, b.geom) AS x
      FROM communities a JOIN communities b ON a.id < b.id AND a.geom && b.geom
      WHERE ST_Intersects(a.geom, b.geom) AND NOT ST_Touches(a.geom, b.geom)),"""  # noqa: S608
    + _PIECES
)
_CELL_OVERLAPS = text(  # constant fragments only
    f"""
    WITH live AS (
      SELECT g.id, g.code, c.code AS community, g.geom FROM grid_cells g
      JOIN communities c ON c.id = g.community_id WHERE g.level = 1 AND {live("g")}),
    pairs AS (
      SELECT a.code AS a, b.code AS b, a.community AS a_group, b.community AS b_group,
        ST_Intersection(a.geom, b.geom) AS x
      FROM live a JOIN live b ON a.id < b.id AND a.community <> b.community AND a.geom && b.geom
      WHERE ST_Intersects(a.geom, b.geom) AND NOT ST_Touches(a.geom, b.geom)),"""  # noqa: S608
    + _PIECES
)
_GAPS = """
    WITH covered AS (SELECT ST_Union(geom) AS geom FROM ({units}) u),
    pairs AS (
      SELECT NULL::text AS a, NULL::text AS b, NULL::text AS a_group, NULL::text AS b_group,
        ST_Difference(d.geom, c.geom) AS x FROM districts d, covered c),"""
_COMMUNITY_GAPS = text(_GAPS.format(units="SELECT geom FROM communities") + _PIECES)
_CELL_GAPS = text(
    _GAPS.format(units=f"SELECT geom FROM grid_cells WHERE level = 1 AND {LIVE}") + _PIECES  # noqa: S608
)
_NEIGHBOURS = {
    "communities": text(
        "SELECT code FROM communities WHERE ST_DWithin(geom, ST_GeomFromGeoJSON(:g), 1e-7)"
        " ORDER BY code"
    ),
    "level-1 cells": text(
        f"SELECT code FROM grid_cells WHERE level = 1 AND {LIVE}"  # noqa: S608
        " AND ST_DWithin(geom, ST_GeomFromGeoJSON(:g), 1e-7) ORDER BY code"
    ),
}


def _problem(row: Any, layer: str, gap: bool, options: LiveCheckOptions, session: Session):
    wide = row.width_m >= options.tolerance_m
    kind = ("gap" if gap else "overlap") if wide else "sliver"
    if gap:
        cells = list(session.execute(_NEIGHBOURS[layer], {"g": row.geojson}).scalars())
        what = f"a gap between {layer}: inside the district, in none of them"
    else:
        cells = [row.a, row.b]
        groups = f" (communities {row.a_group} and {row.b_group})" if row.a_group else ""
        what = f"{layer} {row.a} and {row.b}{groups} overlap"
    if not wide:
        what += f", narrower than {options.tolerance_m:g} m"
    return {
        "kind": kind,
        "layer": layer,
        "cells": cells,
        "detail": f"{what}; about {row.width_m:.4f} m wide",
        "area_m2": round(float(row.area_m2), 6),
        "width_m": round(float(row.width_m), 6),
        "geometry": json.loads(row.geojson),
    }


def check_live_grid(*, session: Session, options: LiveCheckOptions) -> dict[str, Any]:
    """Overlaps and gaps between communities and between level-1 cells of different ones."""
    params = {"srid": options.metric_srid, "min_area": options.min_sliver_m2}
    problems: list[dict[str, Any]] = []
    for sql, layer, gap in (
        (_COMMUNITY_OVERLAPS, "communities", False),
        (_COMMUNITY_GAPS, "communities", True),
        (_CELL_OVERLAPS, "level-1 cells", False),
        (_CELL_GAPS, "level-1 cells", True),
    ):
        for row in session.execute(sql, params):
            problems.append(_problem(row, layer, gap, options, session))
    order = {k: i for i, k in enumerate(LIVE_KINDS)}
    problems.sort(key=lambda p: (order[p["kind"]], p["layer"], p["cells"]))
    return {
        "valid": not problems,
        "tolerance_m": options.tolerance_m,
        "min_sliver_m2": options.min_sliver_m2,
        "counts": dict(Counter(p["kind"] for p in problems)),
        "area_m2": {
            layer: round(sum(p["area_m2"] for p in problems if p["layer"] == layer), 6)
            for layer in ("communities", "level-1 cells")
        },
        "problems": problems,
    }

"""The places cameras must see: courtyard entrances, key public places, road intersections.

Targets are points in the metric CRS with the community they lie in.  The demo
district has no road table: its roads run along the grid's edges, so an
intersection is a point where three or more level-1 cells meet.  Key public
places are service points of the kinds in `AnalyticsSettings.key_place_kinds`.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.core.geo_arrays import geo_array
from layers.tables.grid_cells import LIVE

logger = logging.getLogger(__name__)

TARGET_KINDS = ("entrance", "key_place", "intersection", "courtyard")
"""Required targets: point kinds first, then the courtyard area itself."""

FACADE_OFFSET_M = 0.5
"""A key place inside a building is looked for this far outside its nearest wall."""
_COLUMNS = ["kind", "ref", "name", "x", "y", "community_id", "courtyard_id"]


def entrance_targets(*, session: Session, srid: int) -> pd.DataFrame:
    """One row per entrance point of every courtyard (ref `<courtyard code>#<n>`)."""
    rows = session.execute(
        text(
            "SELECT c.id AS courtyard_id, c.code, c.name, c.community_id, d.path[1] AS n,"
            " ST_X(ST_Transform(d.geom, :srid)) AS x, ST_Y(ST_Transform(d.geom, :srid)) AS y"
            " FROM courtyards c, ST_Dump(c.entrances) d WHERE c.entrances IS NOT NULL"
            " ORDER BY c.id, d.path[1]"
        ),
        {"srid": srid},
    ).mappings()
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=_COLUMNS)
    frame["kind"] = "entrance"
    frame["ref"] = frame["code"] + "#" + frame["n"].astype(str)
    return frame[_COLUMNS]


def key_place_targets(*, session: Session, srid: int, kinds: tuple[str, ...]) -> pd.DataFrame:
    """Service points of the key kinds (ref = the service point's code)."""
    rows = session.execute(
        text(
            "SELECT code AS ref, name, community_id, ST_X(ST_Transform(geom, :srid)) AS x,"
            " ST_Y(ST_Transform(geom, :srid)) AS y FROM service_points"
            " WHERE kind = ANY(:kinds) ORDER BY id"
        ),
        {"srid": srid, "kinds": list(kinds)},
    ).mappings()
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=_COLUMNS)
    frame["kind"] = "key_place"
    frame["courtyard_id"] = None
    x, y = _out_of_buildings(session, srid, frame["x"].to_numpy(float), frame["y"].to_numpy(float))
    frame["x"], frame["y"] = x, y
    return frame[_COLUMNS]


def _out_of_buildings(session: Session, srid: int, x: np.ndarray, y: np.ndarray):
    """A place inside a footprint is seen at its facade: move it just outside its nearest wall."""
    rows = session.execute(
        text(
            "SELECT ST_AsBinary(ST_Transform(geom, :srid)) FROM buildings"
            " WHERE geom && ST_Transform(ST_MakeEnvelope(:x0, :y0, :x1, :y1, :srid), 4326)"
        ),
        {"srid": srid, "x0": float(x.min()), "y0": float(y.min())}
        | {"x1": float(x.max()), "y1": float(y.max())},
    ).scalars()
    footprints = shapely.from_wkb([bytes(b) for b in rows])
    if len(footprints) == 0:
        return x, y
    points = geo_array(shapely.points(x, y))
    p_idx, b_idx = shapely.STRtree(footprints).query(points, predicate="within")
    if len(p_idx) == 0:
        return x, y
    walls = shapely.get_exterior_ring(footprints[b_idx])
    on_wall = shapely.get_point(shapely.shortest_line(walls, points[p_idx]), 0)
    wx, wy = shapely.get_x(on_wall), shapely.get_y(on_wall)
    dx, dy = wx - x[p_idx], wy - y[p_idx]
    norm = np.maximum(np.hypot(dx, dy), 1e-9)
    x, y = x.copy(), y.copy()
    x[p_idx] = wx + FACADE_OFFSET_M * dx / norm
    y[p_idx] = wy + FACADE_OFFSET_M * dy / norm
    return x, y


def intersection_targets(*, session: Session, srid: int, snap_m: float) -> pd.DataFrame:
    """Points where ≥ 3 live level-1 cells meet (ref `X<x>,<y>` in whole metres)."""
    rows = session.execute(
        text(
            "SELECT id, community_id, ST_AsBinary(ST_Transform(geom, :srid)) AS g"  # noqa: S608 - the live-grid condition, a constant
            f" FROM grid_cells WHERE level = 1 AND {LIVE} ORDER BY id"
        ),
        {"srid": srid},
    ).all()
    if not rows:
        return pd.DataFrame(columns=_COLUMNS)
    cells = shapely.from_wkb([bytes(r.g) for r in rows])
    coords, owner = shapely.get_coordinates(cells, return_index=True)
    snapped = np.round(coords / snap_m) * snap_m
    unique_pairs = np.unique(np.column_stack([snapped, owner]), axis=0)
    points, first, counts = np.unique(
        unique_pairs[:, :2], axis=0, return_index=True, return_counts=True
    )
    meet = counts >= 3
    community = np.array([r.community_id for r in rows])[unique_pairs[first[meet], 2].astype(int)]
    xy = points[meet]
    return pd.DataFrame(
        {
            "kind": "intersection",
            "ref": [f"X{x:.0f},{y:.0f}" for x, y in xy],
            "name": None,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "community_id": community,
            "courtyard_id": None,
        }
    )[_COLUMNS]


def courtyard_areas(*, session: Session, srid: int) -> pd.DataFrame:
    """Courtyards with metric polygons (the area targets)."""
    rows = session.execute(
        text(
            "SELECT id, code, name, community_id, households, is_three_nos,"
            " coalesce(ST_NumGeometries(entrances), 0) AS entrances,"
            " ST_AsBinary(ST_Transform(geom, :srid)) AS g FROM courtyards ORDER BY id"
        ),
        {"srid": srid},
    ).mappings()
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(
            columns=[
                *("id", "code", "name", "community_id", "households", "is_three_nos"),
                *("entrances", "geometry"),
            ]
        )
    frame["geometry"] = shapely.from_wkb([bytes(b) for b in frame.pop("g")])
    return frame


def point_targets(
    *, session: Session, srid: int, key_place_kinds: tuple[str, ...], snap_m: float
) -> pd.DataFrame:
    """All point targets (entrances, key places, intersections) in one frame."""
    parts = [
        entrance_targets(session=session, srid=srid),
        key_place_targets(session=session, srid=srid, kinds=key_place_kinds),
        intersection_targets(session=session, srid=srid, snap_m=snap_m),
    ]
    frame = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    if frame.empty:
        return pd.DataFrame(columns=_COLUMNS)
    return frame

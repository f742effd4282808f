"""Camera coverage: every camera's visible ground, computed once and cached until inputs change.

The view of a camera is its sector clipped by building footprints as a true
visibility polygon (`layers.analytics.visibility`).  Views are stored in `camera_views` for
every camera, online or not (the geometry does not depend on the status); an
offline camera covers nothing, which the queries apply live, so switching a
camera on or off needs no recomputation.  The cache is keyed by a digest of
the camera optics/positions and the building footprints/heights.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.analytics import derived
from layers.analytics.visibility import Cameras, Obstacles, visibility_polygons
from layers.core.constants import WGS84
from layers.core.crs import from_metric
from layers.store.copy import copy_rows

logger = logging.getLogger(__name__)

KIND = "camera_views"
_OPTICS_COLUMNS = ["azimuth_deg", "hfov_deg", "range_m", "mount_height_m", "x", "y"]
_CAMERA_COLUMNS = ["id", "device_id", "name", "level", "online", "community_id", "courtyard_id"]
METRES_PER_FLOOR = 3.0

_INPUTS_SQL = """
SELECT md5(
  coalesce((SELECT string_agg(concat_ws(',', id, azimuth_deg, hfov_deg, range_m, mount_height_m,
                                         md5(ST_AsEWKB(geom))), ';' ORDER BY id) FROM cameras), '')
  || '|' ||
  coalesce((SELECT string_agg(concat_ws(',', id, height_m, floors, md5(ST_AsEWKB(geom))), ';'
                              ORDER BY id) FROM buildings), ''))
"""


def inputs_key(*, session: Session) -> str:
    """Digest of everything a camera view depends on (camera optics, footprints, heights)."""
    return str(session.execute(text(_INPUTS_SQL)).scalar_one())


_COMPLETE_SQL = """
SELECT NOT EXISTS (SELECT 1 FROM cameras c WHERE NOT EXISTS (
  SELECT 1 FROM camera_views v WHERE v.camera_id = c.id AND v.inputs_key = :key))
"""


def _views_complete(session: Session, key: str) -> bool:
    """Does every camera have its view, computed from these inputs?

    The digest says what the views were computed from, but the views themselves
    can go without it changing: deleting a camera deletes its view (ON DELETE
    CASCADE), and a district replaced by an identical one (`demo load --replace`
    with the same seed) brings back the same digest with no views at all.
    """
    return bool(session.execute(text(_COMPLETE_SQL), {"key": key}).scalar_one())


@dataclass(frozen=True)
class CameraTable:
    """Cameras with metric positions, in id order."""

    frame: pd.DataFrame  # id, device_id, level, online, courtyard_id, community_id, x, y
    optics: Cameras


def load_cameras(*, session: Session, srid: int) -> CameraTable:
    """All cameras with positions projected to `srid` (metres)."""
    rows = session.execute(
        text(
            "SELECT id, device_id, name, level, online, courtyard_id, community_id, azimuth_deg,"
            " hfov_deg, range_m, mount_height_m, ST_X(p) AS x, ST_Y(p) AS y"
            " FROM (SELECT *, ST_Transform(geom, :srid) AS p FROM cameras) c ORDER BY id"
        ),
        {"srid": srid},
    ).mappings()
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        frame = pd.DataFrame(columns=[*_CAMERA_COLUMNS, *_OPTICS_COLUMNS])
    optics = Cameras(
        x=frame["x"].to_numpy(float),
        y=frame["y"].to_numpy(float),
        azimuth_deg=frame["azimuth_deg"].to_numpy(float),
        hfov_deg=frame["hfov_deg"].to_numpy(float),
        range_m=frame["range_m"].to_numpy(float),
        height_m=frame["mount_height_m"].to_numpy(float),
    )
    return CameraTable(frame, optics)


def load_obstacles(*, session: Session, srid: int) -> Obstacles:
    """Building footprints in `srid` with heights (height_m, else floors × 3 m, else tall)."""
    rows = session.execute(
        text(
            "SELECT ST_AsBinary(ST_Transform(geom, :srid)) AS g,"
            " coalesce(height_m, floors * :per_floor) AS h FROM buildings ORDER BY id"
        ),
        {"srid": srid, "per_floor": METRES_PER_FLOOR},
    ).all()
    polygons = shapely.from_wkb([bytes(r.g) for r in rows]) if rows else np.array([], object)
    heights = np.array([np.nan if r.h is None else float(r.h) for r in rows], dtype=float)
    return Obstacles(np.asarray(polygons, dtype=object), heights)


def to_wgs84_geoms(geoms: np.ndarray, srid: int) -> np.ndarray:
    """Metric geometries (`srid`) back to WGS-84 lon/lat."""

    def convert(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(from_metric(coords[:, 0], coords[:, 1], srid))

    return shapely.transform(geoms, convert)


Views = Callable[[Cameras, Obstacles], tuple[np.ndarray, np.ndarray]]
"""How views are computed: in-process (`visibility_polygons`) or tile by tile on Dask."""


def compute_views(
    *, session: Session, srid: int, views: Views = visibility_polygons
) -> tuple[CameraTable, np.ndarray, np.ndarray]:
    """(cameras, sectors, visible parts) in `srid`, computed now (no cache)."""
    cams = load_cameras(session=session, srid=srid)
    obstacles = load_obstacles(session=session, srid=srid)
    sectors, visible = views(cams.optics, obstacles)
    return cams, sectors, visible


def refresh_views(
    *,
    session: Session,
    srid: int,
    actor: str = "system",
    role: str = "system",
    views: Views = visibility_polygons,
    force: bool = False,
) -> bool:
    """Recompute `camera_views` if its inputs changed (or `force`); True when it recomputed."""
    derived.lock(session=session, kind=KIND)
    key = inputs_key(session=session)
    hit = derived.cached(session=session, kind=KIND, params=str(srid), inputs_key=key)
    if hit is not None and _views_complete(session, key) and not force:
        return False
    start = time.perf_counter()
    cams, sectors, visible = compute_views(session=session, srid=srid, views=views)
    visible = shapely.make_valid(visible)
    sector_area = shapely.area(sectors)
    visible_area = shapely.area(visible)
    sectors_ll = to_wgs84_geoms(sectors, srid)
    visible_ll = to_wgs84_geoms(visible, srid)
    session.execute(text("DELETE FROM camera_views"))
    rows = (
        (int(cid), key, _ewkb(s), _ewkb(v), float(sa), float(va))
        for cid, s, v, sa, va in zip(
            cams.frame["id"], sectors_ll, visible_ll, sector_area, visible_area, strict=True
        )
    )
    columns = ("camera_id", "inputs_key", "sector", "visible", "sector_area_m2", "visible_area_m2")
    n = copy_rows(session.connection(), "camera_views", columns, rows)
    derived.store(
        session=session,
        kind=KIND,
        params=str(srid),
        inputs_key=key,
        payload={"cameras": n},
        seconds=time.perf_counter() - start,
        rows=n,
        actor=actor,
        role=role,
    )
    return True


def _ewkb(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.set_srid(geom, WGS84)


def views_metric(*, session: Session, srid: int) -> pd.DataFrame:
    """Cached views joined with their cameras, geometries in `srid` (call `refresh_views` first)."""
    rows = session.execute(
        text(
            "SELECT c.id, c.device_id, c.name, c.level, c.online, c.community_id, c.courtyard_id,"
            " ST_AsBinary(ST_Transform(v.sector, :srid)) AS sector,"
            " ST_AsBinary(ST_Transform(v.visible, :srid)) AS visible, v.visible_area_m2"
            " FROM camera_views v JOIN cameras c ON c.id = v.camera_id ORDER BY c.id"
        ),
        {"srid": srid},
    ).mappings()
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=[*_CAMERA_COLUMNS, "sector", "visible", "visible_area_m2"])
    frame["sector"] = shapely.from_wkb([bytes(b) for b in frame["sector"]])
    frame["visible"] = shapely.from_wkb([bytes(b) for b in frame["visible"]])
    return frame

"""Candidate camera sites for siting: building corners and points along roads.

Sites are made in the metric CRS.  A building-corner site stands just outside
the corner (offset along the outward bisector), where a camera is mounted; a
road point lies on a level-1 cell edge (the demo's roads run along the grid),
one every `spacing` metres.  Only sites within camera range of a target are
kept; each becomes one candidate view per azimuth.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.tables.grid_cells import LIVE

logger = logging.getLogger(__name__)

CANDIDATE_KINDS = ("building_corners", "road_points")


@dataclass(frozen=True)
class Sites:
    """Candidate positions (metric) and the kind of each."""

    x: np.ndarray
    y: np.ndarray
    kind: np.ndarray  # "building_corner" | "road_point"

    def __len__(self) -> int:
        return len(self.x)


def building_corner_sites(
    *, session: Session, srid: int, communities: list[int] | None, offset_m: float
) -> Sites:
    """A site just outside every exterior corner of the buildings in scope."""
    rows = session.execute(
        text(
            "SELECT ST_AsBinary(ST_Transform(geom, :srid)) FROM buildings WHERE"
            " (CAST(:communities AS int[]) IS NULL OR community_id = ANY(:communities))"
        ),
        {"srid": srid, "communities": communities},
    ).scalars()
    polys = shapely.orient_polygons(shapely.from_wkb([bytes(b) for b in rows]), exterior_cw=False)
    if len(polys) == 0:
        return Sites(np.zeros(0), np.zeros(0), np.zeros(0, dtype=object))
    coords, owner = shapely.get_coordinates(shapely.get_exterior_ring(polys), return_index=True)
    # ring vertices without the closing repeat, with their neighbours
    last = np.r_[owner[1:] != owner[:-1], True]
    keep = ~last
    pts, own = coords[keep], owner[keep]
    starts = np.r_[0, np.flatnonzero(own[1:] != own[:-1]) + 1]
    lengths = np.diff(np.r_[starts, len(own)])
    pos = np.arange(len(own)) - np.repeat(starts, lengths)
    base = np.repeat(starts, lengths)
    prev = pts[base + (pos - 1) % np.repeat(lengths, lengths)]
    nxt = pts[base + (pos + 1) % np.repeat(lengths, lengths)]
    out = _unit(pts - prev) - _unit(nxt - pts)  # CCW ring: outward bisector direction
    step = offset_m * _unit(out + np.array([1e-12, 0.0]))
    site = pts + step
    inside = shapely.contains_xy(polys[own], site[:, 0], site[:, 1])  # a reflex corner
    site[inside] = pts[inside] - step[inside]
    return Sites(site[:, 0], site[:, 1], np.full(len(site), "building_corner", dtype=object))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def road_point_sites(
    *, session: Session, srid: int, communities: list[int] | None, spacing_m: float
) -> Sites:
    """Points every `spacing_m` along the edges of live level-1 cells in scope (deduplicated)."""
    rows = session.execute(
        text(
            "SELECT ST_AsBinary(ST_Transform(ST_Boundary(geom), :srid)) FROM grid_cells"  # noqa: S608 - the live-grid condition, a constant
            f" WHERE level = 1 AND {LIVE}"
            " AND (CAST(:communities AS int[]) IS NULL OR community_id = ANY(:communities))"
        ),
        {"srid": srid, "communities": communities},
    ).scalars()
    lines = shapely.from_wkb([bytes(b) for b in rows])
    if len(lines) == 0:
        return Sites(np.zeros(0), np.zeros(0), np.zeros(0, dtype=object))
    dense = shapely.segmentize(lines, spacing_m)
    coords = shapely.get_coordinates(dense)
    snapped = np.unique(np.round(coords / (spacing_m / 2)) * (spacing_m / 2), axis=0)
    return Sites(snapped[:, 0], snapped[:, 1], np.full(len(snapped), "road_point", dtype=object))


def near_targets(sites: Sites, targets: np.ndarray, reach_m: float) -> Sites:
    """Only the sites within `reach_m` of some target point."""
    if len(sites) == 0 or len(targets) == 0:
        return Sites(np.zeros(0), np.zeros(0), np.zeros(0, dtype=object))
    tree = shapely.STRtree(targets)
    hits = tree.query(shapely.points(sites.x, sites.y), predicate="dwithin", distance=reach_m)
    keep = np.unique(hits[0])
    return Sites(sites.x[keep], sites.y[keep], sites.kind[keep])


def concat(parts: list[Sites]) -> Sites:
    """All sites of several kinds in one table."""
    return Sites(
        np.concatenate([p.x for p in parts]) if parts else np.zeros(0),
        np.concatenate([p.y for p in parts]) if parts else np.zeros(0),
        np.concatenate([p.kind for p in parts]) if parts else np.zeros(0, dtype=object),
    )

"""Make the demo's nested areas one exact coverage: every shared edge has the same vertices.

Each level is cut from the one above it (`partition`), so siblings share edges,
but the children of *neighbouring* parents do not: where a child's edge meets
the parents' common border (a T-junction), the neighbour's child has no vertex.
On the 1 µm grid that is invisible; projected to WGS-84, where straight lines
bend, the two sides part by fractions of a millimetre along kilometres of border, and
PostGIS measures overlaps of tens of square metres between communities and
between level-1 cells of different communities.

The fix builds the whole district as one coverage, the way GIS tools clean a
topology: node the boundaries of the finest cells (snap-rounded on the 0.1 mm
grid below), polygonise them into faces, hand every face down the hierarchy
to one unit per level (`faces_of`) and rebuild every level, bottom-up, as
`shapely.coverage_union_all` of its children's faces.  Neighbours then carry
identical vertex sequences on shared edges at every level.

Projection must keep that topology.  An edge straight in UTM is not straight
in longitude/latitude: a 1 km edge bends by about 0.3 mm, a 3 km one by
millimetres, enough to carry it across a vertex that lay a micrometre beside it
and turn a valid coverage into overlapping (or self-intersecting) polygons in
the other plane.  So the edges are first cut into pieces of at most
`MAX_SEGMENT_M` (bending ~1 µm) and the noding snap-rounds on a `NODE_GRID`
of 0.1 mm, which keeps every vertex at least 0.05 mm from any edge it is not on:
the coverage then stays exact and valid in both planes, vertex for vertex.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

NODE_GRID = 1e-4
"""Snap-rounding grid of the coverage, metres (0.1 mm)."""
MAX_SEGMENT_M = 50.0
"""Longest edge piece: its bend between UTM and WGS-84 stays near a micrometre."""

Levels = Sequence[tuple[Sequence[BaseGeometry], np.ndarray]]


def faces_of(levels: Levels, grid: float = NODE_GRID) -> tuple[np.ndarray, list[np.ndarray]]:
    """The faces of every level's noded boundaries, and the unit of each level owning each face.

    A face goes down the hierarchy: at each level to the lowest-index child of its
    owner above that covers the face's inner point, else to that owner's nearest
    child — so the rebuilt levels nest exactly.  Faces outside the first level
    (the district outline) are dropped.  Only the finest level's edges are noded
    (cut to `MAX_SEGMENT_M` first): every coarser edge runs along them, within the
    partition's 1 µm grid, and a sliver between them is handed down like any face.
    """
    finest = np.asarray(levels[-1][0], dtype=object)
    rings = shapely.segmentize(shapely.boundary(finest), MAX_SEGMENT_M)
    lines = shapely.union_all(rings, grid_size=grid)
    faces = np.asarray(
        shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))), dtype=object
    )
    inner = shapely.point_on_surface(faces)
    owners: list[np.ndarray] = []
    above = np.zeros(len(faces), dtype=np.int64)
    for k, (geoms, parent) in enumerate(levels):
        arr = np.asarray(geoms, dtype=object)
        parent = np.zeros(len(arr), dtype=np.int64) if k == 0 else np.asarray(parent)
        face_idx, unit_idx = shapely.STRtree(arr).query(inner, predicate="intersects")
        keep = parent[unit_idx] == above[face_idx]
        face_idx, unit_idx = face_idx[keep], unit_idx[keep]
        owner = np.full(len(faces), -1, dtype=np.int64)
        order = np.lexsort((unit_idx, face_idx))
        first = np.unique(face_idx[order], return_index=True)[1]
        owner[face_idx[order][first]] = unit_idx[order][first]
        if k == 0:  # outside the district: not part of the coverage
            inside = owner >= 0
            faces, inner, above, owner = faces[inside], inner[inside], above[inside], owner[inside]
            owners = []
        else:
            for f in np.flatnonzero(owner < 0):  # a sliver between siblings: the nearest one
                siblings = np.flatnonzero(parent == above[f])
                owner[f] = siblings[np.argmin(shapely.distance(arr[siblings], inner[f]))]
        owners.append(owner)
        above = owner
    return faces, owners


def union_groups(parts: np.ndarray, group: np.ndarray, n: int) -> list[BaseGeometry]:
    """`coverage_union_all` of the parts of each of `n` groups (parts share exact edges)."""
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(n + 1))
    out: list[BaseGeometry] = []
    for g in range(n):
        members = parts[order[bounds[g] : bounds[g + 1]]]
        if len(members) == 0:
            raise ValueError(f"group {g} of the coverage has no part")
        out.append(members[0] if len(members) == 1 else shapely.coverage_union_all(members))
    return out


def retile(levels: Levels, grid: float = NODE_GRID) -> list[list[BaseGeometry]]:
    """Every level rebuilt from the faces of all levels' noded boundaries: one exact coverage.

    `levels` runs from the coarsest (one polygon: the district) to the finest;
    each entry is (geometries, index of each one's parent in the level before;
    ignored for the first).  Returns the new geometries of every level, in order.
    """
    faces, owners = faces_of(levels, grid)
    finest = union_groups(faces, owners[-1], len(levels[-1][0]))
    rebuilt: list[list[BaseGeometry]] = [finest]
    for k in range(len(levels) - 1, 0, -1):
        children = np.asarray(rebuilt[0], dtype=object)
        parent_of = np.asarray(levels[k][1], dtype=np.int64)
        rebuilt.insert(0, union_groups(children, parent_of, len(levels[k - 1][0])))
    return rebuilt

"""The grid valid at one moment, in memory: cells of the three levels, communities, streets.

A snapshot answers "which chain does each point belong to" for whole arrays of
points (`GridSnapshot.locate`).  The order of the answer, per point:

The tolerance of step 3 is the setting ``WANGGE_LOCATE_TOLERANCE_M``
(`grids.config`), passed down by the callers.  The same rule in SQL, for
set-based work in the database, is `grids.grid.locate_sql`.

1. the level-3 cell covering it (tie-break: lowest code), its parents above it;
2. where no level-3 cell covers it, the covering level-2, then level-1 cell
   (属地兜底: the parent handles what falls in no child) — all ``covers``;
3. else the nearest level-3 (then level-1) cell within the tolerance: ``nearest``;
4. else the covering community: ``community_fallback``; else the covering
   street, or the nearest street when the point is inside the district but in no
   street: ``street_fallback``;
5. else the point is outside the district (method code -1).

Points beyond the tolerance of every area (`grids.grid.reach`) are known to end at step 5
and skip the others: that is what kept batches with many outside points slow.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from grids.config import resolve_tolerance
from grids.grid.cell_index import RASTER_MIN_POINTS, CellIndex
from grids.grid.pip import FloatArray, IntArray
from grids.grid.reach import ReachMask, build_reach, margin_for

METHODS = ("covers", "nearest", "community_fallback", "street_fallback")
"""Locate methods by code (0–3); -1 means outside the district."""
COVERS, NEAREST, COMMUNITY_FALLBACK, STREET_FALLBACK = range(4)
OUTSIDE = -1
LEVELS = (1, 2, 3)
REACH_CACHE_SIZE = 4
"""Reach masks kept per snapshot (one per tolerance in use; a service uses one)."""


@dataclass(frozen=True)
class AreaSet:
    """One layer of areas sorted by code: ids, codes, names, parent positions, index."""

    ids: IntArray
    codes: NDArray[np.object_]
    names: NDArray[np.object_]
    parent: IntArray
    """Position of the parent in the layer above (cell → cell or community; community → street)."""
    community: IntArray
    revision: IntArray
    index: CellIndex

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class CellChains:
    """The answer for a batch of points: per point and layer, which area (arrays).

    Layers are "l3", "l2", "l1", "community", "street".  ``method`` holds codes
    into `METHODS` (-1 = outside the district), ``distance_m`` the distance to
    the nearest cell for ``nearest`` (NaN otherwise).  A batch located over time
    is made of parts, each answered by the snapshot valid for its points.
    """

    method: NDArray[np.int8]
    distance_m: FloatArray
    revision_id: IntArray
    parts: list[tuple[IntArray | None, GridSnapshot, dict[str, IntArray]]]

    def __len__(self) -> int:
        return len(self.method)

    def position(self, layer: str, i: int) -> tuple[AreaSet, int]:
        """Area set and position of point `i` at `layer` (-1 = none)."""
        for sel, snap, pos in self.parts:
            if sel is None:
                return snap.layer(layer), int(pos[layer][i])
            j = int(np.searchsorted(sel, i))
            if j < len(sel) and sel[j] == i:
                return snap.layer(layer), int(pos[layer][j])
        raise IndexError(i)

    def _gather(self, layer: str, attr: str, fill: Any, dtype: DTypeLike) -> NDArray:
        out = np.full(len(self), fill, dtype=dtype)
        for sel, snap, pos in self.parts:
            p = pos[layer]
            values = getattr(snap.layer(layer), attr)
            got = np.where(p >= 0, values[np.maximum(p, 0)] if len(values) else fill, fill)
            if sel is None:
                out[:] = got
            else:
                out[sel] = got
        return out

    def ids(self, layer: str) -> IntArray:
        """Database ids at `layer` (-1 = none)."""
        return self._gather(layer, "ids", -1, np.int64)

    def codes(self, layer: str) -> NDArray[np.object_]:
        """Codes at `layer` (None = none)."""
        return self._gather(layer, "codes", None, object)

    def names(self, layer: str) -> NDArray[np.object_]:
        """Names at `layer` (None = none)."""
        return self._gather(layer, "names", None, object)

    def method_names(self) -> NDArray[np.object_]:
        """Method of each point as text; "outside" for points outside the district."""
        table = np.array([*METHODS, "outside"], dtype=object)
        return table[np.where(self.method >= 0, self.method, len(METHODS))]


def merge_chains(parts: list[tuple[IntArray, CellChains]], n: int) -> CellChains:
    """One answer from answers for disjoint, sorted index sets covering 0..n-1."""
    method = np.full(n, OUTSIDE, dtype=np.int8)
    distance = np.full(n, np.nan)
    revision = np.full(n, -1, dtype=np.int64)
    merged: list[tuple[IntArray | None, GridSnapshot, dict[str, IntArray]]] = []
    for sel, chains in parts:
        method[sel], distance[sel], revision[sel] = (
            chains.method,
            chains.distance_m,
            chains.revision_id,
        )
        (_, snap, pos) = chains.parts[0]
        merged.append((sel, snap, pos))
    return CellChains(method, distance, revision, merged)


@dataclass
class GridSnapshot:
    """Everything needed to locate points in the grid valid during [valid_from, valid_until)."""

    cells: dict[int, AreaSet]
    communities: AreaSet
    streets: AreaSet
    district: CellIndex
    revision_id: int | None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    stats: dict[str, int] = field(default_factory=dict)
    _reach: dict[float, ReachMask | None] = field(default_factory=dict, repr=False)
    _reach_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    version: int | None = None
    """The live grid's version when loaded (`grids.grid.live_grid`); None for a past grid."""

    def __getstate__(self) -> dict[str, object]:
        """Without the reach masks and their lock: rebuilt where the copy is used (a worker)."""
        return {**self.__dict__, "_reach": {}, "_reach_lock": None}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state, _reach_lock=threading.Lock())

    def layer(self, name: str) -> AreaSet:
        """Area set by name: "l1", "l2", "l3", "community" or "street"."""
        if name in ("l1", "l2", "l3"):
            return self.cells[int(name[1])]
        return {"community": self.communities, "street": self.streets}[name]

    @property
    def empty(self) -> bool:
        """True when there is nothing to locate against (no streets and no cells)."""
        return not len(self.streets) and not any(len(c) for c in self.cells.values())

    def locate(self, lons: ArrayLike, lats: ArrayLike, *, tolerance_m: float) -> CellChains:
        """The chain of every point (WGS-84 degrees), following the module's rules.

        Points the reach mask rules out (`grids.grid.reach`) are answered "outside" at once;
        the others go through the rules, so the answers are the rules' own.
        """
        xs = np.atleast_1d(np.asarray(lons, dtype=np.float64))
        ys = np.atleast_1d(np.asarray(lats, dtype=np.float64))
        margin = margin_for(tolerance_m)
        mask = self.reach(tolerance_m) if len(xs) >= RASTER_MIN_POINTS else None
        mask = mask or self._reach.get(margin)  # small batches use a mask already made
        if mask is None:
            return self._apply_rules(xs, ys, tolerance_m)
        near = np.flatnonzero(mask.maybe_inside(xs, ys))
        if near.size == len(xs):
            return self._apply_rules(xs, ys, tolerance_m)
        part = self._apply_rules(xs[near], ys[near], tolerance_m)
        n = len(xs)
        method = np.full(n, OUTSIDE, dtype=np.int8)
        distance = np.full(n, np.nan)
        revision = np.full(n, -1 if self.revision_id is None else self.revision_id, np.int64)
        method[near], distance[near], revision[near] = (
            part.method,
            part.distance_m,
            part.revision_id,
        )
        (_, _, part_pos) = part.parts[0]
        pos = {name: np.full(n, -1, dtype=np.int64) for name in part_pos}
        for name, values in part_pos.items():
            pos[name][near] = values
        return CellChains(method, distance, revision, [(None, self, pos)])

    def reach(self, tolerance_m: float) -> ReachMask | None:
        """The mask of where points can be located at all with `tolerance_m` (made once)."""
        margin = margin_for(tolerance_m)
        if margin not in self._reach:
            with self._reach_lock:
                if margin not in self._reach:
                    outlines = [self.district.geoms, self.streets.index.geoms]
                    outlines.append(self.communities.index.geoms)
                    cells = [self.cells[level].index.geoms for level in LEVELS]
                    if len(self._reach) >= REACH_CACHE_SIZE:
                        self._reach.pop(next(iter(self._reach)))
                    self._reach[margin] = build_reach(outlines, cells, margin_m=margin)
        return self._reach.get(margin)

    def _apply_rules(self, xs: FloatArray, ys: FloatArray, tolerance_m: float) -> CellChains:
        """The module's rules, step by step, for every point."""
        n = len(xs)
        deepest = np.full(n, -1, dtype=np.int64)
        level_of = np.zeros(n, dtype=np.int8)
        method = np.full(n, OUTSIDE, dtype=np.int8)
        distance = np.full(n, np.nan)
        for level in (3, 2, 1):
            todo = np.flatnonzero(level_of == 0)
            if todo.size and len(self.cells[level]):
                found = self.cells[level].index.covering(xs[todo], ys[todo])
                hit = todo[found >= 0]
                deepest[hit], level_of[hit], method[hit] = found[found >= 0], level, COVERS
        for level in (3, 1):
            todo = np.flatnonzero(level_of == 0)
            if todo.size and len(self.cells[level]):
                found, d = self.cells[level].index.nearest(xs[todo], ys[todo], tolerance_m)
                near = found >= 0
                deepest[todo[near]], level_of[todo[near]] = found[near], level
                method[todo[near]], distance[todo[near]] = NEAREST, d[near]
        pos = self._chains(deepest, level_of)
        self._fallbacks(xs, ys, level_of, pos, method)
        revision = np.full(n, -1 if self.revision_id is None else self.revision_id, np.int64)
        for level in LEVELS:
            sel = level_of == level
            revision[sel] = self.cells[level].revision[deepest[sel]]
        return CellChains(method, distance, revision, [(None, self, pos)])

    def warm(self, tolerance_m: float | None = None) -> None:
        """Build the lazy parts (nearest-cell trees, reach mask) ahead of the first request.

        The reach mask is made for `tolerance_m`, by default the configured one (the
        one a service passes to every locate).
        """
        for layer in (self.cells[3], self.cells[1], self.streets):
            if len(layer):
                layer.index.metric_tree()
        self.reach(resolve_tolerance(tolerance_m))

    def locate_point(self, lon: float, lat: float, *, tolerance_m: float) -> CellChains:
        """`locate` for one point: plain Python when a level-3 cell covers it (the hot path)."""
        cells = self.cells[3]
        p3 = cells.index.covering_one(lon, lat) if len(cells) else -1
        if p3 < 0:
            return self.locate([lon], [lat], tolerance_m=tolerance_m)
        p2 = int(cells.parent[p3])
        p1 = int(self.cells[2].parent[p2]) if p2 >= 0 else -1
        community = int(cells.community[p3])
        street = int(self.communities.parent[community]) if community >= 0 else -1
        pos = {
            name: np.array([value], dtype=np.int64)
            for name, value in (
                ("l3", p3),
                ("l2", p2),
                ("l1", p1),
                ("community", community),
                ("street", street),
            )
        }
        revision = np.array([cells.revision[p3]], dtype=np.int64)
        method = np.array([COVERS], dtype=np.int8)
        return CellChains(method, np.array([np.nan]), revision, [(None, self, pos)])

    def _chains(self, deepest: IntArray, level_of: NDArray[np.int8]) -> dict[str, IntArray]:
        """Positions at every layer, walking parents up from the deepest cell found."""
        n = len(deepest)
        pos = {name: np.full(n, -1, dtype=np.int64) for name in ("l3", "l2", "l1", "community")}
        for level in (3, 2, 1):
            sel = np.flatnonzero(level_of == level)
            p = deepest[sel]
            for lv in range(level, 0, -1):
                pos[f"l{lv}"][sel] = p
                if lv > 1:
                    p = np.where(p >= 0, self.cells[lv].parent[np.maximum(p, 0)], -1)
            cells = self.cells[level]
            pos["community"][sel] = cells.community[deepest[sel]]
        return pos

    def _fallbacks(self, xs, ys, level_of, pos: dict[str, IntArray], method) -> None:
        """Community, then street fallback for points no cell took; the street of everyone."""
        todo = np.flatnonzero(level_of == 0)
        if todo.size and len(self.communities):
            found = self.communities.index.covering(xs[todo], ys[todo])
            hit = todo[found >= 0]
            pos["community"][hit], method[hit] = found[found >= 0], COMMUNITY_FALLBACK
        c = pos["community"]
        street = np.where(c >= 0, self.communities.parent[np.maximum(c, 0)], -1)
        todo = np.flatnonzero(street < 0)
        if todo.size and len(self.streets):
            found = self.streets.index.covering(xs[todo], ys[todo])
            inside = self.district.covering(xs[todo], ys[todo]) >= 0
            missing = (found < 0) & inside
            if missing.any():  # in the district but in no street: the nearest street
                near, _ = self.streets.index.nearest(xs[todo][missing], ys[todo][missing], 1e7)
                found[missing] = near
            known = found >= 0
            street[todo[known]] = found[known]
            fresh = todo[known & (method[todo] == OUTSIDE)]
            method[fresh] = STREET_FALLBACK
        pos["street"] = street

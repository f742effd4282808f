"""Balanced contiguous regions over building-level units (pure: no database).

Units are level-3 cells, merged where a courtyard spans several so that a
courtyard is never split.  Regions come from PySAL spopt's AZP over a libpysal
Queen contiguity graph, with an objective that measures balance itself: the
squared deviation of each region's households and open cases from the mean
(each attribute normalised by its mean), so AZP's moves trade units until the
regions weigh alike while staying contiguous.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from libpysal.graph import Graph
from libpysal.weights import W
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry
from spopt.region import AZP
from spopt.region.objective_function import ObjectiveFunction

logger = logging.getLogger(__name__)

SNAP_M = 0.01
"""Boundaries closer than this (metres) count as shared when building contiguity."""
MIN_EDGE_M = 1.0
"""Shortest shared border (metres) that makes two units neighbours."""
CASES_WEIGHT = 0.25
"""Weight of open-case balance against household balance (households lead)."""


@dataclass(frozen=True)
class Unit:
    """Indivisible building blocks of a region: level-3 cells, their totals, metric outline."""

    members: tuple[int, ...]
    households: float
    cases: float
    geom: BaseGeometry


def merge_by_courtyard(
    geoms: Sequence[BaseGeometry], courtyards: Sequence[BaseGeometry], min_area: float = 0.01
) -> list[list[int]]:
    """Groups of cell indexes: cells sharing more than `min_area` with one courtyard go together.

    Geometries are metric (m²); a courtyard merely touching a cell does not bind it.
    """
    parent = list(range(len(geoms)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if len(geoms) and len(courtyards):
        cells_arr = np.asarray(geoms, dtype=object)
        yards_arr = np.asarray(courtyards, dtype=object)
        yards, cells = shapely.STRtree(cells_arr).query(yards_arr, predicate="intersects")
        shared = shapely.area(shapely.intersection(yards_arr[yards], cells_arr[cells]))
        first: dict[int, int] = {}
        for y, c in zip(yards[shared > min_area], cells[shared > min_area], strict=True):
            root = first.setdefault(int(y), int(c))
            parent[find(int(c))] = find(root)
    groups: dict[int, list[int]] = {}
    for i in range(len(geoms)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())


def contiguity(units: Sequence[Unit]) -> W:
    """Rook contiguity (a shared edge, not a corner) with pieces linked to their nearest unit.

    Geometries are metric.  Candidates come from libpysal's fuzzy contiguity
    (boundaries within `SNAP_M`, so micrometre noise and T-junctions do not hide
    a neighbour); a pair is kept when they share at least `MIN_EDGE_M` of border,
    so meeting at a corner is not contiguity.  A community in several pieces would
    otherwise be regionalised piece by piece; linking keeps one graph.
    """
    geoms = np.asarray([u.geom for u in units], dtype=object)
    neighbors: dict[int, set[int]] = {i: set() for i in range(len(units))}
    if len(units) > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = Graph.build_fuzzy_contiguity(gpd.GeoSeries(geoms), buffer=SNAP_M)
        pairs = [(int(i), int(j)) for (i, j), w in graph.adjacency.items() if i < j and w > 0]
        if pairs:
            a, b = np.asarray(pairs).T
            shared = shapely.length(
                shapely.intersection(shapely.boundary(geoms[a]), shapely.buffer(geoms[b], SNAP_M))
            )
            for i, j in np.asarray(pairs)[shared >= MIN_EDGE_M]:
                neighbors[int(i)].add(int(j))
                neighbors[int(j)].add(int(i))
    while True:
        n, labels = connected_components(_sparse(neighbors), directed=False)
        if n <= 1:
            break
        inside = np.flatnonzero(labels == labels[0])
        outside = np.flatnonzero(labels != labels[0])
        dist = shapely.distance(
            np.asarray([units[int(i)].geom for i in inside])[:, None],
            np.asarray([units[int(j)].geom for j in outside])[None, :],
        )
        a, b = np.unravel_index(int(np.argmin(dist)), dist.shape)
        neighbors[int(inside[a])].add(int(outside[b]))
        neighbors[int(outside[b])].add(int(inside[a]))
    return W({i: sorted(v) for i, v in neighbors.items()}, silence_warnings=True)


def _sparse(neighbors: dict[int, set[int]]):
    from scipy.sparse import coo_matrix

    rows = [i for i, js in neighbors.items() for _ in js]
    cols = [j for js in neighbors.values() for j in js]
    n = len(neighbors)
    return coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()


class BalanceObjective(ObjectiveFunction):
    """Sum over regions of squared deviations of each attribute total from its mean."""

    def __init__(self) -> None:
        super().__init__()

    def __call__(self, labels: np.ndarray, attr: np.ndarray) -> float:
        """The objective of a labelling (lower is more balanced)."""
        regions = np.unique(labels)
        target = attr.sum(axis=0) / len(regions)
        sums = np.asarray([attr[labels == r].sum(axis=0) for r in regions])
        return float(((sums - target) ** 2).sum())

    def update(self, moving_area, recipient_region, labels, attr) -> float:
        """Change of the objective when `moving_area` joins `recipient_region`."""
        target = attr.sum(axis=0) / len(np.unique(labels))
        x = attr[moving_area]
        donor = attr[labels == labels[moving_area]].sum(axis=0)
        recipient = attr[labels == recipient_region].sum(axis=0)
        before = ((donor - target) ** 2).sum() + ((recipient - target) ** 2).sum()
        after = ((donor - x - target) ** 2).sum() + ((recipient + x - target) ** 2).sum()
        return float(after - before)


def balanced_regions(
    units: Sequence[Unit], k: int, seed: int = 2017, start: Sequence[int] | None = None
) -> np.ndarray:
    """A region label (0..k-1) per unit: contiguous, balanced in households and cases.

    `start` (the units' current cells, when there are k of them) seeds AZP, so
    the result is never less balanced than the grid it starts from; otherwise
    AZP starts from a random contiguous partition.
    """
    k = max(1, min(k, len(units)))
    if k == 1:
        return np.zeros(len(units), dtype=int)
    hh = np.asarray([u.households for u in units], dtype=float)
    cases = np.asarray([u.cases for u in units], dtype=float)
    attrs = np.column_stack(
        [hh / max(hh.mean(), 1e-9), CASES_WEIGHT * cases / max(cases.mean(), 1e-9)]
    )
    frame = gpd.GeoDataFrame(
        {"households": attrs[:, 0], "cases": attrs[:, 1]}, geometry=[u.geom for u in units]
    )
    w = contiguity(units)
    initial = _feasible_start(w, start, k)

    def solve(labels: np.ndarray | None) -> np.ndarray:
        model = AZP(
            frame,
            w,
            ["households", "cases"],
            n_clusters=k,
            random_state=seed,
            initial_labels=labels,
            objective_func=BalanceObjective(),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.solve()
        return model.labels_

    labels = solve(initial)
    if initial is not None:  # a random start may find a better optimum: keep the best
        other = solve(None)
        objective = BalanceObjective()
        if objective(other, attrs) < objective(labels, attrs):
            labels = other
    _, labels = np.unique(labels, return_inverse=True)
    return labels.astype(int)


def _feasible_start(w: W, start: Sequence[int] | None, k: int) -> np.ndarray | None:
    """`start` as AZP initial labels when it has k regions, each contiguous; else None."""
    if start is None or len(set(start)) != k:
        return None
    labels = np.unique(np.asarray(start), return_inverse=True)[1]
    for r in range(k):
        idx = np.flatnonzero(labels == r)
        sub = {int(i): {j for j in w.neighbors[int(i)] if labels[j] == r} for i in idx}
        order = {int(i): n for n, i in enumerate(idx)}
        graph = {order[i]: {order[j] for j in js} for i, js in sub.items()}
        if connected_components(_sparse(graph), directed=False)[0] != 1:
            return None
    return labels


def balance_figures(values: Sequence[float]) -> dict[str, float]:
    """Min, max, mean and coefficient of variation (std / mean) of per-cell totals."""
    arr = np.asarray(values, dtype=float)
    if not len(arr):
        return {"cells": 0, "min": 0.0, "max": 0.0, "mean": 0.0, "cv": 0.0}
    mean = float(arr.mean())
    return {
        "cells": len(arr),
        "min": float(arr.min()),
        "max": float(arr.max()),
        "mean": round(mean, 2),
        "cv": round(float(arr.std() / mean), 4) if mean else 0.0,
    }


def reading_order(geoms: Sequence[BaseGeometry]) -> list[int]:
    """Indexes sorted north→south, then west→east (rows of ~1/10 of the extent)."""
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    xy = shapely.get_coordinates(pts)
    band = max((xy[:, 1].max() - xy[:, 1].min()) / 10.0, 1e-9) if len(xy) else 1.0
    rows = np.floor((xy[:, 1].max() - xy[:, 1]) / band) if len(xy) else []
    return sorted(range(len(geoms)), key=lambda i: (rows[i], xy[i, 0]))

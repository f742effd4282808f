"""Split a polygon into k nested parts of similar population: weighted centroidal Voronoi.

Why this construction: children are `Voronoi cell ∩ parent` computed with a fixed
precision grid (1 µm in UTM), so siblings share edges exactly, never leave
gaps, and never leave their parent — the grid nests by construction, not by
repair.  Seeds come from k-means over points sampled by population density, so
dense neighbourhoods get small cells and all cells hold similar populations.
All coordinates here are metric (UTM 48N, metres).
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon
from shapely.geometry.base import BaseGeometry

from layers.demo.kmeans import kmeans_pp

GRID = 1e-6
"""Precision grid of every generated boundary, metres (a micrometre: coarser grids leave
T-junction slivers between the children of neighbouring parents)."""


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the areal parts of an overlay result (drop stray lines and points)."""
    if geom.is_empty:
        return geom
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts, grid_size=GRID) if parts else shapely.Polygon()


def sample_in(polygon: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` points uniformly inside `polygon` (rejection sampling on its bounds)."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        batch = max(64, 2 * (n - have))
        xs = rng.uniform(minx, maxx, batch)
        ys = rng.uniform(miny, maxy, batch)
        keep = shapely.contains_xy(polygon, xs, ys)
        pts = np.column_stack([xs[keep], ys[keep]])
        out.append(pts)
        have += len(pts)
    return np.concatenate(out)[:n]


def kmeans_seeds(samples: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k distinct k-means centroids of `samples` (k-means++ start, a few Lloyd steps)."""
    if len(samples) <= k:
        return samples[:k].copy()
    # = kmeans2(samples, k, iter=12, minit="++", seed=rng), bit for bit; empty clusters
    # are repaired below
    centroids, labels = kmeans_pp(samples, k, 12, rng)
    counts = np.bincount(labels, minlength=k)
    empty = np.flatnonzero(counts == 0)
    if len(empty):  # move empty centroids onto random samples
        centroids[empty] = samples[rng.choice(len(samples), len(empty), replace=False)]
    # jitter exact duplicates apart so Voronoi sees k sites
    _, first = np.unique(np.round(centroids, 3), axis=0, return_index=True)
    dup = np.setdiff1d(np.arange(k), first)
    centroids[dup] += rng.normal(0, 1.0, (len(dup), 2))
    return centroids


def voronoi_cells(sites: np.ndarray, parent: BaseGeometry) -> list[BaseGeometry]:
    """The Voronoi region of each site, clipped to `parent` on the precision grid."""
    envelope = parent.envelope.buffer(1000.0)
    regions = shapely.voronoi_polygons(MultiPoint(sites), extend_to=envelope, ordered=True)
    pieces = shapely.intersection(np.asarray(regions.geoms, dtype=object), parent, grid_size=GRID)
    return [polygonal(p) for p in pieces]


def absorb_fragments(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    """Give every detached fragment of a cell to the neighbour sharing most border with it."""
    cells = list(cells)
    tree = shapely.STRtree(cells)
    for i, cell in enumerate(list(cells)):
        if not isinstance(cell, MultiPolygon):
            continue
        parts = sorted(cell.geoms, key=lambda g: g.area, reverse=True)
        keep: BaseGeometry = parts[0]
        for frag in parts[1:]:
            best, best_len = None, 0.0
            for j in tree.query(frag, predicate="intersects"):
                if j == i or cells[j].is_empty:
                    continue
                shared = shapely.intersection(frag.boundary, cells[j].boundary).length
                if shared > best_len:
                    best, best_len = j, shared
            if best is None:  # an island inside nothing else: stays with its cell
                keep = shapely.union(keep, frag, grid_size=GRID)
                continue
            cells[best] = polygonal(shapely.union(cells[best], frag, grid_size=GRID))
        cells[i] = keep
    return cells


def partition(
    parent: BaseGeometry, samples: np.ndarray, k: int, rng: np.random.Generator
) -> list[BaseGeometry]:
    """Exactly `k` non-empty parts tiling `parent`, balanced by the density of `samples`."""
    if k <= 1:
        return [parent]
    if len(samples) < 4 * k:  # too few people to balance on: fall back to area
        samples = np.concatenate([samples, sample_in(parent, 8 * k, rng)])
    cells = voronoi_cells(kmeans_seeds(samples, k, rng), parent)
    cells = [c for c in absorb_fragments(cells) if not c.is_empty and c.area > 0]
    while len(cells) < k:  # rare: a site's cell missed the parent; split the largest
        cells.sort(key=lambda c: c.area)
        largest = cells.pop()
        inside = samples[shapely.contains_xy(largest, samples[:, 0], samples[:, 1])]
        if len(inside) < 8:
            inside = sample_in(largest, 64, rng)
        cells.extend(
            c for c in voronoi_cells(kmeans_seeds(inside, 2, rng), largest) if not c.is_empty
        )
    return cells[:k] if len(cells) == k else _merge_smallest(cells, k)


def _merge_smallest(cells: list[BaseGeometry], k: int) -> list[BaseGeometry]:
    """Reduce to `k` parts by merging the smallest into its longest-bordering neighbour."""
    while len(cells) > k:
        cells.sort(key=lambda c: c.area)
        small = cells.pop(0)
        shared = [shapely.intersection(small.boundary, c.boundary).length for c in cells]
        j = int(np.argmax(shared))
        cells[j] = polygonal(shapely.union(cells[j], small, grid_size=GRID))
    return cells


def allocate(weights: np.ndarray, total: int, minimum: int = 1) -> np.ndarray:
    """Integers proportional to `weights` that sum to `total`, each ≥ `minimum`.

    Largest-remainder rounding, so published totals are reproduced exactly.
    """
    n = len(weights)
    if total < minimum * n:
        raise ValueError(f"cannot give {n} parts at least {minimum} out of {total}")
    w = np.asarray(weights, dtype=float)
    w = w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)
    spare = total - minimum * n
    raw = w * spare
    out = np.floor(raw).astype(int)
    remainder = spare - out.sum()
    if remainder:
        out[np.argsort(-(raw - out), kind="stable")[:remainder]] += 1
    return out + minimum


def reading_order(points: np.ndarray, band: float) -> np.ndarray:
    """Indices sorting points north→south in bands of `band` metres, west→east in a band."""
    rows = np.floor((points[:, 1].max() - points[:, 1]) / max(band, 1e-9))
    return np.lexsort((points[:, 0], rows))

"""The nested areas of the demo: streets → communities → level-1 → level-2 → level-3 cells.

Each level partitions every polygon of the level above (see `partition`), and
children are numbered in reading order (north→south, west→east) to build the
published code shape: 6-digit district + 3-digit street + 3-digit community +
3 digits per grid level.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.cluster.vq import kmeans2
from shapely.geometry.base import BaseGeometry

from layers.core.crs import to_metric
from layers.core.geo_arrays import geo_array
from layers.demo.counts import DemoCounts
from layers.demo.density import DensityField, points_in
from layers.demo.names import STREETS, community_names
from layers.demo.partition import (
    absorb_fragments,
    allocate,
    kmeans_seeds,
    partition,
    reading_order,
    voronoi_cells,
)
from layers.demo.tiling import Levels, retile

Report = Callable[[str], None]


@dataclass
class Level:
    """The polygons of one level, with codes, names and the index of each one's parent."""

    geoms: list[BaseGeometry] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    parent: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.geoms)


@dataclass
class Hierarchy:
    """All levels of the demo district, in metric coordinates."""

    district: BaseGeometry
    streets: Level
    communities: Level
    cells: dict[int, Level]
    samples: np.ndarray
    """Population-weighted sample points; `sample_l3[i]` is the level-3 cell of sample i."""
    sample_l3: np.ndarray

    def levels(self) -> Levels:
        """(geometries, parent index) from the district down to level 3, for `tiling`."""
        return [
            ([self.district], np.zeros(1, dtype=np.int64)),
            (self.streets.geoms, self.streets.parent),
            (self.communities.geoms, self.communities.parent),
            *((self.cells[lv].geoms, self.cells[lv].parent) for lv in (1, 2, 3)),
        ]

    def community_of(self, level: int) -> np.ndarray:
        """Community index of every cell of `level`."""
        idx = np.arange(len(self.cells[level]))
        for lv in range(level, 0, -1):
            idx = self.cells[lv].parent[idx]
        return idx


def _children(
    parents: Level,
    counts: np.ndarray,
    samples: np.ndarray,
    owner: np.ndarray,
    rng: np.random.Generator,
    report: Report,
    what: str,
) -> tuple[list[BaseGeometry], np.ndarray, list[int]]:
    geoms: list[BaseGeometry] = []
    parent_idx: list[int] = []
    seq: list[int] = []
    order_by_owner = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order_by_owner], np.arange(len(parents) + 1))
    step = max(1, len(parents) // 10)
    for p, parent in enumerate(parents.geoms):
        inside = samples[order_by_owner[bounds[p] : bounds[p + 1]]]
        parts = partition(parent, inside, int(counts[p]), rng)
        reps = np.array([g.representative_point().coords[0] for g in parts])
        band = float(np.sqrt(parent.area / max(len(parts), 1)))
        for n, i in enumerate(reading_order(reps, band), start=1):
            geoms.append(parts[i])
            parent_idx.append(p)
            seq.append(n)
        if (p + 1) % step == 0 or p + 1 == len(parents):
            report(f"  {what}: {p + 1}/{len(parents)} parents split, {len(geoms)} cells")
    return geoms, np.asarray(parent_idx, dtype=np.int64), seq


def _streets(
    district: BaseGeometry,
    samples: np.ndarray,
    rng: np.random.Generator,
    names: Sequence[str] | None = None,
) -> list[tuple[str, BaseGeometry]]:
    """Streets balanced by population: Chenghua's 14 grown from the real streets' anchors,
    or, given `names` (a generated district), one per name from k-means++ seeds."""
    if names is None:
        ax, ay = to_metric([s[1] for s in STREETS], [s[2] for s in STREETS])
        sites, _ = kmeans2(samples, np.column_stack([ax, ay]), iter=6, minit="matrix")
        names = [s[0] for s in STREETS]
    else:
        sites = kmeans_seeds(samples, len(names), rng)
    cells = absorb_fragments(voronoi_cells(sites, district))
    if any(c.is_empty for c in cells):
        raise RuntimeError("a street anchor lies outside the district outline")
    return [(names[i], cells[i]) for i in range(len(names))]


def build_hierarchy(
    district: BaseGeometry,
    counts: DemoCounts,
    density: DensityField,
    rng: np.random.Generator,
    report: Report,
    district_code: str = "510108",
    street_names: Sequence[str] | None = None,
) -> Hierarchy:
    """Partition `district` into the nested levels with exactly the requested counts."""
    samples = density.sample(counts.samples, rng)
    report(f"sampled {len(samples):,} population points")
    sample_pts = geo_array(shapely.points(samples))

    named = _streets(district, samples, rng, street_names)
    reps = np.array([g.representative_point().coords[0] for _, g in named])
    order = reading_order(reps, band=float(np.sqrt(district.area / len(named))))
    streets = Level(
        geoms=[named[i][1] for i in order],
        codes=[f"{district_code}{n:03d}" for n in range(1, len(named) + 1)],
        names=[named[i][0] for i in order],
        parent=np.zeros(len(named), dtype=np.int64),
    )
    report(f"{len(streets)} streets")

    owner = points_in(streets.geoms, samples, geoms=sample_pts)
    per_street = allocate(
        np.bincount(owner[owner >= 0], minlength=len(streets)), counts.communities, minimum=3
    )
    geoms, parent, seq = _children(streets, per_street, samples, owner, rng, report, "communities")
    communities = Level(
        geoms=geoms,
        codes=[f"{streets.codes[p]}{s:03d}" for p, s in zip(parent, seq, strict=True)],
        names=community_names(len(geoms), rng),
        parent=parent,
    )
    report(f"{len(communities)} communities")

    cells: dict[int, Level] = {}
    above: Level = communities
    for level, total in ((1, counts.l1), (2, counts.l2), (3, counts.l3)):
        owner = points_in(above.geoms, samples, geoms=sample_pts)
        per_parent = allocate(np.bincount(owner[owner >= 0], minlength=len(above)), total)
        geoms, parent, seq = _children(
            above, per_parent, samples, owner, rng, report, f"level-{level} cells"
        )
        cells[level] = Level(
            geoms=geoms,
            codes=[f"{above.codes[p]}{s:03d}" for p, s in zip(parent, seq, strict=True)],
            names=[_cell_name(above.names[p], level, s) for p, s in zip(parent, seq, strict=True)],
            parent=parent,
        )
        report(f"{len(geoms)} level-{level} cells")
        above = cells[level]

    tiled = Hierarchy(district, streets, communities, cells, samples, np.zeros(0, np.int64))
    _retile(tiled)
    report("one coverage: every level rebuilt from the noded level-3 edges")
    tiled.sample_l3 = points_in(tiled.cells[3].geoms, samples, geoms=sample_pts)
    return tiled


def _retile(h: Hierarchy) -> None:
    """Replace every level's geometries by the exact coverage `tiling.retile` builds."""
    district, streets, communities, *cells = retile(h.levels())
    h.district = district[0]
    h.streets.geoms, h.communities.geoms = streets, communities
    for lv, geoms in zip((1, 2, 3), cells, strict=True):
        h.cells[lv].geoms = geoms


def _cell_name(parent_name: str, level: int, seq: int) -> str:
    if level == 1:
        return f"{parent_name}第{seq}网格"
    return f"{parent_name.removesuffix('网格')}-{seq}网格"

"""New cells from balanced regions: codes, unions on a millimetre grid, nested subtrees.

A region (a list of level-3 draft rows) becomes one cell of the redrawn level:
its code reuses the old code sharing most households, its outline is the union
of its level-3 cells, and its subtree is recoded beneath it (a level-1 redraw
splits level-2 cells along the new boundary).  Pure geometry, no database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from scipy.optimize import linear_sum_assignment

from grids.planning.drafts import DraftRow
from grids.planning.regions import reading_order
from grids.planning.validation import geom_to_wgs84

GRID_M = 1e-3
"""Precision grid of suggested boundaries, metres."""


def _match_codes(group, regions: list[list[int]], rows, chains, level: int) -> list[str]:
    """A code per region: the old code sharing most households, new sequence numbers after."""
    old = [rows[i].code for i in group.old_children]
    column = {child: j for j, child in enumerate(group.old_children)}
    weight = np.zeros((len(regions), len(old)))
    for r, members in enumerate(regions):
        for i in members:
            j = column.get(chains[i].get(level, -1))
            if j is not None:
                weight[r, j] += rows[i].households + 1
    codes: list[str | None] = [None] * len(regions)
    if len(old):
        ri, ci = linear_sum_assignment(-weight)
        for r, c in zip(ri, ci, strict=True):
            codes[r] = old[c]
    used = {int(c[-3:]) for c in old}
    seq = iter(n for n in range(1, 1000) if n not in used)
    return [c or f"{group.code}{next(seq):03d}" for c in codes]


@dataclass(frozen=True)
class Union:
    """Union of level-3 cells, done in metres on a millimetre grid, returned in EPSG:4326.

    A plain union keeps micrometre spikes where T-junctions meet, valid in degrees
    but not once projected; snapping to 1 mm removes them (well below tolerance).
    """

    metric: list[Any]
    srid: int

    def __call__(self, members: Sequence[int]) -> shapely.MultiPolygon:
        """The union of the `members` (row indexes) as a WGS-84 MultiPolygon."""
        merged = shapely.union_all([self.metric[i] for i in members], grid_size=GRID_M)
        geom = geom_to_wgs84(merged, self.srid)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        return _multi(geom)


def build_cells(group, regions, rows, chains, level: int, union: Union) -> list[DraftRow]:
    """New cells of `level` (unions of level-3 cells) and their re-coded subtree."""
    codes = _match_codes(group, regions, rows, chains, level)
    out: list[DraftRow] = []
    for code, members in zip(codes, regions, strict=True):
        out.append(DraftRow(code, level, group.code, None, union(members)))
        if level == 1:
            out += _split_level2(code, members, rows, union)
        else:
            out += _recode(code, 3, members, rows)
    return out


def _split_level2(l1_code: str, members: list[int], rows, union: Union) -> list[DraftRow]:
    """Level-2 cells inside a new level-1 cell: its level-3 cells grouped by old level-2."""
    by_old: dict[str, list[int]] = defaultdict(list)
    for i in members:
        by_old[rows[i].parent_code or ""].append(i)
    parts = [by_old[k] for k in sorted(by_old)]
    geoms = [union(p) for p in parts]
    out: list[DraftRow] = []
    for n, j in enumerate(reading_order(geoms), start=1):
        code = f"{l1_code}{n:03d}"
        out.append(DraftRow(code, 2, l1_code, None, geoms[j]))
        out += _recode(code, 3, parts[j], rows)
    return out


def _recode(parent: str, level: int, members: list[int], rows) -> list[DraftRow]:
    order = reading_order([rows[i].geom for i in members])
    return [
        DraftRow(f"{parent}{n:03d}", level, parent, rows[members[j]].name, rows[members[j]].geom)
        for n, j in enumerate(order, start=1)
    ]


def _multi(geom) -> shapely.MultiPolygon:
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
    return shapely.MultiPolygon(polys)

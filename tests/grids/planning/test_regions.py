"""Pure regionalisation: courtyard merging, contiguity, balance."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import box

from grids.planning.regions import (
    Unit,
    balance_figures,
    balanced_regions,
    contiguity,
    merge_by_courtyard,
    reading_order,
)


def grid_units(n: int = 6, weights=None) -> list[Unit]:
    rng = np.random.default_rng(3)
    hh = weights if weights is not None else rng.integers(10, 200, n * n)
    return [
        Unit((i,), float(hh[i]), float(i % 3), box(i % n, i // n, i % n + 1, i // n + 1))
        for i in range(n * n)
    ]


def test_merge_by_courtyard_binds_cells_sharing_a_courtyard() -> None:
    cells = [box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10)]
    yard = box(8, 2, 12, 8)  # spans cells 0 and 1; only touches nothing else
    touching = box(30, 0, 35, 10)  # shares an edge with cell 2 only: binds nothing
    assert merge_by_courtyard(cells, [yard, touching]) == [[0, 1], [2]]


def test_contiguity_links_separate_pieces() -> None:
    units = [Unit((0,), 1, 0, box(0, 0, 1, 1)), Unit((1,), 1, 0, box(5, 0, 6, 1))]
    w = contiguity(units)
    assert w.neighbors[0] == [1] and w.neighbors[1] == [0]


def test_balanced_regions_are_contiguous_and_more_balanced_than_strips() -> None:
    units = grid_units()
    labels = balanced_regions(units, 4, seed=1)
    assert sorted(set(labels.tolist())) == [0, 1, 2, 3]
    for r in range(4):
        merged = shapely.union_all(
            [u.geom for u, lab in zip(units, labels, strict=True) if lab == r]
        )
        assert merged.geom_type == "Polygon", "each region is one piece"
    hh = np.array([u.households for u in units])
    after = balance_figures([hh[labels == r].sum() for r in range(4)])
    strips = [hh[i * 9 : (i + 1) * 9].sum() for i in range(4)]  # naive row strips
    assert after["cv"] < balance_figures(strips)["cv"]


def test_one_region_takes_everything() -> None:
    assert set(balanced_regions(grid_units(2), 1).tolist()) == {0}


def test_balance_figures() -> None:
    figs = balance_figures([100, 100, 200])
    assert figs["min"] == 100 and figs["max"] == 200 and figs["cells"] == 3
    assert abs(figs["cv"] - np.std([100, 100, 200]) / np.mean([100, 100, 200])) < 1e-3
    assert balance_figures([])["cells"] == 0


def test_reading_order_is_north_to_south_then_west_to_east() -> None:
    geoms = [box(0, 0, 1, 1), box(5, 10, 6, 11), box(0, 10, 1, 11)]
    assert reading_order(geoms) == [2, 1, 0]


def test_contiguity_sees_t_junctions_but_not_corners() -> None:
    units = [
        Unit((0,), 1, 0, box(0, 0, 1, 2)),  # its right edge has no vertex at (1, 1)
        Unit((1,), 1, 0, box(1, 0, 2, 1)),
        Unit((2,), 1, 0, box(1, 1, 2, 2)),
        Unit((3,), 1, 0, box(2, 2, 3, 3)),  # touches unit 2 at a corner only
    ]
    w = contiguity(units)
    assert set(w.neighbors[0]) == {1, 2}
    assert 3 not in w.neighbors[2] or len(w.neighbors[3]) == 1  # linked only as a last resort

"""The point-in-polygon kernel, the raster and the index, without a database."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from grids.grid.cell_index import CellIndex
from grids.grid.pip import covers_pairs, flatten_edges

SQUARE = box(0, 0, 1, 1)
DONUT = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
ISLAND = box(1.5, 1.5, 2.5, 2.5)


def covers(geom, x, y) -> bool:
    edges = flatten_edges(np.array([geom], dtype=object))
    return bool(covers_pairs(edges, np.array([x], float), np.array([y], float), np.array([0]))[0])


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (0.5, 0.5, True),  # inside
        (0.0, 0.0, True),  # a vertex
        (0.5, 0.0, True),  # on the bottom edge
        (1.0, 0.3, True),  # on the right edge
        (1.0000001, 0.3, False),
        (-0.1, 0.5, False),
        (0.5, 1.5, False),
    ],
)
def test_square_covers_its_boundary(x, y, expected):
    assert covers(SQUARE, x, y) is expected


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (0.5, 0.5, True),  # in the ring
        (2.0, 2.0, False),  # in the hole
        (1.0, 2.0, True),  # on the hole's edge
        (3.0, 3.0, True),  # a vertex of the hole
        (4.0, 4.0, True),
        (5.0, 2.0, False),
    ],
)
def test_holes_exclude_their_interior_but_not_their_edge(x, y, expected):
    assert covers(DONUT, x, y) is expected


def test_multipolygon_parts_and_an_island_in_a_hole():
    geom = MultiPolygon([DONUT, ISLAND])
    assert covers(geom, 2.0, 2.0)  # on the island inside the hole
    assert not covers(geom, 1.2, 1.2)  # in the hole, off the island
    assert covers(geom, 0.5, 3.5)


def test_agrees_with_geos_away_from_boundaries():
    rng = np.random.default_rng(1)
    polys = shapely.voronoi_polygons(shapely.multipoints(rng.uniform(0, 10, (60, 2))))
    cells = shapely.intersection(np.asarray(polys.geoms, dtype=object), box(0, 0, 10, 10))
    edges = flatten_edges(cells)
    xs, ys = rng.uniform(-1, 11, 4000), rng.uniform(-1, 11, 4000)
    pts = np.repeat(np.arange(4000), len(cells))
    cell = np.tile(np.arange(len(cells)), 4000)
    ours = covers_pairs(edges, xs[pts], ys[pts], cell)
    theirs = shapely.intersects_xy(cells[cell], xs[pts], ys[pts])
    assert (ours == theirs).all()


def _tiling(seed: int = 3, n: int = 400) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sites = rng.uniform(104.05, 104.25, (n, 2)) * [1, 1]
    sites[:, 1] = rng.uniform(30.6, 30.75, n)
    polys = shapely.voronoi_polygons(shapely.multipoints(sites))
    cells = shapely.intersection(
        np.asarray(polys.geoms, dtype=object), box(104.05, 30.6, 104.25, 30.75)
    )
    order = np.argsort(shapely.get_x(shapely.centroid(cells)))
    return cells[order]


def test_raster_and_rtree_paths_agree_and_break_ties_by_rank():
    cells = _tiling()
    index = CellIndex(cells)
    rng = np.random.default_rng(5)
    xs, ys = rng.uniform(104.04, 104.26, 50_000), rng.uniform(30.59, 30.76, 50_000)
    vertices = shapely.get_coordinates(cells)
    xs = np.r_[xs, vertices[:, 0]]
    ys = np.r_[ys, vertices[:, 1]]
    raster = index.covering(xs, ys)  # large batch: builds and uses the raster
    small = np.concatenate(
        [index.covering(xs[i : i + 200], ys[i : i + 200]) for i in range(0, len(xs), 200)]
    )
    assert (raster == small).all()
    # Brute force: every covering cell, lowest rank wins.
    pts, cand = CellIndex(cells).tree.query(shapely.points(xs, ys))
    hit = covers_pairs(index.edges, xs[pts], ys[pts], cand)
    expected = np.full(len(xs), -1)
    for p, c in zip(pts[hit][::-1], cand[hit][::-1], strict=True):
        expected[p] = c if expected[p] < 0 else min(expected[p], c)
    assert (raster == expected).all()
    one = np.array([index.covering_one(x, y) for x, y in zip(xs[::7], ys[::7], strict=True)])
    assert (one == raster[::7]).all()  # the scalar hot path answers the same
    shared = raster[50_000:]
    assert (shared >= 0).sum() > 0.9 * len(shared)  # vertices on the frame edge may be outside


def test_a_shared_edge_goes_to_the_lower_rank_every_time():
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    for cells, winner in (([left, right], 0), ([right, left], 0)):
        index = CellIndex(cells)
        got = index.covering([1.0, 1.0, 0.5, 1.5], [0.5, 0.0, 0.5, 0.5])
        assert got[0] == winner and got[1] == winner
        assert got[2] == (0 if cells[0] is left else 1)


def test_overlapping_cells_answer_the_lowest_rank_in_the_overlap():
    big, small = box(0, 0, 10, 10), box(4, 4, 6, 6)
    index = CellIndex([small, big], raster=True)
    xs = np.r_[np.linspace(4.01, 5.99, 300), 1.0]
    ys = np.r_[np.full(300, 5.0), 1.0]
    got = index.covering(xs, ys)
    assert (got[:300] == 0).all() and got[300] == 1
    index2 = CellIndex([big, small], raster=True)
    assert (index2.covering(xs, ys) == 0).all()
    assert [index.covering_one(x, y) for x, y in zip(xs, ys, strict=True)] == list(got)


def test_nearest_within_tolerance_in_metres():
    cell = box(104.1, 30.6, 104.101, 30.601)  # ~96 m x 111 m
    index = CellIndex([cell])
    east = 104.101 + 20 / (111_320 * np.cos(np.radians(30.6)))  # 20 m east of the edge
    far = 104.101 + 45 / (111_320 * np.cos(np.radians(30.6)))
    found, dist = index.nearest([east, far], [30.6005, 30.6005], 30.0)
    assert found[0] == 0 and 19.5 < dist[0] < 20.5
    assert found[1] == -1 and np.isnan(dist[1])


def test_bad_and_empty_input():
    index = CellIndex([SQUARE], raster=True)
    assert index.covering_one(float("nan"), 0.5) == -1 and index.covering_one(5.0, 5.0) == -1
    assert (index.covering([np.nan, 0.5], [0.5, np.inf]) == -1).all()
    assert CellIndex([]).covering([0.5], [0.5])[0] == -1
    with pytest.raises(ValueError):
        index.covering([0.5, 0.6], [0.5])


def test_points_are_points():
    assert covers(Point(0, 0).buffer(1), 0.0, 0.0)


def test_a_large_batch_is_located_in_chunks_with_the_same_answers(monkeypatch):
    import grids.grid.cell_index as cell_index

    cells = _tiling()
    rng = np.random.default_rng(9)
    xs, ys = rng.uniform(104.04, 104.26, 20_000), rng.uniform(30.59, 30.76, 20_000)
    xs[::13] = np.nan  # skipped points shift the chunks' boundaries
    whole = CellIndex(cells).covering(xs, ys)
    calls: list[int] = []
    index = CellIndex(cells)
    raster = index.raster()
    real = type(raster).covering
    monkeypatch.setattr(cell_index, "CHUNK_POINTS", 1_000)
    monkeypatch.setattr(
        type(raster), "covering", lambda self, e, x, y: calls.append(len(x)) or real(self, e, x, y)
    )
    chunked = index.covering(xs, ys)
    assert max(calls) == 1_000 and sum(calls) == np.isfinite(xs).sum()
    assert (chunked == whole).all() and (whole[::13] == -1).all() and (whole >= 0).sum() > 14_000

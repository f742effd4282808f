"""Points outside the district are ruled out at once, and the answers do not change."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid.grid_snapshot import COVERS, NEAREST, OUTSIDE, GridSnapshot
from grids.grid.locate import point_to_cells, refresh_index, snapshot_for
from grids.grid.reach import build_reach, margin_for
from tests.grids.grid.test_locate import postgis_codes

M_PER_DEG = 111_320.0


@pytest.fixture(scope="module")
def session(engine):
    with Session(engine) as s:
        refresh_index(session=s)
        yield s


@pytest.fixture(scope="module")
def snap(session) -> GridSnapshot:
    return snapshot_for(session=session)


@pytest.fixture(scope="module")
def district(engine):
    with engine.connect() as conn:
        wkb = conn.execute(text("SELECT ST_AsBinary(geom) FROM districts")).scalar()
    return shapely.from_wkb(bytes(wkb))


def _mixed(district, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points over the district's bounding box widened by 2 km (most outside)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = district.bounds
    pad = 2000 / M_PER_DEG
    return rng.uniform(minx - pad, maxx + pad, n), rng.uniform(miny - pad, maxy + pad, n)


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.method, b.method)
    np.testing.assert_array_equal(a.revision_id, b.revision_id)
    np.testing.assert_allclose(a.distance_m, b.distance_m, equal_nan=True)
    for layer in ("l3", "l2", "l1", "community", "street"):
        np.testing.assert_array_equal(a.ids(layer), b.ids(layer), err_msg=layer)


@pytest.mark.parametrize("tolerance_m", [0.0, 30.0, 95.0])
def test_answers_are_those_of_the_rules_alone(snap, district, tolerance_m) -> None:
    xs, ys = _mixed(district, 30_000, 5)
    ruled = snap._apply_rules(xs, ys, tolerance_m)  # every point through every step
    fast = snap.locate(xs, ys, tolerance_m=tolerance_m)
    _same(fast, ruled)
    assert (fast.method == OUTSIDE).mean() > 0.4


def test_near_the_outline_points_still_find_the_nearest_cell(snap, district, session) -> None:
    """Points just outside (within the tolerance) are not ruled out: they go to a cell."""
    parts = shapely.get_parts(district)
    ring = shapely.get_exterior_ring(parts[np.argmax(shapely.area(parts))])
    steps = np.linspace(0, 1, 400, endpoint=False)
    at = shapely.line_interpolate_point(ring, steps, normalized=True)
    inner = shapely.get_coordinates(shapely.centroid(district))[0]
    pts = shapely.get_coordinates(at)
    away = pts - inner
    away /= np.linalg.norm(away * [M_PER_DEG * 0.86, M_PER_DEG], axis=1)[:, None]
    outside = pts + away * 10.0  # about 10 m out, along the ray from the centre
    chains = point_to_cells(outside[:, 0], outside[:, 1], session=session)
    assert (chains.method == NEAREST).sum() > 100
    assert np.nanmax(chains.distance_m[chains.method == NEAREST]) <= 30.0
    covers = chains.method == COVERS
    ours = np.where(covers, chains.codes("l3"), None).tolist()
    assert ours == [
        c if ok else None
        for c, ok in zip(postgis_codes(session, outside[:, 0], outside[:, 1]), covers, strict=True)
    ]


def test_far_outside_points_never_reach_the_fallbacks(snap, district, monkeypatch) -> None:
    seen: list[int] = []
    real = type(snap.communities.index).covering

    def counting(index, lons, lats):
        if index is snap.communities.index or index is snap.district:
            seen.append(len(np.atleast_1d(lons)))
        return real(index, lons, lats)

    monkeypatch.setattr(type(snap.communities.index), "covering", counting)
    minx, miny, maxx, maxy = district.bounds
    rng = np.random.default_rng(3)
    far = 1000 / M_PER_DEG
    xs = np.r_[
        rng.uniform(minx - 3 * far, minx - far, 5_000),
        rng.uniform(maxx + far, maxx + 3 * far, 5_000),
    ]
    ys = rng.uniform(miny, maxy, 10_000)
    chains = snap.locate(xs, ys, tolerance_m=30.0)
    assert (chains.method == OUTSIDE).all()
    assert sum(seen) == 0, seen  # the fallbacks' polygon tests were the slow part


def test_one_mask_per_tolerance_band(snap) -> None:
    assert margin_for(30) == margin_for(25) == 40.0
    assert margin_for(0) == 10.0 and margin_for(95) == 110.0
    assert snap.reach(30) is snap.reach(28)


def test_a_cell_reaching_out_of_the_district_widens_the_mask() -> None:
    """A cell 30 m out of its district still takes points within the tolerance of it."""
    deg = 1 / M_PER_DEG  # about a metre (east-west at the equator)
    district = shapely.box(0, 0, 1000 * deg, 1000 * deg)
    cell = shapely.box(900 * deg, 400 * deg, 1030 * deg, 500 * deg)  # 30 m beyond x = 1000
    mask = build_reach([np.array([district])], [np.array([cell])], margin_m=margin_for(30))
    xs = np.array([1055, 1090, 500, -60]) * deg  # 25 m past the cell, 60 m past, inside, far
    ys = np.array([450, 450, 500, 500]) * deg
    assert mask.maybe_inside(xs, ys).tolist() == [True, False, True, False]

"""Locate against the real grid: 100 % agreement with PostGIS ST_Covers, fallbacks, history."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid.locate import locate_one, point_to_cells, refresh_index, snapshot_for
from grids.grid.snapshot_load import load_snapshot
from layers.core.errors import InvalidInputError, UnprocessableError
from layers.tables.grid_cells import LIVE, live
from tests.conftest import TEST_CLOCK

COVERS_SQL = text(
    "SELECT p.i, min(c.code) AS code FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) "
    f"WITH ORDINALITY AS p(x, y, i) JOIN grid_cells c ON c.level = 3 AND {live('c')} "
    "AND ST_Covers(c.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326)) GROUP BY p.i"
)


@pytest.fixture(scope="module")
def session(engine):
    with Session(engine) as s:
        refresh_index(session=s)
        yield s


@pytest.fixture(scope="module")
def l3(session):
    rows = session.execute(
        text(
            "SELECT code, ST_AsBinary(geom) AS wkb FROM grid_cells "
            f"WHERE level = 3 AND {LIVE} ORDER BY code"
        )
    ).all()
    return [r.code for r in rows], shapely.from_wkb([bytes(r.wkb) for r in rows])


def postgis_codes(session, xs, ys) -> list[str | None]:
    found = dict(
        session.execute(
            COVERS_SQL, {"xs": [float(x) for x in xs], "ys": [float(y) for y in ys]}
        ).all()
    )
    return [found.get(i + 1) for i in range(len(xs))]


def assert_agrees(session, xs, ys):
    chains = point_to_cells(np.asarray(xs), np.asarray(ys), session=session)
    covered = chains.method_names() == "covers"
    ours = [c if ok else None for c, ok in zip(chains.codes("l3"), covered, strict=True)]
    theirs = postgis_codes(session, xs, ys)
    mismatches = [(x, y, a, b) for x, y, a, b in zip(xs, ys, ours, theirs, strict=True) if a != b]
    assert not mismatches, mismatches[:5]
    return ours


def test_random_points_agree_with_st_covers(session, l3):
    _, geoms = l3
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    rng = np.random.default_rng(11)
    xs, ys = rng.uniform(minx, maxx, 20_000), rng.uniform(miny, maxy, 20_000)
    ours = assert_agrees(session, xs, ys)
    assert sum(c is not None for c in ours) > 5_000


def test_every_vertex_agrees_and_its_cell_covers_it(session, l3):
    codes, geoms = l3
    coords = np.unique(shapely.get_coordinates(geoms), axis=0)
    ours = assert_agrees(session, coords[:, 0], coords[:, 1])
    assert all(c is not None for c in ours)  # the grid tiles the district: no vertex is loose
    by_code = dict(zip(codes, geoms, strict=True))
    sample = np.random.default_rng(2).choice(len(coords), 300, replace=False)
    for i in sample:
        assert shapely.intersects_xy(by_code[ours[i]], *coords[i])


def test_points_on_edges_agree(session, l3):
    _, geoms = l3
    rng = np.random.default_rng(3)
    rings = shapely.get_exterior_ring(shapely.get_parts(geoms))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    pick = rng.choice(len(a), 6_000, replace=True)
    t = np.r_[np.full(2_000, 0.5), rng.uniform(0, 1, 4_000)][:, None]
    pts = a[pick] + t * (b[pick] - a[pick])  # on the edge, to the last bit or nearly
    ours = assert_agrees(session, pts[:, 0], pts[:, 1])
    # Points a rounding error off the outer edge (or in a micro-gap) are covered by no cell;
    # they go to the nearest cell.
    assert sum(c is not None for c in ours) > 0.8 * len(ours)


def test_the_chain_is_consistent(session):
    chains = point_to_cells([104.1, 104.15, 104.12], [30.68, 30.66, 30.71], session=session)
    rows = session.execute(
        text(
            "SELECT c3.id AS l3, c3.parent_id AS l2, c2.parent_id AS l1, c3.community_id, "
            "m.street_id FROM grid_cells c3 JOIN grid_cells c2 ON c2.id = c3.parent_id "
            "JOIN communities m ON m.id = c3.community_id WHERE c3.id = ANY(:ids)"
        ),
        {"ids": [int(i) for i in chains.ids("l3") if i > 0]},
    ).all()
    by_l3 = {r.l3: r for r in rows}
    for i in range(3):
        r = by_l3[int(chains.ids("l3")[i])]
        assert (chains.ids("l2")[i], chains.ids("l1")[i]) == (r.l2, r.l1)
        assert (chains.ids("community")[i], chains.ids("street")[i]) == (
            r.community_id,
            r.street_id,
        )
    assert list(chains.method_names()) == ["covers"] * 3


def test_locate_one_converts_crs_and_refuses_outside(session):
    wgs = locate_one(session=session, lon=104.1, lat=30.68)
    from layers.core.crs import from_wgs84

    gx, gy = from_wgs84(104.1, 30.68, "gcj02")
    gcj = locate_one(session=session, lon=float(gx), lat=float(gy), crs="gcj02")
    assert gcj.l3_code == wgs.l3_code and abs(gcj.lon - 104.1) < 1e-7
    with pytest.raises(UnprocessableError) as err:
        locate_one(session=session, lon=105.5, lat=30.68)
    assert err.value.code == "outside_district"
    with pytest.raises(InvalidInputError) as err:
        locate_one(session=session, lon=104.1, lat=30.68, crs="mars")
    assert err.value.code == "unknown_crs"
    with pytest.raises(InvalidInputError):
        locate_one(session=session, lon=float("nan"), lat=30.68)


def _district_edge_point(session, metres_out: float) -> tuple[float, float]:
    row = session.execute(
        text(
            "WITH d AS (SELECT ST_Transform(geom, 32648) AS g FROM districts), "
            "p AS (SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(g, 1)), 1) AS v, g FROM d), "
            "c AS (SELECT v, ST_Centroid(g) AS m FROM p) "
            "SELECT ST_X(q), ST_Y(q) FROM (SELECT ST_Transform(ST_Translate(v, "
            ":d * (ST_X(v) - ST_X(m)) / ST_Distance(v, m), "
            ":d * (ST_Y(v) - ST_Y(m)) / ST_Distance(v, m)), 4326) AS q FROM c) t"
        ),
        {"d": metres_out},
    ).one()
    return float(row[0]), float(row[1])


def test_nearest_cell_within_tolerance_else_outside(session):
    x, y = _district_edge_point(session, 12.0)
    loc = locate_one(session=session, lon=x, lat=y)
    assert loc.method == "nearest" and 0 < loc.distance_m <= 30 and loc.l3_code
    with pytest.raises(UnprocessableError):
        locate_one(session=session, lon=x, lat=y, tolerance_m=1.0)
    far_x, far_y = _district_edge_point(session, 400.0)
    with pytest.raises(UnprocessableError):
        locate_one(session=session, lon=far_x, lat=far_y)


def test_gaps_fall_back_to_the_parent_then_the_community_then_the_street(session):
    """Close cells in an uncommitted transaction and locate in the snapshot it sees."""
    at = TEST_CLOCK()
    target = session.execute(
        text(
            "SELECT c3.id, c3.parent_id AS l2, c2.parent_id AS l1, c3.community_id, "
            "ST_X(ST_PointOnSurface(c3.geom)) AS x, ST_Y(ST_PointOnSurface(c3.geom)) AS y "
            "FROM grid_cells c3 JOIN grid_cells c2 ON c2.id = c3.parent_id "
            "WHERE c3.level = 3 ORDER BY c3.code LIMIT 1"
        )
    ).one()
    close = text("UPDATE grid_cells SET valid_to = :t WHERE id = ANY(:ids)")
    try:
        session.execute(close, {"t": at - timedelta(seconds=1), "ids": [target.id]})
        snap = load_snapshot(session=session, at=at, raster=False)
        chains = snap.locate([target.x], [target.y], tolerance_m=0.0)
        assert chains.method_names()[0] == "covers" and chains.ids("l3")[0] == -1
        assert chains.ids("l2")[0] == target.l2
        session.execute(
            text("UPDATE grid_cells SET valid_to = :t WHERE community_id = :c"),
            {"t": at - timedelta(seconds=1), "c": target.community_id},
        )
        snap = load_snapshot(session=session, at=at, raster=False)
        chains = snap.locate([target.x], [target.y], tolerance_m=0.0)
        assert chains.method_names()[0] == "community_fallback"
        assert chains.ids("community")[0] == target.community_id and chains.ids("l1")[0] == -1
        assert chains.ids("street")[0] > 0
        session.execute(text("UPDATE grid_cells SET valid_to = :t"), {"t": at})
        session.execute(
            text("UPDATE communities SET geom = ST_Multi(ST_Buffer(ST_Centroid(geom), 1e-6))")
        )
        snap = load_snapshot(session=session, at=at + timedelta(seconds=1), raster=False)
        chains = snap.locate([target.x], [target.y], tolerance_m=0.0)
        assert chains.method_names()[0] == "street_fallback" and chains.ids("street")[0] > 0
    finally:
        session.rollback()


def test_history_answers_from_the_grid_valid_then(session):
    now = snapshot_for(session=session)
    old = now.valid_from - timedelta(days=1)
    chains = point_to_cells([104.1], [30.68], session=session, at=old)
    # No cell existed yet: the (unversioned) community takes it.
    assert chains.method_names()[0] == "community_fallback" and chains.ids("l1")[0] == -1
    chains = point_to_cells([104.1, 104.1], [30.68, 30.68], session=session, at=[old, TEST_CLOCK()])
    assert list(chains.method_names()) == ["community_fallback", "covers"]
    assert chains.ids("l3")[0] == -1 and chains.ids("l3")[1] > 0
    with pytest.raises(InvalidInputError):
        locate_one(session=session, lon=104.1, lat=30.68, at=datetime(2026, 1, 1))

"""The locate rule in SQL (`grids.grid.locate_sql`) answers as the in-memory locate does.

Random points over and around the district, points just off its edge, and points in
gaps made by closing cells in an uncommitted transaction: method, the three cells,
community and street agree point for point.  Points within half a metre of the
tolerance are left out (distances are on the spheroid in SQL, on a plane in memory).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.grid.locate_sql import locate_sql
from grids.grid.snapshot_load import load_snapshot
from layers.tables.grid_cells import live

TOLERANCE_M = 30.0
POINTS = (
    "SELECT i AS id, ST_SetSRID(ST_MakePoint(x, y), 4326) AS pt "
    "FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS p(x, y, i)"
)
LOCATE = text(f"SELECT * FROM ({locate_sql(points=POINTS)}) x ORDER BY id")


@pytest.fixture
def session(engine):
    with Session(engine) as s:
        yield s
        s.rollback()


def _in_memory(session: Session, xs, ys, tolerance_m: float) -> list[tuple]:
    snap = load_snapshot(session=session, at=None, raster=False)
    chains = snap.locate(xs, ys, tolerance_m=tolerance_m)
    methods = chains.method_names()
    ids = {layer: chains.ids(layer) for layer in ("l1", "l2", "l3", "community", "street")}
    codes = {layer: chains.codes(layer) for layer in ("l1", "l2", "l3")}
    return [
        (
            str(methods[i]),
            *(codes[layer][i] for layer in ("l1", "l2", "l3")),
            *(
                int(ids[layer][i]) if ids[layer][i] >= 0 else None
                for layer in ("community", "street")
            ),
        )
        for i in range(len(xs))
    ]


def _in_sql(session: Session, xs, ys) -> list[tuple]:
    rows = session.execute(
        LOCATE, {"xs": list(map(float, xs)), "ys": list(map(float, ys)), "tolerance_m": TOLERANCE_M}
    ).all()
    return [(r.method, r.l1, r.l2, r.l3, r.community_id, r.street_id) for r in rows]


def assert_same(session: Session, xs, ys) -> list[tuple]:
    """SQL and memory agree on every point not within half a metre of the tolerance."""
    ours = _in_memory(session, xs, ys, TOLERANCE_M)
    near = _in_memory(session, xs, ys, TOLERANCE_M - 0.5)
    far = _in_memory(session, xs, ys, TOLERANCE_M + 0.5)
    sql = _in_sql(session, xs, ys)
    checked = [i for i in range(len(xs)) if near[i] == far[i]]
    differ = [(i, ours[i], sql[i]) for i in checked if ours[i] != sql[i]]
    assert not differ, differ[:5]
    assert len(checked) > 0.95 * len(xs)
    return sql


def _bounds(session: Session) -> tuple[float, float, float, float]:
    wkb = session.execute(text("SELECT ST_AsBinary(geom) FROM districts")).scalar_one()
    return shapely.bounds(shapely.from_wkb(bytes(wkb)))


def test_random_points_in_and_around_the_district(session) -> None:
    minx, miny, maxx, maxy = _bounds(session)
    rng = np.random.default_rng(5)
    xs = rng.uniform(minx - 0.003, maxx + 0.003, 1500)
    ys = rng.uniform(miny - 0.003, maxy + 0.003, 1500)
    got = assert_same(session, xs, ys)
    assert {m for m, *_ in got} >= {"covers", "outside"}


def test_points_just_off_the_district_edge(session) -> None:
    ring = session.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_DumpPoints(ST_Segmentize(ST_Boundary("
            "ST_Buffer(geom::geography, :d)::geometry), 0.002))).geom AS p FROM districts) x"
        ),
        {"d": 12.0},
    ).all()
    xs, ys = np.array([r[0] for r in ring]), np.array([r[1] for r in ring])
    got = assert_same(session, xs, ys)
    assert any(m == "nearest" for m, *_ in got)


def test_points_in_gaps(session) -> None:
    """Close a level-3 cell, a whole level-1 subtree and a community's cells; locate inside."""
    picks = session.execute(
        text(
            "SELECT c3.id, c3.parent_id AS l2, c2.parent_id AS l1, c3.community_id FROM grid_cells "
            "c3 JOIN grid_cells c2 ON c2.id = c3.parent_id WHERE c3.level = 3 "
            f"AND {live('c3')} ORDER BY c3.code LIMIT 3 OFFSET 40"
        )
    ).all()
    first, second, third = (
        picks[0],
        picks[1],
        session.execute(
            text("SELECT id FROM communities ORDER BY code LIMIT 1 OFFSET 20")
        ).scalar_one(),
    )
    session.execute(
        text(
            "UPDATE grid_cells SET valid_to = valid_from + interval '1 second' "
            "WHERE id = :a OR id = :b OR parent_id = :b "
            "OR id IN (SELECT id FROM grid_cells WHERE community_id = :c)"
        ),
        {"a": first.id, "b": second.l2, "c": third},
    )
    session.execute(
        text(
            "UPDATE grid_cells SET valid_to = valid_from + interval '1 second' WHERE parent_id "
            "IN (SELECT id FROM grid_cells WHERE parent_id = :b)"
        ),
        {"b": second.l2},
    )
    closed = session.execute(
        text("SELECT ST_AsBinary(ST_Union(geom)) FROM grid_cells WHERE valid_to IS NOT NULL")
    ).scalar_one()
    area = shapely.from_wkb(bytes(closed))
    minx, miny, maxx, maxy = shapely.bounds(area)
    rng = np.random.default_rng(9)
    xs, ys = rng.uniform(minx, maxx, 3000), rng.uniform(miny, maxy, 3000)
    inside = shapely.contains_xy(area, xs, ys)
    got = assert_same(session, xs[inside], ys[inside])
    methods = {m for m, *_ in got}
    assert {"covers", "nearest", "community_fallback"} <= methods
    assert any(m == "covers" and l3 is None for m, _, _, l3, *_ in got)  # the parent took it

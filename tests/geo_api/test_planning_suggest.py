"""Balanced suggestions: contiguous cells of whole courtyards, better balanced, valid."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import text

from layers.tables.grid_cells import LIVE
from tests.geo_api.planning_helpers import draft_cells, new_draft


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


@pytest.fixture(scope="module")
def street(engine) -> str:
    """The street with the most level-3 cells."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                f"SELECT left(code, 9) FROM grid_cells WHERE level = 3 AND {LIVE} "
                "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()


@pytest.fixture(scope="module")
def suggested(client, planner):
    """Level-2 cells of the whole district, as many per level-1 cell as now, rebalanced."""
    rid = new_draft(client, planner)
    resp = client.post(f"/planning/revisions/{rid}/suggest", json={"level": 2}, headers=planner)
    assert resp.status_code == 200, resp.text
    return rid, resp.json()


def test_balance_is_better_than_the_input(suggested) -> None:
    _, body = suggested
    hh, cases = body["balance"]["households"], body["balance"]["open_cases"]
    assert body["cells_after"] == body["cells_before"]
    assert hh["after"]["cv"] < hh["before"]["cv"]
    assert hh["after"]["min"] >= hh["before"]["min"]
    assert cases["after"]["cv"] <= cases["before"]["cv"]
    assert set(hh["after"]) >= {"cells", "min", "max", "mean", "cv"}


def test_suggested_cells_are_contiguous_and_valid(client, planner, suggested) -> None:
    rid, _ = suggested
    report = client.post(f"/planning/revisions/{rid}/validate", headers=planner).json()
    assert report["valid"], report["problems"][:3]
    l2 = [f for f in draft_cells(client, planner, rid)["features"] if f["properties"]["level"] == 2]
    for f in l2:
        geom = shape(f["geometry"])
        parts = [g for g in shapely.get_parts(geom) if g.area > 1e-12]  # ignore sub-mm crumbs
        assert len(parts) == 1, f"{f['properties']['code']} is in {len(parts)} pieces"


def test_no_courtyard_is_split(client, planner, suggested, engine) -> None:
    rid, _ = suggested
    with engine.connect() as conn:
        split = conn.execute(
            text(
                "SELECT y.code, count(DISTINCT d.code) FROM courtyards y "
                "JOIN grid_draft_cells d ON d.revision_id = :r AND d.level IN (1, 2) "
                "AND ST_Intersects(d.geom, y.geom) "
                "AND ST_Area(ST_Transform(ST_Intersection(d.geom, y.geom), 32648)) > 1 "
                "GROUP BY y.code, d.level HAVING count(DISTINCT d.code) > 1"
            ),
            {"r": rid},
        ).all()
    assert split == []


def test_households_are_kept(client, planner, suggested, engine) -> None:
    rid, _ = suggested
    cells = draft_cells(client, planner, rid)["features"]
    with engine.connect() as conn:
        live = conn.execute(
            text(f"SELECT sum(households) FROM grid_cells WHERE level = 2 AND {LIVE}")
        ).scalar_one()
    level2 = [f["properties"]["households"] for f in cells if f["properties"]["level"] == 2]
    assert sum(level2) == live


def test_suggestion_publishes(client, planner, suggested) -> None:
    rid, _ = suggested
    resp = client.post(f"/planning/revisions/{rid}/publish", headers=planner)
    assert resp.status_code == 200, resp.text
    assert resp.json()["opened"] > 0


def test_level_1_suggestion_by_target(client, planner, street, engine) -> None:
    rid = new_draft(client, planner, street=street)
    with engine.connect() as conn:
        hh = conn.execute(
            text(
                f"SELECT sum(households) FROM grid_cells WHERE level = 1 AND {LIVE} "
                "AND left(code, 9) = :s"
            ),
            {"s": street},
        ).scalar_one()
    body = {"level": 1, "target_households": max(1, int(hh) // 20)}
    resp = client.post(f"/planning/revisions/{rid}/suggest", json=body, headers=planner)
    assert resp.status_code == 200, resp.text
    assert resp.json()["cells_after"] > resp.json()["cells_before"]
    report = client.post(f"/planning/revisions/{rid}/validate", headers=planner).json()
    assert report["valid"], report["problems"][:3]
    for f in draft_cells(client, planner, rid)["features"]:
        if f["properties"]["level"] == 1:
            parts = [g for g in shapely.get_parts(shape(f["geometry"])) if g.area > 1e-12]
            assert len(parts) == 1


def test_suggest_refuses_other_levels(client, planner) -> None:
    rid = new_draft(client, planner)
    resp = client.post(f"/planning/revisions/{rid}/suggest", json={"level": 3}, headers=planner)
    assert resp.status_code == 422

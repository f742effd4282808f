"""Drafts over HTTP: roles, copies of the live grid, PUT, validation reports, refusals."""

from __future__ import annotations

import itertools

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from layers.tables.grid_cells import LIVE, live
from tests.geo_api.planning_helpers import (
    draft_cells,
    edited,
    grid_fingerprint,
    new_draft,
    put_cells,
)


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


@pytest.fixture(scope="module")
def community(engine) -> str:
    """A community with a level-1 cell of at least two level-2 cells."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT c.code FROM communities c JOIN grid_cells g ON g.community_id = c.id "
                f"AND g.level = 2 AND {live('g')} GROUP BY c.code, g.parent_id "
                "HAVING count(*) >= 2 ORDER BY c.code LIMIT 1"
            )
        ).scalar_one()


@pytest.mark.parametrize(
    ("role", "status"), [("resident", 401), ("grid_worker", 403), ("dispatcher", 403)]
)
def test_only_planners_and_admins_plan(client: TestClient, test_db, role, status) -> None:
    resp = client.post(
        "/planning/revisions", json={"scope": "district"}, headers=test_db.headers(role)
    )
    assert resp.status_code == status
    assert client.get("/planning/revisions", headers=test_db.headers(role)).status_code == status


def test_admin_may_plan(client: TestClient, test_db, community) -> None:
    rid = new_draft(client, test_db.headers("admin"), community=community)
    assert (
        client.get(f"/planning/revisions/{rid}", headers=test_db.headers("admin")).json()["status"]
        == "draft"
    )


def test_a_draft_holds_a_copy_of_the_live_cells(client, planner, engine, community) -> None:
    rid = new_draft(client, planner, community=community)
    fc = draft_cells(client, planner, rid)
    with engine.connect() as conn:
        live_rows = conn.execute(
            text(
                "SELECT g.code, g.households FROM grid_cells g JOIN communities c "
                f"ON c.id = g.community_id WHERE c.code = :c AND {live('g')}"
            ),
            {"c": community},
        ).all()
    assert {f["properties"]["code"] for f in fc["features"]} == {r.code for r in live_rows}
    l1 = [f for f in fc["features"] if f["properties"]["level"] == 1]
    assert all(f["properties"]["parent_code"] == community for f in l1)
    hh = {r.code: r.households for r in live_rows}
    assert all(f["properties"]["households"] == hh[f["properties"]["code"]] for f in fc["features"])
    report = client.post(f"/planning/revisions/{rid}/validate", headers=planner).json()
    assert report["valid"] is True and report["problems"] == []


def test_scopes_street_and_district(client, planner, engine, community) -> None:
    rid = new_draft(client, planner, street=community[:9])
    cells = draft_cells(client, planner, rid)["features"]
    assert cells and all(f["properties"]["code"].startswith(community[:9]) for f in cells)
    resp = client.post(
        "/planning/revisions", json={"scope": "street", "street": "999"}, headers=planner
    )
    assert resp.status_code == 422 and resp.json()["code"] == "unknown_scope"


def test_put_then_get_round_trips_exactly(client, planner, community) -> None:
    rid = new_draft(client, planner, community=community)
    fc = draft_cells(client, planner, rid)
    assert put_cells(client, planner, rid, fc).status_code == 200
    again = draft_cells(client, planner, rid)
    assert again == fc  # coordinates to the last bit, counts recounted identically
    diff = client.get(f"/planning/revisions/{rid}/diff", headers=planner).json()
    assert diff["counts"] == {"added": 0, "removed": 0, "changed": 0}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"type": "Feature"}, "FeatureCollection"),
        ({"type": "FeatureCollection", "features": [{"properties": {"level": 1}}]}, "code"),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": "1", "level": 1},
                        "geometry": {"type": "Point", "coordinates": [104, 30]},
                    }
                ],
            },
            "Polygon",
        ),
    ],
)
def test_bad_input_is_400_and_writes_nothing(client, planner, community, body, fragment) -> None:
    rid = new_draft(client, planner, community=community)
    before = draft_cells(client, planner, rid)
    resp = put_cells(client, planner, rid, body)
    assert resp.status_code == 400
    assert fragment in resp.json()["detail"]
    assert draft_cells(client, planner, rid) == before


def _problems(client, planner, rid, fc, kind):
    assert put_cells(client, planner, rid, fc).status_code == 200
    report = client.post(f"/planning/revisions/{rid}/validate", headers=planner).json()
    assert report["valid"] is False
    return [p for p in report["problems"] if p["kind"] == kind], report


def _sibling_pair(fc):
    """Two level-2 cells with the same parent."""
    l2 = sorted(
        (f for f in fc["features"] if f["properties"]["level"] == 2),
        key=lambda f: f["properties"]["code"],
    )
    for a, b in itertools.pairwise(l2):
        if a["properties"]["parent_code"] == b["properties"]["parent_code"]:
            return a, b
    raise AssertionError("no sibling level-2 cells")


def test_overlap_is_reported_and_publish_refused(client, planner, engine, community) -> None:
    rid = new_draft(client, planner, community=community)
    fc = edited(draft_cells(client, planner, rid))
    a, b = _sibling_pair(fc)
    # A grows over B: A's parts plus B's (B kept as is) -> A and B overlap
    a["geometry"] = {
        "type": "MultiPolygon",
        "coordinates": a["geometry"]["coordinates"] + b["geometry"]["coordinates"],
    }
    found, _ = _problems(client, planner, rid, fc, "overlap")
    codes = {a["properties"]["code"], b["properties"]["code"]}
    assert any(set(p["cells"]) == codes and p["area_m2"] > 1000 for p in found)
    assert all(p["geometry"]["type"] in ("Polygon", "MultiPolygon") for p in found)
    fingerprint = grid_fingerprint(engine)
    resp = client.post(f"/planning/revisions/{rid}/publish", headers=planner)
    assert resp.status_code == 422
    assert resp.json()["code"] == "revision_invalid"
    assert resp.json()["report"]["counts"]["overlap"] >= 1
    assert grid_fingerprint(engine) == fingerprint


def test_gap_is_reported_with_its_polygon(client, planner, engine, community) -> None:
    rid = new_draft(client, planner, community=community)
    fc = edited(draft_cells(client, planner, rid))
    l3 = next(f for f in fc["features"] if f["properties"]["level"] == 3)
    fc["features"].remove(l3)
    found, _ = _problems(client, planner, rid, fc, "gap")
    gap = next(p for p in found if p["cells"][0] == l3["properties"]["parent_code"])
    with engine.connect() as conn:
        area = conn.execute(
            text(
                "SELECT ST_Area(ST_Transform(geom, 32648)) FROM grid_cells "
                f"WHERE code = :c AND {LIVE}"
            ),
            {"c": l3["properties"]["code"]},
        ).scalar()
    assert gap["area_m2"] == pytest.approx(area, rel=1e-3)
    fingerprint = grid_fingerprint(engine)
    assert client.post(f"/planning/revisions/{rid}/publish", headers=planner).status_code == 422
    assert grid_fingerprint(engine) == fingerprint


def test_outside_parent_is_reported(client, planner, engine, community) -> None:
    rid = new_draft(client, planner, community=community)
    fc = edited(draft_cells(client, planner, rid))
    a, b = _sibling_pair(fc)
    child = next(
        f for f in fc["features"] if f["properties"]["parent_code"] == a["properties"]["code"]
    )
    child["geometry"] = {
        "type": "MultiPolygon",
        "coordinates": child["geometry"]["coordinates"] + b["geometry"]["coordinates"],
    }
    found, _ = _problems(client, planner, rid, fc, "outside_parent")
    mine = [
        p for p in found if p["cells"] == [child["properties"]["code"], a["properties"]["code"]]
    ]
    assert mine and sum(p["area_m2"] for p in mine) > 1000
    fingerprint = grid_fingerprint(engine)
    assert client.post(f"/planning/revisions/{rid}/publish", headers=planner).status_code == 422
    assert grid_fingerprint(engine) == fingerprint


def test_self_intersection_is_reported_at_its_point(client, planner, engine, community) -> None:
    rid = new_draft(client, planner, community=community)
    fc = edited(draft_cells(client, planner, rid))
    l3 = next(f for f in fc["features"] if f["properties"]["level"] == 3)
    (x0, y0, x1, y1) = _bounds(l3)
    l3["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]],
    }
    found, _ = _problems(client, planner, rid, fc, "invalid_geometry")
    problem = next(p for p in found if p["cells"] == [l3["properties"]["code"]])
    assert problem["detail"].startswith("Self-intersection")
    lon, lat = problem["geometry"]["coordinates"]
    assert lon == pytest.approx((x0 + x1) / 2, abs=1e-6)
    assert lat == pytest.approx((y0 + y1) / 2, abs=1e-6)
    fingerprint = grid_fingerprint(engine)
    assert client.post(f"/planning/revisions/{rid}/publish", headers=planner).status_code == 422
    assert grid_fingerprint(engine) == fingerprint


def _bounds(f):
    coords = [pt for poly in f["geometry"]["coordinates"] for ring in poly for pt in ring]
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    return min(xs), min(ys), max(xs), max(ys)


def test_duplicate_code_is_reported(client, planner, engine, community) -> None:
    rid = new_draft(client, planner, community=community)
    fc = edited(draft_cells(client, planner, rid))
    l3 = [f for f in fc["features"] if f["properties"]["level"] == 3]
    l3[1]["properties"]["code"] = l3[0]["properties"]["code"]
    l3[1]["properties"]["parent_code"] = l3[0]["properties"]["parent_code"]
    found, _ = _problems(client, planner, rid, fc, "duplicate_code")
    assert found[0]["cells"] == [l3[0]["properties"]["code"]] * 2
    assert found[0]["area_m2"] > 0
    fingerprint = grid_fingerprint(engine)
    assert client.post(f"/planning/revisions/{rid}/publish", headers=planner).status_code == 422
    assert grid_fingerprint(engine) == fingerprint


def test_tolerance_is_configurable_per_request(client, planner, community) -> None:
    rid = new_draft(client, planner, community=community)
    resp = client.post(f"/planning/revisions/{rid}/validate?tolerance_m=0.2", headers=planner)
    assert resp.status_code == 200 and resp.json()["tolerance_m"] == 0.2


def test_unknown_revision_is_404(client, planner) -> None:
    resp = client.post("/planning/revisions/999999/validate", headers=planner)
    assert resp.status_code == 404 and resp.json()["code"] == "revision_not_found"


def test_grid_cells_filters_and_bad_bbox(client, community) -> None:
    resp = client.get("/grid/cells", params={"level": 1, "community": community})
    assert resp.status_code == 200
    feats = resp.json()["features"]
    assert feats and all(f["properties"]["level"] == 1 for f in feats)
    before_history = client.get("/grid/cells", params={"at": "2000-01-01T00:00:00"}).json()
    assert before_history["features"] == []
    resp = client.get("/grid/cells", params={"bbox": "104,30,103"})
    assert resp.status_code == 400 and resp.json()["code"] == "bad_bbox"

"""GET and POST /locate over HTTP, and the reload on a published revision (NOTIFY)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, pool, text

from geo_api.app import create_app
from geo_api.schemas.cases import LocateOut
from geo_api.settings import Settings
from layers.core.crs import from_wgs84
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK, clone_database, drop_database

POINT = {"lon": 104.1, "lat": 30.68}


def test_resident_sees_the_chain_worker_name_and_station(client):
    r = client.get("/locate", params=POINT)
    assert r.status_code == 200, r.text
    body = LocateOut.model_validate(r.json())
    assert body.method == "covers"
    assert len(body.l3.code) == 21 and body.l3.code.startswith(body.l2.code)
    assert body.l2.code.startswith(body.l1.code) and body.l1.code.startswith(body.community.code)
    assert body.community.code.startswith(body.street.code)
    assert set(r.json()["worker"]) == {"name"}  # no phone, no id for residents
    assert body.service_station and "服务" in body.service_station.name


def test_staff_see_the_workers_phone(client, test_db):
    r = client.get("/locate", params=POINT, headers=test_db.headers("dispatcher"))
    worker = r.json()["worker"]
    assert worker["phone"] and worker["code"].startswith("W") and worker["id"] >= 1
    assert worker["code"][1:] == r.json()["l1"]["code"]


def test_other_crs_land_in_the_same_cell(client):
    base = client.get("/locate", params=POINT).json()
    for crs in ("gcj02", "bd09", "cgcs2000"):
        x, y = from_wgs84(POINT["lon"], POINT["lat"], crs)
        r = client.get("/locate", params={"lon": float(x), "lat": float(y), "crs": crs})
        assert r.status_code == 200 and r.json()["l3"] == base["l3"], crs


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"lon": 105.5, "lat": 30.68}, 422, "outside_district"),
        ({"lon": 104.1, "lat": 30.68, "crs": "mars"}, 422, "invalid_request"),
        ({"lon": "east", "lat": 30.68}, 422, "invalid_request"),
        ({"lat": 30.68}, 422, "invalid_request"),
        ({"lon": 104.1, "lat": 95}, 400, "invalid_coordinates"),
        ({"lon": 104.1, "lat": 30.68, "at": "2026-01-01T00:00:00"}, 400, "invalid_input"),
    ],
)
def test_bad_requests_say_why(client, params, status, code):
    r = client.get("/locate", params=params)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code


def test_history_via_at(client):
    before = (TEST_CLOCK() - timedelta(days=2000)).isoformat()
    r = client.get("/locate", params={**POINT, "at": before})
    assert r.status_code == 200 and r.json()["method"] == "community_fallback"
    assert r.json()["l1"] is None and r.json()["worker"] is None


def test_post_locate_geojson_csv_and_upload(client, test_db):
    staff = test_db.headers("planner")
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "a",
                "geometry": {"type": "Point", "coordinates": [104.1, 30.68]},
                "properties": {"note": "x"},
            },
            {
                "type": "Feature",
                "id": "b",
                "geometry": {"type": "Point", "coordinates": [105.5, 30.68]},
                "properties": {},
            },
        ],
    }
    r = client.post("/locate", json=fc, headers=staff)
    assert r.status_code == 200, r.text
    a, b = r.json()["features"]
    assert a["id"] == "a" and a["properties"]["method"] == "covers"
    assert a["properties"]["note"] == "x" and len(a["properties"]["l3_code"]) == 21
    assert b["properties"]["method"] == "outside" and b["properties"]["l3_code"] is None
    assert r.json()["counts"] == {"covers": 1, "outside": 1}
    csv_body = "name,lng,lat\nhere,104.1,30.68\nnan,abc,30.6\n"
    r = client.post("/locate", content=csv_body, headers={**staff, "Content-Type": "text/csv"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_points"
    csv_body = "name,lng,lat\nhere,104.1,30.68\nfar,1,1\n"
    r = client.post("/locate", content=csv_body, headers={**staff, "Content-Type": "text/csv"})
    assert [f["properties"]["method"] for f in r.json()["features"]] == ["covers", "outside"]
    assert r.json()["features"][0]["properties"]["name"] == "here"
    r = client.post(
        "/locate",
        files={"file": ("p.geojson", json.dumps(fc), "application/geo+json")},
        headers=staff,
    )
    assert r.status_code == 200 and len(r.json()["features"]) == 2


@pytest.mark.parametrize(
    ("body", "ctype", "code"),
    [
        ("{not json", "application/json", "invalid_points"),
        ('{"type": "Feature"}', "application/json", "invalid_points"),
        (
            '{"type":"FeatureCollection","features":[{"geometry":{"type":"LineString",'
            '"coordinates":[[1,2],[3,4]]}}]}',
            "application/geo+json",
            "invalid_points",
        ),
        ("lon,lat\n1,2\n", "text/plain", "unsupported_media_type"),
        ("a,b\n1,2\n", "text/csv", "invalid_points"),
    ],
)
def test_post_locate_refuses_bad_bodies(client, test_db, body, ctype, code):
    r = client.post(
        "/locate", content=body, headers={**test_db.headers("admin"), "Content-Type": ctype}
    )
    assert r.status_code == 400 and r.json()["code"] == code


def test_residents_cannot_batch(client):
    assert (
        client.post("/locate", json={"type": "FeatureCollection", "features": []}).status_code
        == 401
    )


def test_a_published_revision_reaches_the_running_server(server_url, template_db):
    """Swap two level-3 cells' codes in a new revision, NOTIFY, and watch /locate follow."""
    db = clone_database(server_url, template_db, "notify")
    engine = create_engine(db.url, poolclass=pool.NullPool)
    try:
        app = create_app(Settings(db=DatabaseSettings(database_url=db.url)), clock=TEST_CLOCK)
        with TestClient(app) as client:
            before = client.get("/locate", params=POINT).json()["l3"]
            with engine.begin() as conn:
                _publish_swapped_codes(conn, before["id"])
            deadline = time.monotonic() + 10
            after = before
            while after["code"] == before["code"] and time.monotonic() < deadline:
                time.sleep(0.1)
                after = client.get("/locate", params=POINT).json()["l3"]
            assert after["code"] != before["code"] and after["id"] != before["id"]
            old = client.get(
                "/locate",
                params={**POINT, "at": (TEST_CLOCK() - timedelta(hours=1)).isoformat()},
            )
            assert old.json()["l3"]["code"] == before["code"]
    finally:
        engine.dispose()
        drop_database(server_url, db.url.rsplit("/", 1)[1])


def _publish_swapped_codes(conn, l3_id: int) -> None:
    """Revision 2: the siblings of a cell get each other's codes (same shapes, new rows)."""
    now = TEST_CLOCK()
    rev = conn.execute(
        text(
            "INSERT INTO grid_revisions (author, note, status, published_at, scope) "
            "VALUES ('test', 'swap codes', 'published', :t, 'community') RETURNING id"
        ),
        {"t": now},
    ).scalar()
    sibs = conn.execute(
        text(
            "SELECT id, code FROM grid_cells WHERE parent_id = "
            "(SELECT parent_id FROM grid_cells WHERE id = :id) ORDER BY code"
        ),
        {"id": l3_id},
    ).all()
    assert len(sibs) >= 2, "the demo cell has no sibling"
    codes = [s.code for s in sibs]
    swapped = dict(zip([s.id for s in sibs], codes[1:] + codes[:1], strict=True))
    conn.execute(
        text("UPDATE grid_cells SET valid_to = :t WHERE id = ANY(:ids)"),
        {"t": now, "ids": list(swapped)},
    )
    for old_id, code in swapped.items():
        conn.execute(
            text(
                "INSERT INTO grid_cells (code, name, level, parent_id, community_id, "
                "revision_id, valid_from, households, population, geom) "
                "SELECT :code, name, level, parent_id, community_id, :rev, :t, households, "
                "population, geom FROM grid_cells WHERE id = :id"
            ),
            {"code": code, "rev": rev, "t": now, "id": old_id},
        )
    conn.execute(text("SELECT pg_notify('wangge_grid_published', :p)"), {"p": str(rev)})

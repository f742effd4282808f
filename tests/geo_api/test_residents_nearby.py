"""GET /residents/nearby: public, nearest first in metres, opening hours, the serving grid."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from layers.core.crs import from_wgs84
from layers.tables.grid_cells import LIVE


@pytest.fixture(scope="module")
def here(engine: Engine) -> tuple[float, float]:
    with engine.connect() as c:
        lon, lat = c.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM grid_cells"
                f" WHERE level = 3 AND {LIVE} ORDER BY code LIMIT 1) q"
            )
        ).one()
    return float(lon), float(lat)


def test_nearest_first_with_hours_and_grid(client: TestClient, here, engine: Engine) -> None:
    lon, lat = here
    resp = client.get(f"/residents/nearby?lon={lon}&lat={lat}&radius=5000&limit=15")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    feats = body["features"]
    dist = [f["properties"]["distance_m"] for f in feats]
    assert dist == sorted(dist) and all(d <= 5000 for d in dist) and len(feats) == 15
    with engine.connect() as c:  # the nearest agrees with PostGIS' own geodesic distance
        best = c.execute(
            text(
                "SELECT code FROM service_points ORDER BY ST_Distance(geom::geography,"
                " ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) LIMIT 1"
            ),
            {"x": lon, "y": lat},
        ).scalar_one()
    assert feats[0]["id"] == best
    assert {"open_now", "hours_today", "opening_hours"} <= set(feats[0]["properties"])
    grid = body["grid"]
    assert [c["level"] for c in grid["cells"]] == [1, 2, 3]
    assert grid["worker_name"] and grid["cells"][2]["code"].startswith(grid["cells"][1]["code"])


def test_no_personal_data(client: TestClient, here, engine: Engine) -> None:
    lon, lat = here
    text_body = client.get(f"/residents/nearby?lon={lon}&lat={lat}").text
    with engine.connect() as c:
        phones = c.execute(text("SELECT phone FROM workers WHERE phone IS NOT NULL")).scalars()
        assert not any(p in text_body for p in phones)
    assert "phone" not in json.dumps(json.loads(text_body)["grid"])


def test_kind_filter_and_gcj02_input(client: TestClient, here) -> None:
    lon, lat = here
    police = client.get(f"/residents/nearby?lon={lon}&lat={lat}&kind=police&radius=20000").json()
    assert police["features"] and {f["properties"]["kind"] for f in police["features"]} == {
        "police"
    }
    glon, glat = from_wgs84(lon, lat, "gcj02")
    shifted = client.get(f"/residents/nearby?lon={float(glon)}&lat={float(glat)}&crs=gcj02").json()
    plain = client.get(f"/residents/nearby?lon={lon}&lat={lat}").json()
    assert [f["id"] for f in shifted["features"]] == [f["id"] for f in plain["features"]]
    assert abs(shifted["query"]["lon"] - lon) < 1e-7


def test_bad_input(client: TestClient, here) -> None:
    lon, lat = here
    bad_kind = client.get(f"/residents/nearby?lon={lon}&lat={lat}&kind=casino")
    assert bad_kind.status_code == 400 and bad_kind.json()["code"] == "unknown_kind"
    bad_crs = client.get(f"/residents/nearby?lon={lon}&lat={lat}&crs=mars")
    assert bad_crs.status_code == 400 and bad_crs.json()["code"] == "unknown_crs"
    assert client.get(f"/residents/nearby?lon={lon}&lat=95").status_code == 422
    assert client.get(f"/residents/nearby?lon={lon}&lat={lat}&radius=0").status_code == 422


def test_outside_the_grid(client: TestClient) -> None:
    body = client.get("/residents/nearby?lon=100.0&lat=25.0&radius=1000").json()
    assert body["grid"] is None and body["features"] == []

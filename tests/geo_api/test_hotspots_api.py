"""Hotspots and emerging trends through HTTP: shape, filters, cache, bad input."""

from __future__ import annotations

import h3
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from layers.analytics.ehsa import CATEGORIES
from layers.analytics.hotspots import BIN_CLASSES


def _recomputes(engine: Engine, kind: str) -> int:
    with engine.connect() as c:
        return c.execute(
            text("SELECT count(*) FROM audit_log WHERE entity = :e"), {"e": f"derived:{kind}"}
        ).scalar_one()


def test_hotspots_geojson(client: TestClient, test_db, engine: Engine) -> None:
    resp = client.get("/analytics/hotspots", headers=test_db.headers("planner"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["type"] == "FeatureCollection" and body["resolution"] == 9
    props = [f["properties"] for f in body["features"]]
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM incidents WHERE status <> 'void'")).scalar_one()
    assert sum(p["count"] for p in props) == body["incidents"] == n
    assert {p["class"] for p in props} <= set(BIN_CLASSES.values())
    assert all(h3.get_resolution(p["cell"]) == 9 for p in props)
    for p in props:
        assert 0 <= p["p_norm"] <= 1 and p["p_norm"] <= p["p_fdr"] <= 1
        assert p["class"] == BIN_CLASSES[p["gi_bin"]]
    ring = body["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and 103.5 < ring[0][0] < 104.5


def test_hotspots_cached_until_incidents_change(client, test_db, engine: Engine) -> None:
    h = test_db.headers("planner")
    q = "/analytics/hotspots?resolution=8&category=01"
    first = client.get(q, headers=h).json()
    before = _recomputes(engine, "hotspots")
    assert client.get(q, headers=h).json()["features"] == first["features"]
    assert _recomputes(engine, "hotspots") == before
    with engine.begin() as c:
        c.execute(
            text(
                "UPDATE incidents SET updated_at = now() WHERE id = (SELECT min(id) FROM incidents)"
            )
        )
    client.get(q, headers=h)
    assert _recomputes(engine, "hotspots") == before + 1


def test_hotspot_filters(client: TestClient, test_db) -> None:
    h = test_db.headers("dispatcher")
    some = client.get("/analytics/hotspots?channel=hotline_96966,wechat", headers=h).json()
    everything = client.get("/analytics/hotspots", headers=h).json()
    assert 0 < some["incidents"] < everything["incidents"]
    period = client.get(
        "/analytics/hotspots?start=2026-06-01T00:00:00Z&end=2026-07-01T00:00:00Z", headers=h
    ).json()
    assert 0 < period["incidents"] < everything["incidents"]


def test_hotspot_bad_input_is_400(client: TestClient, test_db) -> None:
    h = test_db.headers("planner")
    for query, code in [
        ("category=9999", "unknown_category"),
        ("channel=carrier_pigeon", "unknown_channel"),
        ("start=2026-06-01T00:00:00Z&end=2026-05-01T00:00:00Z", "invalid_period"),
        ("inference=vibes", "invalid_inference"),
    ]:
        resp = client.get(f"/analytics/hotspots?{query}", headers=h)
        assert resp.status_code == 400, query
        assert resp.json()["code"] == code
    assert client.get("/analytics/hotspots?resolution=3", headers=h).status_code == 422


def test_trends(client: TestClient, test_db) -> None:
    resp = client.get("/analytics/trends?interval=month", headers=test_db.headers("planner"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert len(body["slices"]) >= 10
    for f in body["features"]:
        p = f["properties"]
        assert p["category"] in CATEGORIES
        assert len(p["bins"]) == len(body["slices"])
        assert p["hot_steps"] == sum(b > 0 for b in p["bins"])
    assert sum(body["categories"].values()) == len(body["features"])


def test_trends_bad_input(client: TestClient, test_db) -> None:
    h = test_db.headers("planner")
    bad = client.get("/analytics/trends?interval=year", headers=h)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_interval"
    short = client.get(
        "/analytics/trends?start=2026-06-01T00:00:00Z&end=2026-07-15T00:00:00Z", headers=h
    )
    assert short.status_code == 422 and short.json()["code"] == "too_few_time_steps"


def test_analytics_need_a_staff_key(client: TestClient) -> None:
    for path in ("/analytics/hotspots", "/analytics/trends"):
        assert client.get(path).status_code == 401

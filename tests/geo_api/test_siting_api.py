"""Camera siting through HTTP: MCLP against greedy, roles, bad input with nothing written."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo_api.app import create_app
from geo_api.settings import Settings
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK


def _street(engine: Engine) -> str:
    with engine.connect() as c:
        return c.execute(text("SELECT code FROM streets ORDER BY code LIMIT 1")).scalar_one()


def test_siting_over_a_street(client: TestClient, test_db, engine: Engine) -> None:
    body = {"k": 5, "street": _street(engine), "azimuths": 4}
    resp = client.post("/analytics/siting", json=body, headers=test_db.headers("planner"))
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["type"] == "FeatureCollection" and 0 < len(out["features"]) <= 5
    assert out["mclp"]["weight_covered"] >= out["greedy"]["weight_covered"]
    assert out["gain_over_greedy"]["weight"] >= 0
    assert out["mclp"]["status"] == "Optimal"
    covered = set()
    for f in out["features"]:
        p = f["properties"]
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert p["covers"] and 103.5 < p["lon"] < 104.5
        covered |= set(p["covers"])
    assert len(covered) == out["mclp"]["targets_covered"]
    assert len(out["greedy"]["sites"]) == out["greedy"]["cameras"]


def test_siting_roles(client: TestClient, test_db) -> None:
    assert client.post("/analytics/siting", json={"k": 1}).status_code == 401
    resp = client.post("/analytics/siting", json={"k": 1}, headers=test_db.headers("grid_worker"))
    assert resp.status_code == 403


def test_siting_bad_input(client: TestClient, test_db, engine: Engine) -> None:
    h = test_db.headers("planner")
    with engine.connect() as c:
        audits = c.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    assert client.post("/analytics/siting", json={"k": 0}, headers=h).status_code == 422
    unknown = client.post("/analytics/siting", json={"k": 2, "street": "000"}, headers=h)
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_street"
    bad = client.post("/analytics/siting", json={"k": 2, "candidates": ["rooftops"]}, headers=h)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_candidates"
    extra = client.post("/analytics/siting", json={"k": 2, "budget": 9}, headers=h)
    assert extra.status_code == 422
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == audits


def test_a_solve_longer_than_the_idle_limit_still_answers(
    test_db, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The solve runs with no transaction open: the service role ends idle transactions."""
    import layers.analytics.siting

    solve = layers.analytics.siting.mclp

    def slow(*args, **kwargs):
        time.sleep(2.5)  # longer than the 1 s idle-in-transaction limit below
        return solve(*args, **kwargs)

    monkeypatch.setattr(layers.analytics.siting, "mclp", slow)
    db = DatabaseSettings(database_url=test_db.url, idle_in_transaction_timeout_s=1)
    with TestClient(create_app(Settings(db=db), clock=TEST_CLOCK)) as client:
        body = {"k": 2, "street": _street(engine), "azimuths": 2}
        resp = client.post("/analytics/siting", json=body, headers=test_db.headers("planner"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["mclp"]["status"] == "Optimal"

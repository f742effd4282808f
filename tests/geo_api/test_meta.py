"""The front door: health, landing page, auth errors as problem responses, body limits."""

from __future__ import annotations

from fastapi.testclient import TestClient

from geo_api.access import OPEN_PATHS, access_table, api_routes


def test_health_reports_postgis(client: TestClient) -> None:
    resp = client.get("/health")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["postgis"].startswith("3.")


def test_landing_links_to_docs(client: TestClient) -> None:
    resp = client.get("/")
    assert resp.status_code == 200
    rels = {link["rel"] for link in resp.json()["links"]}
    assert {"service-doc", "service-desc", "health"} <= rels


def test_unknown_key_is_401_problem(client: TestClient) -> None:
    resp = client.get("/", headers={"Authorization": "Bearer wg_nonsense"})
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == "invalid_api_key"
    assert resp.headers["www-authenticate"] == "Bearer"


def test_malformed_authorization_is_401(client: TestClient) -> None:
    resp = client.get("/", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert resp.status_code == 401
    assert resp.json()["code"] == "malformed_credentials"


def test_unknown_path_is_404_problem(client: TestClient) -> None:
    resp = client.get("/no/such/thing")
    assert resp.status_code == 404
    assert resp.json()["code"] == "not_found"


def test_oversized_body_is_413_before_routing(client: TestClient, app) -> None:
    limit = app.state.settings.max_body_bytes
    resp = client.post("/", content=b"x" * (limit + 1), headers={"Content-Type": "text/plain"})
    assert resp.status_code == 413
    assert resp.json()["code"] == "payload_too_large"


def test_every_route_declares_its_roles(app) -> None:
    table = access_table(app)
    paths = {rule.path for rule in table}
    assert "/health" in paths
    for route in api_routes(app.routes):
        assert route.path not in OPEN_PATHS
        assert any(rule.path == route.path for rule in table), f"{route.path} has no rule"


def test_every_demo_key_authenticates(client: TestClient, test_db) -> None:
    for role in ("planner", "dispatcher", "grid_worker", "admin"):
        resp = client.get("/", headers=test_db.headers(role))
        assert resp.status_code == 200, role


def test_banner_lists_the_entry_points_this_app_has(app, tmp_path) -> None:
    from geo_api.cli.banner import banner

    text = banner(app, "http://h:1", tmp_path / "demo-keys.json")
    for path in (
        "/docs",
        "/maps/residents",
        "/ogc",
        "/open311/v2/discovery.json",
        "/planning/revisions",
        "/dispatch/queue",
    ):
        assert f"http://h:1{path}" in text, path
    assert "wangge demo load" in text  # no keys file yet: says how to get one

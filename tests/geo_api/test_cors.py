"""CORS: off by default; with WANGGE_CORS_ORIGINS, on for /ogc reads only, never with credentials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from geo_api.app import create_app
from geo_api.auth import SESSION_COOKIE
from geo_api.settings import Settings
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK
from tests.conftest import DemoDatabase as DemoDb

WEB_MAP = "http://maps.intranet:8080"
TILEJSON = "/ogc/collections/streets/tiles/WebMercatorQuad/tilejson.json"
ACAO = "access-control-allow-origin"


@pytest.fixture(scope="module")
def cors_client(test_db: DemoDb, monkeypatch_module) -> Iterator[TestClient]:
    """The app configured from the environment, as `wangge serve` would be."""
    monkeypatch_module.setenv("WANGGE_CORS_ORIGINS", f"{WEB_MAP}, https://gis.intranet")
    settings = Settings(db=DatabaseSettings(database_url=test_db.url))
    with TestClient(create_app(settings, clock=TEST_CLOCK)) as client:
        yield client


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_off_by_default(client: TestClient) -> None:
    resp = client.get(TILEJSON, headers={"Origin": WEB_MAP})
    assert resp.status_code == 200 and ACAO not in resp.headers
    pre = client.options(
        TILEJSON, headers={"Origin": WEB_MAP, "Access-Control-Request-Method": "GET"}
    )
    assert ACAO not in pre.headers


def test_reads_of_ogc_and_tiles_are_shared(cors_client: TestClient, test_db: DemoDb) -> None:
    for url in (TILEJSON, "/ogc/collections/streets/items?limit=1", "/ogc/collections"):
        resp = cors_client.get(url, headers={"Origin": WEB_MAP})
        assert resp.status_code == 200
        assert resp.headers[ACAO] == WEB_MAP and "origin" in resp.headers["vary"].lower()
        assert "etag" in resp.headers["access-control-expose-headers"].lower()
        assert "access-control-allow-credentials" not in resp.headers
    pre = cors_client.options(
        "/ogc/collections/incidents/tiles/WebMercatorQuad/14/0/0",
        headers={
            "Origin": WEB_MAP,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert pre.status_code == 200 and pre.headers[ACAO] == WEB_MAP
    assert "access-control-allow-credentials" not in pre.headers
    staff = cors_client.get(
        "/ogc/collections/cameras/items?limit=1",
        headers={"Origin": WEB_MAP, **test_db.headers("planner")},
    )
    assert staff.status_code == 200 and staff.headers[ACAO] == WEB_MAP  # a key it sent itself


def test_other_origins_get_nothing(cors_client: TestClient) -> None:
    resp = cors_client.get(TILEJSON, headers={"Origin": "http://evil.example"})
    assert ACAO not in resp.headers
    pre = cors_client.options(
        TILEJSON, headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert pre.status_code == 400 and ACAO not in pre.headers


def test_never_for_writes_cookies_or_other_routes(cors_client: TestClient, test_db: DemoDb) -> None:
    items = "/ogc/collections/service_points/items"
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        pre = cors_client.options(
            f"{items}/1", headers={"Origin": WEB_MAP, "Access-Control-Request-Method": method}
        )
        assert pre.status_code == 400, method
        assert method not in pre.headers.get("access-control-allow-methods", ""), method
    post = cors_client.post(
        items,
        content="{}",
        headers={"Origin": WEB_MAP, "Content-Type": "application/geo+json"},
    )
    assert ACAO not in post.headers
    cookie = cors_client.get(
        TILEJSON,
        headers={"Origin": WEB_MAP, "Cookie": f"{SESSION_COOKIE}={test_db.keys['dispatcher']}"},
    )
    assert cookie.status_code == 200 and ACAO not in cookie.headers
    for url in ("/locate?lon=104.1&lat=30.68", "/health", "/open311/v2/services.json"):
        assert ACAO not in cors_client.get(url, headers={"Origin": WEB_MAP}).headers, url


def test_origins_are_checked_at_start() -> None:
    assert Settings(cors_origins="*").cors_origins == ["*"]
    assert Settings(cors_origins="").cors_origins == []
    for bad in ("maps.intranet", "http://maps.intranet/", "ftp://x", "http://a/path"):
        with pytest.raises(ValidationError):
            Settings(cors_origins=bad)

"""Map pages over HTTP: access, local assets only, CSP, no camera or personal data for residents."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from geo_api.cli import app as cli_app
from maps.assets import missing_assets

ASSET = re.compile(r'(?:src|href)="([^"#]+)"')


def local_only(html: str) -> list[str]:
    urls = ASSET.findall(html)
    assert urls, "a page without scripts?"
    return [u for u in urls if not u.startswith("/static/")]


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/maps/coverage", "planner"),
        ("/maps/hotspots", "grid_worker"),
        ("/maps/workload", "admin"),
        ("/maps/dispatch", "dispatcher"),
        ("/maps/residents", "resident"),
    ],
)
def test_pages_use_local_assets_only(client: TestClient, test_db, path: str, role: str) -> None:
    resp = client.get(path, headers=test_db.headers(role))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert local_only(resp.text) == []
    assert "default-src 'self'" in resp.headers["content-security-policy"]
    for url in set(ASSET.findall(resp.text)):
        assert client.get(url).status_code == 200, url


EMPTY_HOTSPOT_QUERIES = {
    "coarse cells, no trend": "resolution=5",
    "no case in the period": "start=2020-01-01T00:00:00Z&end=2020-07-01T00:00:00Z",
    "one month, too few slices": "start=2026-09-01T00:00:00%2B08:00&end=2026-10-01T00:00:00%2B08:00",
    "no case, no trend slices": "start=2020-01-01T00:00:00Z&end=2020-07-01T00:00:00Z&interval=none",
}
"""Hotspot pages with an empty layer (no trend pattern, no hot cell, no case)."""


@pytest.mark.parametrize("query", EMPTY_HOTSPOT_QUERIES.values(), ids=EMPTY_HOTSPOT_QUERIES)
def test_hotspot_page_with_an_empty_layer_says_so(client: TestClient, test_db, query) -> None:
    resp = client.get(f"/maps/hotspots?{query}", headers=test_db.headers("planner"))
    assert resp.status_code == 200, resp.text[:300]
    assert "no pattern in this period" in resp.text
    assert "事件热点 hotspots" in resp.text


def test_hotspot_page_with_patterns_has_no_empty_note(client: TestClient, test_db) -> None:
    resp = client.get("/maps/hotspots", headers=test_db.headers("planner"))
    assert resp.status_code == 200
    assert "no pattern in this period" not in resp.text


def test_resident_page_has_no_camera_and_no_phones(client: TestClient, engine: Engine) -> None:
    with engine.connect() as c:
        lon, lat = c.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM service_points ORDER BY id LIMIT 1")
        ).one()
        devices = c.execute(text("SELECT device_id FROM cameras")).scalars().all()
        phones = c.execute(text("SELECT phone FROM workers WHERE phone IS NOT NULL")).scalars()
        phones = phones.all()
        reporters = c.execute(
            text("SELECT reporter_phone FROM incidents WHERE reporter_phone IS NOT NULL")
        ).scalars()
        reporters = reporters.all()
    html = client.get(f"/maps/residents?lon={lon}&lat={lat}").text
    assert "网格员" in html
    assert not any(d in html for d in devices)
    assert not any(p in html for p in phones)
    assert not any(p in html for p in reporters)
    assert "camera" not in html.lower() and "摄像" not in html


def test_dispatch_queue_filters(client: TestClient, test_db) -> None:
    h = test_db.headers("dispatcher")
    ok = client.get("/maps/dispatch?status=filed,signed&overdue_only=true", headers=h)
    assert ok.status_code == 200 and 'value=\\"filed\\" selected' in ok.text
    bad = client.get("/maps/dispatch?status=closed", headers=h)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_status"
    bad = client.get("/maps/dispatch?street=999", headers=h)
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_street"


def test_static_files(client: TestClient) -> None:
    assert missing_assets() == [], "run `make setup` (scripts/fetch-assets.sh)"
    js = client.get("/static/vendor/leaflet@1.9.4/dist/leaflet.js")
    assert js.status_code == 200 and "immutable" in js.headers["cache-control"]
    assert js.headers["content-type"].startswith(("application/javascript", "text/javascript"))
    font = client.get(
        "/static/vendor/@fortawesome/fontawesome-free@6.7.2/webfonts/fa-solid-900.woff2"
    )
    assert font.status_code == 200
    for path in ("/static/../pyproject.toml", "/static/%2e%2e/pyproject.toml", "/static/nope.js"):
        assert client.get(path).status_code == 404
    assert client.get("/static/vendor/leaflet@1.9.4/.complete").status_code == 404


def test_cli_builds_a_page(test_db, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WANGGE_DATABASE_URL", test_db.url)
    out = tmp_path / "workload.html"
    result = CliRunner().invoke(
        cli_app, ["maps", "build", "workload", "-o", str(out), "--static-url", "/static"]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "wangge.compactLayer" in html and local_only(html) == []
    bad = CliRunner().invoke(cli_app, ["maps", "build", "atlas", "-o", str(out)])
    assert bad.exit_code != 0

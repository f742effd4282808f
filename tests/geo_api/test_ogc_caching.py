"""Conditional GETs on the OGC API: ETag + If-None-Match → 304, and new tags after an edit."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from layers.ogc.tiles import lonlat_to_tile
from tests.conftest import DemoDatabase as DemoDb

READS = [
    "/ogc/collections",
    "/ogc/collections/courtyards",
    "/ogc/collections/courtyards/items?limit=5",
    "/ogc/collections/courtyards/tiles/WebMercatorQuad/tilejson.json",
]


def _one(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


@pytest.mark.parametrize("url", [*READS, "feature"])
def test_reads_revalidate_with_304(client: TestClient, engine: Engine, url: str) -> None:
    if url == "feature":
        url = f"/ogc/collections/streets/items/{_one(engine, 'SELECT min(id) FROM streets')}"
    first = client.get(url)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert "no-cache" in first.headers["cache-control"]
    assert "authorization" in first.headers["vary"].lower()
    assert client.get(url).headers["etag"] == tag  # stable while nothing changes
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    weak = "W/" + tag.removeprefix("W/")
    listed = client.get(url, headers={"If-None-Match": f'"other", {weak}'})
    assert listed.status_code == 304  # a list of tags, compared weakly
    other = client.get(url, headers={"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200 and other.headers["etag"] == tag


def test_staff_answers_are_private(client: TestClient, test_db: DemoDb) -> None:
    for url in (*READS, "/ogc/collections/cameras/items?limit=2"):
        resp = client.get(url, headers=test_db.headers("planner"))
        assert resp.headers["cache-control"].startswith("private"), url
    public = client.get(READS[2])
    assert public.headers["cache-control"].startswith("public")


def test_an_edit_retires_the_old_etags(client: TestClient, test_db: DemoDb, engine: Engine) -> None:
    """Page, feature, collection and tile tags all change when a feature does."""
    fid = _one(engine, "SELECT min(id) FROM service_points")
    with engine.connect() as conn:
        lon, lat, code = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom), code FROM service_points WHERE id = :i"),
            {"i": fid},
        ).one()
    x, y = lonlat_to_tile(lon, lat, 16)
    feature = f"/ogc/collections/service_points/items/{fid}"
    urls = {
        "feature": feature,
        "page": f"/ogc/collections/service_points/items?code={code}",
        "tile": f"/ogc/collections/service_points/tiles/WebMercatorQuad/16/{y}/{x}",
    }
    tags = {name: client.get(url).headers["etag"] for name, url in urls.items()}
    for name, url in urls.items():
        assert client.get(url, headers={"If-None-Match": tags[name]}).status_code == 304, name

    patch = client.patch(
        feature,
        content=json.dumps({"properties": {"name": "改了名字的服务点"}}),
        headers={
            "Content-Type": "application/merge-patch+json",
            "If-Match": tags["feature"],
            **test_db.headers("planner"),
        },
    )
    assert patch.status_code == 204, patch.text
    for name, url in urls.items():
        stale = client.get(url, headers={"If-None-Match": tags[name]})
        assert stale.status_code == 200, name
        assert stale.headers["etag"] != tags[name], name
    assert client.get(feature).json()["properties"]["name"] == "改了名字的服务点"
    assert client.get(feature, headers={"If-None-Match": patch.headers["etag"]}).status_code == 304


def test_moving_a_feature_changes_the_collection_etag(
    client: TestClient, test_db: DemoDb, engine: Engine
) -> None:
    """The collection document carries the extent: moving the easternmost building moves it."""
    url = "/ogc/collections/buildings"
    tag = client.get(url).headers["etag"]
    fid = _one(engine, "SELECT id FROM buildings ORDER BY ST_XMax(geom) DESC LIMIT 1")
    feature = f"/ogc/collections/buildings/items/{fid}"
    body = client.get(feature).json()
    ring = [[lon - 0.0002, lat] for lon, lat in body["geometry"]["coordinates"][0]]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    patch = client.patch(
        feature,
        content=json.dumps({"geometry": geometry}),
        headers={
            "Content-Type": "application/merge-patch+json",
            "If-Match": client.get(feature).headers["etag"],
            **test_db.headers("planner"),
        },
    )
    assert patch.status_code == 204, patch.text
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.headers["etag"] != tag

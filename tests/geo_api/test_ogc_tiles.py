"""Vector tiles: decoded with mapbox-vector-tile, same access rules as the features."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from layers.ogc.tiles import lonlat_to_tile, tile_bounds
from layers.tables.grid_cells import LIVE
from tests.conftest import DemoDatabase as DemoDb

Z = 14


def centre_tile(engine: Engine, table: str, where: str = "true") -> tuple[int, int]:
    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM {table} "
                f"WHERE {where} ORDER BY id LIMIT 1) s"
            )
        ).one()
    return lonlat_to_tile(lon, lat, Z)


def tile_url(collection: str, x: int, y: int, z: int = Z) -> str:
    return f"/ogc/collections/{collection}/tiles/WebMercatorQuad/{z}/{y}/{x}"


def test_level3_tile_decodes_with_features_inside_the_extent(
    client: TestClient, engine: Engine
) -> None:
    x, y = centre_tile(engine, "grid_cells", "level = 3")
    resp = client.get(tile_url("grid_cells_l3", x, y))
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert resp.headers["cache-control"].startswith("public")
    layer = mapbox_vector_tile.decode(resp.content)["grid_cells_l3"]
    assert layer["extent"] == 4096
    features = layer["features"]
    assert features
    for feature in features:
        assert len(feature["properties"]["code"]) == 21
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        for ring in _rings(feature["geometry"]):
            for px, py in ring:
                assert -64 <= px <= 4096 + 64 and -64 <= py <= 4096 + 64
    with engine.connect() as conn:
        x1, y1, x2, y2 = tile_bounds(Z, x, y)
        expected = conn.execute(
            text(
                f"SELECT count(*) FROM grid_cells WHERE level = 3 AND {LIVE} AND "
                "ST_Intersects(ST_Transform(geom, 3857), ST_MakeEnvelope(:a, :b, :c, :d, 3857))"
            ),
            {"a": x1, "b": y1, "c": x2, "d": y2},
        ).scalar()
    ids = {f["id"] for f in features}
    assert len(ids) >= expected  # the buffer may add neighbours, never lose one


def _rings(geometry: dict) -> list:
    coords = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        return coords
    return [ring for polygon in coords for ring in polygon]


def test_etag_and_304(client: TestClient, engine: Engine) -> None:
    x, y = centre_tile(engine, "buildings")
    first = client.get(tile_url("buildings", x, y))
    assert first.status_code == 200
    again = client.get(
        tile_url("buildings", x, y), headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


def test_empty_tile_is_204(client: TestClient) -> None:
    assert client.get(tile_url("streets", 0, 0)).status_code == 204


def test_out_of_range_tile_is_404(client: TestClient) -> None:
    resp = client.get(tile_url("streets", 1 << Z, 0))
    assert resp.status_code == 404 and resp.json()["code"] == "tile_out_of_range"


@pytest.mark.parametrize("collection", ["cameras", "incidents"])
def test_staff_only_tiles_hidden_from_residents(
    client: TestClient, test_db: DemoDb, engine: Engine, collection: str
) -> None:
    # a grid worker's tile of cases holds their own cases: centre it on one (worker 1's)
    where = "assignee_worker_id = 1" if collection == "incidents" else "true"
    x, y = centre_tile(engine, collection, where)
    url = tile_url(collection, x, y)
    assert client.get(url).status_code == 404
    assert client.get(f"/ogc/collections/{collection}/tiles").status_code == 404
    staff = client.get(url, headers=test_db.headers("grid_worker"))
    assert staff.status_code == 200
    assert staff.headers["cache-control"].startswith("private")
    layer = mapbox_vector_tile.decode(staff.content)[collection]
    assert layer["features"]
    if collection == "incidents":
        assert all("reporter_phone" not in f["properties"] for f in layer["features"])


def test_tilejson_and_tilesets(client: TestClient) -> None:
    tj = client.get("/ogc/collections/courtyards/tiles/WebMercatorQuad/tilejson.json").json()
    assert tj["tilejson"] == "3.0.0"
    assert tj["tiles"][0].endswith("/courtyards/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert tj["vector_layers"][0]["id"] == "courtyards"
    assert "households" in tj["vector_layers"][0]["fields"]
    sets = client.get("/ogc/collections/courtyards/tiles").json()["tilesets"]
    assert sets[0]["dataType"] == "vector"
    assert any(link["rel"] == "item" for link in sets[0]["links"])

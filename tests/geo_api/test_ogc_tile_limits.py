"""Bounded vector tiles: per-collection minimum zooms, and no tile over the byte budget.

The full demo's low-zoom tiles reached 5.8 MB (cases), 1.8 MB (level-3 cells) and
1.7 MB (buildings) against a 500 KB budget.  The test demo has 1/20 of the cells,
buildings and cases (scale 0.05), so the default configuration must keep its
tiles under 500 KB × 0.05; and the budget itself is checked with a budget small
enough (4 KB) to bind on several collections at their minimum zoom.
"""

from __future__ import annotations

from collections.abc import Iterator

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo_api.app import create_app
from geo_api.settings import Settings
from layers.ogc.tiles import lonlat_to_tile
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK, TEST_SCALE
from tests.conftest import DemoDatabase as DemoDb

MIN_ZOOMS = {
    "streets": 0,
    "communities": 9,
    "grid_cells_l1": 11,
    "grid_cells_l2": 12,
    "grid_cells_l3": 13,
    "courtyards": 13,
    "buildings": 14,
    "service_points": 12,
    "cameras": 13,
    "incidents": 14,
}
SCALED_DEFAULT = int(500 * 1024 * TEST_SCALE)
BUDGET = 4096
ZOOMS = range(8, 17)


@pytest.fixture(scope="module")
def small_budget(test_db: DemoDb) -> Iterator[TestClient]:
    """The app with a tile budget that the test demo's tiles exceed."""
    settings = Settings(db=DatabaseSettings(database_url=test_db.url), tile_max_bytes=BUDGET)
    with TestClient(create_app(settings, clock=TEST_CLOCK)) as client:
        yield client


@pytest.fixture(scope="module")
def centre(engine: Engine) -> tuple[float, float]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM districts) s")
            ).one()
        )


def _url(collection: str, z: int, lon: float, lat: float) -> str:
    x, y = lonlat_to_tile(lon, lat, z)
    return f"/ogc/collections/{collection}/tiles/WebMercatorQuad/{z}/{y}/{x}"


def test_tilejson_names_each_collections_min_zoom(client: TestClient, test_db: DemoDb) -> None:
    admin = test_db.headers("admin")
    for collection, zoom in MIN_ZOOMS.items():
        url = f"/ogc/collections/{collection}/tiles/WebMercatorQuad/tilejson.json"
        tj = client.get(url, headers=admin).json()
        assert tj["minzoom"] == zoom, collection
        assert tj["vector_layers"][0]["minzoom"] == zoom
        assert tj["center"][2] >= zoom  # a map opened at the centre shows something


def test_below_the_min_zoom_a_tile_is_empty_not_an_error(
    client: TestClient, centre: tuple[float, float]
) -> None:
    below = client.get(_url("grid_cells_l3", 12, *centre))
    assert below.status_code == 204 and below.content == b""
    assert below.headers["etag"]  # still cacheable
    at = client.get(_url("grid_cells_l3", 13, *centre))
    assert at.status_code == 200
    assert mapbox_vector_tile.decode(at.content)["grid_cells_l3"]["features"]


def test_the_pyramid_stays_under_the_scaled_default_budget(
    client: TestClient, test_db: DemoDb, centre: tuple[float, float]
) -> None:
    """z8–z16 at the district centre, every collection, as an admin (who sees all of them)."""
    admin = test_db.headers("admin")
    for collection in MIN_ZOOMS:
        for z in ZOOMS:
            resp = client.get(_url(collection, z, *centre), headers=admin)
            assert resp.status_code in (200, 204), (collection, z, resp.text[:200])
            assert len(resp.content) <= SCALED_DEFAULT, (collection, z, len(resp.content))


def test_no_tile_of_the_pyramid_exceeds_the_budget(
    client: TestClient, small_budget: TestClient, test_db: DemoDb, centre: tuple[float, float]
) -> None:
    """z8–z16 at the district centre, every collection, as an admin (who sees all of them)."""
    admin = test_db.headers("admin")
    over_without_limits = 0
    for collection in MIN_ZOOMS:
        for z in ZOOMS:
            url = _url(collection, z, *centre)
            full = client.get(url, headers=admin)  # the default 500 KB budget
            small = small_budget.get(url, headers=admin)
            assert len(small.content) <= BUDGET, (collection, z, len(small.content))
            if z < MIN_ZOOMS[collection]:
                assert small.status_code == full.status_code == 204, (collection, z)
                continue
            assert full.status_code == small.status_code, (collection, z)
            if small.status_code == 204:
                continue
            got = mapbox_vector_tile.decode(small.content)[collection]["features"]
            assert got, (collection, z)  # thinned, never emptied
            if len(full.content) <= BUDGET:
                assert small.content == full.content  # under budget: untouched
            else:
                over_without_limits += 1
                whole = mapbox_vector_tile.decode(full.content)[collection]["features"]
                assert {f["id"] for f in got} <= {f["id"] for f in whole}
    assert over_without_limits > 0  # the scaled budget really binds in this demo

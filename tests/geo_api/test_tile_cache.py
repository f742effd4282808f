"""The tile cache: a repeated tile is served from memory, and a write to its layer is seen.

Writes reach `layer_versions` through the tables' triggers, whatever wrote them
(an OGC edit over HTTP here, plain SQL as an import or a publish would): the
next request renders the tile again.  Case tiles are never cached.
"""

from __future__ import annotations

import mapbox_vector_tile
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import DemoDatabase
from tests.geo_api.test_ogc_tiles import centre_tile, tile_url


def names_in(content: bytes, layer: str) -> set[str]:
    """The `name` property of every feature of the decoded tile."""
    decoded = mapbox_vector_tile.decode(content)[layer]
    return {str(f["properties"].get("name")) for f in decoded["features"]}


def version_of(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT version FROM layer_versions WHERE table_name = :t"), {"t": table}
        ).scalar_one()


def test_a_repeated_tile_is_a_hit_and_an_edit_renders_it_again(
    client: TestClient, engine: Engine, test_db: DemoDatabase
) -> None:
    """Same bytes from memory the second time; after an OGC edit, the edited tile."""
    cache = client.app.state.tile_cache
    x, y = centre_tile(engine, "courtyards")
    url = tile_url("courtyards", x, y)
    first = client.get(url)
    assert first.status_code == 200
    hits = cache.hits
    again = client.get(url)
    assert again.content == first.content and cache.hits == hits + 1

    with engine.connect() as conn:
        row_id = conn.execute(text("SELECT min(id) FROM courtyards")).scalar_one()
    before = version_of(engine, "courtyards")
    current = client.get(f"/ogc/collections/courtyards/items/{row_id}")
    edit = client.patch(
        f"/ogc/collections/courtyards/items/{row_id}",
        json={"properties": {"name": "缓存测试院落 cache-test"}},
        headers={
            **test_db.headers("planner"),
            "If-Match": current.headers["ETag"],
            "Content-Type": "application/merge-patch+json",
        },
    )
    assert edit.status_code in (200, 204), edit.text
    assert version_of(engine, "courtyards") > before
    after = client.get(url)
    assert "缓存测试院落 cache-test" in names_in(after.content, "courtyards")
    assert cache.hits == hits + 1  # rendered again, not served from memory


def test_a_write_to_the_grid_revisions_alone_keeps_grid_tiles(
    client: TestClient, engine: Engine
) -> None:
    """Grid tiles are made of `grid_cells` only (live = the cell's `valid_to`): a publish
    writes the cells that go in and out, so a revision's note changes no tile."""
    x, y = centre_tile(engine, "grid_cells", "level = 1")
    url = tile_url("grid_cells_l1", x, y)
    client.get(url)
    hits = client.app.state.tile_cache.hits
    renders = client.app.state.tile_cache.renders
    assert client.get(url).status_code == 200 and client.app.state.tile_cache.hits == hits + 1
    before = version_of(engine, "grid_revisions")
    with engine.begin() as conn:  # plain SQL, as the planning drafts write
        conn.execute(text("UPDATE grid_revisions SET note = note WHERE id = 1"))
    assert version_of(engine, "grid_revisions") > before
    client.get(url)
    assert client.app.state.tile_cache.hits == hits + 2
    assert client.app.state.tile_cache.renders == renders


def test_case_tiles_are_never_cached(client: TestClient, engine: Engine, test_db) -> None:
    """Per-reader tiles of cases are rendered every time."""
    x, y = centre_tile(engine, "incidents")
    url = tile_url("incidents", x, y)
    headers = test_db.headers("dispatcher")
    hits = client.app.state.tile_cache.hits
    assert client.get(url, headers=headers).status_code in (200, 204)
    assert client.get(url, headers=headers).status_code in (200, 204)
    assert client.app.state.tile_cache.hits == hits

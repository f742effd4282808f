"""Spatially precise tile invalidation: an edit re-renders the tiles over it, not the district.

What a reader sees, over HTTP against the real database: after a publish that
splits one level-1 cell, the tile over it shows the new cell (rendered again)
while a tile far away is answered from memory — no render, re-stamped — and is
byte for byte what a fresh render makes.  A TRUNCATE (no extent) or a kept tile
older than the kept change history renders again.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from layers.core.roles import Role
from layers.ogc.tiles import lonlat_to_tile, render_tile
from tests.geo_api.planning_helpers import draft_cells, new_draft, put_cells
from tests.geo_api.planning_split import find_split_case, new_l1_code, split
from tests.geo_api.test_ogc_tiles import tile_url
from tests.geo_api.test_tile_fast_path import codes_in

Z = 14


def tile_of(engine: Engine, sql: str, binds: dict[str, str]) -> tuple[int, int]:
    """The z14 tile of the point `sql` selects (lon, lat)."""
    with engine.connect() as conn:
        lon, lat = conn.execute(text(sql), binds).one()
    return lonlat_to_tile(lon, lat, Z)


def fresh(engine: Engine, collection: str, x: int, y: int) -> bytes:
    """The tile rendered now, without any cache."""
    with Session(engine) as session:
        return render_tile(
            session=session, collection_id=collection, role=Role.RESIDENT, z=Z, x=x, y=y
        ).content


def test_a_publish_re_renders_the_tile_over_it_and_re_stamps_a_far_one(
    client: TestClient, engine: Engine, test_db
) -> None:
    """Near: the new cell, rendered; far: from memory, no render, same bytes as a fresh one."""
    cache = client.app.state.tile_cache
    case = find_split_case(engine)
    point = "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid_cells "
    near = tile_of(engine, f"{point}WHERE code = :y ORDER BY id DESC LIMIT 1) s", {"y": case.y})
    far = tile_of(
        engine,
        f"{point}g WHERE level = 1 AND valid_to IS NULL ORDER BY geom <-> (SELECT "
        "ST_Centroid(geom) FROM grid_cells WHERE code = :y ORDER BY id DESC LIMIT 1) DESC LIMIT 1) s",
        {"y": case.y},
    )
    assert near != far
    urls = {name: tile_url("grid_cells_l1", *xy) for name, xy in (("near", near), ("far", far))}
    first = {name: client.get(url) for name, url in urls.items()}
    assert all(r.status_code == 200 for r in first.values())
    assert new_l1_code(case) not in codes_in(first["near"].content)

    planner = test_db.headers("planner")
    rid = new_draft(client, planner, community=case.community)
    cells = split(draft_cells(client, planner, rid), case)
    assert put_cells(client, planner, rid, cells).status_code == 200
    assert client.post(f"/planning/revisions/{rid}/publish", headers=planner).status_code == 200

    renders, restamps = cache.renders, cache.restamps
    after_far = client.get(urls["far"])
    assert (cache.renders, cache.restamps) == (renders, restamps + 1)  # not rendered again
    assert after_far.content == first["far"].content == fresh(engine, "grid_cells_l1", *far)
    assert after_far.headers["ETag"] == first["far"].headers["ETag"]
    assert client.get(urls["far"]).content == after_far.content  # now current: a plain hit
    assert cache.restamps == restamps + 1

    after_near = client.get(urls["near"])
    assert cache.renders == renders + 1
    assert new_l1_code(case) in codes_in(after_near.content)
    assert after_near.content == fresh(engine, "grid_cells_l1", *near)


def test_a_truncate_re_renders_every_tile_of_the_layer(client: TestClient, engine: Engine) -> None:
    """TRUNCATE records no extent: the whole layer changed, the kept tile is made again."""
    x, y = tile_of(engine, "SELECT ST_X(geom), ST_Y(geom) FROM units ORDER BY id LIMIT 1", {})
    url = tile_url("units", x, y)
    assert client.get(url).status_code == 200
    cache = client.app.state.tile_cache
    renders = cache.renders
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE units"))
    assert client.get(url).status_code == 204  # rendered again: no unit left
    assert cache.renders == renders + 1


def test_a_tile_older_than_the_kept_changes_renders_again(
    client: TestClient, engine: Engine
) -> None:
    """A far-away edit re-stamps; with the history pruned past the tile, it renders again."""
    far = "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM courtyards"
    x, y = tile_of(engine, f"{far} ORDER BY id LIMIT 1) s", {})
    url = tile_url("courtyards", x, y)
    assert client.get(url).status_code == 200
    cache = client.app.state.tile_cache
    touch = text(
        "UPDATE courtyards SET name = name WHERE id = (SELECT id FROM courtyards "
        "ORDER BY geom <-> (SELECT geom FROM courtyards ORDER BY id LIMIT 1) DESC LIMIT 1)"
    )
    with engine.begin() as conn:
        conn.execute(touch)
    renders, restamps = cache.renders, cache.restamps
    assert client.get(url).status_code == 200
    assert (cache.renders, cache.restamps) == (renders, restamps + 1)
    with engine.begin() as conn:
        conn.execute(touch)
        conn.execute(text("DELETE FROM layer_changes WHERE table_name = 'courtyards'"))
    assert client.get(url).status_code == 200
    assert cache.renders == renders + 1


def test_the_triggers_keep_a_bounded_history(engine: Engine) -> None:
    """Each table keeps its last 1,000 changes, pruned by version (no clock)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "DO $$ BEGIN FOR i IN 1..1005 LOOP UPDATE cameras SET device_id = device_id "
                "WHERE id = (SELECT min(id) FROM cameras); END LOOP; END $$"
            )
        )
        kept, newest = conn.execute(
            text("SELECT count(*), max(version) FROM layer_changes WHERE table_name = 'cameras'")
        ).one()
        version = conn.execute(
            text("SELECT version FROM layer_versions WHERE table_name = 'cameras'")
        ).scalar_one()
    assert kept == 1000 and newest == version

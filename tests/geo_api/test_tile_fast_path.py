"""Warm tiles for anonymous readers skip the framework, answer exactly as it would, and follow publishes.

The fast path (`geo_api.middleware.cached_tiles`) serves a kept tile when the
request has no credentials; a request with any cookie takes the full route.
Both are compared byte for byte and header for header (identity, gzip, 304),
and a real publish over HTTP (a level-1 cell split in two) must show up in
the very next anonymous tile request, with a new ETag.
"""

from __future__ import annotations

import mapbox_vector_tile
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from layers.ogc.tiles import lonlat_to_tile
from tests.geo_api.planning_helpers import draft_cells, new_draft, put_cells
from tests.geo_api.planning_split import find_split_case, new_l1_code, split
from tests.geo_api.test_ogc_tiles import centre_tile, tile_url

FULL_PATH = {"Cookie": "unrelated=1"}
"""Any cookie sends the request through the framework (it might be a sign-in)."""
SAME = ("etag", "cache-control", "vary", "content-type", "content-encoding", "content-length")


def answer(client: TestClient, url: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    resp = client.get(url, headers=headers)
    return resp.status_code, resp.content, {h: resp.headers.get(h, "") for h in SAME}


def test_the_fast_path_answers_as_the_full_route(client: TestClient, engine: Engine) -> None:
    """Same status, bytes and validators; gzip sent pre-compressed; 304 on a current ETag."""
    cache = client.app.state.tile_cache
    x, y = centre_tile(engine, "grid_cells", "level = 3")
    url = tile_url("grid_cells_l3", x, y)
    assert client.get(url).status_code == 200  # kept
    for encoding in ("identity", "gzip"):
        fast_before = cache.fast_hits
        fast = answer(client, url, **{"Accept-Encoding": encoding})
        assert cache.fast_hits == fast_before + 1
        full = answer(client, url, **{"Accept-Encoding": encoding}, **FULL_PATH)
        assert cache.fast_hits == fast_before + 1
        assert fast == full
        assert fast[0] == 200 and len(fast[1]) > 1024
        assert fast[2]["content-encoding"] == ("gzip" if encoding == "gzip" else "")
        held = fast[2]["etag"]
        assert answer(client, url, **{"Accept-Encoding": encoding, "If-None-Match": held})[0] == 304
        assert answer(
            client, url, **{"Accept-Encoding": encoding, "If-None-Match": held}, **FULL_PATH
        ) == answer(client, url, **{"Accept-Encoding": encoding, "If-None-Match": held})


def codes_in(content: bytes) -> set[str]:
    layer = mapbox_vector_tile.decode(content)["grid_cells_l1"]
    return {str(f["properties"]["code"]) for f in layer["features"]}


def test_a_publish_changes_the_next_anonymous_tile(
    client: TestClient, engine: Engine, test_db
) -> None:
    """A split published over HTTP is in the next tile; the old ETag no longer gets a 304."""
    case = find_split_case(engine)
    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid_cells "
                "WHERE code = :y ORDER BY id DESC LIMIT 1) s"
            ),
            {"y": case.y},
        ).one()
    x, y = lonlat_to_tile(lon, lat, 14)
    url = tile_url("grid_cells_l1", x, y)
    first = client.get(url)
    assert first.status_code == 200 and new_l1_code(case) not in codes_in(first.content)
    fast_before = client.app.state.tile_cache.fast_hits
    assert client.get(url).content == first.content
    assert client.app.state.tile_cache.fast_hits == fast_before + 1  # warm, from memory

    planner = test_db.headers("planner")
    rid = new_draft(client, planner, community=case.community)
    cells = split(draft_cells(client, planner, rid), case)
    assert put_cells(client, planner, rid, cells).status_code == 200
    published = client.post(f"/planning/revisions/{rid}/publish", headers=planner)
    assert published.status_code == 200, published.text

    after = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != first.headers["ETag"]
    assert new_l1_code(case) in codes_in(after.content)
    assert client.app.state.tile_cache.fast_hits == fast_before + 1  # rendered again

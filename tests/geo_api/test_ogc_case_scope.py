"""One access rule for cases in OGC: items, hits, single items, CSV downloads and tiles.

For a grid worker of one level-1 cell, one of a level-3 cell, a planner and a
dispatcher, over HTTP against the real database; `/incidents/{id}` answers the same.
"""

from __future__ import annotations

import csv
import io

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from layers.ogc.tiles import lonlat_to_tile
from tests.conftest import DemoDatabase as DemoDb
from tests.geo_api.case_scope_helpers import (
    STAFF,
    WORKERS,
    Keys,
    expected,
    ids,
    make_keys,
)

ITEMS = "/ogc/collections/incidents/items"
Z = 14


@pytest.fixture(scope="module")
def keys(test_db: DemoDb, engine: Engine) -> Keys:
    """Headers and worker id per role (a level-3 worker's key made in this module's copy)."""
    return make_keys(test_db, engine)


@pytest.mark.parametrize("role", STAFF)
def test_ogc_counts_are_the_roles_cases(client: TestClient, engine: Engine, keys, role) -> None:
    headers, worker = keys[role]
    want = expected(engine, role, worker)
    assert want and (
        role not in WORKERS or len(want) < len(ids(engine, "SELECT id FROM incidents"))
    )
    page = client.get(f"{ITEMS}?limit=10", headers=headers).json()
    assert page["numberMatched"] == len(want)
    assert {f["id"] for f in page["features"]} <= want
    hits = client.get(f"{ITEMS}?resultType=hits", headers=headers).json()
    assert hits["numberMatched"] == len(want)
    filtered = client.get(f"{ITEMS}?resultType=hits&status=evaluated", headers=headers).json()
    want_evaluated = want & ids(engine, "SELECT id FROM incidents WHERE status = 'evaluated'")
    assert filtered["numberMatched"] == len(want_evaluated)


def test_a_cached_count_is_never_another_readers(client: TestClient, engine: Engine, keys) -> None:
    """The dispatcher's count is cached first; the grid worker's same query is counted apart."""
    query = f"{ITEMS}?resultType=hits&urgency=normal"
    everyone = client.get(query, headers=keys["dispatcher"][0]).json()["numberMatched"]
    mine = client.get(query, headers=keys["grid_worker"][0]).json()["numberMatched"]
    normal = ids(engine, "SELECT id FROM incidents WHERE urgency = 'normal'")
    assert everyone == len(normal)
    assert mine == len(normal & expected(engine, "grid_worker", 1)) < everyone


@pytest.mark.parametrize("role", WORKERS)
def test_ogc_item_outside_the_cells_is_404_like_rest(
    client: TestClient, engine: Engine, keys, role
) -> None:
    headers, worker = keys[role]
    mine = expected(engine, role, worker)
    outside = min(ids(engine, "SELECT id FROM incidents") - mine)
    inside = min(mine)
    for case_id, status in ((outside, 404), (inside, 200)):
        assert client.get(f"{ITEMS}/{case_id}", headers=headers).status_code == status
        assert client.get(f"/incidents/{case_id}", headers=headers).status_code == status
    body = client.get(f"{ITEMS}/{outside}", headers=headers).json()
    assert body["code"] == "unknown_feature" and "description" not in str(body.get("properties"))
    planner = client.get(f"{ITEMS}/{outside}", headers=keys["planner"][0])
    assert planner.status_code == 200 and "reporter_phone" not in planner.json()["properties"]


@pytest.mark.parametrize("role", [*WORKERS, "planner"])
def test_csv_download_holds_the_roles_cases(client: TestClient, engine: Engine, keys, role) -> None:
    headers, worker = keys[role]
    resp = client.get(f"{ITEMS}?f=csv", headers=headers)
    assert resp.status_code == 200
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8"))))
    assert {int(r["id"]) for r in rows} == expected(engine, role, worker)
    assert "reporter_phone" not in rows[0] and "reporter_name" not in rows[0]


def _tile_of(engine: Engine, case_id: int) -> tuple[int, int]:
    with engine.connect() as conn:
        lon, lat = conn.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE id = :id"), {"id": case_id}
        ).one()
    return lonlat_to_tile(lon, lat, Z)


def _tile_ids(client: TestClient, headers: dict, x: int, y: int) -> tuple[set[int], list]:
    resp = client.get(
        f"/ogc/collections/incidents/tiles/WebMercatorQuad/{Z}/{y}/{x}", headers=headers
    )
    assert resp.status_code in (200, 204)
    if resp.status_code == 204:
        return set(), []
    features = mapbox_vector_tile.decode(resp.content)["incidents"]["features"]
    return {int(f["id"]) for f in features}, features


def test_tiles_hold_the_roles_cases_and_no_personal_data(
    client: TestClient, engine: Engine, keys
) -> None:
    headers, worker = keys["grid_worker"]
    mine = expected(engine, "grid_worker", worker)
    outside = min(ids(engine, "SELECT id FROM incidents") - mine)
    x, y = _tile_of(engine, outside)
    seen, _ = _tile_ids(client, headers, x, y)
    assert outside not in seen and seen <= mine
    everyone, features = _tile_ids(client, keys["dispatcher"][0], x, y)
    assert outside in everyone
    assert all("reporter_phone" not in f["properties"] for f in features)  # not even for them
    x, y = _tile_of(engine, min(mine))
    assert min(mine) in _tile_ids(client, headers, x, y)[0]


def test_tilejson_lists_no_personal_field(client: TestClient, keys) -> None:
    tj = client.get(
        "/ogc/collections/incidents/tiles/WebMercatorQuad/tilejson.json",
        headers=keys["dispatcher"][0],
    ).json()
    fields = tj["vector_layers"][0]["fields"]
    assert "status" in fields and "reporter_phone" not in fields


def test_dispatcher_pages_with_reporter_data_are_audited(
    client: TestClient, engine: Engine, keys
) -> None:
    page = client.get(f"{ITEMS}?limit=7&sortby=-id", headers=keys["dispatcher"][0]).json()
    shown = sorted(f["id"] for f in page["features"])
    assert all("reporter_phone" in f["properties"] for f in page["features"])
    with engine.connect() as conn:
        audit = conn.execute(
            text(
                "SELECT actor, role, data FROM audit_log WHERE action = 'personal_data.read' "
                "AND data->>'face' = 'ogc.items' ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert audit.role == "dispatcher" and audit.actor == "demo:dispatcher"
    covered = {i for a, b in audit.data["id_ranges"] for i in range(a, b + 1)}
    assert covered == set(shown)
    client.get(f"{ITEMS}?limit=3", headers=keys["planner"][0])
    with engine.connect() as conn:
        planner_reads = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE role = 'planner' AND action LIKE 'personal%'"
            )
        ).scalar()
    assert planner_reads == 0  # a planner's page carries no reporter data, so nothing to audit

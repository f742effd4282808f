"""Open311 reads follow FixMyStreet and the case access rule: public categories only for
anonymous callers, generalised (no description or address, points on a 50 m grid), never
reporter data; staff keys read their role's cases in full.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Engine, text

from tests.conftest import DemoDatabase as DemoDb
from tests.geo_api.case_scope_helpers import (
    Keys,
    expected,
    ids,
    make_keys,
)


@pytest.fixture(scope="module")
def keys(test_db: DemoDb, engine: Engine) -> Keys:
    """Headers and worker id per role (a level-3 worker's key made in this module's copy)."""
    return make_keys(test_db, engine)


_UTM = Transformer.from_crs(4326, 32648, always_xy=True)


def _on_50m_grid(lon: float, lat: float) -> bool:
    x, y = _UTM.transform(lon, lat)
    return abs(x / 50 - round(x / 50)) < 1e-4 and abs(y / 50 - round(y / 50)) < 1e-4


def test_open311_anonymous_list_is_public_generalised_and_rounded(
    client: TestClient, engine: Engine
) -> None:
    resp = client.get("/open311/v2/requests.json")
    assert resp.status_code == 200
    found = resp.json()
    window = (
        "i.created_at >= TIMESTAMPTZ '2026-11-01T04:00Z' - interval '90 days' "
        "AND i.created_at < TIMESTAMPTZ '2026-11-01T04:00Z'"
    )
    public = ids(
        engine,
        "SELECT i.id FROM incidents i JOIN categories c ON c.code = i.category_code "
        f"JOIN channels ch ON ch.code = i.channel_code WHERE c.public AND ch.public AND {window}",
    )
    assert found and {int(r["service_request_id"]) for r in found} <= public
    assert len(found) == min(len(public), 1000)
    with engine.connect() as conn:
        private = dict(
            conn.execute(text("SELECT code, name FROM categories WHERE NOT public")).all()
        )
        cases = {
            r.id: r
            for r in conn.execute(
                text(
                    "SELECT i.id, i.description, i.address, i.reporter_phone, i.reporter_name, "
                    "c.name AS service, coalesce(s.name, '') || coalesce(m.name, '') AS area "
                    "FROM incidents i JOIN categories c ON c.code = i.category_code "
                    "LEFT JOIN streets s ON s.id = i.street_id "
                    "LEFT JOIN communities m ON m.id = i.community_id"
                )
            )
        }
    assert "1004" in private and not any(r["service_code"] in private for r in found)
    for r in found:
        case = cases[int(r["service_request_id"])]
        assert r["description"] == case.service  # withheld: the category's name
        assert r["address"] == case.area  # generalised to the street and community
        assert _on_50m_grid(r["long"], r["lat"]), r
    texts = resp.text
    leaked = [
        c.reporter_phone for i, c in cases.items() if c.reporter_phone and c.reporter_phone in texts
    ]
    assert not leaked
    assert not any(
        cases[int(r["service_request_id"])].description in texts
        for r in found
        if cases[int(r["service_request_id"])].description
        != cases[int(r["service_request_id"])].service
    )


def test_open311_one_request_follows_the_rule(client: TestClient, engine: Engine, keys) -> None:
    family = min(ids(engine, "SELECT id FROM incidents WHERE category_code = '1004'"))
    url = f"/open311/v2/requests/{family}.json"
    assert client.get(url).status_code == 404  # as /incidents/{id} without the token
    assert client.get(f"/incidents/{family}").status_code == 404
    staff = client.get(url, headers=keys["planner"][0])
    assert staff.status_code == 200
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT description, ST_Y(geom) AS lat FROM incidents WHERE id = :id"),
            {"id": family},
        ).one()
    assert staff.json()[0]["description"] == row.description
    assert staff.json()[0]["lat"] == pytest.approx(row.lat, abs=1e-9)
    headers, worker = keys["grid_worker"]
    visible = family in expected(engine, "grid_worker", worker)
    assert client.get(url, headers=headers).status_code == (200 if visible else 404)


def test_open311_grid_worker_reads_their_cases_in_full_and_the_rest_generalised(
    client: TestClient, engine: Engine, keys
) -> None:
    headers, worker = keys["grid_worker"]
    mine = expected(engine, "grid_worker", worker)
    found = client.get(
        "/open311/v2/requests.json",
        params={"start_date": "2025-11-15T00:00:00Z", "end_date": "2026-02-12T00:00:00Z"},
        headers=headers,
    ).json()
    with engine.connect() as conn:
        texts = dict(conn.execute(text("SELECT id, description FROM incidents")).all())
        service = dict(
            conn.execute(
                text(
                    "SELECT i.id, c.name FROM incidents i JOIN categories c ON c.code = i.category_code"
                )
            ).all()
        )
    own = [r for r in found if int(r["service_request_id"]) in mine]
    others = [r for r in found if int(r["service_request_id"]) not in mine]
    assert own and others
    assert all(r["description"] == texts[int(r["service_request_id"])] for r in own)
    assert all(r["description"] == service[int(r["service_request_id"])] for r in others)
    assert all(_on_50m_grid(r["long"], r["lat"]) for r in others)

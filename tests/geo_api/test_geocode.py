"""GET /geocode and /geocode/reverse, and intake by address: the same cell as by the entrance."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text


@pytest.fixture(scope="module")
def entrance(engine: Engine) -> dict:
    """A standard address with several 单元, in a courtyard (so messy spellings are tested)."""
    with engine.connect() as c:
        row = c.execute(
            text(
                "SELECT a.id, a.road, a.number, a.building_no, a.unit_no, a.full_text,"
                " ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat FROM addresses a"
                " WHERE a.courtyard_id IS NOT NULL AND a.unit_no = 2 AND a.building_no BETWEEN 2 AND 9"
                " AND a.road NOT LIKE '%一%' ORDER BY a.id LIMIT 1"
            )
        ).mappings().one()
    return dict(row)


def _best(client: TestClient, q: str) -> dict:
    resp = client.get("/geocode", params={"q": q})
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert results, q
    return results[0]


def test_exact_address_gives_grid_and_worker(client: TestClient, entrance: dict) -> None:
    hit = _best(client, entrance["full_text"])
    assert hit["address_id"] == entrance["id"] and hit["method"] == "exact" and hit["score"] == 1
    located = client.get("/locate", params={"lon": entrance["lon"], "lat": entrance["lat"]}).json()
    assert hit["grid"]["l3"]["code"] == located["l3"]["code"]
    assert hit["worker"] == {"name": located["worker"]["name"]}  # residents: the name only
    assert hit["courtyard"] and hit["building"]


def test_messy_spellings_find_the_same_entrance(client: TestClient, entrance: dict) -> None:
    road, n, b = entrance["road"], entrance["number"], entrance["building_no"]
    zh = "零一二三四五六七八九"[b]
    wide = str(n).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    for q in (
        f"四川省成都市成华区{road}{wide}號{zh}幢二單元",
        f"{road}{n}号{b}-2-502",
        f"成华区{road} {n}号 {b}号楼 2单元",
    ):
        assert _best(client, q)["address_id"] == entrance["id"], q


def test_old_road_name_and_typo(client: TestClient, engine: Engine, entrance: dict) -> None:
    with engine.begin() as c:
        c.execute(
            text("INSERT INTO road_aliases (alias, road) VALUES ('旧' || :r, :r)"),
            {"r": entrance["road"]},
        )
    assert _best(client, "旧" + entrance["full_text"])["address_id"] == entrance["id"]
    typo = entrance["full_text"].replace("号", "亏", 1)  # unparseable: fuzzy finds it
    hit = _best(client, typo)
    assert hit["address_id"] == entrance["id"] and hit["method"] == "fuzzy"


def test_reverse_nearest_entrances(client: TestClient, entrance: dict) -> None:
    resp = client.get(
        "/geocode/reverse", params={"lon": entrance["lon"], "lat": entrance["lat"], "limit": 3}
    )
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert results[0]["distance_m"] < 1 and entrance["id"] in {r["address_id"] for r in results}
    assert [r["distance_m"] for r in results] == sorted(r["distance_m"] for r in results)


def test_no_personal_data_in_geocode(client: TestClient, engine: Engine, entrance: dict) -> None:
    body = client.get("/geocode", params={"q": entrance["full_text"]}).text
    with engine.connect() as c:
        phones = c.execute(text("SELECT phone FROM workers WHERE phone IS NOT NULL")).scalars()
        assert not any(p in body for p in phones)
    assert "phone" not in body and "id_masked" not in body


def test_intake_by_address_lands_where_the_entrance_does(
    client: TestClient, engine: Engine, entrance: dict
) -> None:
    base = {"category": "0101", "channel": "resident_app", "description": "井盖缺失"}
    by_point = client.post(
        "/incidents", json={**base, "location": {"lon": entrance["lon"], "lat": entrance["lat"]}}
    )
    by_address = client.post(
        "/incidents", json={**base, "address": "成华区" + entrance["full_text"]}
    )
    assert by_point.status_code == by_address.status_code == 201, by_address.text
    a, b = by_point.json(), by_address.json()
    assert a["location"]["l3"] == b["location"]["l3"] and a["assignee"] == b["assignee"]
    with engine.connect() as c:
        data = c.execute(
            text("SELECT data FROM incident_events WHERE incident_id = :i AND action = 'report'"),
            {"i": b["id"]},
        ).scalar_one()
    assert data["located_by"]["method"] == "address"
    assert data["located_by"]["address_id"] == entrance["id"]
    nowhere = client.post("/incidents", json={**base, "address": "火星路1号"})
    assert nowhere.status_code == 422 and nowhere.json()["code"] == "address_not_found"
    neither = client.post("/incidents", json=base)
    assert neither.status_code == 400 and neither.json()["code"] == "missing_location"

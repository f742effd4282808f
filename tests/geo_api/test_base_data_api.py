"""The base-data centre over HTTP: geocode (and its kept answers), intake by address, people, OGC.

Intake by address lands in the same cell as by the entrance point; people are
found only within a grid worker's cell, masked, and every read is audited.
"""

from __future__ import annotations

import re
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from grids.base_data.address_cache import ADDRESSES
from grids.base_data.cell_figures import refresh_cell_figures
from layers.tables.grid_cells import LIVE


@pytest.fixture(scope="module")
def entrance(engine: Engine) -> dict:
    """A standard address with several 单元, in a courtyard (so messy spellings are tested)."""
    with engine.connect() as c:
        row = (
            c.execute(
                text(
                    "SELECT a.id, a.road, a.number, a.building_no, a.unit_no, a.full_text,"
                    " ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat FROM addresses a"
                    " WHERE a.courtyard_id IS NOT NULL AND a.unit_no = 2 AND a.building_no BETWEEN 2 AND 9"
                    " AND a.road NOT LIKE '%一%' ORDER BY a.id LIMIT 1"
                )
            )
            .mappings()
            .one()
        )
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


@pytest.fixture(scope="module")
def worker_cell(engine: Engine) -> dict:
    """The demo grid worker's cell, a person living in it and one living elsewhere."""
    with engine.connect() as c:
        cell = c.execute(
            text(
                "SELECT w.level, w.cell_code, g.id FROM api_keys k JOIN workers w ON w.id = k.worker_id"
                f" JOIN grid_cells g ON g.code = w.cell_code AND g.{LIVE} WHERE k.name = 'demo:grid_worker'"
            )
        ).one()
        pick = (
            "SELECT p.id, p.name FROM persons p JOIN dwellings d ON d.id = p.dwelling_id"
            " JOIN addresses a ON a.id = d.address_id JOIN grid_cells g ON g.id = :g"
            " WHERE {cond} ST_Covers(g.geom, a.geom) AND (SELECT count(*) FROM persons q"
            " WHERE q.name = p.name) = 1 ORDER BY p.id LIMIT 1"
        )
        inside = c.execute(text(pick.format(cond="")), {"g": cell.id}).one()
        outside = c.execute(text(pick.format(cond="NOT")), {"g": cell.id}).one()
    return {"cell": cell, "inside": inside, "outside": outside}


def _persons(client: TestClient, test_db, role: str, q: str, purpose: str = "入户走访核实"):
    return client.get(
        "/base/persons", params={"q": q, "purpose": purpose}, headers=test_db.headers(role)
    )


def test_grid_worker_finds_only_their_cell(client: TestClient, test_db, worker_cell) -> None:
    inside, outside = worker_cell["inside"], worker_cell["outside"]
    mine = _persons(client, test_db, "grid_worker", inside.name)
    assert mine.status_code == 200, mine.text
    assert [p["id"] for p in mine.json()["results"]] == [inside.id]
    hit = mine.json()["results"][0]
    assert re.fullmatch(r"\d{4}\*{10}[\dX]{4}", hit["id_masked"]) and "id_hash" not in mine.text
    assert _persons(client, test_db, "grid_worker", outside.name).json()["results"] == []
    other = _persons(client, test_db, "dispatcher", outside.name).json()["results"]
    assert [p["id"] for p in other] == [outside.id]


def test_planners_see_aggregates_only(client: TestClient, test_db, engine: Engine) -> None:
    assert _persons(client, test_db, "planner", "张伟").status_code == 403
    assert _persons(client, test_db, "resident", "张伟").status_code == 401
    figures = client.get("/base/figures?level=3", headers=test_db.headers("planner"))
    assert figures.status_code == 200
    body = figures.json()
    with engine.connect() as c:
        households = c.execute(
            text("SELECT count(DISTINCT dwelling_id) FROM persons WHERE dwelling_id IS NOT NULL")
        ).scalar_one()
    assert sum(cell["households"] for cell in body["cells"]) == households
    assert sum(cell["population"] for cell in body["cells"]) == body["records"]["persons"]


def test_cell_figures_are_the_records_through_the_locate_rule(engine: Engine) -> None:
    with Session(engine) as session:
        assert refresh_cell_figures(session=session) == 0  # the demo's cells already count them
        session.execute(text("DELETE FROM persons WHERE id = (SELECT min(id) FROM persons)"))
        assert refresh_cell_figures(session=session) == 3  # its level-3, -2 and -1 cells
        session.rollback()


def test_every_person_read_is_audited_with_its_purpose(
    client: TestClient, test_db, engine: Engine, worker_cell
) -> None:
    name = worker_cell["outside"].name
    assert _persons(client, test_db, "admin", name, purpose="低保复核").status_code == 200
    with engine.connect() as c:
        data = c.execute(
            text(
                "SELECT data FROM audit_log WHERE action = 'personal_data.read'"
                " AND entity = 'persons' ORDER BY id DESC LIMIT 1"
            )
        ).scalar_one()
    assert data["purpose"] == "低保复核" and data["query_kind"] == "name"
    assert name not in str(data)  # what was asked is not kept, only its kind
    missing = client.get("/base/persons", params={"q": name}, headers=test_db.headers("admin"))
    assert missing.status_code == 422


def test_ogc_addresses_public_units_without_contacts(client: TestClient, test_db, engine) -> None:
    addresses = client.get("/ogc/collections/addresses/items?limit=2")
    assert addresses.status_code == 200, addresses.text
    assert addresses.json()["features"][0]["properties"]["full_text"].endswith("单元")
    public = client.get("/ogc/collections/units/items?limit=3").json()["features"]
    assert public and all("contact_phone" not in f["properties"] for f in public)
    staff = client.get(
        "/ogc/collections/units/items?limit=3", headers=test_db.headers("dispatcher")
    )
    assert all(f["properties"]["contact_phone"] for f in staff.json()["features"])
    with engine.connect() as c:
        entity = c.execute(
            text(
                "SELECT entity FROM audit_log WHERE action = 'personal_data.read'"
                " ORDER BY id DESC LIMIT 1"
            )
        ).scalar_one()
    assert entity == "units"
    assert client.get("/ogc/collections/persons/items").status_code == 404


def test_records_here_are_the_workers_own_masked_and_audited(
    client: TestClient, test_db, engine: Engine, worker_cell
) -> None:
    """The handheld view near the cell's edge: own cell only, masked, audited; a change from it."""
    with engine.connect() as c:
        near = c.execute(
            text(
                "SELECT a.id AS mine, b.id AS other, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat,"
                " ST_Distance(a.geom::geography, b.geom::geography) AS d FROM addresses a"
                " JOIN grid_cells g ON g.id = :g JOIN addresses b ON NOT ST_Covers(g.geom, b.geom)"
                " AND ST_DWithin(a.geom::geography, b.geom::geography, 300)"
                " WHERE ST_Covers(g.geom, a.geom) AND EXISTS (SELECT 1 FROM dwellings w"
                " JOIN persons p ON p.dwelling_id = w.id WHERE w.address_id = a.id) ORDER BY d LIMIT 1"
            ),
            {"g": worker_cell["cell"].id},
        ).one()
    params = {"lon": near.lon, "lat": near.lat, "radius_m": near.d + 20, "purpose": "入户走访核实"}
    url, headers = "/workers/me/records-here", test_db.headers("grid_worker")
    resp = client.get(url, params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    got = [a["address_id"] for a in body["addresses"]]
    assert near.mine in got and near.other not in got  # the neighbour's side stays hidden
    level, code = worker_cell["cell"].level, worker_cell["cell"].cell_code
    for a in body["addresses"][:5]:  # each is in the cell by the locate rule
        with engine.connect() as c:
            pt = c.execute(
                text("SELECT ST_X(geom), ST_Y(geom) FROM addresses WHERE id = :i"),
                {"i": a["address_id"]},
            ).one()
        located = client.get("/locate", params={"lon": pt[0], "lat": pt[1]}).json()
        assert located[f"l{level}"]["code"] == code
    residents = [p for a in body["addresses"] for w in a["dwellings"] for p in w["residents"]]
    assert residents and all(
        re.fullmatch(r"\d{4}\*{10}[\dX]{4}", p["id_masked"]) for p in residents
    )
    assert "id_hash" not in resp.text and "phone_hash" not in resp.text
    with engine.connect() as c:
        audit = c.execute(
            text(
                "SELECT role, data FROM audit_log WHERE data->>'face' = 'handheld_records_here'"
                " ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert audit.role == "grid_worker" and audit.data["purpose"] == "入户走访核实"
    assert audit.data["id_ranges"]
    no_purpose = {k: v for k, v in params.items() if k != "purpose"}
    assert client.get(url, params=no_purpose, headers=headers).status_code == 422
    assert client.get(url, params=params, headers=test_db.headers("dispatcher")).status_code == 403
    _change_from_the_view(client, body, url, params, headers)


def _change_from_the_view(client: TestClient, body: dict, url: str, params, headers) -> None:
    """A flat's use changed from the view (采集) shows in the view at once."""
    flat = next(w for a in body["addresses"] for w in a["dwellings"])
    use = "vacant" if flat["use"] != "vacant" else "rented"
    change = client.post(
        "/base/changes",
        json={"kind": "dwelling_use", "target": flat["id"], "data": {"use": use}},
        headers=headers,
    )
    assert change.status_code == 201, change.text
    again = client.get(url, params=params, headers=headers).json()
    assert (
        next(w["use"] for a in again["addresses"] for w in a["dwellings"] if w["id"] == flat["id"])
        == use
    )


# The hot path of GET /geocode: the lifespan runs, so the address LISTEN follows the
# database; answers are kept per normalised text.  These two run last (one adds an address).


def _book(app: FastAPI):
    with app.state.sessionmaker() as s:
        return ADDRESSES.peek(s), ADDRESSES.trusted(s)


def test_a_kept_answer_is_the_fresh_one(client: TestClient, app: FastAPI, engine: Engine) -> None:
    with engine.connect() as c:
        full_text = c.execute(text("SELECT full_text FROM addresses ORDER BY id LIMIT 1")).scalar()
    wide = full_text.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    client.get("/geocode", params={"q": full_text})  # loads the book and the contacts
    first = client.get("/geocode", params={"q": full_text})
    book, trusted = _book(app)
    assert trusted and book is not None and book.answers  # the LISTEN follows; answer kept
    again = client.get("/geocode", params={"q": wide})  # same normalised text: the kept one
    assert first.status_code == again.status_code == 200
    assert again.json()["results"] == first.json()["results"]
    assert again.json()["query"] == wide and first.json()["results"][0]["method"] == "exact"
    assert client.get("/geocode", params={"q": " "}).json()["code"] == "empty_query"


def test_an_address_added_is_found_once_its_notice_arrives(
    client: TestClient, app: FastAPI, engine: Engine
) -> None:
    q = "试点路7号1栋1单元"
    before = client.get("/geocode", params={"q": q}).json()["results"]  # kept: fuzzy at best
    assert all(h["method"] == "fuzzy" and h["full_text"] != q for h in before)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO addresses (road, number, building_no, unit_no, full_text, geom)"
                " SELECT '试点路', 7, 1, 1, :t, geom FROM addresses ORDER BY id LIMIT 1"
            ),
            {"t": q},
        )
    deadline, hits = time.monotonic() + 10, before
    while hits == before and time.monotonic() < deadline:
        time.sleep(0.05)
        hits = client.get("/geocode", params={"q": q}).json()["results"]
    assert hits and hits[0]["full_text"] == q and hits[0]["method"] == "exact"
    book, trusted = _book(app)
    assert trusted and book is not None and q in book.matcher.exact  # reloaded, trusted again

"""Field collection (采集) over HTTP: versioned changes in the worker's own cell, review, visits.

HTTP in → the records, `base_changes`, `base_provenance` and the audit out; a
change outside the worker's cell writes nothing; no plain ID number is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from layers.base_data.privacy import check_digit
from layers.base_data.xlsx import read_xlsx
from layers.tables.grid_cells import LIVE
from tests.conftest import TEST_NOW

_IN = "ST_Covers(g.geom, a.geom)"
_PICK = {
    "dwelling": "SELECT w.id, w.use FROM dwellings w JOIN addresses a ON a.id = w.address_id"
    " JOIN grid_cells g ON g.id = :g WHERE {cond} AND EXISTS (SELECT 1 FROM persons p"
    " WHERE p.dwelling_id = w.id) ORDER BY w.id LIMIT 1",
    "vacant": "SELECT w.id, w.use FROM dwellings w JOIN addresses a ON a.id = w.address_id"
    " JOIN grid_cells g ON g.id = :g WHERE {cond} AND w.use = 'vacant' ORDER BY w.id LIMIT 1",
    "unit": "SELECT u.id, u.status FROM units u JOIN grid_cells g ON g.id = :g"
    " WHERE ST_Covers(g.geom, u.geom) AND {cond} ORDER BY u.id LIMIT 1",
    "address": "SELECT a.id, a.full_text FROM addresses a JOIN grid_cells g ON g.id = :g"
    " WHERE {cond} ORDER BY a.id LIMIT 1",
}


@pytest.fixture(scope="module")
def cell(engine: Engine) -> dict:
    """The demo grid worker's cell and records inside it (and a dwelling outside)."""
    with engine.connect() as c:
        g = c.execute(
            text(
                "SELECT w.id AS worker_id, w.cell_code, g.id FROM api_keys k"
                " JOIN workers w ON w.id = k.worker_id JOIN grid_cells g ON g.code = w.cell_code"
                f" AND g.{LIVE} WHERE k.name = 'demo:grid_worker'"
            )
        ).one()
        picked = {
            k: c.execute(text(sql.format(cond=_IN if k != "unit" else "TRUE")), {"g": g.id}).one()
            for k, sql in _PICK.items()
        }
        picked["outside"] = c.execute(
            text(_PICK["dwelling"].format(cond=f"NOT {_IN}")), {"g": g.id}
        ).one()
        picked["resident"] = c.execute(
            text("SELECT id FROM persons WHERE dwelling_id = :d ORDER BY id LIMIT 1"),
            {"d": picked["dwelling"].id},
        ).one()
    return {"g": g, **picked}


def _one(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as c:
        return c.execute(text(sql), params).scalar_one()


def _change(client: TestClient, test_db, body: dict, role: str = "grid_worker"):
    return client.post("/base/changes", json=body, headers=test_db.headers(role))


def test_flat_rented_is_a_version_applied_with_provenance(client, test_db, engine, cell) -> None:
    flat = cell["vacant"]
    first = _change(
        client, test_db, {"kind": "dwelling_use", "target": flat.id, "data": {"use": "rented"}}
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["status"], body["version"], body["source"]) == ("applied", 1, "grid_collection")
    assert body["before"] == {"use": "vacant"} and body["cell_code"] == cell["g"].cell_code
    assert body["worker_id"] == cell["g"].worker_id
    assert _one(engine, "SELECT use FROM dwellings WHERE id = :i", i=flat.id) == "rented"
    at = _one(engine, "SELECT collected_at FROM base_changes WHERE id = :i", i=body["id"])
    assert TEST_NOW <= at < TEST_NOW + timedelta(hours=1)  # the app clock, not the wall clock
    assert (
        _one(
            engine,
            "SELECT count(*) FROM base_provenance p JOIN sources s ON s.id = p.source_id"
            " WHERE s.code = 'grid_collection' AND p.entity = 'dwellings' AND p.entity_id = :i",
            i=flat.id,
        )
        == 1
    )
    again = _change(
        client, test_db, {"kind": "dwelling_use", "target": flat.id, "data": {"use": "vacant"}}
    )
    assert again.json()["version"] == 2
    assert (
        _one(
            engine,
            "SELECT count(*) FROM audit_log WHERE action = 'base_collection.submit' AND entity_id = :i",
            i=str(body["id"]),
        )
        == 1
    )


def test_outside_the_cell_or_not_a_worker_writes_nothing(client, test_db, engine, cell) -> None:
    before = _one(engine, "SELECT count(*) FROM base_changes")
    body = {"kind": "dwelling_use", "target": cell["outside"].id, "data": {"use": "vacant"}}
    resp = _change(client, test_db, body)
    assert resp.status_code == 403 and resp.json()["code"] == "not_your_cell"
    assert _change(client, test_db, body, role="dispatcher").status_code == 403
    bad = _change(
        client, test_db, {"kind": "dwelling_use", "target": cell["vacant"].id, "data": {"use": "x"}}
    )
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_value"
    assert _one(engine, "SELECT count(*) FROM base_changes") == before


def _id_number(body: str) -> str:
    return body + check_digit(body)


def test_family_moves_out_and_in_and_the_figures_follow(client, test_db, engine, cell) -> None:
    flat, person = cell["dwelling"], cell["resident"]
    building = "(SELECT a.building_id FROM dwellings w JOIN addresses a ON a.id = w.address_id WHERE w.id = :d)"
    population = f"SELECT population FROM buildings WHERE id = {building}"
    pop = _one(engine, population, d=flat.id)
    cell_pop = "SELECT population FROM grid_cells WHERE id = :g"
    cell_before = _one(engine, cell_pop, g=cell["g"].id)
    out = _change(client, test_db, {"kind": "moved_out", "target": person.id})
    assert out.status_code == 201, out.text
    assert _one(engine, "SELECT dwelling_id FROM persons WHERE id = :i", i=person.id) is None
    assert _one(engine, population, d=flat.id) == pop - 1
    assert _one(engine, cell_pop, g=cell["g"].id) == cell_before - 1  # the worker's cell too
    number = _id_number("51010819800101777")
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    bad = _change(
        client,
        test_db,
        {"kind": "moved_in", "target": flat.id, "data": {"id_number": wrong, "name": "新住户"}},
    )
    assert bad.status_code == 400 and bad.json()["code"] == "id_checksum"
    came = _change(
        client,
        test_db,
        {"kind": "moved_in", "target": flat.id, "data": {"id_number": number, "name": "新住户"}},
    )
    assert came.status_code == 201, came.text
    new_id = came.json()["entity_id"]
    assert _one(engine, "SELECT dwelling_id FROM persons WHERE id = :i", i=new_id) == flat.id
    assert (
        _one(engine, "SELECT id_masked FROM persons WHERE id = :i", i=new_id)
        == "5101**********" + number[-4:]
    )
    back = _change(
        client, test_db, {"kind": "moved_in", "target": flat.id, "data": {"person_id": person.id}}
    )
    assert back.status_code == 201 and _one(engine, population, d=flat.id) == pop + 1
    assert _one(engine, cell_pop, g=cell["g"].id) == cell_before + 1
    assert number not in came.text
    for table in ("base_changes", "base_provenance", "audit_log", "persons"):
        assert (
            _one(engine, f"SELECT count(*) FROM {table} t WHERE t::text LIKE :n", n=f"%{number}%")
            == 0
        )


@pytest.fixture
def reviewed(app) -> Iterator[None]:
    """The community reviews field changes for the duration of one test."""
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"base_collection_review": True})
    yield
    app.state.settings = settings


def test_review_holds_then_applies_or_refuses_stale(
    client, test_db, engine, cell, reviewed
) -> None:
    unit = cell["unit"]
    held = _change(
        client, test_db, {"kind": "unit_closed", "target": unit.id, "note": "卷帘门已关"}
    )
    assert held.status_code == 201 and held.json()["status"] == "pending"
    assert _one(engine, "SELECT status FROM units WHERE id = :i", i=unit.id) == "open"
    mine = client.get("/base/changes?status=pending", headers=test_db.headers("grid_worker")).json()
    assert held.json()["id"] in [c["id"] for c in mine["results"]]
    url = f"/base/changes/{held.json()['id']}/review"
    assert (
        client.post(
            url, json={"decision": "approve"}, headers=test_db.headers("grid_worker")
        ).status_code
        == 403
    )
    ok = client.post(url, json={"decision": "approve"}, headers=test_db.headers("dispatcher"))
    assert ok.status_code == 200 and ok.json()["status"] == "applied" and ok.json()["reviewed_by"]
    assert _one(engine, "SELECT status FROM units WHERE id = :i", i=unit.id) == "closed"
    assert (
        client.post(
            url, json={"decision": "reject"}, headers=test_db.headers("dispatcher")
        ).status_code
        == 409
    )
    flat = cell["vacant"]
    stale = _change(
        client, test_db, {"kind": "dwelling_use", "target": flat.id, "data": {"use": "commercial"}}
    )
    with engine.begin() as c:  # a department's import changed the flat meanwhile
        c.execute(text("UPDATE dwellings SET use = 'self_occupied' WHERE id = :i"), {"i": flat.id})
    late = client.post(
        f"/base/changes/{stale.json()['id']}/review",
        json={"decision": "approve"},
        headers=test_db.headers("admin"),
    )
    assert late.status_code == 409 and late.json()["code"] == "stale_change"
    assert (
        _one(engine, "SELECT status FROM base_changes WHERE id = :i", i=stale.json()["id"])
        == "pending"
    )
    assert _one(engine, "SELECT use FROM dwellings WHERE id = :i", i=flat.id) == "self_occupied"


def test_plate_reports_wait_and_new_shops_open(client, test_db, engine, cell) -> None:
    plate = _change(
        client,
        test_db,
        {"kind": "address_plate", "target": cell["address"].id, "data": {"plate": "崔家店路14号"}},
    )
    assert plate.status_code == 201 and plate.json()["status"] == "pending"
    body = {
        "kind": "unit_opened",
        "data": {
            "name": "社区便利店",
            "class": "shop",
            "address_id": cell["address"].id,
            "licence_no": "91510108TEST0001",
        },
    }
    shop = _change(client, test_db, body)
    assert shop.status_code == 201 and shop.json()["status"] == "applied", shop.text
    row = (
        engine.connect()
        .execute(
            text(
                "SELECT u.status, u.address_id, ST_Equals(u.geom, a.geom) AS here FROM units u JOIN addresses a ON a.id = u.address_id WHERE u.id = :i"
            ),
            {"i": shop.json()["entity_id"]},
        )
        .one()
    )
    assert row == ("open", cell["address"].id, True)


def test_household_visits_are_logged_in_the_own_cell(client, test_db, engine, cell) -> None:
    flat = cell["dwelling"]
    url = f"/base/dwellings/{flat.id}/visits"
    day = (TEST_NOW + timedelta(hours=8)).date()
    visit = {
        "visited_on": day.isoformat(),
        "checked": ["residents", "gas_safety"],
        "residents_seen": 2,
        "note": "燃气阀正常",
    }
    done = client.post(url, json=visit, headers=test_db.headers("grid_worker"))
    assert done.status_code == 201, done.text
    assert (
        done.json()["checked"] == ["residents", "gas_safety"]
        and done.json()["visited_on"] == day.isoformat()
    )
    future = {**visit, "visited_on": (day + timedelta(days=1)).isoformat()}
    late = client.post(url, json=future, headers=test_db.headers("grid_worker"))
    assert late.status_code == 422 and late.json()["code"] == "impossible_date"
    away = client.post(
        f"/base/dwellings/{cell['outside'].id}/visits",
        json=visit,
        headers=test_db.headers("grid_worker"),
    )
    assert away.status_code == 403
    log = client.get(url, headers=test_db.headers("dispatcher"))
    assert [v["id"] for v in log.json()["results"]] == [done.json()["id"]]
    assert client.get(url, headers=test_db.headers("planner")).status_code == 403
    assert (
        _one(
            engine,
            "SELECT count(*) FROM audit_log WHERE action = 'personal_data.read' AND entity = 'dwellings' AND entity_id = :i",
            i=str(flat.id),
        )
        == 1
    )


def _sheet(resp) -> tuple[list[str], list[list[str]]]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/vnd.openxmlformats")
    header, *rows = read_xlsx(resp.content)
    assert int(resp.headers["x-rows"]) == len(rows)
    return header, rows


def test_exports_are_xlsx_in_chinese_scoped_by_role(client, test_db, engine, cell) -> None:
    get = client.get
    url = "/base/export"
    mine = get(
        url,
        params={"class": "dwellings", "purpose": "核对出租房"},
        headers=test_db.headers("grid_worker"),
    )
    header, rows = _sheet(mine)
    assert header[:3] == ["房屋编号", "标准地址", "房号"]
    ids = {int(r[0]) for r in rows}
    assert cell["dwelling"].id in ids and cell["outside"].id not in ids
    near = _one(
        engine,
        "SELECT count(*) FROM dwellings w JOIN addresses a ON a.id = w.address_id JOIN grid_cells g"
        " ON g.id = :g WHERE w.id = ANY(:ids) AND NOT ST_DWithin(g.geom::geography, a.geom::geography, 31)",
        g=cell["g"].id,
        ids=list(ids),
    )
    assert near == 0  # every exported flat is in (or by the tolerance at) the worker's cell
    assert {r[4] for r in rows} <= {"自住", "出租", "空置", "商用"}
    no_why = get(url, params={"class": "persons"}, headers=test_db.headers("dispatcher"))
    assert no_why.status_code == 400 and no_why.json()["code"] == "purpose_required"
    header, rows = _sheet(
        get(
            url,
            params={"class": "persons", "purpose": "民政核对", "cell": cell["g"].cell_code},
            headers=test_db.headers("dispatcher"),
        )
    )
    col = header.index("公民身份号码(脱敏)")
    assert rows and all(re.fullmatch(r"\d{4}\*{10}[\dX]{4}", r[col]) for r in rows)
    assert (
        _one(
            engine,
            "SELECT count(*) FROM audit_log WHERE action = 'personal_data.read' AND entity = 'persons'"
            " AND data->>'purpose' = '民政核对'",
        )
        == 1
    )
    assert (
        get(
            url, params={"class": "persons", "purpose": "x规划"}, headers=test_db.headers("planner")
        ).status_code
        == 403
    )
    planner, _ = _sheet(get(url, params={"class": "units"}, headers=test_db.headers("planner")))
    dispatcher, _ = _sheet(
        get(url, params={"class": "units"}, headers=test_db.headers("dispatcher"))
    )
    assert "联系人" not in planner and "联系人" in dispatcher and "经营状态" in planner
    assert get(url, params={"class": "units"}).status_code == 401
    other = {"class": "units", "cell": "510108999999999"}
    assert get(url, params=other, headers=test_db.headers("grid_worker")).status_code == 403
    assert get(url, params=other, headers=test_db.headers("admin")).status_code == 404

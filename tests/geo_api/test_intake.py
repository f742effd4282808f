"""POST /incidents: located, assigned, timed, idempotent, and nothing half-written on errors."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime

import httpx
import pytest
from sqlalchemy import text

from geo_api.schemas.cases import IncidentOut

CASE = {
    "location": {"lon": 104.1, "lat": 30.68},
    "category": "0102",
    "channel": "resident_app",
    "description": "小区门口<b>垃圾</b>堆积 & 无人清理",
    "reporter_name": "李四",
    "reporter_phone": "13800001111",
}


def counts(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("incidents", "incident_events", "idempotency_keys")
        )


def test_a_report_is_located_assigned_and_timed(client, engine):
    r = client.post("/incidents", json=CASE)
    assert r.status_code == 201, r.text
    body = IncidentOut.model_validate(r.json())
    assert r.headers["location"] == f"/incidents/{body.id}" and r.headers["etag"] == '"1"'
    assert body.status == "reported" and body.version == 1 and body.urgency == "normal"
    assert body.location.method == "covers" and body.location.l3 is not None
    assert body.assignee is not None and body.assignee.phone is None  # a resident asked
    assert body.reporter is None and body.case_token
    accept = body.deadlines["accept"]
    assert accept["clock"] == "continuous" and accept["amount"] == 30
    assert body.due_at == datetime.fromisoformat(accept["due_at"])
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT i.description, i.reporter_name, i.channel_code, i.l3_cell_id, "
                "i.assignee_worker_id, w.cell_code, g1.code AS l1, i.access_token_hash "
                "FROM incidents i JOIN workers w ON w.id = i.assignee_worker_id "
                "JOIN grid_cells g1 ON g1.id = i.l1_cell_id WHERE i.id = :id"
            ),
            {"id": body.id},
        ).one()
        events = conn.execute(
            text("SELECT action, role, to_status FROM incident_events WHERE incident_id = :id"),
            {"id": body.id},
        ).all()
    assert row.description == CASE["description"]  # stored as given
    assert row.reporter_name == "李四" and row.l3_cell_id == body.location.l3.id
    assert row.cell_code == row.l1  # the level-1 worker of the level-1 cell
    assert row.access_token_hash and body.case_token not in row.access_token_hash
    assert [tuple(e) for e in events] == [("report", "resident", "reported")]


def test_staff_see_reporter_and_phone(client, test_db):
    r = client.post("/incidents", json=CASE, headers=test_db.headers("dispatcher"))
    assert r.json()["reporter"] == {"name": "李四", "phone": "13800001111"}
    assert r.json()["assignee"]["phone"]


def test_geojson_point_other_crs_and_urgency(client):
    from layers.core.crs import from_wgs84

    x, y = from_wgs84(104.1, 30.68, "bd09")
    body = {
        **CASE,
        "location": {"type": "Point", "coordinates": [float(x), float(y)]},
        "crs": "bd09",
        "urgency": "urgent",
    }
    r = client.post("/incidents", json=body)
    assert r.status_code == 201, r.text
    assert abs(r.json()["location"]["lon"] - 104.1) < 1e-7
    assert r.json()["urgency"] == "urgent" and r.json()["deadlines"]["accept"]["amount"] == 10


def test_possible_duplicates_same_category_50m_24h(client):
    first = client.post("/incidents", json={**CASE, "location": {"lon": 104.11, "lat": 30.69}})
    near = client.post("/incidents", json={**CASE, "location": {"lon": 104.1103, "lat": 30.6901}})
    other = client.post(
        "/incidents",
        json={**CASE, "category": "0101", "location": {"lon": 104.1103, "lat": 30.6901}},
    )
    far = client.post("/incidents", json={**CASE, "location": {"lon": 104.115, "lat": 30.69}})
    assert first.json()["id"] in near.json()["possible_duplicates"]
    assert first.json()["id"] not in other.json()["possible_duplicates"]
    assert first.json()["id"] not in far.json()["possible_duplicates"]


def test_idempotency_key_same_body_same_case_other_body_refused(client, engine):
    key = str(uuid.uuid4())
    first = client.post("/incidents", json=CASE, headers={"Idempotency-Key": key})
    before = counts(engine)
    again = client.post("/incidents", json=CASE, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["case_token"] == first.json()["case_token"]
    other = client.post(
        "/incidents", json={**CASE, "description": "另一件事"}, headers={"Idempotency-Key": key}
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert counts(engine) == before


def test_keys_are_scoped_to_the_caller(client, test_db):
    key = str(uuid.uuid4())
    resident = client.post("/incidents", json=CASE, headers={"Idempotency-Key": key})
    staff = client.post(
        "/incidents", json=CASE, headers={"Idempotency-Key": key, **test_db.headers("dispatcher")}
    )
    assert resident.json()["id"] != staff.json()["id"]


def test_concurrent_retries_lose_nothing_and_double_nothing(app, engine):
    """Real threads against the app: the same key at once gives one case."""
    keys = [str(uuid.uuid4()) for _ in range(6)]
    before = counts(engine)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def send(key: str) -> None:
        transport = httpx.ASGITransport(app=app)
        import asyncio

        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                return await c.post("/incidents", json=CASE, headers={"Idempotency-Key": key})

        response = asyncio.run(go())
        with lock:
            results.append(response)

    threads = [threading.Thread(target=send, args=(k,)) for k in keys for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code == 201 for r in results), [r.text for r in results]
    by_key: dict[str, set[int]] = {}
    for r in results:
        by_key.setdefault(r.request.headers["idempotency-key"], set()).add(r.json()["id"])
    assert all(len(ids) == 1 for ids in by_key.values())
    after = counts(engine)
    assert after[0] - before[0] == len(keys) and after[1] - before[1] == len(keys)


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"category": "9999"}, 422, "unknown_category"),
        ({"channel": "carrier_pigeon"}, 422, "unknown_channel"),
        ({"location": {"lon": 105.5, "lat": 30.68}}, 422, "outside_district"),
        ({"crs": "mars"}, 422, "invalid_request"),
        ({"description": ""}, 422, "invalid_request"),
        ({"category": "12"}, 422, "invalid_request"),
        ({"reporter_phone": "call me"}, 422, "invalid_request"),
        ({"location": {"lon": 104.1}}, 422, "invalid_request"),
        ({"location": {"type": "Point", "coordinates": [104.1]}}, 422, "invalid_request"),
        ({"surprise": 1}, 422, "invalid_request"),
    ],
)
def test_bad_reports_write_nothing(client, engine, change, status, code):
    before = counts(engine)
    r = client.post("/incidents", json={**CASE, **change}, headers={"Idempotency-Key": "k-" + code})
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert counts(engine) == before


def test_external_ids_are_unique(client, engine):
    first = client.post("/incidents", json={**CASE, "external_id": "12345-X-1"})
    assert first.status_code == 201
    before = counts(engine)
    again = client.post("/incidents", json={**CASE, "external_id": "12345-X-1"})
    assert again.status_code == 409 and again.json()["code"] == "duplicate_external_id"
    assert again.json()["incident_id"] == first.json()["id"]
    assert counts(engine) == before


def test_residents_see_their_own_case_by_token_only(client, test_db):
    mine = client.post("/incidents", json=CASE).json()
    assert client.get(f"/incidents/{mine['id']}").status_code == 404
    wrong = client.get(f"/incidents/{mine['id']}", headers={"X-Case-Token": "guess"})
    assert wrong.status_code == 404
    r = client.get(f"/incidents/{mine['id']}", headers={"X-Case-Token": mine["case_token"]})
    assert r.status_code == 200 and r.json()["reporter"] is None
    assert r.json()["case_token"] is None and r.json()["assignee"].keys() == {"name"}
    events = client.get(
        f"/incidents/{mine['id']}/events", headers={"X-Case-Token": mine["case_token"]}
    ).json()
    assert events[0]["action"] == "report" and events[0]["actor"] is None
    other = client.get("/incidents/1", headers={"X-Case-Token": mine["case_token"]})
    assert other.status_code == 404
    assert client.get("/incidents/1", headers=test_db.headers("planner")).status_code == 200


def _resident(app, address: str):
    """Another resident's phone: its own address, no key."""
    from fastapi.testclient import TestClient

    return TestClient(app, client=(address, 41000))


def test_two_residents_never_share_an_idempotency_key(app, engine):
    key = "report-1"  # a poorly made client app that numbers its reports
    a, b, c = (_resident(app, f"10.7.0.{n}") for n in (1, 2, 3))
    first = a.post("/incidents", json=CASE, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    # B reuses A's key for another report: B's report is taken in, not refused
    other = b.post(
        "/incidents", json={**CASE, "description": "路灯不亮"}, headers={"Idempotency-Key": key}
    )
    assert other.status_code == 201, other.text
    assert other.json()["id"] != first.json()["id"]
    # C sends A's very request with A's key: C files a case of their own and never sees A's token
    same = c.post("/incidents", json=CASE, headers={"Idempotency-Key": key})
    assert same.status_code == 201 and "idempotent-replayed" not in same.headers
    assert same.json()["id"] not in (first.json()["id"], other.json()["id"])
    assert same.json()["case_token"] != first.json()["case_token"]
    # A's own retry is still a retry
    again = a.post("/incidents", json=CASE, headers={"Idempotency-Key": key})
    assert again.headers["idempotent-replayed"] == "true"
    assert (again.json()["id"], again.json()["case_token"]) == (
        first.json()["id"],
        first.json()["case_token"],
    )
    # and B's retry of their own report is B's
    retry = b.post(
        "/incidents", json={**CASE, "description": "路灯不亮"}, headers={"Idempotency-Key": key}
    )
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["id"] == other.json()["id"]
    with engine.connect() as conn:
        scopes = conn.execute(
            text("SELECT scope FROM idempotency_keys WHERE key = :k"), {"k": key}
        ).scalars()
        scopes = list(scopes)
    assert len(scopes) == 3 and not any("10.7.0" in s for s in scopes)  # addresses only hashed


def test_two_devices_behind_one_address_are_told_apart(app):
    key = str(uuid.uuid4())
    phone = {"Idempotency-Key": key, "User-Agent": "wangge-app/2.1 (Android 14)"}
    laptop = {"Idempotency-Key": key, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}
    nat = _resident(app, "10.7.0.9")
    first = nat.post("/incidents", json=CASE, headers=phone)
    second = nat.post("/incidents", json={**CASE, "description": "井盖缺失"}, headers=laptop)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_open311_residents_never_share_an_idempotency_key(app):
    form = {"service_code": "0102", "lat": "30.68", "long": "104.1", "description": "垃圾"}
    a, b, c = (_resident(app, f"10.7.1.{n}") for n in (1, 2, 3))
    headers = {"Idempotency-Key": "open311-1"}
    first = a.post("/open311/v2/requests.json", data=form, headers=headers)
    assert first.status_code == 201, first.text
    theirs = b.post("/open311/v2/requests.json", data=form, headers=headers)
    assert theirs.status_code == 201
    assert theirs.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]
    assert theirs.json()[0]["token"] != first.json()[0]["token"]
    other = c.post(
        "/open311/v2/requests.json", data={**form, "description": "噪音"}, headers=headers
    )
    assert other.status_code == 201, other.text

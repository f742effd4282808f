"""The handheld's duty section: a grid worker who is a courtyard member sees their shifts,
checks in, files what they saw (a case of channel courtyard_patrol), checks out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.conftest import TEST_NOW


@pytest.fixture(scope="module")
def mine(client, test_db, engine) -> dict:
    """A volunteer record of the demo grid worker (worker 1) in a courtyard of their community,
    with a shift running now and one a week later (outside the handheld's window)."""
    with engine.begin() as conn:
        yard, name = conn.execute(
            text(
                "SELECT c.id, c.name FROM courtyards c JOIN workers w"
                " ON w.community_id = c.community_id WHERE w.id = 1 ORDER BY c.id LIMIT 1"
            )
        ).one()
        member = conn.execute(
            text(
                "INSERT INTO courtyard_members (courtyard_id, role, name, worker_id)"
                " VALUES (:y, 'volunteer', '网格员本人', 1) RETURNING id"
            ),
            {"y": yard},
        ).scalar()
    shifts = []
    for start in (TEST_NOW - timedelta(hours=1), TEST_NOW + timedelta(days=7)):
        r = client.post(
            "/self-governance/shifts",
            json={
                "courtyard_id": yard,
                "member_id": member,
                "start": start.isoformat(),
                "end": (start + timedelta(hours=4)).isoformat(),
            },
            headers=test_db.headers("dispatcher"),
        )
        assert r.status_code == 201, r.text
        shifts.append(r.json()["id"])
    return {"yard": yard, "name": name, "member": member, "now": shifts[0], "later": shifts[1]}


def _my_shifts(client, test_db) -> dict[int, dict]:
    r = client.get("/workers/me/shifts", headers=test_db.headers("grid_worker"))
    assert r.status_code == 200, r.text
    return {s["id"]: s for s in r.json()}


def test_my_shifts_are_the_ones_i_hold_around_now(client, test_db, engine, mine):
    shifts = _my_shifts(client, test_db)
    assert mine["now"] in shifts and mine["later"] not in shifts
    s = shifts[mine["now"]]
    assert s["courtyard_name"] == mine["name"] and s["member_role"] == "volunteer"
    assert s["member_id"] == mine["member"] and s["checked_in_at"] is None
    with engine.connect() as conn:
        holders = set(
            conn.execute(
                text(
                    "SELECT DISTINCT m.worker_id FROM courtyard_shifts s JOIN courtyard_members m"
                    " ON m.id = s.member_id WHERE s.id = ANY(:ids)"
                ),
                {"ids": list(shifts)},
            ).scalars()
        )
    assert holders == {1}
    assert (
        client.get("/workers/me/shifts", headers=test_db.headers("dispatcher")).status_code == 403
    )


def test_check_in_report_and_check_out_from_the_handheld(client, test_db, engine, mine):
    h, url = test_db.headers("grid_worker"), f"/self-governance/shifts/{mine['now']}"
    me = {"member_id": mine["member"]}
    early = client.post(
        f"{url}/reports", json={**me, "category": "0101", "description": "x"}, headers=h
    )
    assert early.status_code == 409 and early.json()["code"] == "not_checked_in"
    assert client.post(f"{url}/check-in", json=me, headers=h).status_code == 200
    assert _my_shifts(client, test_db)[mine["now"]]["checked_in_at"] is not None
    body = {**me, "category": "0101", "description": "3 栋楼道堆放杂物"}
    r = client.post(f"{url}/reports", json=body, headers=h)
    assert r.status_code == 201, r.text
    case_id = r.json()["incident_id"]
    out = client.post(f"{url}/check-out", json=me, headers=h)
    assert out.status_code == 200 and out.json()["checked_out_at"] is not None
    assert _my_shifts(client, test_db)[mine["now"]]["checked_out_at"] is not None
    with engine.connect() as conn:
        case = conn.execute(
            text(
                "SELECT i.channel_code, i.description, i.community_id, c.community_id AS yard_c"
                " FROM incidents i, courtyards c WHERE i.id = :i AND c.id = :y"
            ),
            {"i": case_id, "y": mine["yard"]},
        ).one()
        actions = list(
            conn.execute(
                text(
                    "SELECT action FROM audit_log WHERE entity = 'courtyard_shifts'"
                    " AND entity_id = :s ORDER BY id"
                ),
                {"s": str(mine["now"])},
            ).scalars()
        )
    assert case.channel_code == "courtyard_patrol" and case.description == body["description"]
    assert case.community_id == case.yard_c  # at the post
    assert actions == [
        "courtyard_shift.create",
        "courtyard_shift.check_in",
        "courtyard_patrol.report",
        "courtyard_shift.check_out",
    ]


def test_the_handheld_page_carries_the_duty_section_and_its_own_module(client, test_db):
    r = client.get("/handheld", headers=test_db.headers("grid_worker"))
    assert r.status_code == 200
    assert 'id="wg-rota"' in r.text and "/static/wangge/handheld-rota.js" in r.text
    assert "data-categories=" in r.text and "0101" in r.text
    js = client.get("/static/wangge/handheld-rota.js")
    assert js.status_code == 200 and "/workers/me/shifts" in js.text

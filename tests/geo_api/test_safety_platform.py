"""The safety platform over HTTP and a real database: unit queues, escalation that moves the
case with notices at each level, transfers to departments, joint duty, and the KPIs."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.sla import sweep
from layers.tables.clocks import LOCAL_TZ
from tests.conftest import TEST_NOW
from tests.geo_api import safety_helpers
from tests.geo_api.safety_helpers import REPORTER, act, notices, report, step, unit_of

place = safety_helpers.place  # the module's fixtures
keys = safety_helpers.keys

PERIOD = {
    "from": (TEST_NOW - timedelta(days=1)).isoformat(),
    "to": (TEST_NOW + timedelta(days=1)).isoformat(),
}


def test_every_case_sits_in_one_unit_and_the_units_mirror_the_areas(client, engine, keys):
    with engine.connect() as conn:
        unplaced = conn.execute(text("SELECT count(*) FROM incidents WHERE unit_id IS NULL"))
        assert unplaced.scalar() == 0
        levels = dict(
            conn.execute(text("SELECT level, count(*) FROM platform_units GROUP BY level")).all()
        )
        areas = conn.execute(
            text("SELECT (SELECT count(*) FROM streets), (SELECT count(*) FROM communities)")
        ).one()
    assert levels == {"district": 1, "street": areas[0], "community": areas[1]}
    r = client.get("/platform/units", headers=keys["district"])
    assert r.status_code == 200 and len(r.json()) == sum(levels.values())
    assert r.json()[0]["level"] == "district"
    assert sum(u["open_cases"] for u in r.json()) > 0
    departments = client.get("/departments", headers=keys["police"]).json()
    assert len([d for d in departments if d["kind"] == "safety"]) >= 30
    assert len([d for d in departments if d["kind"] == "base_data"]) == 25
    assert {"公安分局", "城管局", "市场监管局", "水务局"} <= {d["name"] for d in departments}


def test_a_street_dispatcher_sees_its_street_and_acts_on_its_queue_only(
    client, engine, keys, place
):
    mine = client.get("/dispatch/queue?limit=500", headers=keys["street"]).json()
    everything = client.get("/dispatch/queue?limit=1", headers=keys["district"]).json()
    assert 0 < mine["total"] < everything["total"]
    assert {i["street_code"] for i in mine["items"]} == {place["a"].street}
    case = report(client, place["a"])
    assert unit_of(engine, case["id"]) == (place["a"].station, "community")
    case = act(client, keys["street"], case, "accept")  # a station's case: in the street's queue
    with engine.connect() as conn:
        elsewhere = conn.execute(
            text(
                "SELECT id, version FROM incidents WHERE street_id <> :s "
                "AND status = 'reported' ORDER BY id LIMIT 1"
            ),
            {"s": place["a"].street_id},
        ).one()
    r = client.post(
        f"/incidents/{elsewhere.id}/transitions",
        json={"action": "accept", "version": elsewhere.version},
        headers=keys["street"],
    )
    assert r.status_code == 404  # another street's case is out of sight
    r = client.get(f"/platform/units/{place['district']}/notices", headers=keys["street"])
    assert r.status_code == 403 and r.json()["code"] == "not_your_unit"


def _overrun(engine, case_id) -> None:
    with engine.connect() as conn:
        due = conn.execute(text("SELECT due_at FROM incidents WHERE id = :i"), {"i": case_id})
        due_at = due.scalar()
    with Session(engine) as session:
        assert sweep(session=session, now=due_at + timedelta(minutes=1)).escalated >= 1
        session.commit()


def test_transfer_to_lead_and_support_one_returns_the_other_finishes_closes_at_street(
    client, engine, keys, place
):
    street, before = keys["street"], client.get("/analytics/kpis/levels", params=PERIOD)
    levels0 = client.get("/analytics/kpis/levels", params=PERIOD, headers=keys["district"]).json()
    assert before.status_code == 401
    case = report(client, place["b"])
    for action in ("accept", "file"):
        case = act(client, street, case, action)
    case = act(client, street, case, "escalate", data={"to_level": "street"})
    assert case["unit_id"] is not None and unit_of(engine, case["id"])[1] == "street"
    body = {
        "lead": "cgj",
        "support": ["gaj"],
        "instruction": "清运并查处",
        "version": case["version"],
    }
    r = client.post(f"/incidents/{case['id']}/transfers", json=body, headers=street)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["incident"]["status"] == "dispatched" and out["incident"]["assignee"] is None
    lead, support = out["parts"]
    assert (lead["department"], lead["part"], support["department"]) == ("cgj", "lead", "gaj")
    due = datetime.fromisoformat(lead["due_at"]).astimezone(LOCAL_TZ)
    assert due.time() == time(18, 0) and due.weekday() < 5  # working days, ending at 18:00
    stale = client.post(f"/incidents/{case['id']}/transfers", json=body, headers=street)
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"

    support = step(client, keys["police"], support, "sign")["parts"][1]
    returned = step(client, keys["police"], support, "return", reason="不属于治安事项")
    assert returned["incident"]["status"] == "dispatched"  # a supporting part alone
    lead = returned["parts"][0]
    for action in ("sign", "start"):
        lead = step(client, keys["city"], lead, action)["parts"][0]
    done = step(client, keys["city"], lead, "finish", reason="已清运")
    assert done["incident"]["status"] == "handled" and done["parts"][0]["on_time"] is True
    case = done["incident"]
    assert {"returned", "finished"} <= {
        n["kind"] for n in notices(client, street, place["b"].centre)
    }
    for action in ("check", "close"):
        case = act(client, street, case, action)
    assert case["status"] == "closed" and unit_of(engine, case["id"])[1] == "street"

    events = client.get(f"/incidents/{case['id']}/events", headers=street).json()
    assert [e["action"] for e in events][-8:] == [
        "transfer",
        "department_sign",
        "department_return",
        "sign",
        "start",
        "handle",
        "check",
        "close",
    ]
    _counted_at_street(client, street, levels0)


def _counted_at_street(client, street, levels0) -> None:
    """The case closed at street level counts there; the departments' figures show the parts."""
    levels = client.get("/analytics/kpis/levels", params=PERIOD, headers=street).json()
    assert levels["closed_at"]["street"] == levels0["closed_at"]["street"] + 1
    assert levels["closed_at"]["community"] == levels0["closed_at"]["community"]
    kpis = client.get("/analytics/kpis/departments", params=PERIOD, headers=street).json()
    by = {k["department"]: k for k in kpis}
    assert by["cgj"]["received"] >= 1 and by["cgj"]["on_time"] >= 1
    assert by["gaj"]["returned"] >= 1 and by["gaj"]["finished"] == 0


def test_a_department_sees_its_own_cases_only_without_the_reporter(client, keys, place):
    police = keys["police"]
    queue = client.get("/departments/gaj/queue?status=returned", headers=police).json()
    assert queue["total"] >= 1
    mine = queue["items"][0]["incident_id"]
    case = client.get(f"/incidents/{mine}", headers=police)
    assert case.status_code == 200
    assert (
        REPORTER["reporter_phone"] not in case.text and REPORTER["reporter_name"] not in case.text
    )
    other = report(client, place["a"])
    assert client.get(f"/incidents/{other['id']}", headers=police).status_code == 404
    r = client.get("/departments/cgj/queue", headers=police)
    assert r.status_code == 403 and r.json()["code"] == "not_your_department"
    assert client.get(f"/incidents/{mine}/transfers", headers=police).status_code == 200
    assert client.get(f"/incidents/{other['id']}/transfers", headers=police).status_code == 404
    kinds = {n["kind"] for n in client.get("/departments/gaj/notices", headers=police).json()}
    assert "transferred" in kinds


def test_the_lead_returning_sends_the_case_back_and_withdraws_the_support(client, keys, place):
    street = keys["street"]
    case = report(client, place["a"])
    for action in ("accept", "file"):
        case = act(client, street, case, action)
    body = {"lead": "gaj", "support": ["cgj"], "instruction": "核查", "version": case["version"]}
    out = client.post(f"/incidents/{case['id']}/transfers", json=body, headers=street).json()
    back = step(client, keys["police"], out["parts"][0], "return", reason="非本部门职责")
    assert back["incident"]["status"] == "returned"
    assert [p["status"] for p in back["parts"]] == ["returned", "withdrawn"]
    wrong = client.post(
        f"/transfers/{out['parts'][1]['id']}/steps",
        json={"action": "sign", "version": out["parts"][1]["version"]},
        headers=keys["police"],
    )
    assert wrong.status_code == 404  # not 公安分局's part


def test_joint_duty_rota_and_a_joint_task_with_the_liaisons_on_duty(client, keys, place):
    street, day = keys["street"], TEST_NOW.astimezone(LOCAL_TZ).date().isoformat()
    for dept, name in (("cgj", "李城管"), ("gaj", "赵民警")):
        shift = {"unit": place["a"].centre, "department": dept, "day": day, "liaison_name": name}
        assert client.post("/platform/liaisons", json=shift, headers=street).status_code == 201
    r = client.post("/platform/liaisons", json=shift, headers=street)
    assert r.status_code == 409 and r.json()["code"] == "shift_taken"
    station = {**shift, "unit": place["a"].station, "department": "swj"}
    r = client.post("/platform/liaisons", json=station, headers=street)
    assert r.status_code == 409 and r.json()["code"] == "not_a_centre"
    rota = client.get("/platform/liaisons", params={"day": day}, headers=keys["police"]).json()
    assert {(s["department"], s["unit"]) for s in rota} >= {("cgj", place["a"].centre)}
    case = report(client, place["a"])
    for action in ("accept", "file"):
        case = act(client, street, case, action)
    body = {
        "lead": "cgj",
        "support": ["gaj"],
        "instruction": "联合执法",
        "version": case["version"],
    }
    out = client.post(f"/incidents/{case['id']}/transfers", json=body, headers=street).json()
    task = {"instruction": "现场联合处置", "version": out["incident"]["version"]}
    r = client.post(f"/incidents/{case['id']}/joint-tasks", json=task, headers=street)
    assert r.status_code == 201, r.text
    assert r.json()["unit"] == place["a"].centre
    assert sorted(m["liaison_name"] for m in r.json()["members"]) == ["李城管", "赵民警"]
    none = {"instruction": "x", "version": r.json()["case_version"], "departments": ["swj"]}
    r = client.post(f"/incidents/{case['id']}/joint-tasks", json=none, headers=street)
    assert r.status_code == 409 and r.json()["code"] == "no_liaison_on_duty"


def test_a_community_case_escalates_through_all_three_levels_with_a_notice_at_each(
    client, engine, keys, place
):
    case = report(client, place["a"])
    district, street = keys["district"], keys["street"]
    path = [unit_of(engine, case["id"])]
    for _ in range(3):
        _overrun(engine, case["id"])
        path.append(unit_of(engine, case["id"]))
    a = place["a"]
    assert path == [
        (a.station, "community"),
        (a.station, "community"),
        (a.centre, "street"),
        (place["district"], "district"),
    ]
    case = client.get(f"/incidents/{case['id']}", headers=district).json()
    assert case["handling_level"] == "district" and case["escalation_count"] == 3
    mine = lambda unit: [  # noqa: E731
        n["kind"] for n in notices(client, district, unit) if n["incident_id"] == case["id"]
    ]
    assert mine(a.station) == ["informed", "escalated"]  # newest first
    assert mine(a.centre) == ["informed", "escalated"]
    assert mine(place["district"]) == ["escalated"]
    # The street still sees its area's case but no longer acts on it; the district does.
    assert client.get(f"/incidents/{case['id']}", headers=street).status_code == 200
    r = client.post(
        f"/incidents/{case['id']}/transitions",
        json={"action": "supervise", "reason": "督办", "version": case["version"]},
        headers=street,
    )
    assert r.status_code == 403 and r.json()["code"] == "not_in_queue"
    case = act(client, district, case, "supervise", reason="区中心督办")
    assert case["supervised_at"] is not None
    case = act(client, district, case, "hand_down", reason="请街道牵头处置")
    assert case["handling_level"] == "street" and unit_of(engine, case["id"])[1] == "street"
    row = next(
        i
        for i in client.get("/dispatch/queue?limit=500", headers=street).json()["items"]
        if i["id"] == case["id"]
    )
    assert row["supervised_at"] is not None and row["unit_code"] == a.centre
    handed = [
        n
        for n in notices(client, street, a.centre)
        if n["incident_id"] == case["id"] and n["kind"] == "handed_down"
    ]
    assert [n["data"]["note"] for n in handed] == ["请街道牵头处置"]


def test_the_sweep_tells_a_department_once_when_its_part_runs_over(client, engine, keys):
    with Session(engine) as session:
        first = sweep(session=session, now=TEST_NOW + timedelta(days=30))
        again = sweep(session=session, now=TEST_NOW + timedelta(days=31))
        session.commit()
    assert first.departments_told >= 2 and again.departments_told == 0
    told = [
        n
        for n in client.get("/departments/gaj/notices", headers=keys["police"]).json()
        if n["kind"] == "supervised"
    ]
    assert told and all(n["data"]["overdue"] for n in told)


def test_a_notice_is_marked_read_by_the_unit_or_department_that_received_it(
    client, engine, keys, place
):
    case = report(client, place["a"])
    act(client, keys["district"], case, "escalate", data={"to_level": "street"})
    mine = next(
        n
        for n in notices(client, keys["street"], place["a"].centre)
        if n["incident_id"] == case["id"] and n["kind"] == "escalated"
    )
    assert mine["read_at"] is None
    url = f"/platform/notices/{mine['id']}/read"
    r = client.post(url, headers=keys["police"])
    assert r.status_code == 403 and r.json()["code"] == "not_your_unit"
    first = client.post(url, headers=keys["street"])
    assert first.status_code == 200, first.text
    assert first.json()["read_at"] is not None and first.json()["unit_code"] == place["a"].centre
    again = client.post(url, headers=keys["street"]).json()
    assert again["read_at"] == first.json()["read_at"]  # the first moment stays
    with engine.connect() as conn:
        theirs = conn.execute(
            text(
                "SELECT n.id FROM platform_notices n JOIN departments d ON d.id = n.department_id "
                "WHERE d.code = 'gaj' ORDER BY n.id LIMIT 1"
            )
        ).scalar()
        assert theirs is not None
        audited = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE action = 'notice.read' "
                "AND entity = 'platform_notices' AND entity_id = :n"
            ),
            {"n": str(mine["id"])},
        ).scalar()
    assert audited == 2
    r = client.post(f"/platform/notices/{theirs}/read", headers=keys["street"])
    assert r.status_code == 403 and r.json()["code"] == "not_your_department"
    r = client.post(f"/platform/notices/{theirs}/read", headers=keys["city"])
    assert r.status_code == 403 and r.json()["code"] == "not_your_department"
    r = client.post(f"/platform/notices/{theirs}/read", headers=keys["police"])
    assert r.status_code == 200 and r.json()["department_code"] == "gaj" and r.json()["read_at"]
    r = client.post("/platform/notices/999999999/read", headers=keys["police"])
    assert r.status_code == 404 and r.json()["code"] == "notice_not_found"


def test_the_unit_board_shows_who_is_at_work_by_its_own_hours_and_the_calendar(
    client, engine, keys, place
):
    from grids.safety.boards import units

    with engine.begin() as conn:  # one station keeps afternoon hours only
        conn.execute(
            text("UPDATE platform_units SET opens_at = '14:00' WHERE code = :c"),
            {"c": place["b"].station},
        )
    monday = datetime(2026, 11, 2, 10, 0, tzinfo=LOCAL_TZ)  # a working day, 10:00 local
    with Session(engine) as session:
        at_ten = {u["code"]: u for u in units(session=session, now=monday)}
        at_three = {u["code"]: u for u in units(session=session, now=monday + timedelta(hours=5))}
        sunday = units(session=session, now=monday - timedelta(days=1))
    assert at_ten[place["a"].station]["open_now"] and not at_ten[place["b"].station]["open_now"]
    assert (
        at_three[place["b"].station]["open_now"]
        and at_three[place["b"].station]["opens_at"] == "14:00"
    )
    assert not any(u["open_now"] for u in sunday)
    board = client.get("/platform/units", headers=keys["district"]).json()
    assert all(isinstance(u["open_now"], bool) for u in board)

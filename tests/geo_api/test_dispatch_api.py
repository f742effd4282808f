"""The queue, nearest workers (KNN in metres) and all-or-nothing assignment; KPIs."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text

from geo_api.schemas.cases import QueuePage
from tests.conftest import TEST_NOW

CASE = {
    "location": {"lon": 104.1, "lat": 30.68},
    "category": "0503",
    "channel": "wechat",
    "description": "机动车乱停放",
}


def filed_case(client, staff) -> dict:
    case = client.post("/incidents", json=CASE).json()
    for action in ("accept", "file"):
        case = client.post(
            f"/incidents/{case['id']}/transitions",
            json={"action": action, "version": case["version"]},
            headers=staff,
        ).json()
    return case


def test_queue_is_sorted_by_deadline_and_paged(client, test_db):
    staff = test_db.headers("dispatcher")
    r = client.get("/dispatch/queue", params={"limit": 20}, headers=staff)
    assert r.status_code == 200, r.text
    page = QueuePage.model_validate(r.json())
    dues = [i.due_at for i in page.items if i.due_at]
    assert dues == sorted(dues) and page.total > 20
    second = client.get("/dispatch/queue", params={"limit": 20, "offset": 20}, headers=staff)
    assert {i["id"] for i in second.json()["items"]}.isdisjoint({i.id for i in page.items})
    assert second.json()["total"] == page.total


def test_queue_filters(client, test_db, engine):
    staff = test_db.headers("dispatcher")
    with engine.connect() as conn:
        street, community, l1 = conn.execute(
            text(
                "SELECT s.code, c.code, g.code FROM incidents i "
                "JOIN streets s ON s.id = i.street_id JOIN communities c ON c.id = i.community_id "
                "JOIN grid_cells g ON g.id = i.l1_cell_id WHERE i.status = 'checking' LIMIT 1"
            )
        ).one()
    for params, check in [
        ({"street": street}, lambda i: i["street_code"] == street),
        ({"community": community}, lambda i: i["community_code"] == community),
        ({"cell": l1}, lambda i: i["l1_code"] == l1),
        ({"status": "checking,handled"}, lambda i: i["status"] in ("checking", "handled")),
        ({"category": "05"}, lambda i: i["category"].startswith("05")),
        ({"overdue": "true"}, lambda i: i["overdue"]),
        ({"level": "street"}, lambda i: i["handling_level"] == "street"),
        (
            {"bbox": "104.05,30.65,104.12,30.70"},
            lambda i: 104.05 <= i["lon"] <= 104.12 and 30.65 <= i["lat"] <= 30.70,
        ),
    ]:
        r = client.get("/dispatch/queue", params={**params, "limit": 500}, headers=staff)
        assert r.status_code == 200, (params, r.text)
        items = r.json()["items"]
        assert items and all(check(i) for i in items), params


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"bbox": "1,2,3"}, "invalid_bbox"),
        ({"bbox": "104.2,30.6,104.1,30.7"}, "invalid_bbox"),
        ({"status": "sleeping"}, "unknown_status"),
        ({"category": "5"}, "invalid_request"),
        ({"limit": 0}, "invalid_request"),
    ],
)
def test_queue_refuses_bad_filters(client, test_db, params, code):
    r = client.get("/dispatch/queue", params=params, headers=test_db.headers("dispatcher"))
    assert r.status_code in (400, 422) and r.json()["code"] == code


def test_grid_workers_get_their_own_queue(client, test_db, engine):
    r = client.get("/dispatch/queue", params={"limit": 500}, headers=test_db.headers("grid_worker"))
    with engine.connect() as conn:
        code = conn.execute(text("SELECT cell_code FROM workers WHERE id = 1")).scalar()
    assert r.status_code == 200
    assert all(i["l1_code"] == code or i["assignee_worker_id"] == 1 for i in r.json()["items"])
    assert client.get("/dispatch/queue", headers=test_db.headers("planner")).status_code == 403


def test_nearest_workers_are_on_duty_of_the_level_and_sorted_in_metres(client, test_db, engine):
    staff = test_db.headers("dispatcher")
    case = client.post("/incidents", json=CASE).json()
    r = client.get(f"/incidents/{case['id']}/nearest-workers", params={"k": 7}, headers=staff)
    assert r.status_code == 200, r.text
    found = r.json()
    assert len(found) == 7 and [w["distance_m"] for w in found] == sorted(
        w["distance_m"] for w in found
    )
    with engine.connect() as conn:
        truth = conn.execute(
            text(
                "SELECT w.id, ST_Distance(w.geom::geography, i.geom::geography) AS d "
                "FROM workers w, incidents i WHERE i.id = :i AND w.on_duty AND w.level = 1 "
                "ORDER BY d LIMIT 7"
            ),
            {"i": case["id"]},
        ).all()
    assert [w["id"] for w in found] == [t.id for t in truth]
    assert all(abs(w["distance_m"] - t.d) < 0.1 for w, t in zip(found, truth, strict=True))
    level3 = client.get(
        f"/incidents/{case['id']}/nearest-workers", params={"level": 3}, headers=staff
    ).json()
    assert all(w["level"] == 3 and w["on_duty"] for w in level3)
    missing = client.get("/incidents/999999999/nearest-workers", headers=staff)
    assert missing.status_code == 404


def test_assign_many_all_or_nothing(client, test_db, engine):
    staff = test_db.headers("dispatcher")
    a, b = filed_case(client, staff), filed_case(client, staff)
    with engine.connect() as conn:
        on = (
            conn.execute(text("SELECT id FROM workers WHERE on_duty ORDER BY id LIMIT 2"))
            .scalars()
            .all()
        )
    stale = {
        "assignments": [
            {"incident_id": a["id"], "worker_id": on[0], "version": a["version"]},
            {"incident_id": b["id"], "worker_id": on[1], "version": b["version"] - 1},
        ]
    }
    r = client.post("/dispatch/assign", json=stale, headers=staff)
    assert r.status_code == 409 and r.json()["code"] == "assignment_failed"
    assert [e["incident_id"] for e in r.json()["errors"]] == [b["id"]]
    with engine.connect() as conn:
        statuses = (
            conn.execute(
                text("SELECT status FROM incidents WHERE id = ANY(:ids)"),
                {"ids": [a["id"], b["id"]]},
            )
            .scalars()
            .all()
        )
    assert statuses == ["filed", "filed"]  # the good one was not dispatched either
    good = {
        "assignments": [
            {"incident_id": a["id"], "worker_id": on[0], "version": a["version"]},
            {"incident_id": b["id"], "worker_id": on[1], "version": b["version"]},
        ],
        "reason": "就近派遣",
    }
    r = client.post("/dispatch/assign", json=good, headers=staff)
    assert r.status_code == 200, r.text
    assert [c["assignee"]["id"] for c in r.json()] == on and {c["status"] for c in r.json()} == {
        "dispatched"
    }
    dup = {"assignments": [good["assignments"][0], good["assignments"][0]]}
    assert client.post("/dispatch/assign", json=dup, headers=staff).json()["code"] == (
        "duplicate_incident"
    )
    assert (
        client.post(
            "/dispatch/assign", json=good, headers=test_db.headers("grid_worker")
        ).status_code
        == 403
    )


def test_kpis_per_street_and_community(client, test_db):
    staff = test_db.headers("planner")
    params = {"from": "2025-12-01T00:00:00+08:00", "to": TEST_NOW.isoformat()}
    r = client.get("/analytics/kpis", params=params, headers=staff)
    assert r.status_code == 200, r.text
    body = r.json()
    overall = body["overall"]
    assert overall["cases"] > 500
    for key in (
        "on_time_acceptance",
        "on_time_dispatch",
        "on_time_handling",
        "on_time_closure",
        "rework_rate",
    ):
        assert 0 <= overall[key] <= 1, key
    shares = [overall[f"resolved_at_{lv}"] for lv in ("community", "street", "district")]
    assert abs(sum(shares) - 1) < 1e-3 and shares[0] > shares[1] > shares[2]
    assert sum(s["cases"] for s in body["streets"]) == overall["cases"]
    street = body["streets"][0]
    assert sum(c["cases"] for c in street["communities"]) == street["cases"]
    one = client.get(
        "/analytics/kpis", params={**params, "street": street["code"]}, headers=staff
    ).json()
    assert one["overall"]["cases"] == street["cases"] and len(one["streets"]) == 1
    bad = client.get(
        "/analytics/kpis",
        params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        headers=staff,
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_period"
    naive = client.get("/analytics/kpis", params={"from": "2026-01-01T00:00:00"}, headers=staff)
    assert naive.status_code == 400
    assert client.get("/analytics/kpis", headers=test_db.headers("grid_worker")).status_code == 403
    assert datetime.fromisoformat(body["to"]) == TEST_NOW

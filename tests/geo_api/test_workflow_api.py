"""POST /incidents/{id}/transitions: the closed loop, its branches, and every error path."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from grids.cases.workflow import ACTIONS, RULES, allowed_actions
from layers.demo.trails import ACTION_FOR, ROLE_FOR
from layers.tables.grid_cells import live

CASE = {
    "location": {"lon": 104.1, "lat": 30.68},
    "category": "0404",
    "channel": "hotline_96966",
    "description": "井盖缺失",
}


@pytest.fixture(scope="module")
def worker_headers(test_db, engine):
    """The demo grid worker's key (worker 1) and a point inside worker 1's cell."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT ST_X(ST_PointOnSurface(g.geom)) AS x, ST_Y(ST_PointOnSurface(g.geom)) AS y "
                f"FROM workers w JOIN grid_cells g ON g.code = w.cell_code AND {live('g')} "
                "WHERE w.id = 1"
            )
        ).one()
    return test_db.headers("grid_worker"), {"lon": row.x, "lat": row.y}


def new_case(client, where=None) -> dict:
    r = client.post("/incidents", json={**CASE, "location": where or CASE["location"]})
    assert r.status_code == 201, r.text
    return r.json()


def act(client, headers, case, action, *, reason=None, data=None, version=None, if_match=True):
    body = {"action": action, "reason": reason, "data": data or {}}
    h = dict(headers)
    v = version if version is not None else case["version"]
    if if_match:
        h["If-Match"] = f'"{v}"'
    else:
        body["version"] = v
    return client.post(f"/incidents/{case['id']}/transitions", json=body, headers=h)


def test_demo_actions_are_workflow_actions():
    assert set(ACTION_FOR.values()) | {"report", "escalate"} <= set(ACTIONS)
    for action, role in ROLE_FOR.items():
        assert role in RULES[action].roles, action
    assert allowed_actions("checking", "dispatcher") == [
        "close",
        "rework",
        "escalate",
        "hand_down",
        "supervise",
    ]


def test_the_whole_loop_with_a_rework(client, test_db, worker_headers, engine):
    staff = test_db.headers("dispatcher")
    worker, where = worker_headers
    case = new_case(client, where)
    assert case["assignee"]["name"]
    steps = [
        (staff, "accept", None),
        (staff, "file", None),
        (staff, "dispatch", None),
        (worker, "sign", None),
        (worker, "start", None),
        (worker, "handle", None),
        (staff, "check", None),
        (staff, "rework", "照片不清楚"),
        (staff, "dispatch", None),
        (worker, "sign", None),
        (worker, "start", None),
        (worker, "handle", None),
        (staff, "check", None),
        (staff, "close", None),
        (staff, "evaluate", None),
    ]
    for headers, action, reason in steps:
        r = act(client, headers, case, action, reason=reason)
        assert r.status_code == 200, (action, r.text)
        assert r.headers["etag"] == f'"{case["version"] + 1}"'
        case = r.json()
    assert case["status"] == "evaluated" and case["closed_at"] and case["due_at"] is None
    events = client.get(f"/incidents/{case['id']}/events", headers=staff).json()
    assert [e["action"] for e in events] == ["report"] + [a for _, a, _ in steps]
    assert events[8]["reason"] == "照片不清楚"
    ended = [e["data"]["step"] for e in events if e["data"] and "step" in e["data"]]
    assert ended[:4] == ["accept", "dispatch", "sign", "handle"]
    with engine.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM incident_events WHERE incident_id = :i"), {"i": case["id"]}
        ).scalar()
    assert n == len(steps) + 1


def test_branches_return_park_resume_self_handle_void(client, test_db, worker_headers):
    staff = test_db.headers("dispatcher")
    worker, where = worker_headers
    case = new_case(client, where)
    for headers, action, reason in [
        (staff, "accept", None),
        (staff, "file", None),
        (staff, "dispatch", None),
        (worker, "return", "不属于本网格"),
        (staff, "dispatch", None),
        (worker, "sign", None),
    ]:
        case = act(client, headers, case, action, reason=reason).json()
    assert case["status"] == "signed"
    parked = new_case(client)
    for action, reason in [("accept", None), ("park", "季节性问题"), ("resume", None)]:
        parked = act(client, staff, parked, action, reason=reason).json()
    assert parked["status"] == "filed" and parked["due_at"]
    fixed = act(client, worker, new_case(client, where), "self_handle")
    assert fixed.status_code == 200 and fixed.json()["status"] == "self_handled"
    assert act(client, staff, fixed.json(), "check").json()["status"] == "checking"
    void = act(client, staff, new_case(client), "void", reason="重复报送")
    assert void.json()["status"] == "void" and void.json()["closed_at"]


def test_version_in_the_body_works_too(client, test_db):
    case = new_case(client)
    r = act(client, test_db.headers("dispatcher"), case, "accept", if_match=False)
    assert r.status_code == 200 and r.json()["version"] == 2


@pytest.mark.parametrize(
    ("role", "action", "status", "code"),
    [
        ("grid_worker", "accept", 403, "action_not_allowed"),
        ("dispatcher", "sign", 403, "action_not_allowed"),
        ("dispatcher", "close", 409, "invalid_transition"),
        ("dispatcher", "teleport", 422, "unknown_action"),
        ("dispatcher", "void", 400, "reason_required"),
    ],
)
def test_refusals(client, test_db, engine, worker_headers, role, action, status, code):
    case = new_case(client, worker_headers[1])  # in the grid worker's own cell
    r = act(client, test_db.headers(role), case, action)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    if code == "invalid_transition":
        assert r.json()["allowed"] == ["accept", "void", "escalate", "hand_down", "supervise"]
        assert r.json()["case_status"] == "reported"
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT i.version, i.status, (SELECT count(*) FROM incident_events e "
                "WHERE e.incident_id = i.id) AS n FROM incidents i WHERE i.id = :i"
            ),
            {"i": case["id"]},
        ).one()
    assert tuple(row) == (1, "reported", 1)  # nothing written


def test_stale_version_and_missing_version(client, test_db):
    staff = test_db.headers("dispatcher")
    case = new_case(client)
    assert act(client, staff, case, "accept").status_code == 200
    stale = act(client, staff, case, "file")  # still says version 1
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert stale.json()["current_version"] == 2
    r = client.post(f"/incidents/{case['id']}/transitions", json={"action": "file"}, headers=staff)
    assert r.status_code == 428 and r.json()["code"] == "version_required"


def test_residents_and_planners_cannot_act(client, test_db):
    case = new_case(client)
    body = {"action": "accept", "version": 1}
    assert client.post(f"/incidents/{case['id']}/transitions", json=body).status_code == 401
    r = client.post(
        f"/incidents/{case['id']}/transitions", json=body, headers=test_db.headers("planner")
    )
    assert r.status_code == 403


def test_grid_workers_only_see_their_cells(client, test_db, worker_headers):
    worker, where = worker_headers
    elsewhere = new_case(client, {"lon": 104.15, "lat": 30.66})
    mine = new_case(client, where)
    assert client.get(f"/incidents/{elsewhere['id']}", headers=worker).status_code == 404
    assert client.get(f"/incidents/{mine['id']}", headers=worker).status_code == 200
    assert act(client, worker, elsewhere, "self_handle").status_code == 404


def test_extension_request_and_approval(client, test_db, worker_headers):
    staff = test_db.headers("dispatcher")
    worker, where = worker_headers
    case = new_case(client, where)
    for headers, action in [
        (staff, "accept"),
        (staff, "file"),
        (staff, "dispatch"),
        (worker, "sign"),
    ]:
        case = act(client, headers, case, action).json()
    due = case["due_at"]
    assert act(client, staff, case, "approve_extension").json()["code"] == "no_extension_request"
    r = act(client, worker, case, "request_extension", reason="需要协调", data={"amount": 60})
    assert r.status_code == 200 and r.json()["due_at"] == due
    case = r.json()
    again = act(client, worker, case, "request_extension", reason="再等等")
    assert again.status_code == 409 and again.json()["code"] == "extension_pending"
    case = act(client, staff, case, "approve_extension").json()
    assert case["due_at"] > due and case["deadlines"]["handle"]["extensions"] == 1
    bad = act(client, worker, case, "request_extension", reason="x", data={"amount": -5})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_amount"


def test_manual_escalation_goes_up_only(client, test_db):
    staff = test_db.headers("dispatcher")
    case = new_case(client)
    case = act(client, staff, case, "escalate").json()
    assert case["handling_level"] == "community" and case["escalation_count"] == 1
    case = act(client, staff, case, "escalate", data={"to_level": "district"}).json()
    assert case["handling_level"] == "district"
    r = act(client, staff, case, "escalate")
    assert r.status_code == 409 and r.json()["code"] == "cannot_escalate"


def test_dispatch_to_a_named_worker_checks_the_worker(client, test_db, engine):
    staff = test_db.headers("dispatcher")
    case = new_case(client)
    case = act(client, staff, act(client, staff, case, "accept").json(), "file").json()
    with engine.connect() as conn:
        off = conn.execute(text("SELECT id FROM workers WHERE NOT on_duty LIMIT 1")).scalar()
        on = conn.execute(text("SELECT id FROM workers WHERE on_duty AND id > 1 LIMIT 1")).scalar()
    r = act(client, staff, case, "dispatch", data={"worker_id": off})
    assert r.status_code == 409 and r.json()["code"] == "worker_off_duty"
    r = act(client, staff, case, "dispatch", data={"worker_id": 10**8})
    assert r.status_code == 404 and r.json()["code"] == "worker_not_found"
    r = act(client, staff, case, "dispatch", data={"worker_id": on})
    assert r.status_code == 200 and r.json()["assignee"]["id"] == on

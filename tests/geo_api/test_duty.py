"""Cases go to a worker on duty: the cell's own, its substitute, or the nearest of the community."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.sla import sweep
from layers.tables.grid_cells import live
from tests.geo_api.planning_helpers import draft_cells, new_draft, put_cells
from tests.geo_api.planning_split import find_split_case, new_l1_code, split

CASE = {"category": "0102", "channel": "hotline_96966", "description": "暴露垃圾"}


@dataclass(frozen=True)
class Community:
    """A community with two level-1 cells A and B, each with its worker, and a floating worker.

    The floating worker (F) has no cell of their own and a lower id than B's worker,
    so "nearest" and "lowest id" disagree.
    """

    code: str
    a: str
    b: str
    wa: int
    wb: int
    wf: int
    lon: float
    lat: float

    @property
    def everyone(self) -> dict[int, bool]:
        """All three on duty."""
        return {self.wa: True, self.wb: True, self.wf: True}


@pytest.fixture(scope="module")
def community(client, test_db, engine) -> Community:
    """Split a one-cell community's level-1 cell in two (published), staff both halves."""
    case = find_split_case(engine)
    planner = test_db.headers("planner")
    rid = new_draft(client, planner, community=case.community)
    fc = split(draft_cells(client, planner, rid), case)
    assert put_cells(client, planner, rid, fc).status_code == 200
    assert client.post(f"/planning/revisions/{rid}/publish", headers=planner).status_code == 200
    b = new_l1_code(case)
    with engine.begin() as conn:
        wb = conn.execute(
            text(
                "INSERT INTO workers (code, name, level, cell_code, community_id) "
                "SELECT 'W' || :b, '新网格员', 1, :b, id FROM communities WHERE code = :c "
                "RETURNING id"
            ),
            {"b": b, "c": case.community},
        ).scalar_one()
        wf = conn.execute(
            text(
                "UPDATE workers SET cell_code = NULL, community_id = "
                "(SELECT id FROM communities WHERE code = :c) WHERE id = (SELECT min(w.id) FROM"
                " workers w JOIN communities m ON m.id = w.community_id WHERE w.level = 1 AND w.id > 1"
                " AND m.code <> :c) RETURNING id"
            ),
            {"c": case.community},
        ).scalar_one()
        a = conn.execute(
            text(
                "SELECT w.id, ST_X(ST_PointOnSurface(g.geom)) AS lon,"
                " ST_Y(ST_PointOnSurface(g.geom)) AS lat FROM grid_cells g JOIN workers w"
                " ON w.level = 1 AND w.cell_code = g.code WHERE g.level = 1"
                f" AND {live('g')} AND g.code = :a"
            ),
            {"a": case.a},
        ).one()
    assert wf < wb
    return Community(case.community, case.a, b, a.id, wb, wf, a.lon, a.lat)


def set_duty(engine, on: dict[int, bool], substitute: dict[int, int | None] | None = None):
    with engine.begin() as conn:
        for worker, flag in on.items():
            conn.execute(
                text("UPDATE workers SET on_duty = :f WHERE id = :w"), {"f": flag, "w": worker}
            )
        for worker, sub in (substitute or {}).items():
            conn.execute(
                text("UPDATE workers SET substitute_id = :s WHERE id = :w"), {"s": sub, "w": worker}
            )


def report(client, test_db, c: Community) -> dict:
    r = client.post(
        "/incidents",
        json={**CASE, "location": {"lon": c.lon, "lat": c.lat}},
        headers=test_db.headers("dispatcher"),
    )
    assert r.status_code == 201, r.text
    return r.json()


def report_event(client, test_db, case_id) -> dict:
    events = client.get(f"/incidents/{case_id}/events", headers=test_db.headers("dispatcher"))
    return events.json()[0]["data"]


def act(client, test_db, case: dict, action: str) -> dict:
    r = client.post(
        f"/incidents/{case['id']}/transitions",
        json={"action": action, "version": case["version"]},
        headers=test_db.headers("dispatcher"),
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_intake_gives_the_case_to_someone_on_duty(client, test_db, engine, community):
    c = community
    set_duty(engine, c.everyone, {c.wa: None})
    case = report(client, test_db, c)
    assert case["location"]["l1"]["code"] == c.a
    assert case["assignee"]["id"] == c.wa and case["assignment_reason"] == "responsible"
    assert report_event(client, test_db, case["id"])["assignment_reason"] == "responsible"

    set_duty(engine, {c.wa: False}, {c.wa: c.wf})  # off duty, with a substitute configured
    case = report(client, test_db, c)
    assert case["assignee"]["id"] == c.wf and case["assignee"]["on_duty"]
    assert case["assignment_reason"] == "substitute"
    data = report_event(client, test_db, case["id"])
    assert data["assignee_worker_id"] == c.wf and data["assignment_reason"] == "substitute"
    assert data["responsible_worker_id"] == c.wa

    set_duty(engine, {}, {c.wa: None})  # no substitute: the worker of the nearest cell
    case = report(client, test_db, c)
    assert case["assignee"]["id"] == c.wb and case["assignment_reason"] == "nearest_on_duty"
    assert report_event(client, test_db, case["id"])["responsible_worker_id"] == c.wa

    set_duty(engine, {c.wb: False})  # then anyone of the community on duty
    case = report(client, test_db, c)
    assert case["assignee"]["id"] == c.wf and case["assignment_reason"] == "nearest_on_duty"

    set_duty(engine, {c.wf: False})  # nobody on duty
    case = report(client, test_db, c)
    assert case["assignee"] is None and case["assignment_reason"] == "none"
    set_duty(engine, c.everyone)


def test_dispatch_and_escalation_reassign_off_duty_assignees(client, test_db, engine, community):
    c = community
    set_duty(engine, c.everyone, {c.wa: c.wb})
    case = report(client, test_db, c)
    assert case["assignee"]["id"] == c.wa

    set_duty(engine, {c.wa: False})
    for action in ("accept", "file", "dispatch"):
        case = act(client, test_db, case, action)
    assert case["assignee"]["id"] == c.wb and case["assignment_reason"] == "substitute"
    staff = test_db.headers("dispatcher")
    events = client.get(f"/incidents/{case['id']}/events", headers=staff).json()
    assert events[-1]["data"]["reassigned"] == {"from": c.wa, "to": c.wb, "reason": "substitute"}

    # The substitute leaves before the sign step runs out: the sweep's escalation moves the case.
    set_duty(engine, {c.wb: False})
    due = datetime.fromisoformat(case["due_at"])
    with Session(engine) as session:
        assert sweep(session=session, now=due + timedelta(minutes=1)).escalated >= 1
        session.commit()
    case = client.get(f"/incidents/{case['id']}", headers=staff).json()
    assert case["handling_level"] == "community"
    assert case["assignee"]["id"] == c.wf and case["assignment_reason"] == "nearest_on_duty"
    escalation = client.get(f"/incidents/{case['id']}/events", headers=staff).json()[-1]
    assert escalation["action"] == "escalate"
    assert escalation["data"]["reassigned"] == {
        "from": c.wb,
        "to": c.wf,
        "reason": "nearest_on_duty",
    }

    # A manual escalation reassigns too once the assignee is off duty.
    set_duty(engine, {c.wf: False, c.wa: True})
    case = act(client, test_db, case, "escalate")
    assert case["handling_level"] == "street"
    assert case["assignee"]["id"] == c.wa and case["assignment_reason"] == "responsible"
    # An on-duty assignee keeps the case.
    set_duty(engine, {c.wb: True})
    case = act(client, test_db, case, "escalate")
    assert case["assignee"]["id"] == c.wa
    set_duty(engine, c.everyone, {c.wa: None})


def test_the_impact_preview_names_off_duty_workers(client, test_db, engine, community):
    c = community
    set_duty(engine, {**c.everyone, c.wa: False}, {c.wa: c.wb})
    planner = test_db.headers("planner")
    rid = new_draft(client, planner, community=c.code)
    r = client.get(f"/planning/revisions/{rid}/impact", headers=planner)
    assert r.status_code == 200, r.text
    off = r.json()["workers_off_duty"]
    assert off == [
        {
            "cell_code": c.a,
            "worker_id": c.wa,
            "worker_name": off[0]["worker_name"],
            "stand_in_id": c.wb,
            "stand_in_name": "新网格员",
            "stand_in_reason": "substitute",
        }
    ]
    assert off[0]["worker_name"]
    set_duty(engine, c.everyone, {c.wa: None})

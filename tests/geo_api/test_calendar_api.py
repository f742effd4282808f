"""The working-day calendar over HTTP: staff read it, admins override days, deadlines follow."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from grids.cases.intake import NewCase, report_case
from grids.cases.sla import sweep
from grids.cases.workflow import transition
from layers.tables.clocks import LOCAL_TZ
from tests.conftest import TEST_NOW


def cst(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=LOCAL_TZ)


def test_staff_read_the_official_calendar(client, test_db):
    r = client.get(
        "/calendar",
        params={"from": "2026-09-30", "to": "2026-10-11"},
        headers=test_db.headers("dispatcher"),
    )
    assert r.status_code == 200, r.text
    days = {d["date"]: d for d in r.json()}
    assert len(days) == 12
    assert not days["2026-10-05"]["is_working_day"]  # National Day week
    assert days["2026-10-10"]["is_working_day"] and days["2026-10-10"]["source"] == "official"
    assert not days["2026-10-11"]["is_working_day"]
    bad = client.get(
        "/calendar",
        params={"from": "2026-01-01", "to": "2027-06-01"},
        headers=test_db.headers("dispatcher"),
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_date_range"


def test_only_admins_edit_overrides(client, test_db):
    body = {"is_working_day": False}
    for role, status in (("resident", 401), ("dispatcher", 403), ("planner", 403)):
        r = client.put("/calendar/overrides/2026-12-02", json=body, headers=test_db.headers(role))
        assert r.status_code == status, role
    r = client.put(
        "/calendar/overrides/2026-12-02",
        json={"is_working_day": "sometimes"},
        headers=test_db.headers("admin"),
    )
    assert r.status_code == 422


def _make_monday_a_rest_day(client, admin: dict[str, str], engine) -> None:
    """Monday 2 November 2026 becomes a local rest day: listed, in the calendar, audited."""
    r = client.put(
        "/calendar/overrides/2026-11-02",
        json={"is_working_day": False, "note": "区运动会调休"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["note"] == "区运动会调休" and r.json()["updated_by"]
    listed = client.get("/calendar/overrides", headers=admin).json()
    assert [o["date"] for o in listed] == ["2026-11-02"]
    day = client.get(
        "/calendar", params={"from": "2026-11-02", "to": "2026-11-02"}, headers=admin
    ).json()[0]
    assert day == {
        "date": "2026-11-02",
        "is_working_day": False,
        "source": "override",
        "note": "区运动会调休",
    }
    with engine.connect() as conn:
        audited = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE entity = 'calendar_overrides'")
        ).scalar()
    assert audited == 1


def _dispatched_case(session: Session, staff: Actor):
    """A case reported at TEST_NOW and dispatched five minutes a step; (case, its version)."""
    case = report_case(
        session=session,
        case=NewCase(104.1, 30.68, "wgs84", "0102", "hotline_96966", "暴露垃圾"),
        actor=staff,
        now=TEST_NOW,
    ).incident
    session.commit()
    version, at = case.version, TEST_NOW
    for action in ("accept", "file", "dispatch"):
        at += timedelta(minutes=5)
        version = transition(
            session=session,
            incident_id=case.id,
            action=action,
            actor=staff,
            expected_version=version,
            now=at,
        ).incident.version
    return case, version


def test_an_override_moves_the_deadlines_that_start_after_it(client, test_db, engine):
    admin = test_db.headers("admin")
    _make_monday_a_rest_day(client, admin, engine)

    staff = Actor("tester", "dispatcher")
    with Session(engine) as session:
        case, version = _dispatched_case(session, staff)
        # Signed on Sunday 1 November: one working day is Tuesday, not the Monday off.
        signed = transition(
            session=session,
            incident_id=case.id,
            action="sign",
            actor=Actor("worker", "grid_worker", worker_id=case.assignee_worker_id),
            expected_version=version,
            now=cst(11, 1, 14),
        ).incident
        assert signed.due_at == cst(11, 3, 18)
        session.commit()
        # The sweep's escalation starts a fresh handling deadline on the same calendar.
        sweep(session=session, now=cst(11, 3, 18) + timedelta(minutes=1))
        session.commit()
        session.refresh(signed)
        assert signed.escalation_count == 1 and signed.due_at == cst(11, 4, 18)

    r = client.delete("/calendar/overrides/2026-11-02", headers=admin)
    assert r.status_code == 204
    assert client.delete("/calendar/overrides/2026-11-02", headers=admin).status_code == 404
    assert client.get("/calendar/overrides", headers=admin).json() == []

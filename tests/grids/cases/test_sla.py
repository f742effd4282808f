"""The SLA sweep: warn at 80 %, escalate at 100 % and again, idempotent, one at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from geo_api.cli import app as cli
from grids.cases.access import Actor
from grids.cases.intake import NewCase, report_case
from grids.cases.sla import sweep
from layers.tables.incidents import Incident

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 local on a Thursday


@pytest.fixture(scope="module")
def case_id(engine) -> int:
    with Session(engine) as session:
        result = report_case(
            session=session,
            case=NewCase(104.1, 30.68, "wgs84", "0102", "hotline_96966", "暴露垃圾"),
            actor=Actor("tester", "dispatcher"),
            now=T0,
        )
        session.commit()
        return result.incident.id


def run(engine, minutes: float):
    with Session(engine) as session:
        report = sweep(session=session, now=T0 + timedelta(minutes=minutes))
        session.commit()
        return report


def trail(engine, case_id):
    with engine.connect() as conn:
        events = conn.execute(
            text(
                "SELECT action, role, data FROM incident_events WHERE incident_id = :i "
                "AND role = 'system' ORDER BY id"
            ),
            {"i": case_id},
        ).all()
        case = conn.execute(
            text(
                "SELECT handling_level, escalation_count, due_at, warned_at, version "
                "FROM incidents WHERE id = :i"
            ),
            {"i": case_id},
        ).one()
    return [e.action for e in events], events, case


def test_warn_escalate_and_again_idempotently(engine, case_id):
    run(engine, 10)
    assert trail(engine, case_id)[0] == []
    run(engine, 25)  # 30 min limit: 80 % at 24 min
    actions, events, case = trail(engine, case_id)
    assert actions == ["warn"] and events[0].data["step"] == "accept"
    assert case.warned_at is not None and case.version == 1
    run(engine, 25)
    assert trail(engine, case_id)[0] == ["warn"]  # twice changes nothing more
    run(engine, 31)
    actions, events, case = trail(engine, case_id)
    assert actions == ["warn", "escalate"]
    assert events[1].data["from_level"] == "grid" and events[1].data["to_level"] == "community"
    assert case.handling_level == "community" and case.escalation_count == 1
    assert case.due_at == T0 + timedelta(minutes=61) and case.warned_at is None
    assert case.version == 2
    run(engine, 31)
    assert trail(engine, case_id)[0] == ["warn", "escalate"]
    run(engine, 62)  # the second overrun: warn (80 % passed unseen) and escalate again
    actions, events, case = trail(engine, case_id)
    assert actions == ["warn", "escalate", "warn", "escalate"]
    assert case.handling_level == "street" and case.escalation_count == 2
    run(engine, 500)  # the third overrun reaches the district centre, where it stops
    actions, _, case = trail(engine, case_id)
    assert actions.count("escalate") == 3 and case.handling_level == "district"
    run(engine, 500)
    assert trail(engine, case_id)[0] == actions


def test_a_running_sweep_makes_others_skip(engine):
    with Session(engine) as holder, Session(engine) as other:
        holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x5A6E_5357})
        assert sweep(session=other, now=T0).skipped
        holder.rollback()


def test_cli_sweep(test_db, engine, monkeypatch):
    with Session(engine) as session:
        fresh = report_case(
            session=session,
            case=NewCase(104.12, 30.69, "wgs84", "0404", "hotline_96966", "井盖缺失"),
            actor=Actor("tester", "dispatcher"),
            now=T0,
        ).incident.id
        session.commit()
    monkeypatch.setenv("WANGGE_DATABASE_URL", test_db.url)
    later = (T0 + timedelta(days=1)).isoformat()
    result = CliRunner().invoke(cli, ["sla", "sweep", "--now", later])
    assert result.exit_code == 0, result.output
    assert "escalated" in result.output
    with Session(engine) as session:
        assert session.get(Incident, fresh).handling_level == "community"
    again = CliRunner().invoke(cli, ["sla", "sweep", "--now", later])
    assert "0 warned, 0 escalated" in again.output
    naive = CliRunner().invoke(cli, ["sla", "sweep", "--now", "2026-11-27T00:00:00"])
    assert naive.exit_code != 0


def test_a_case_someone_is_changing_is_left_for_the_next_sweep(engine):
    start = T0 + timedelta(days=2)
    with Session(engine) as session:
        busy, free = (
            report_case(
                session=session,
                case=NewCase(104.1, 30.68, "wgs84", "0102", "hotline_96966", text_),
                actor=Actor("tester", "dispatcher"),
                now=start,
            ).incident.id
            for text_ in ("占道经营", "乱堆乱放")
        )
        session.commit()
    later = start + timedelta(days=2)
    levels = "SELECT id, handling_level FROM incidents WHERE id IN (:a, :b)"
    with Session(engine) as holder:  # a user's transaction holds the busy case
        holder.execute(text("SELECT 1 FROM incidents WHERE id = :i FOR UPDATE"), {"i": busy})
        with Session(engine) as session:
            sweep(session=session, now=later)
            session.commit()
        holder.rollback()
    with engine.connect() as conn:
        assert dict(conn.execute(text(levels), {"a": busy, "b": free}).all()) == {
            busy: "grid",
            free: "community",
        }
    with Session(engine) as session:
        sweep(session=session, now=later)
        session.commit()
    with engine.connect() as conn:
        assert dict(conn.execute(text(levels), {"a": busy, "b": free}).all()) == {
            busy: "community",
            free: "community",
        }

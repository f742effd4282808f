"""Intake's group commit: one statement writes what `report_case` writes, once per key."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import text

from grids.cases.access import Actor
from grids.cases.intake import NewCase, report_case
from grids.cases.intake_replay import replay_batch
from grids.cases.intake_statement import prepare, write_batch
from layers.store.db import make_engine, make_sessionmaker
from tests.conftest import TEST_NOW

RESIDENT = Actor(name="居民", role="resident")
NOW = TEST_NOW + timedelta(days=3)


def _case(description: str, lon: float = 104.1) -> NewCase:
    return NewCase(
        lon=lon,
        lat=30.68,
        crs="wgs84",
        category_code="0102",
        channel_code="resident_app",
        description=description,
        reporter_name="李四",
        reporter_phone="13800001111",
    )


@pytest.fixture(scope="module")
def sessions(test_db):
    """Autocommit sessions on the module's database, as the route's batcher uses them."""
    engine = make_engine(test_db.url, pool_size=1, autocommit=True)
    yield make_sessionmaker(engine)
    engine.dispose()


def _prepared(session, case: NewCase, key: str | None, client: str = "c1"):
    return prepare(
        session=session,
        case=case,
        actor=RESIDENT,
        idempotency_key=key,
        tolerance_m=None,
        now=NOW,
        client=client,
    )


_ROW = text(
    "SELECT category_code, channel_code, status, urgency, description, reporter_name,"
    " ST_AsText(geom) AS geom, reported_crs, revision_id, l1_cell_id, l2_cell_id, l3_cell_id,"
    " community_id, street_id, locate_method, assignee_worker_id, assignment_reason,"
    " handling_level, unit_id, due_at, deadlines, created_at, version,"
    " (SELECT array_agg(e.action || ':' || e.role || ':' || e.to_status || ':' || e.data::text)"
    "  FROM incident_events e WHERE e.incident_id = i.id) AS events"
    " FROM incidents i WHERE id = :id"
)


def test_a_batch_writes_each_case_as_report_case_does_and_one_per_key(sessions, engine):
    with sessions() as s:
        first = _prepared(s, _case("batch 甲"), "k-1")
        retry = _prepared(s, _case("batch 甲"), "k-1")  # the same request again, same batch
        other = _prepared(s, _case("batch 乙", lon=104.1002), None)
        results = write_batch(session=s, items=[first, retry, other])
        assert results[0] is not None and results[1] is None and results[2] is not None
        (replayed,) = replay_batch(session=s, items=[retry])
    assert replayed is not None and replayed.replayed
    assert replayed.incident.id == results[0].incident.id
    assert replayed.token == results[0].token
    with engine.begin() as conn:
        key = conn.execute(
            text("SELECT incident_id, case_token FROM idempotency_keys WHERE key = 'k-1'")
        ).one()
        assert tuple(key) == (results[0].incident.id, results[0].token)
        batch_row = conn.execute(_ROW, {"id": results[2].incident.id}).one()._asdict()
    # The same report through the ordinary path: the same row, the same event.
    with make_sessionmaker(engine)() as s:
        ordinary = report_case(
            session=s, case=_case("batch 乙", lon=104.1002), actor=RESIDENT, now=NOW, client="c1"
        )
        s.commit()
    with engine.connect() as conn:
        ordinary_row = conn.execute(_ROW, {"id": ordinary.incident.id}).one()._asdict()
    assert batch_row == ordinary_row
    assert batch_row["unit_id"] is not None and batch_row["due_at"] is not None
    assert results[2].incident.unit_id == batch_row["unit_id"]
    assert results[2].incident.deadlines == batch_row["deadlines"]
    assert len(batch_row["events"]) == 1 and "assignment_reason" in batch_row["events"][0]
    # The answer names the second case of the pair as a likely duplicate of the first.
    assert results[2].incident.id in ordinary.duplicates


def test_a_grid_that_moved_on_writes_nothing(sessions, engine):
    def count() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()

    before = count()
    with sessions() as s:
        item = _prepared(s, _case("stale grid"), "k-stale")
        stale = dataclasses.replace(item, version=item.version - 1)
        assert write_batch(session=s, items=[stale]) == [None]
        assert replay_batch(session=s, items=[stale]) == [None]
    assert count() == before

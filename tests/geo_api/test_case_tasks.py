"""The server's background work: the periodic SLA sweep runs when configured, not by default."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, pool, text

from geo_api.app import create_app
from geo_api.settings import Settings
from grids.config import CaseSettings
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK, clone_database, drop_database


def _overdue_case(engine) -> int:
    """A fresh case whose accept step ran out an hour ago."""
    with engine.begin() as conn:
        case_id = conn.execute(
            text(
                "SELECT max(id) FROM incidents WHERE status IN ('filed', 'dispatched', 'signed') "
                "AND handling_level = 'grid' AND escalation_count = 0"
            )
        ).scalar()
        assert case_id is not None
        conn.execute(
            text("UPDATE incidents SET due_at = :t, created_at = :c WHERE id = :i"),
            {
                "t": TEST_CLOCK() - timedelta(hours=1),
                "c": TEST_CLOCK() - timedelta(hours=2),
                "i": case_id,
            },
        )
    return case_id


def test_the_periodic_sweep_escalates_inside_the_server(server_url, template_db):
    db = clone_database(server_url, template_db, "sweep")
    engine = create_engine(db.url, poolclass=pool.NullPool)
    try:
        case_id = _overdue_case(engine)
        settings = Settings(
            db=DatabaseSettings(database_url=db.url), cases=CaseSettings(sla_sweep_seconds=0.2)
        )
        with TestClient(create_app(settings, clock=TEST_CLOCK)):
            deadline = time.monotonic() + 15
            level = "grid"
            while level == "grid" and time.monotonic() < deadline:
                time.sleep(0.2)
                with engine.connect() as conn:
                    level = conn.execute(
                        text("SELECT handling_level FROM incidents WHERE id = :i"), {"i": case_id}
                    ).scalar()
        assert level == "community"
    finally:
        engine.dispose()
        drop_database(server_url, db.url.rsplit("/", 1)[1])


def test_no_sweep_unless_configured(app, client, engine):
    assert app.state.settings.cases.sla_sweep_seconds == 0
    _, threads = app.state.case_tasks
    assert [t.name for t in threads] == ["wangge-grid-listen"]

"""A database that is down: 503 `database_unavailable` with Retry-After, logged once."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from geo_api.app import create_app
from geo_api.settings import Settings
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK
from tests.live_server import free_port

WANGGE_LOGGERS = ("geo_api", "layers", "grids", "uvicorn")


def _ours(record: logging.LogRecord) -> bool:
    return record.name.split(".")[0] in WANGGE_LOGGERS


@pytest.fixture
def dead_db_client():
    """The app wired to a database port where nothing listens."""
    url = f"postgresql+psycopg2://wangge:s3cret-pw@127.0.0.1:{free_port()}/wangge"
    app = create_app(Settings(db=DatabaseSettings(database_url=url)), clock=TEST_CLOCK)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_requests_while_the_database_is_down_answer_503_and_log_once(
    dead_db_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    with caplog.at_level(logging.INFO):
        answers = [dead_db_client.get("/open311/v2/services.json") for _ in range(20)]
    for resp in answers:
        assert resp.status_code == 503, resp.text
        assert resp.headers["retry-after"].isdigit()
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["code"] == "database_unavailable"
        assert "s3cret-pw" not in resp.text and "127.0.0.1" not in resp.text
    ours = [r for r in caplog.records if _ours(r) and r.levelno >= logging.WARNING]
    assert not [r for r in ours if r.exc_info], "no traceback for an outage"
    assert len([r for r in ours if "database unavailable" in r.getMessage()]) <= 1
    assert len(ours) <= 1, [r.getMessage() for r in ours]


def test_health_tells_anonymous_callers_only_unavailable(dead_db_client: TestClient) -> None:
    resp = dead_db_client.get("/health")
    assert resp.status_code == 503
    assert resp.json() == {"status": "unavailable", "database": "unreachable"}
    assert resp.headers["retry-after"].isdigit()

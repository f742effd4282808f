"""Logs carry no personal data: no SQL parameters, no coordinates to the metre, no case tokens."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest
from sqlalchemy import text

from geo_api.app import create_app
from geo_api.middleware.log_redaction import redact_target
from geo_api.settings import Settings
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK
from tests.live_server import serve_in_thread

LON, LAT = "104.100731", "30.680417"  # a resident's position, to the decimetre
SECRETS = {
    "description": "楼下邻居每晚十点后吵架 unique-desc-7f3a",
    "reporter_name": "王秀英",
    "reporter_phone": "13912345678",
}


@pytest.fixture
def refusing_incidents(engine):
    """Inserting a case fails the way bad data does, quoting the value and the row.

    PostgreSQL's own messages do that (``invalid input syntax for type …: "<value>"``,
    ``Failing row contains (…)``); a trigger makes it happen on demand.
    """
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  RAISE EXCEPTION USING ERRCODE = '22P02',
                    MESSAGE = 'invalid input syntax: "' || NEW.description || '"',
                    DETAIL = 'Failing row contains ' || NEW::text;
                END $$;
                CREATE TRIGGER test_refuse BEFORE INSERT ON incidents
                  FOR EACH ROW EXECUTE FUNCTION test_refuse();
                """
            )
        )
    yield
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER test_refuse ON incidents; DROP FUNCTION test_refuse()"))


def test_a_failed_statement_is_logged_without_its_values(
    client, refusing_incidents, caplog: pytest.LogCaptureFixture
) -> None:
    key = f"idem-{uuid.uuid4()}"
    case = {
        "location": {"lon": float(LON), "lat": float(LAT)},
        "category": "0102",
        "channel": "resident_app",
        **SECRETS,
    }
    caplog.set_level(logging.INFO)
    resp = client.post("/incidents", json=case, headers={"Idempotency-Key": key})
    assert resp.status_code == 500
    assert resp.json()["code"] == "internal_error"
    logged = caplog.text
    assert "database error on POST /incidents" in logged and "SQLSTATE 22P02" in logged
    for secret in (*SECRETS.values(), key, LON, LAT):
        assert secret not in logged, secret


def test_the_access_log_rounds_coordinates_and_hides_tokens(
    test_db, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings(db=DatabaseSettings(database_url=test_db.url)), clock=TEST_CLOCK)
    token = "tok-" + uuid.uuid4().hex
    targets = [
        f"/locate?lon={LON}&lat={LAT}",
        f"/residents/nearby?lat={LAT}&lon={LON}",
        f"/ogc/collections/streets/items?bbox={LON},{LAT},104.2,30.7&limit=1",
        f"/open311/v2/tokens/{token}.json",
    ]
    access = logging.getLogger("uvicorn.access")
    with serve_in_thread(app, log_level="info") as base:
        access.addHandler(caplog.handler)
        try:
            with caplog.at_level(logging.INFO, logger="uvicorn.access"):
                for target in targets:
                    httpx.get(base + target, timeout=30)
        finally:
            access.removeHandler(caplog.handler)
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert len(lines) == len(targets), lines
    assert "lon=104.10&lat=30.68" in lines[0] and "/tokens/[redacted].json" in lines[3]
    for line in lines:
        for secret in (LON, LAT, token):
            assert secret not in line, line


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/locate?lon=104.100731&lat=30.680417&at=2026", "/locate?lon=104.10&lat=30.68&at=2026"),
        ("/open311/v2/tokens/abc123.xml", "/open311/v2/tokens/[redacted].xml"),
        ("/x?token=abc&lat=nan-ish", "/x?token=[redacted]&lat=[redacted]"),
        ("/dispatch/queue?street=%E5%BB%BA", "/dispatch/queue?street=%E5%BB%BA"),
        ("/o?bbox=104.1234,30.6789,104.2,30.7", "/o?bbox=104.12,30.68,104.20,30.70"),
    ],
)
def test_redacted_targets(target: str, logged: str) -> None:
    assert redact_target(target) == logged

"""Moments PostgreSQL or the calendar cannot take are a 4xx with a code, not a 500.

Python parses a UTC offset up to ±23:59 and the years 1–9999; PostgreSQL's
timestamptz takes offsets up to ±15:59, and the years at the calendar's ends
overflow the first `± timedelta`.  One check (`layers.core.moments`) serves every face.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.geo_api.bad_input_helpers import row_counts

BEYOND = ["2026-10-01T00:00:00+16:00", "2026-10-01T00:00:00-16:30", "0001-01-01T00:00:00+01:00"]
ROUTES = [
    ("resident", "/grid/cells?level=1&at={t}", 422, "invalid_request"),
    ("dispatcher", "/analytics/kpis?from={t}", 422, "invalid_request"),
    ("dispatcher", "/analytics/hotspots?end={t}", 422, "invalid_request"),
    ("resident", "/locate?lon=104.1&lat=30.68&at={t}", 422, "invalid_request"),
    ("resident", "/ogc/collections/grid_cells_l1/items?datetime={t}", 400, "invalid_datetime"),
    ("resident", "/ogc/collections/grid_cells_l1/items?datetime=../{t}", 400, "invalid_datetime"),
    ("dispatcher", "/ogc/collections/incidents/items?created_at={t}", 400, "invalid_parameter"),
]


@pytest.mark.parametrize("moment", BEYOND)
@pytest.mark.parametrize(("role", "url", "status", "code"), ROUTES)
def test_a_moment_beyond_what_postgresql_takes_is_refused(
    client: TestClient, test_db, engine: Engine, moment, role, url, status, code
) -> None:
    before = row_counts(engine)
    resp = client.get(url.format(t=quote(moment)), headers=test_db.headers(role))
    assert resp.status_code == status, resp.text
    assert resp.json()["code"] == code
    assert row_counts(engine) == before


def test_a_cql2_timestamp_beyond_the_offsets_is_refused(client: TestClient, test_db) -> None:
    cql = "created_at > TIMESTAMP('2026-10-01T00:00:00+16:00')"
    resp = client.get(
        "/ogc/collections/incidents/items",
        params={"filter": cql},
        headers=test_db.headers("dispatcher"),
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "invalid_filter"


def test_open311_dates_beyond_the_offsets_are_its_400(client: TestClient) -> None:
    resp = client.get(
        "/open311/v2/requests.json", params={"start_date": "2026-10-01T00:00:00+16:00"}
    )
    assert resp.status_code == 400, resp.text
    assert "UTC offset" in resp.json()[0]["description"]


def test_offsets_postgresql_takes_still_work(client: TestClient, test_db) -> None:
    ok = quote("2026-10-01T00:00:00+14:00")
    assert client.get(f"/grid/cells?level=1&at={ok}").status_code == 200
    url = f"/ogc/collections/grid_cells_l1/items?limit=1&datetime={ok}"
    assert client.get(url).status_code == 200

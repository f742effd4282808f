"""Every parameter that scales work is bounded: beyond a bound, 422 with a code, nothing run.

The bounds are settings (`WANGGE_LIMIT_*`, `layers.core.limit_settings`); the tests use
the defaults where a natural request crosses them and a lowered bound otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo_api.app import create_app
from geo_api.settings import Settings
from layers.core.limit_settings import LimitSettings
from layers.store.settings import DatabaseSettings
from tests.conftest import TEST_CLOCK


def _work_done(engine: Engine) -> tuple[int, int]:
    """Derived-layer cache rows and recomputations audited: what any analysis leaves behind."""
    with engine.connect() as c:
        return (
            c.execute(text("SELECT count(*) FROM derived_cache")).scalar_one(),
            c.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'recompute'")
            ).scalar_one(),
        )


def _refused(resp, parameter: str) -> dict:
    assert resp.status_code == 422, resp.text[:300]
    body = resp.json()
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "limit_exceeded" and body["parameter"] == parameter, body
    assert body["value"] > body["limit"]
    return body


@pytest.fixture(scope="module")
def tight(test_db) -> Iterator[TestClient]:
    """The app with lowered bounds, for the bounds no natural demo request crosses."""
    limits = LimitSettings(h3_resolution=8, siting_views=10, locate_batch_points=2)
    settings = Settings(db=DatabaseSettings(database_url=test_db.url), limits=limits)
    with TestClient(create_app(settings, clock=TEST_CLOCK)) as c:
        yield c


def test_the_issue_request_is_refused_at_once(client, test_db, engine) -> None:
    """`resolution=12&permutations=99999` by a grid worker burned 100 s of CPU."""
    before = _work_done(engine)
    started = time.perf_counter()
    resp = client.get(
        "/analytics/hotspots?resolution=12&permutations=99999",
        headers=test_db.headers("grid_worker"),
    )
    assert time.perf_counter() - started < 5
    _refused(resp, "resolution")
    assert _work_done(engine) == before


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("resolution=11", "resolution"),
        ("resolution=5&permutations=10000", "permutations"),
        ("resolution=10&permutations=9999&inference=permutation", "cells × permutations"),
    ],
)
def test_hotspot_bounds(client, test_db, engine, query: str, parameter: str) -> None:
    before = _work_done(engine)
    body = _refused(
        client.get(f"/analytics/hotspots?{query}", headers=test_db.headers("grid_worker")),
        parameter,
    )
    assert "limit" in body["detail"]
    assert _work_done(engine) == before


def test_hotspots_within_the_bounds_still_answer(client, test_db) -> None:
    resp = client.get(
        "/analytics/hotspots?resolution=10&permutations=99", headers=test_db.headers("planner")
    )
    assert resp.status_code == 200 and resp.json()["resolution"] == 10


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("resolution=11", "resolution"),
        (
            "resolution=10&interval=week&start=2025-01-06T00:00:00Z&end=2026-11-02T00:00:00Z",
            "cells × time slices",
        ),
    ],
)
def test_trend_bounds(client, test_db, engine, query: str, parameter: str) -> None:
    before = _work_done(engine)
    _refused(
        client.get(f"/analytics/trends?{query}", headers=test_db.headers("dispatcher")), parameter
    )
    assert _work_done(engine) == before


def test_the_hotspot_page_obeys_the_bounds(tight, test_db, engine) -> None:
    before = _work_done(engine)
    resp = tight.get("/maps/hotspots?resolution=9", headers=test_db.headers("planner"))
    _refused(resp, "resolution")
    assert _work_done(engine) == before


def test_siting_views_are_bounded_by_the_setting(tight, test_db, engine) -> None:
    with engine.connect() as c:
        street = c.execute(text("SELECT code FROM streets ORDER BY code LIMIT 1")).scalar_one()
    resp = tight.post(
        "/analytics/siting",
        json={"k": 2, "street": street, "azimuths": 4},
        headers=test_db.headers("planner"),
    )
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "too_many_candidates" and body["limit"] == 10


def test_locate_batches_are_bounded_by_the_setting(tight, test_db) -> None:
    csv = "lon,lat\n104.10,30.67\n104.11,30.67\n104.12,30.68\n"
    resp = tight.post(
        "/locate",
        content=csv,
        headers={"Content-Type": "text/csv", **test_db.headers("dispatcher")},
    )
    assert resp.status_code == 413 and resp.json()["code"] == "too_many_points"
    two = tight.post(
        "/locate",
        content="lon,lat\n104.10,30.67\n104.11,30.67\n",
        headers={"Content-Type": "text/csv", **test_db.headers("dispatcher")},
    )
    assert two.status_code == 200

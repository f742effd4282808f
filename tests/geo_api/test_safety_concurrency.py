"""200 transfers and escalations at once, on different cases, through a real HTTP server:
nothing is lost, nothing doubled; two dispatchers racing for one case: exactly one wins."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from geo_api.app import create_app
from geo_api.settings import DatabaseSettings, Settings
from tests.conftest import TEST_CLOCK
from tests.live_server import serve_in_thread

CASES = 200
THREADS = 12


@pytest.fixture(scope="module")
def base(test_db) -> Iterator[str]:
    app = create_app(Settings(db=DatabaseSettings(database_url=test_db.url)), clock=TEST_CLOCK)
    with serve_in_thread(app, log_level="warning") as url:
        yield url


@pytest.fixture(scope="module")
def filed(engine) -> list[int]:
    """`CASES` + 1 filed cases in one community's station queue (the trigger places them)."""
    with engine.begin() as conn:
        ids = conn.execute(
            text(
                "INSERT INTO incidents (category_code, channel_code, status, description, geom, "
                "community_id, street_id, l1_cell_id) "
                "SELECT '0102', 'hotline_96966', 'filed', '并发 ' || g, i.geom, i.community_id, "
                "i.street_id, i.l1_cell_id FROM incidents i, generate_series(0, :n) g "
                "WHERE i.id = (SELECT min(id) FROM incidents WHERE community_id IS NOT NULL) "
                "RETURNING id"
            ),
            {"n": CASES},
        ).scalars()
        return sorted(ids)


def _post(client: httpx.Client, path: str, body: dict, headers: dict) -> int:
    return client.post(path, json=body, headers=headers).status_code


def test_concurrent_transfers_and_escalations_lose_nothing(base, test_db, engine, filed):
    headers = test_db.headers("dispatcher")
    half = CASES // 2
    transfers = [
        (
            f"/incidents/{i}/transfers",
            {"lead": "cgj", "support": ["gaj"], "instruction": "并发", "version": 1},
        )
        for i in filed[:half]
    ]
    escalations = [
        (
            f"/incidents/{i}/transitions",
            {"action": "escalate", "version": 1, "data": {"to_level": "street"}},
        )
        for i in filed[half:CASES]
    ]
    jobs = [job for pair in zip(transfers, escalations, strict=True) for job in pair]
    with httpx.Client(base_url=base, timeout=60) as client, ThreadPoolExecutor(THREADS) as pool:
        codes = list(pool.map(lambda j: _post(client, j[0], j[1], headers), jobs))
    assert codes.count(201) == half and codes.count(200) == half, codes
    with engine.connect() as conn:
        parts = conn.execute(
            text(
                "SELECT incident_id, count(*) AS n, count(*) FILTER (WHERE part = 'lead') AS leads "
                "FROM case_transfers WHERE incident_id = ANY(:ids) GROUP BY incident_id"
            ),
            {"ids": filed[:half]},
        ).all()
        assert len(parts) == half and all(p.n == 2 and p.leads == 1 for p in parts)
        cases = conn.execute(
            text(
                "SELECT i.id, i.status, i.version, i.handling_level, u.level, "
                "(SELECT count(*) FROM incident_events e WHERE e.incident_id = i.id) AS events, "
                "(SELECT count(*) FROM platform_notices n WHERE n.incident_id = i.id) AS notices "
                "FROM incidents i JOIN platform_units u ON u.id = i.unit_id "
                "WHERE i.id = ANY(:ids) ORDER BY i.id"
            ),
            {"ids": filed[:CASES]},
        ).all()
    sent, moved = cases[:half], cases[half:]
    assert all(c.status == "dispatched" and c.version == 2 and c.events == 1 for c in sent)
    assert all(c.notices == 2 for c in sent)  # one per department
    assert all(
        (c.status, c.handling_level, c.level, c.version, c.events, c.notices)
        == ("filed", "street", "street", 2, 1, 2)  # escalated + informed
        for c in moved
    )


def test_two_dispatchers_racing_for_one_case_one_wins(base, test_db, engine, filed):
    case = filed[CASES]
    body = {"lead": "gaj", "instruction": "抢单", "version": 1}
    headers = test_db.headers("dispatcher")
    with httpx.Client(base_url=base, timeout=60) as client, ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(
                lambda _: _post(client, f"/incidents/{case}/transfers", body, headers), range(8)
            )
        )
    assert sorted(codes) == [201] + [409] * 7
    with engine.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM case_transfers WHERE incident_id = :i"), {"i": case}
        ).scalar()
    assert n == 1

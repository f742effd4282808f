"""Cases reported while their community is being published land on the new live grid.

A real server (uvicorn in a thread) takes reports from 8 connections while a
planner publishes a reshaping of the community they fall in; afterwards no open
case may sit on a closed cell, and `/locate` must answer from the new grid as
soon as the publish has answered — with or without the LISTEN that reloads it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from geo_api.app import create_app
from geo_api.settings import Settings
from grids.config import CaseSettings
from grids.grid.locate import live_ready
from grids.planning.publish import publish
from grids.planning.validation import ValidationOptions
from layers.store.db import make_engine, make_sessionmaker, transaction
from layers.store.settings import DatabaseSettings
from layers.tables.grid_cells import LIVE, live
from tests.conftest import TEST_CLOCK
from tests.geo_api.planning_helpers import draft_cells, new_draft, put_cells
from tests.geo_api.planning_split import SplitCase, find_split_case, split
from tests.live_server import serve_in_thread

REPORTERS = 8


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


@pytest.fixture
def base(test_db) -> Iterator[str]:
    """The app behind a real HTTP server, LISTENing for publishes as `wangge serve` does."""
    app = create_app(Settings(db=DatabaseSettings(database_url=test_db.url)), clock=TEST_CLOCK)
    with serve_in_thread(app, log_level="warning") as url:
        yield url


def _points(engine, community: str) -> list[tuple[float, float]]:
    """A point inside every live level-3 cell of the community."""
    with engine.connect() as conn:
        return [
            (r.x, r.y)
            for r in conn.execute(
                text(
                    "SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(g.geom) AS p "
                    "FROM grid_cells g JOIN communities c ON c.id = g.community_id "
                    f"WHERE c.code = :c AND g.level = 3 AND {live('g')} ORDER BY g.code) s"
                ),
                {"c": community},
            )
        ]


def _split_draft(client, planner, case: SplitCase) -> int:
    rid = new_draft(client, planner, community=case.community)
    fc = split(draft_cells(client, planner, rid), case)
    assert put_cells(client, planner, rid, fc).status_code == 200
    return rid


def _stranded(engine, since_id: int) -> dict[str, int]:
    """Open cases made after `since_id`: how many sit on a closed cell, in all."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT count(*) AS total, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM grid_cells g "
                "WHERE g.id IN (i.l1_cell_id, i.l2_cell_id, i.l3_cell_id) "
                "AND g.valid_to IS NOT NULL)) AS closed FROM incidents i "
                "WHERE i.id > :since AND i.status NOT IN ('void', 'closed', 'evaluated')"
            ),
            {"since": since_id},
        ).one()
    return {"total": row.total, "closed": row.closed}


def test_cases_reported_during_a_publish_land_on_live_cells(base, planner, engine) -> None:
    case = find_split_case(engine)
    with httpx.Client(base_url=base, timeout=60) as http:
        rid = _split_draft(http, planner, case)
    points = _points(engine, case.community)
    with engine.connect() as conn:
        since = conn.execute(text("SELECT coalesce(max(id), 0) FROM incidents")).scalar_one()
    stop = threading.Event()
    statuses: list[int] = []
    lock = threading.Lock()

    def report(n: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:  # one connection each
            i = n
            while not stop.is_set():
                lon, lat = points[i % len(points)]
                i += REPORTERS
                r = http.post(
                    "/incidents",
                    json={
                        "location": {"lon": lon, "lat": lat},
                        "category": "0102",
                        "channel": "resident_app",
                        "description": "published while I reported",
                    },
                )
                with lock:
                    statuses.append(r.status_code)

    threads = [threading.Thread(target=report, args=(n,)) for n in range(REPORTERS)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        with httpx.Client(base_url=base, timeout=120) as http:
            resp = http.post(f"/planning/revisions/{rid}/publish", headers=planner)
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert resp.status_code == 200, resp.text
    assert statuses and set(statuses) == {201}, sorted(set(statuses))
    counts = _stranded(engine, since)
    print(f"publish race: {counts['closed']} of {counts['total']} cases on closed cells")
    assert counts["total"] >= 2 * REPORTERS
    assert counts["closed"] == 0
    with engine.connect() as conn:
        revisions = conn.execute(
            text(
                "SELECT DISTINCT revision_id FROM incidents i "
                "JOIN communities c ON c.id = i.community_id WHERE i.id > :since AND c.code = :c"
            ),
            {"since": since, "c": case.community},
        ).scalars()
        assert set(revisions) == {rid}


def _publish_elsewhere(test_db, rid: int) -> None:
    """Publish as another server process would: its own engine, its own cached grid."""
    url = make_url(test_db.url).update_query_dict({"application_name": "another-server"})
    engine = make_engine(url.render_as_string(hide_password=False), pool_size=1)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            publish(
                session=session,
                revision_id=rid,
                actor="elsewhere",
                role="planner",
                options=ValidationOptions(),
                now=TEST_CLOCK(),
            )
    finally:
        engine.dispose()


def test_a_server_without_listen_never_answers_a_closed_cell(test_db, planner, engine) -> None:
    """No LISTEN (or a lost one) and a publish by another process: the next locate sees it."""
    settings = Settings(
        db=DatabaseSettings(database_url=test_db.url), cases=CaseSettings(grid_listen=False)
    )
    case = find_split_case(engine, skip=(find_split_case(engine).community,))
    lon, lat = _points(engine, case.community)[0]
    with TestClient(create_app(settings, clock=TEST_CLOCK)) as client:
        before = client.get("/locate", params={"lon": lon, "lat": lat})
        assert before.status_code == 200
        rid = _split_draft(client, planner, case)
        _publish_elsewhere(test_db, rid)
        after = client.get("/locate", params={"lon": lon, "lat": lat})
        assert after.status_code == 200
        ids = [after.json()[k]["id"] for k in ("l1", "l2", "l3")]
        with engine.connect() as conn:
            live = conn.execute(
                text(f"SELECT count(*) FROM grid_cells WHERE {LIVE} AND id = ANY(:ids)"),
                {"ids": ids},
            ).scalar_one()
        assert live == 3, (before.json()["l3"], after.json()["l3"])
        reported = client.post(
            "/incidents",
            json={
                "location": {"lon": lon, "lat": lat},
                "category": "0102",
                "channel": "resident_app",
                "description": "right after the publish",
            },
        )
        assert reported.status_code == 201
        assert reported.json()["location"]["l3"]["id"] == ids[2]
        assert reported.json()["location"]["revision_id"] == rid


def test_a_later_publish_moves_cases_stranded_on_closed_cells(client, planner, engine) -> None:
    """Cases a race left on closed cells (before the lock) are moved by the next publish."""
    case = find_split_case(engine)
    first = _split_draft(client, planner, case)
    assert client.post(f"/planning/revisions/{first}/publish", headers=planner).status_code == 200
    with engine.begin() as conn:
        closed = conn.execute(
            text(
                "SELECT g.id, c.code AS community FROM grid_cells g "
                "JOIN communities c ON c.id = g.community_id WHERE c.code = :c "
                "AND g.valid_to IS NOT NULL AND g.level = 3 ORDER BY g.id LIMIT 1"
            ),
            {"c": case.community},
        ).one()
        stranded = conn.execute(
            text(
                "UPDATE incidents i SET l3_cell_id = :l3, l2_cell_id = g2.id, l1_cell_id = g2.parent_id "
                "FROM grid_cells g3 JOIN grid_cells g2 ON g2.id = g3.parent_id "
                "WHERE g3.id = :l3 AND i.id = (SELECT min(id) FROM incidents j "
                "WHERE j.community_id = g3.community_id AND j.status NOT IN "
                "('void', 'closed', 'evaluated')) RETURNING i.id"
            ),
            {"l3": closed.id},
        ).scalar_one()
    rid = new_draft(client, planner, community=closed.community)  # an unchanged copy
    resp = client.post(f"/planning/revisions/{rid}/publish", headers=planner)
    assert resp.status_code == 200, resp.text
    with engine.connect() as conn:
        row = conn.execute(
            text(
                f"SELECT {live('g')} AS live, i.revision_id FROM incidents i "
                "JOIN grid_cells g ON g.id = i.l3_cell_id WHERE i.id = :i"
            ),
            {"i": stranded},
        ).one()
        event = conn.execute(
            text(
                "SELECT count(*) FROM incident_events WHERE incident_id = :i AND action = 'relocate' "
                "AND (data -> 'to' ->> 'revision_id')::int = :r"
            ),
            {"i": stranded, "r": rid},
        ).scalar_one()
    assert row.live and row.revision_id == rid and event == 1


def test_while_a_listen_follows_locate_asks_the_database_nothing(client, app, engine) -> None:
    """The hot path stays in memory: freshness comes from the LISTEN, not a query per request."""
    lon, lat = _points(engine, find_split_case(engine).community)[0]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with app.state.sessionmaker() as probe:
            if live_ready(session=probe):
                break
        time.sleep(0.05)
    assert client.get("/locate", params={"lon": lon, "lat": lat}).status_code == 200  # warm
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", seen)
    try:
        for _ in range(5):
            assert client.get("/locate", params={"lon": lon, "lat": lat}).status_code == 200
    finally:
        event.remove(app.state.engine, "before_cursor_execute", seen)
    assert statements == []

"""Long work as jobs: 202 and a job resource with progress, result, cancel, roles, restarts.

The balanced suggestion is the long work here.  Where a test needs it to take a
while, `_redraw_group` (one parent's regions) is slowed down, so timing does not
depend on how fast the machine is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

import grids.planning.balance
from geo_api.app import create_app
from geo_api.settings import Settings
from layers.core.limit_settings import LimitSettings
from layers.store.db import make_sessionmaker, transaction
from layers.store.settings import DatabaseSettings
from layers.tables.grid_cells import live
from layers.tables.jobs import JobOwner, create_job
from tests.conftest import TEST_CLOCK
from tests.geo_api.planning_helpers import draft_cells, new_draft, put_cells

FINISHED = {"succeeded", "failed", "cancelled"}


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


def _slow_down(monkeypatch, seconds: float) -> None:
    original = grids.planning.balance._redraw_group

    def slower(*args, **kwargs):
        time.sleep(seconds)
        return original(*args, **kwargs)

    monkeypatch.setattr(grids.planning.balance, "_redraw_group", slower)


@pytest.fixture
def slow(monkeypatch) -> None:
    """Each parent's regions take 0.1 s longer (the test district has 110 of them)."""
    _slow_down(monkeypatch, 0.1)


def _stamp(engine: Engine, rid: int) -> tuple[int, int]:
    with engine.connect() as c:
        row = c.execute(
            text("SELECT count(*), max(id) FROM grid_draft_cells WHERE revision_id = :r"),
            {"r": rid},
        ).one()
    return tuple(row)


def _jobs(engine: Engine) -> int:
    with engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM jobs")).scalar_one()


def _follow(client, href: str, headers, until=FINISHED, timeout=180.0) -> list[dict]:
    """GET the job until its status is in `until`; every answer seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = client.get(href, headers=headers)
        assert resp.status_code == 200, resp.text
        seen.append(resp.json())
        if seen[-1]["status"] in until:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"job still {seen[-1]['status']} after {timeout} s")


def _submit(client, rid: int, headers, body=None) -> dict:
    resp = client.post(
        f"/planning/revisions/{rid}/suggest",
        json=body or {"level": 2},
        headers={"Prefer": "respond-async", **headers},
    )
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert resp.headers["location"] == job["href"] == f"/jobs/{job['id']}"
    assert resp.headers["preference-applied"] == "respond-async"
    assert job["status"] in ("queued", "running") and job["kind"] == "planning.suggest"
    return job


def test_a_suggestion_job_reports_progress_and_its_result(
    client, planner, engine, test_db, slow
) -> None:
    rid = new_draft(client, planner)
    before = _stamp(engine, rid)
    job = _submit(client, rid, planner)
    seen = _follow(client, job["href"], planner)
    done = seen[-1]
    assert done["status"] == "succeeded", done
    assert done["progress"] == 1.0 and done["finished_at"] and done["error"] is None
    running = [s["progress"] for s in seen if s["status"] == "running"]
    assert any(0 < p < 1 for p in running), running
    assert running == sorted(running)  # never goes back
    result = done["result"]
    assert result["revision"] == rid and result["cells_after"] == result["cells_before"]
    hh = result["balance"]["households"]
    assert hh["after"]["cv"] < hh["before"]["cv"]
    assert _stamp(engine, rid) != before  # written into the draft
    # admins follow anyone's job; the other staff roles cannot tell it exists
    assert client.get(job["href"], headers=test_db.headers("admin")).status_code == 200
    for role in ("grid_worker", "dispatcher"):
        other = client.get(job["href"], headers=test_db.headers(role))
        assert other.status_code == 404 and other.json()["code"] == "job_not_found"
        assert client.delete(job["href"], headers=test_db.headers(role)).status_code == 404
    assert client.get(job["href"]).status_code == 401
    finished = client.delete(job["href"], headers=planner)
    assert finished.status_code == 409 and finished.json()["code"] == "job_finished"


def test_cancel_a_running_and_a_queued_job(client, planner, engine, slow) -> None:
    first, second = new_draft(client, planner), new_draft(client, planner)
    stamps = (_stamp(engine, first), _stamp(engine, second))
    running = _submit(client, first, planner)
    _follow(client, running["href"], planner, until={"running"})
    queued = _submit(client, second, planner)  # one worker: it waits
    assert client.get(queued["href"], headers=planner).json()["status"] == "queued"
    resp = client.delete(queued["href"], headers=planner)
    assert resp.status_code == 202 and resp.json()["status"] == "cancelled"
    resp = client.delete(running["href"], headers=planner)
    assert resp.status_code == 202 and resp.json()["cancel_requested"] is True
    stopped = _follow(client, running["href"], planner, timeout=30)[-1]
    assert stopped["status"] == "cancelled" and stopped["result"] is None
    assert (_stamp(engine, first), _stamp(engine, second)) == stamps  # nothing written
    time.sleep(0.5)  # the cancelled queued job is never started
    assert client.get(queued["href"], headers=planner).json()["started_at"] is None


def _orphan(engine: Engine) -> int:
    """A job left queued by a server that is gone (no runner holds its lock)."""
    with transaction(make_sessionmaker(engine)) as session:
        return create_job(
            session=session,
            kind="planning.suggest",
            params={},
            owner=JobOwner("test", "planner", None),
            runner=7,
            now=datetime(2026, 11, 1, 4, tzinfo=UTC),
        ).id


def test_a_job_whose_server_stopped_reads_as_interrupted(client, engine, test_db) -> None:
    job = _orphan(engine)
    resp = client.get(f"/jobs/{job}", headers=test_db.headers("admin"))
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "failed" and body["error"]["code"] == "interrupted"
    assert body["finished_at"]
    # a starting server marks them too, before anyone asks
    other = _orphan(engine)
    settings = Settings(db=DatabaseSettings(database_url=test_db.url))
    with TestClient(create_app(settings, clock=TEST_CLOCK)):
        with engine.connect() as c:
            status = c.execute(text("SELECT status FROM jobs WHERE id = :j"), {"j": other})
            assert status.scalar_one() == "failed"


@pytest.fixture(scope="module")
def tight(test_db) -> Iterator[TestClient]:
    """The app with small bounds: cells, work, the synchronous size, jobs per key."""
    limits = LimitSettings(
        suggest_cells=150, suggest_work=500, suggest_sync_work=0, jobs_per_owner=1
    )
    settings = Settings(db=DatabaseSettings(database_url=test_db.url), limits=limits)
    with TestClient(create_app(settings, clock=TEST_CLOCK)) as c:
        yield c


@pytest.mark.parametrize(
    ("body", "parameter"), [({"level": 1, "cells": 200}, "cells"), ({"level": 2}, "work")]
)
def test_suggestion_bounds(tight, planner, engine, body, parameter) -> None:
    rid = new_draft(tight, planner)
    before, jobs = _stamp(engine, rid), _jobs(engine)
    resp = tight.post(f"/planning/revisions/{rid}/suggest", json=body, headers=planner)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "limit_exceeded" and resp.json()["parameter"] == parameter
    assert _stamp(engine, rid) == before and _jobs(engine) == jobs


def test_big_suggestions_become_jobs_and_jobs_per_key_are_bounded(
    tight, planner, engine, monkeypatch
) -> None:
    _slow_down(monkeypatch, 3.0)  # one parent: the job stays busy while we ask again
    with engine.connect() as c:
        community = c.execute(
            text(
                "SELECT c.code FROM communities c JOIN grid_cells g ON g.community_id = c.id "
                f"AND g.level = 3 AND {live('g')} GROUP BY c.code ORDER BY count(*) DESC "
                "LIMIT 1"
            )
        ).scalar_one()
    rid = new_draft(tight, planner, community=community)
    resp = tight.post(f"/planning/revisions/{rid}/suggest", json={"level": 2}, headers=planner)
    assert resp.status_code == 202 and "preference-applied" not in resp.headers
    other = new_draft(tight, planner, community=community)
    again = tight.post(f"/planning/revisions/{other}/suggest", json={"level": 2}, headers=planner)
    assert again.status_code == 429 and again.json()["code"] == "too_many_jobs"
    done = _follow(tight, resp.headers["location"], planner)[-1]
    assert done["status"] == "succeeded", done


def test_a_long_suggestion_does_not_block_a_write_to_its_draft(
    client, planner, engine, slow
) -> None:
    """The suggestion computes for seconds; meanwhile the planner saves the draft."""
    rid = new_draft(client, planner)
    cells = draft_cells(client, planner, rid)
    answer: dict = {}

    def suggest() -> None:
        answer["resp"] = client.post(
            f"/planning/revisions/{rid}/suggest", json={"level": 2}, headers=planner
        )

    thread = threading.Thread(target=suggest)
    thread.start()
    time.sleep(2.0)  # the read took well under that; the regions take ≥ 11 s
    assert thread.is_alive()
    started = time.perf_counter()
    saved = put_cells(client, planner, rid, cells)
    waited = time.perf_counter() - started
    # The save must not wait for the suggestion: it is answered while the suggestion
    # still computes (a wall-clock bound would measure the machine's load, not a lock).
    still_suggesting = thread.is_alive()
    thread.join(300)
    print(f"a save of the draft during a long suggestion waited {waited:.2f} s")
    assert saved.status_code == 200, saved.text
    assert still_suggesting, f"the draft's save waited {waited:.1f} s, until the suggestion ended"
    resp = answer["resp"]
    assert resp.status_code == 409 and resp.json()["code"] == "draft_changed"
    assert _stamp(engine, rid)[0] == len(cells["features"])  # the planner's save stands

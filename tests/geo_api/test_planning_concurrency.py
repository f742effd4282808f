"""Two drafts over the same cells: the second publish is refused and must be rebased."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from grids.planning.publish import publish
from grids.planning.validation import ValidationOptions
from layers.core.errors import ConflictError
from layers.store.db import make_sessionmaker, transaction
from layers.tables.grid_cells import LIVE
from tests.conftest import TEST_CLOCK
from tests.geo_api.planning_helpers import draft_cells, grid_fingerprint, new_draft, put_cells
from tests.geo_api.planning_split import find_split_case, split


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


def test_second_publish_over_changed_cells_must_rebase(client, planner, engine) -> None:
    case = find_split_case(engine)
    first = new_draft(client, planner, community=case.community)
    second = new_draft(client, planner, street=case.community[:9])  # overlaps the first
    elsewhere = new_draft(client, planner, community=_other_community(engine, case.community))
    fc = split(draft_cells(client, planner, first), case)
    assert put_cells(client, planner, first, fc).status_code == 200
    assert client.post(f"/planning/revisions/{first}/publish", headers=planner).status_code == 200

    fingerprint = grid_fingerprint(engine)
    resp = client.post(f"/planning/revisions/{second}/publish", headers=planner)
    assert resp.status_code == 409
    body = resp.json()
    assert body["code"] == "revision_stale" and "rebase" in body["detail"]
    assert case.a in body["changed_cells"]
    assert grid_fingerprint(engine) == fingerprint
    # a draft over cells nobody touched still publishes (nothing changes, nothing closes)
    resp = client.post(f"/planning/revisions/{elsewhere}/publish", headers=planner)
    assert resp.status_code == 200 and resp.json()["closed"] == 0
    # the rebase: a fresh draft of the same street publishes
    again = new_draft(client, planner, street=case.community[:9])
    assert client.post(f"/planning/revisions/{again}/publish", headers=planner).status_code == 200


def _other_community(engine, not_this: str) -> str:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT code FROM communities WHERE left(code, 9) <> :s ORDER BY code LIMIT 1"),
            {"s": not_this[:9]},
        ).scalar_one()


def test_simultaneous_publishes_one_wins(client, planner, engine) -> None:
    case = find_split_case(engine)
    drafts = [new_draft(client, planner, community=case.community) for _ in range(2)]
    for rid in drafts:
        fc = split(draft_cells(client, planner, rid), case)
        assert put_cells(client, planner, rid, fc).status_code == 200
    factory = make_sessionmaker(engine)
    outcomes: dict[int, str] = {}
    barrier = threading.Barrier(2)

    def run(rid: int) -> None:
        barrier.wait()
        try:
            with transaction(factory) as session:
                publish(
                    session=session,
                    revision_id=rid,
                    actor="t",
                    role="planner",
                    options=ValidationOptions(),
                    now=TEST_CLOCK(),
                )
            outcomes[rid] = "published"
        except ConflictError as exc:
            outcomes[rid] = exc.code

    threads = [threading.Thread(target=run, args=(rid,)) for rid in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes.values()) == ["published", "revision_stale"]
    with engine.connect() as conn:
        live = conn.execute(
            text(f"SELECT count(*) FROM grid_cells WHERE {LIVE} AND code = :a"),
            {"a": case.a},
        ).scalar()
    assert live == 1

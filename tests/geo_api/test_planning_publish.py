"""Publishing a valid reshaping: cells swapped, cases re-located and audited, history kept."""

from __future__ import annotations

import select

import psycopg2
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from layers.tables.grid_cells import LIVE
from tests.conftest import TEST_CLOCK
from tests.geo_api.planning_helpers import draft_cells, new_draft, put_cells
from tests.geo_api.planning_split import find_split_case, new_l1_code, split


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


@pytest.fixture(scope="module")
def case(engine):
    return find_split_case(engine)


@pytest.fixture(scope="module")
def published(client, planner, engine, test_db, case):
    """Draft, edit, check impact, add a worker for the new cell, LISTEN, publish."""
    rid = new_draft(client, planner, community=case.community)
    assert (
        put_cells(client, planner, rid, split(draft_cells(client, planner, rid), case)).status_code
        == 200
    )
    report = client.post(f"/planning/revisions/{rid}/validate", headers=planner).json()
    assert report["valid"], report["problems"][:3]
    impact = client.get(f"/planning/revisions/{rid}/impact", headers=planner).json()
    b = new_l1_code(case)
    with engine.begin() as conn:
        worker = conn.execute(
            text(
                "INSERT INTO workers (code, name, level, cell_code, community_id) "
                "SELECT 'W' || :b, '新网格员', 1, :b, id FROM communities WHERE code = :c "
                "RETURNING id"
            ),
            {"b": b, "c": case.community},
        ).scalar_one()
        old = dict(
            conn.execute(
                text("SELECT id, assignee_worker_id FROM incidents WHERE id = ANY(:ids)"),
                {"ids": case.cases_in_y},
            ).all()
        )
    listener = psycopg2.connect(
        make_url(test_db.url).set(drivername="postgresql").render_as_string(False)
    )
    listener.autocommit = True
    listener.cursor().execute("LISTEN wangge_grid_published")
    before = TEST_CLOCK()
    resp = client.post(f"/planning/revisions/{rid}/publish", headers=planner)
    select.select([listener], [], [], 5)
    listener.poll()
    notes = [n.payload for n in listener.notifies]
    listener.close()
    return {
        "rid": rid,
        "resp": resp,
        "impact": impact,
        "worker": worker,
        "old": old,
        "before": before,
        "notes": notes,
        "b": b,
    }


def test_impact_previews_the_change(published, case) -> None:
    impact = published["impact"]
    changed = {c["code"]: c for c in impact["changed_cells"]}
    assert changed[published["b"]]["change"] == "added"
    assert changed[case.a]["change"] == "reshaped"
    assert changed[case.a]["area_after"] < changed[case.a]["area_before"]
    assert changed[case.a]["households_out"] > 0
    assert changed[published["b"]]["households_after"] == changed[case.a]["households_out"]
    assert published["b"] in impact["cells_without_worker"]
    moving = {m["id"]: m for m in impact["incidents_moving"]}
    assert set(case.cases_in_y) <= set(moving)
    assert moving[case.cases_in_y[0]]["to"]["l1"] == published["b"]
    # no worker for B yet: cases keep their assignee, A's worker loses households
    loads = {w["cell_code"]: w for w in impact["workload"]}
    assert loads[case.a]["households_after"] < loads[case.a]["households_before"]
    assert loads[case.a]["open_cases_after"] == loads[case.a]["open_cases_before"]


def test_publish_answers_what_changed(published) -> None:
    resp = published["resp"]
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "published"
    assert body["opened"] >= 3 and body["closed"] >= 2
    assert body["cases_moved"] >= 1
    assert published["notes"] == [str(published["rid"])]


def test_cells_are_swapped_codes_kept(engine, published, case) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT code, {LIVE} AS live, revision_id FROM grid_cells g "
                "WHERE code IN (:a, :b) ORDER BY code, id"
            ),
            {"a": case.a, "b": published["b"]},
        ).all()
        others = conn.execute(
            text("SELECT count(*) FROM grid_cells WHERE revision_id = :r AND left(code, 12) <> :c"),
            {"r": published["rid"], "c": case.community},
        ).scalar()
        live_codes = conn.execute(
            text(f"SELECT count(*) FROM grid_cells WHERE {LIVE} AND code = :a"),
            {"a": case.a},
        ).scalar()
    assert [(r.code, r.live) for r in rows] == [
        (case.a, False),
        (case.a, True),
        (published["b"], True),
    ]
    assert rows[1].revision_id == published["rid"]
    assert others == 0 and live_codes == 1


def test_open_cases_reassigned_and_audited(engine, published, case) -> None:
    with engine.connect() as conn:
        cases = conn.execute(
            text(
                "SELECT i.id, i.assignee_worker_id, i.revision_id, l1.code AS l1, i.version, "
                "i.handling_level "
                "FROM incidents i JOIN grid_cells l1 ON l1.id = i.l1_cell_id "
                "WHERE i.id = ANY(:ids) ORDER BY i.id"
            ),
            {"ids": case.cases_in_y},
        ).all()
        events = conn.execute(
            text(
                "SELECT incident_id, actor, role, data FROM incident_events "
                "WHERE action = 'relocate' AND incident_id = ANY(:ids) ORDER BY incident_id"
            ),
            {"ids": case.cases_in_y},
        ).all()
    assert cases and all(c.l1 == published["b"] for c in cases)
    grid = [c for c in cases if c.handling_level == "grid"]
    assert grid and all(c.assignee_worker_id == published["worker"] for c in grid)
    kept = [c for c in cases if c.handling_level != "grid"]
    assert all(c.assignee_worker_id == published["old"][c.id] for c in kept)
    assert all(c.revision_id == published["rid"] for c in cases)
    assert [e.incident_id for e in events] == case.cases_in_y
    first = next(e.data for e in events if e.incident_id == grid[0].id)
    assert first["from"]["l1"] == case.a and first["to"]["l1"] == published["b"]
    assert first["from"]["assignee_worker_id"] == published["old"][grid[0].id]
    assert first["to"]["assignee_worker_id"] == published["worker"]
    assert events[0].role == "planner"


def test_at_answers_from_the_old_grid(client, published, case) -> None:
    at = published["before"].isoformat()
    old = client.get("/grid/cells", params={"at": at, "community": case.community}).json()
    new = client.get("/grid/cells", params={"community": case.community}).json()
    old_codes = {f["properties"]["code"] for f in old["features"]}
    new_codes = {f["properties"]["code"] for f in new["features"]}
    assert case.y in old_codes and published["b"] not in old_codes
    assert published["b"] in new_codes and case.y not in new_codes
    assert all(
        f["properties"]["valid_to"] for f in old["features"] if f["properties"]["code"] == case.a
    )


def test_revisions_list_and_diff(client, planner, published, case) -> None:
    listed = client.get("/planning/revisions", headers=planner).json()
    mine = next(r for r in listed if r["id"] == published["rid"])
    assert mine["status"] == "published" and mine["author"] == "demo:planner"
    assert mine["published_at"] is not None
    diff = client.get(f"/planning/revisions/{published['rid']}/diff", headers=planner).json()
    assert published["b"] in {c["code"] for c in diff["added"]}
    assert case.y in {c["code"] for c in diff["removed"]}
    assert case.a in {c["code"] for c in diff["changed"]}


def test_a_published_revision_is_frozen(client, planner, published) -> None:
    rid = published["rid"]
    assert client.post(f"/planning/revisions/{rid}/publish", headers=planner).status_code == 409
    fc = {"type": "FeatureCollection", "features": []}
    resp = client.put(f"/planning/revisions/{rid}/cells", json=fc, headers=planner)
    assert resp.status_code == 409 and resp.json()["code"] == "revision_not_draft"


def test_publish_is_audited(engine, published) -> None:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT actor, data FROM audit_log WHERE action = 'grid_revision_publish' "
                "AND entity_id = :r"
            ),
            {"r": str(published["rid"])},
        ).one()
    assert row.actor == "demo:planner" and row.data["cases_moved"] >= 1


def test_locate_follows_the_publish_and_at_keeps_the_old_grid(
    client, engine, published, case
) -> None:
    """The running app's locate index is refreshed by the NOTIFY of the publish."""
    import time

    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid_cells"
                f" WHERE code = :b AND {LIVE}) s"
            ),
            {"b": published["b"]},
        ).one()
    deadline = time.monotonic() + 10
    while True:
        now = client.get("/locate", params={"lon": lon, "lat": lat}).json()
        if now["l1"]["code"] == published["b"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert now["l1"]["code"] == published["b"], now
    then = client.get(
        "/locate", params={"lon": lon, "lat": lat, "at": published["before"].isoformat()}
    ).json()
    assert then["l1"]["code"] == case.a  # B's ground was Y, a level-2 cell of A, before

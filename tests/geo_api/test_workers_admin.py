"""Worker management over HTTP (create, rename, move, duty), the compare view's live cells
and the code proposed for a new cell: HTTP in, database rows and audit out."""

from __future__ import annotations

import pytest
from shapely.geometry import box, mapping, shape
from sqlalchemy import text

from layers.tables.grid_cells import live
from tests.geo_api.planning_helpers import new_draft


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


@pytest.fixture(scope="module")
def cells(engine):
    """A live level-1 cell with a level-2 child, another community's level-1 cell."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT c.code AS community, a.code AS a, b.code AS b, k.code AS l2 "
                f"FROM grid_cells a JOIN grid_cells b ON b.level = 1 AND {live('b')} "
                "AND b.code > a.code "
                f"JOIN grid_cells k ON k.level = 2 AND {live('k')} AND k.parent_id = a.id "
                f"JOIN communities c ON c.id = a.community_id WHERE a.level = 1 AND {live('a')} "
                "ORDER BY a.code, b.code LIMIT 1"
            )
        ).one()


@pytest.fixture(scope="module")
def first(engine):
    """A level-3 cell numbered 001 with at least two siblings, and its parent."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT g.code, p.code AS parent, c.code AS community FROM grid_cells g "
                "JOIN grid_cells p ON p.id = g.parent_id JOIN communities c ON c.id = g.community_id "
                f"WHERE g.level = 3 AND {live('g')} AND g.code LIKE '%001' AND (SELECT count(*) "
                f"FROM grid_cells s WHERE s.parent_id = g.parent_id AND {live('s')}) >= 3 "
                "ORDER BY g.code LIMIT 1"
            )
        ).one()


def _audit(engine, worker_id: int) -> list[tuple[str, str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, actor, data FROM audit_log WHERE entity = 'worker' "
                "AND entity_id = :w ORDER BY id"
            ),
            {"w": str(worker_id)},
        ).all()
    return [(r.action, r.actor, r.data) for r in rows]


def _row(engine, worker_id: int):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT name, level, cell_code, on_duty FROM workers WHERE id = :w"),
            {"w": worker_id},
        ).one()


def test_create_rename_move_and_duty_are_stored_and_audited(client, planner, engine, cells):
    made = client.post("/workers", json={"name": "王小明", "cell_code": cells.a}, headers=planner)
    assert made.status_code == 201, made.text
    wid = made.json()["id"]
    assert made.json()["code"].startswith("W" + cells.a)
    assert tuple(_row(engine, wid)) == ("王小明", 1, cells.a, True)
    rid = new_draft(client, planner, community=cells.community)
    listed = client.get("/workers", params={"revision": rid}, headers=planner).json()
    assert wid in [w["id"] for w in listed] and "phone" not in listed[0]
    changed = client.patch(
        f"/workers/{wid}",
        json={"name": "王晓明", "cell_code": cells.b, "on_duty": False},
        headers=planner,
    )
    assert changed.status_code == 200, changed.text
    assert tuple(_row(engine, wid)) == ("王晓明", 1, cells.b, False)
    log = _audit(engine, wid)
    assert [a for a, _, _ in log] == ["worker_create", "worker_update"]
    assert log[1][2]["changes"] == {
        "name": ["王小明", "王晓明"],
        "cell_code": [cells.a, cells.b],
        "on_duty": [True, False],
        "community_id": log[1][2]["changes"]["community_id"],
    }
    # nothing changed, nothing audited
    assert client.patch(f"/workers/{wid}", json={"on_duty": False}, headers=planner).is_success
    assert len(_audit(engine, wid)) == 2


def test_unknown_cells_and_level_2_cells_are_refused_and_nothing_is_written(
    client, planner, engine, cells
):
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM workers")).scalar_one()
    unknown = client.post("/workers", json={"name": "x", "cell_code": "9" * 15}, headers=planner)
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_cell", unknown.text
    level2 = client.post("/workers", json={"name": "x", "cell_code": cells.l2}, headers=planner)
    assert level2.status_code == 422 and level2.json()["code"] == "not_level_1", level2.text
    assert (
        client.patch("/workers/2147483600", json={"name": "y"}, headers=planner).status_code == 404
    )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM workers")).scalar_one() == before


@pytest.mark.parametrize(
    ("role", "status"), [("grid_worker", 403), ("dispatcher", 403), ("resident", 401)]
)
def test_only_planners_and_admins_manage_workers(client, test_db, cells, role, status):
    headers = test_db.headers(role)
    assert (
        client.post(
            "/workers", json={"name": "x", "cell_code": cells.a}, headers=headers
        ).status_code
        == status
    )
    assert client.patch("/workers/1", json={"name": "x"}, headers=headers).status_code == status


def test_a_new_cell_of_a_draft_gets_its_worker_with_the_proposed_code(
    client, planner, engine, cells
):
    rid = new_draft(client, planner, community=cells.community)
    fig = client.get(f"/planning/revisions/{rid}/figures", headers=planner).json()
    a = next(f for f in fig["cells"]["features"] if f["properties"]["code"] == cells.a)
    inner = shape(a["geometry"]).representative_point().buffer(0.0003).envelope
    square = mapping(box(*inner.bounds))
    proposed = client.post(
        f"/planning/revisions/{rid}/proposed-code",
        json={"level": 1, "parent_code": cells.community, "geometry": square},
        headers=planner,
    )
    assert proposed.status_code == 200, proposed.text
    code = proposed.json()["code"]
    used = {f["properties"]["code"] for f in fig["cells"]["features"]}
    assert code.startswith(cells.community) and len(code) == 15 and code not in used
    made = client.post(
        f"/planning/revisions/{rid}/edits/new-cell",
        json={"level": 1, "parent_code": cells.community, "geometry": square, "code": code},
        headers={**planner, "If-Match": fig["etag"]},
    )
    assert made.status_code == 200, made.text
    # the new cell exists in the draft only: a worker for it needs the draft named
    body = {"name": "李四", "cell_code": code}
    assert client.post("/workers", json=body, headers=planner).status_code == 422
    ok = client.post("/workers", json={**body, "revision": rid}, headers=planner)
    assert ok.status_code == 201, ok.text
    figures = client.get(f"/planning/revisions/{rid}/figures", headers=planner).json()
    worker = next(f for f in figures["cells"]["features"] if f["properties"]["code"] == code)
    assert worker["properties"]["worker"] == "李四"


def test_the_proposed_code_follows_reading_order_not_the_lowest_free_number(client, planner, first):
    """With 001 deleted, a cell drawn where it was (north-west) is proposed 001 again, but one
    drawn at the parent's south-east corner comes after every sibling: the next after the last."""
    rid = new_draft(client, planner, community=first.community)
    fig = client.get(f"/planning/revisions/{rid}/figures", headers=planner).json()
    by_code = {f["properties"]["code"]: f for f in fig["cells"]["features"]}
    siblings = [
        c for c in by_code if c != first.code and c.startswith(first.parent) and len(c) == 21
    ]
    gone = client.post(
        f"/planning/revisions/{rid}/edits/delete-cell",
        json={"cell": first.code},
        headers={**planner, "If-Match": fig["etag"]},
    )
    assert gone.status_code == 200, gone.text

    def propose(geometry):
        body = {"level": 3, "parent_code": first.parent, "geometry": geometry}
        resp = client.post(f"/planning/revisions/{rid}/proposed-code", json=body, headers=planner)
        assert resp.status_code == 200, resp.text
        return resp.json()["code"]

    assert propose(by_code[first.code]["geometry"]) == first.code
    _minx, miny, maxx, _maxy = shape(by_code[first.parent]["geometry"]).bounds
    corner = mapping(box(maxx - 2e-4, miny, maxx, miny + 2e-4))
    assert propose(corner) == first.parent + f"{int(max(siblings)[-3:]) + 1:03d}"


def test_the_live_cells_of_the_scope_for_the_compare_view(client, planner, cells):
    rid = new_draft(client, planner, community=cells.community)
    live_fc = client.get(f"/planning/revisions/{rid}/live", headers=planner).json()
    codes = {f["properties"]["code"] for f in live_fc["features"]}
    assert {cells.a, cells.l2} <= codes
    assert all(c.startswith(cells.community) for c in codes)

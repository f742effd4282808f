"""The impact preview names exactly the open cases the publish moves, case by case.

Both decide where a case goes with the one locate rule (`grids.grid.locate_sql`), so
the preview cannot list two moving cases while the publish moves four.  The grid is
given a gap first: the strip of the neighbouring community along Y (the level-2 cell
the split makes a new level-1 cell) loses its cells, and cases are reported there —
within the tolerance of Y's cells (located ``nearest``), in the gap beyond every
tolerance (``community_fallback``) and near the neighbour's own cells.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from grids.grid.locate import refresh_index
from layers.tables.grid_cells import LIVE, live
from tests.geo_api.planning_helpers import draft_cells, new_draft, put_cells
from tests.geo_api.planning_split import SplitCase, find_split_case, split

GAP_M = 70.0
"""Width of the strip of the neighbour's cells removed along Y."""
OFFSETS_M = (5.0, 20.0, 35.0, 60.0)
"""Distances from Y of the cases reported in the gap (the tolerance is 30 m)."""
LEVELS = ("l1", "l2", "l3")

_NEIGHBOUR_SQL = text(
    "SELECT n.code FROM grid_cells y JOIN communities n ON ST_Intersects(y.geom, n.geom) "
    f"AND n.code <> left(y.code, 12) WHERE y.code = :y AND {live('y')} "
    "ORDER BY ST_Length(ST_Intersection(ST_Boundary(y.geom), n.geom)::geography) DESC LIMIT 1"
)
_STRIP = (
    f"(SELECT ST_Buffer(geom::geography, :w)::geometry FROM grid_cells WHERE code = :y AND {LIVE})"
)
_CARVE_SQL = text(
    f"UPDATE grid_cells c SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid("
    f"ST_Difference(c.geom, {_STRIP})), 3)) WHERE {live('c')} AND left(c.code, 12) = :n "
    f"AND ST_Area(ST_Difference(c.geom, {_STRIP})::geography) >= 1"
)
_CLOSE_SQL = text(
    "UPDATE grid_cells c SET valid_to = c.valid_from + interval '1 second' "
    f"WHERE {live('c')} AND left(c.code, 12) = :n AND ST_Within(c.geom, {_STRIP})"
)
_POINT_SQL = text(
    f"WITH y AS (SELECT geom FROM grid_cells WHERE code = :y AND {LIVE}), "
    "n AS (SELECT geom FROM communities WHERE code = :n), "
    "s AS (SELECT ST_Intersection(ST_Boundary(y.geom), n.geom) AS line FROM y, n), "
    "p AS (SELECT ST_ClosestPoint(s.line, ST_Centroid(s.line)) AS pt FROM s) "
    "SELECT ST_X(q), ST_Y(q) FROM (SELECT ST_ClosestPoint(ST_Boundary(ST_Buffer("
    "y.geom::geography, :d)::geometry), p.pt) AS q FROM y, p) x"
)


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


@pytest.fixture(scope="module")
def case(engine) -> SplitCase:
    return find_split_case(engine)


@pytest.fixture(scope="module")
def gap(engine, client, case) -> dict[str, Any]:
    """Remove the neighbour's cells along Y and report a case at every offset into the gap."""
    with engine.begin() as conn:
        n = conn.execute(_NEIGHBOUR_SQL, {"y": case.y}).scalar_one()
        conn.execute(_CLOSE_SQL, {"y": case.y, "n": n, "w": GAP_M})
        conn.execute(_CARVE_SQL, {"y": case.y, "n": n, "w": GAP_M})
        points = [conn.execute(_POINT_SQL, {"y": case.y, "n": n, "d": d}).one() for d in OFFSETS_M]
    refresh_index()
    ids, methods = {}, {}
    for d, (lon, lat) in zip(OFFSETS_M, points, strict=True):
        located = client.get("/locate", params={"lon": lon, "lat": lat})
        assert located.status_code == 200, located.text
        where = located.json()
        methods[d] = (where["method"], (where["l3"] or {}).get("code") or "")
        body = {
            "location": {"lon": lon, "lat": lat},
            "category": "0102",
            "channel": "resident_app",
            "description": f"在缝隙里 {d} 米",
        }
        resp = client.post("/incidents", json=body)
        assert resp.status_code == 201, resp.text
        ids[d] = resp.json()["id"]
    return {"neighbour": n, "ids": ids, "methods": methods}


@pytest.fixture(scope="module")
def outcome(client, planner, engine, case, gap) -> dict[str, Any]:
    """Draft the split, preview it, publish it; the preview's and the publish's moves."""
    rid = new_draft(client, planner, community=case.community)
    fc = split(draft_cells(client, planner, rid), case)
    assert put_cells(client, planner, rid, fc).status_code == 200
    impact = client.get(f"/planning/revisions/{rid}/impact", headers=planner)
    assert impact.status_code == 200, impact.text
    resp = client.post(f"/planning/revisions/{rid}/publish", headers=planner)
    assert resp.status_code == 200, resp.text
    with engine.connect() as conn:
        events = conn.execute(
            text(
                "SELECT incident_id, data FROM incident_events WHERE action = 'relocate' "
                "AND (data -> 'to' ->> 'revision_id')::int = :r ORDER BY incident_id"
            ),
            {"r": rid},
        ).all()
    preview = {
        m["id"]: {"from": m["from"], "to": m["to"]} for m in impact.json()["incidents_moving"]
    }
    return {"preview": preview, "published": _moved(events), "body": resp.json(), "events": events}


def _moved(events: list[Any]) -> dict[int, dict[str, dict[str, str | None]]]:
    """Per relocated case whose cells' codes changed: the levels that changed, from and to."""
    out = {}
    for e in events:
        changed = [lv for lv in LEVELS if e.data["from"][lv] != e.data["to"][lv]]
        if changed:
            out[e.incident_id] = {
                "from": {lv: e.data["from"][lv] for lv in changed},
                "to": {lv: e.data["to"][lv] for lv in changed},
            }
    return out


def test_the_gap_cases_are_located_by_the_rule(gap, case) -> None:
    methods = gap["methods"]
    assert methods[5.0][0] == "nearest" and methods[5.0][1].startswith(case.y)
    assert methods[20.0][0] == "nearest" and methods[20.0][1].startswith(case.y)
    assert methods[35.0][0] == "community_fallback"
    assert methods[60.0][0] == "nearest" and methods[60.0][1].startswith(gap["neighbour"])


def test_preview_lists_exactly_the_cases_the_publish_moves(outcome, gap, case) -> None:
    preview, published = outcome["preview"], outcome["published"]
    print(
        f"preview lists {len(preview)} moving cases, the publish moved {len(published)} "
        f"(relocated {len(outcome['events'])}, cases_moved={outcome['body']['cases_moved']})"
    )
    assert sorted(preview) == sorted(published)
    for case_id, move in published.items():
        assert preview[case_id] == move, case_id
    assert set(case.cases_in_y) | {gap["ids"][5.0], gap["ids"][20.0]} <= set(published)
    assert gap["ids"][35.0] not in published and gap["ids"][60.0] not in published

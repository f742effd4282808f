"""The editor's edits over HTTP: each answers only what changed; bad edits change nothing."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import LineString, mapping, shape
from sqlalchemy import text

from layers.tables.grid_cells import live
from tests.geo_api.planning_helpers import new_draft


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


@pytest.fixture(scope="module")
def pair(engine):
    """A courtyard inside level-2 cell A, A's touching sibling B, their community."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT c.code AS community, a.code AS a, b.code AS b, y.id AS yard, "
                "y.households FROM courtyards y JOIN grid_cells a ON a.level = 2 AND "
                f"{live('a')} AND ST_Covers(a.geom, y.geom) JOIN grid_cells b ON b.level = 2 "
                f"AND {live('b')} AND b.parent_id = a.parent_id AND b.id <> a.id "
                "AND ST_Touches(a.geom, b.geom) JOIN communities c ON c.id = a.community_id "
                "ORDER BY y.id LIMIT 1"
            )
        ).one()


@pytest.fixture
def draft(client, planner, pair):
    """A fresh community draft: (id, its cells by code, its ETag)."""
    rid = new_draft(client, planner, community=pair.community)
    return rid


def _figures(client, planner, rid):
    resp = client.get(f"/planning/revisions/{rid}/figures", headers=planner)
    assert resp.status_code == 200, resp.text
    cells = {f["properties"]["code"]: f for f in resp.json()["cells"]["features"]}
    return cells, resp.headers["ETag"]


def _edit(client, planner, rid, op, body, etag):
    return client.post(
        f"/planning/revisions/{rid}/edits/{op}", json=body, headers={**planner, "If-Match": etag}
    )


def _state(engine, rid) -> str:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT md5(string_agg(concat_ws('|', id, code, level, parent_code, households, "
                "encode(ST_AsEWKB(geom), 'hex')), ',' ORDER BY id)) || "
                "(SELECT version FROM grid_revisions WHERE id = :r) "
                "FROM grid_draft_cells WHERE revision_id = :r"
            ),
            {"r": rid},
        ).scalar_one()


def _valid(client, planner, rid) -> dict:
    return client.post(f"/planning/revisions/{rid}/validate", headers=planner).json()


def test_moving_a_courtyard_moves_exactly_its_households(client, planner, engine, pair, draft):
    cells, etag = _figures(client, planner, draft)
    resp = _edit(
        client,
        planner,
        draft,
        "move",
        {"target": pair.b, "kind": "courtyard", "units": [pair.yard]},
        etag,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["etag"] != etag and resp.headers["ETag"] == body["etag"]
    after = {f["properties"]["code"]: f["properties"] for f in body["cells"]["features"]}
    assert len(after) < len(cells)  # only what changed
    hh = pair.households
    assert after[pair.a]["households"] == cells[pair.a]["properties"]["households"] - hh
    assert after[pair.b]["households"] == cells[pair.b]["properties"]["households"] + hh
    assert {"polsby_popper", "multipart", "open_cases", "deviation"} <= set(after[pair.b])
    assert body["from"] == {pair.a: [str(pair.yard)]} and body["problems"] == []
    assert _valid(client, planner, draft)["valid"] is True
    with engine.connect() as conn:
        audit = conn.execute(
            text(
                "SELECT actor, data FROM audit_log WHERE action = 'grid_draft_move' "
                "AND entity_id = :r"
            ),
            {"r": str(draft)},
        ).one()
    assert audit.data["from"] == {pair.a: [str(pair.yard)]} and audit.data["target"] == pair.b
    # the second planner still holds the old ETag: 412 with the current one, nothing changed
    before = _state(engine, draft)
    stale = _edit(client, planner, draft, "move", {"target": pair.a, "units": [pair.yard]}, etag)
    assert stale.status_code == 412 and stale.json()["etag"] == body["etag"]
    missing = client.post(
        f"/planning/revisions/{draft}/edits/delete-cell", json={"cell": pair.a}, headers=planner
    )
    assert missing.status_code == 428
    assert _state(engine, draft) == before


def _line_across(geom_json, frac=0.5) -> dict:
    g = shape(geom_json)
    minx, miny, maxx, maxy = g.bounds
    y = miny + (maxy - miny) * frac
    pad = (maxx - minx) * 0.2
    return mapping(LineString([(minx - pad, y), (maxx + pad, y)]))


def test_split_merge_new_and_delete_keep_the_draft_valid(client, planner, engine, pair, draft):
    cells, etag = _figures(client, planner, draft)
    split = _edit(
        client,
        planner,
        draft,
        "split",
        {"cell": pair.b, "line": _line_across(cells[pair.b]["geometry"])},
        etag,
    )
    assert split.status_code == 200, split.text
    pieces = split.json()["pieces"]
    assert len(pieces) >= 2 and pieces[0] == pair.b
    assert split.json()["problems"] == [] and _valid(client, planner, draft)["valid"]
    merged = _edit(
        client,
        planner,
        draft,
        "merge",
        {"cell": pieces[0], "other": pieces[1]},
        split.json()["etag"],
    )
    assert merged.status_code == 200, merged.text
    assert pieces[1] in merged.json()["removed"] and _valid(client, planner, draft)["valid"]
    gone = _edit(client, planner, draft, "delete-cell", {"cell": pair.a}, merged.json()["etag"])
    assert gone.status_code == 200 and pair.a in gone.json()["removed"]
    assert {p["kind"] for p in gone.json()["problems"]} == {"gap"}
    parent = cells[pair.a]["properties"]["parent_code"]
    back = _edit(
        client,
        planner,
        draft,
        "new-cell",
        {"level": 2, "parent_code": parent, "geometry": cells[pair.a]["geometry"]},
        gone.json()["etag"],
    )
    assert back.status_code == 200, back.text
    assert back.json()["cell"].startswith(parent) and back.json()["problems"] == []
    assert _valid(client, planner, draft)["valid"] is True


def test_an_overlap_is_drawn_and_undo_clears_it(client, planner, engine, pair, draft):
    cells, etag = _figures(client, planner, draft)
    a, b = shape(cells[pair.a]["geometry"]), shape(cells[pair.b]["geometry"])
    grown = shapely.union(b, a.intersection(b.buffer(0.0002))).buffer(0)
    parent = shape(cells[cells[pair.b]["properties"]["parent_code"]]["geometry"])
    grown = grown.intersection(parent)
    resp = _edit(
        client, planner, draft, "reshape", {"cell": pair.b, "geometry": mapping(grown)}, etag
    )
    assert resp.status_code == 200, resp.text
    kinds = {p["kind"] for p in resp.json()["problems"]}
    assert "overlap" in kinds and all(p["geometry"] for p in resp.json()["problems"])
    assert "overlap" in _valid(client, planner, draft)["counts"]
    body = resp.json()
    created = sorted(
        {f["id"] for f in body["cells"]["features"]} - {f["id"] for f in body["before"]}
    )
    undo = _edit(
        client,
        planner,
        draft,
        "restore",
        {"cells": body["before"], "remove": created},
        body["etag"],
    )
    assert undo.status_code == 200, undo.text
    assert undo.json()["problems"] == [] and _valid(client, planner, draft)["valid"]


@pytest.mark.parametrize(
    ("op", "why"),
    [
        ("split", "split_line_misses"),
        ("reshape", "outside_parent"),
        ("self_intersecting", "invalid_geometry"),
        ("outside_scope", "units_outside_scope"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(client, planner, engine, pair, draft, op, why):
    cells, etag = _figures(client, planner, draft)
    b = shape(cells[pair.b]["geometry"])
    minx, miny, maxx, maxy = b.bounds
    if op == "split":
        inside = LineString([(minx + (maxx - minx) * 0.4, (miny + maxy) / 2), b.centroid.coords[0]])
        path, body = "split", {"cell": pair.b, "line": mapping(inside)}
    elif op == "reshape":
        path, body = "reshape", {"cell": pair.b, "geometry": mapping(b.buffer(0.01))}
    elif op == "self_intersecting":
        bowtie = {
            "type": "Polygon",
            "coordinates": [[[minx, miny], [maxx, maxy], [maxx, miny], [minx, maxy], [minx, miny]]],
        }
        path, body = "reshape", {"cell": pair.b, "geometry": bowtie}
    else:
        with engine.connect() as conn:
            yard = conn.execute(
                text(
                    "SELECT y.id FROM courtyards y JOIN communities c ON c.id = y.community_id "
                    "WHERE c.code <> :c ORDER BY y.id LIMIT 1"
                ),
                {"c": pair.community},
            ).scalar_one()
        path, body = "move", {"target": pair.b, "units": [yard]}
    before = _state(engine, draft)
    resp = _edit(client, planner, draft, path, body, etag)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == why
    assert _state(engine, draft) == before


def test_drafts_are_listed_with_author_and_age_and_can_be_deleted(client, planner, test_db, pair):
    rid = new_draft(client, planner, community=pair.community)
    listed = client.get("/planning/drafts", headers=planner).json()
    mine = next(d for d in listed if d["id"] == rid)
    assert mine["author"] and mine["age_s"] >= 0 and mine["cells"] > 0
    assert client.delete(f"/planning/revisions/{rid}", headers=planner).status_code == 204
    assert client.get(f"/planning/revisions/{rid}", headers=planner).json()["status"] == "discarded"
    assert rid not in {d["id"] for d in client.get("/planning/drafts", headers=planner).json()}
    assert client.delete(f"/planning/revisions/{rid}", headers=planner).status_code == 409
    worker = test_db.headers("grid_worker")
    assert client.get("/planning/drafts", headers=worker).status_code == 403


def test_an_edit_after_a_put_sees_the_put_not_the_cached_tree(client, planner, pair, draft):
    original = client.get(f"/planning/revisions/{draft}/cells", headers=planner).json()
    _, etag = _figures(client, planner, draft)
    first = _edit(client, planner, draft, "delete-cell", {"cell": pair.a}, etag)
    assert first.status_code == 200, first.text
    put = client.put(
        f"/planning/revisions/{draft}/cells",
        json=original,
        headers={**planner, "If-Match": first.json()["etag"]},
    )
    assert put.status_code == 200, put.text
    stale = _edit(client, planner, draft, "delete-cell", {"cell": pair.a}, first.json()["etag"])
    assert stale.status_code == 412
    _, etag = _figures(client, planner, draft)
    again = _edit(client, planner, draft, "delete-cell", {"cell": pair.a}, etag)
    assert again.status_code == 200, again.text
    assert pair.a in again.json()["removed"]

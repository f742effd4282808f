"""The board's compact columns say what the GeoJSON pages say, in its parts, in its scope.

The board page loads `GET /board/cases/columns` (in parts by id) and
`GET /board/workers/columns` instead of the GeoJSON pages, so these must carry the
same cases with the same values: every open case the caller may see, once, in the
queue's order, each field equal to the GeoJSON page's (times to the second), the
parts together exactly the whole; a street's dispatcher gets only the street; the
workers with the same positions and loads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

COMPARED = (
    "id",
    "version",
    "status",
    "urgency",
    "category",
    "handling_level",
    "street_code",
    "community_code",
    "l1_code",
    "assignee_worker_id",
    "description",
    "alarm",
)


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(body["columns"], r, strict=True)) for r in body["rows"]]


def _geojson_all(client: TestClient, headers: dict[str, str], query: str = "") -> list[dict]:
    rows: list[dict] = []
    offset: int | None = 0
    while offset is not None:
        page = client.get(f"/board/cases?limit=2000&offset={offset}{query}", headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        for f in body["features"]:
            rows.append({**f["properties"], "lon": f["geometry"]["coordinates"][0]})
            rows[-1]["lat"] = f["geometry"]["coordinates"][1]
        offset = body["next_offset"]
    return rows


def _second(value: str | None) -> str | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_columns_carry_every_case_of_the_geojson_pages_with_equal_values(
    client: TestClient, test_db
) -> None:
    headers = test_db.headers("dispatcher")
    pages = _geojson_all(client, headers)
    whole = client.get("/board/cases/columns", headers=headers)
    assert whole.status_code == 200, whole.text
    body = whole.json()
    assert body["total"] == len(pages) == len(body["rows"]) > 50
    assert body["cursor"] and body["cursor"].count(".") == 1
    got = _rows(body)
    assert [r["id"] for r in got] == [r["id"] for r in pages]  # same order: soonest due first
    assert {r["alarm"] for r in got} >= {"red"}  # the demo's history holds overdue cases
    for mine, theirs in zip(got, pages, strict=True):
        assert {k: mine[k] for k in COMPARED} == {k: theirs[k] for k in COMPARED}
        assert mine["due_at"] == _second(theirs["due_at"])
        assert mine["supervised_at"] == _second(theirs["supervised_at"])
        assert abs(mine["lon"] - theirs["lon"]) <= 5e-7 and abs(mine["lat"] - theirs["lat"]) <= 5e-7

    parts = [
        client.get(f"/board/cases/columns?parts=3&part={k}", headers=headers).json()
        for k in range(3)
    ]
    ids = [r["id"] for p in parts for r in _rows(p)]
    assert sorted(ids) == sorted(r["id"] for r in got)  # each case once, none dropped
    assert sum(p["total"] for p in parts) == body["total"]
    assert all(r["id"] % 3 == k for k, p in enumerate(parts) for r in _rows(p))


def test_a_filter_and_a_street_dispatchers_scope_hold(
    client: TestClient, test_db, engine: Engine
) -> None:
    with engine.connect() as c:
        street = c.execute(
            text(
                "SELECT s.code FROM incidents i JOIN streets s ON s.id = i.street_id"
                " WHERE i.status NOT IN ('closed', 'evaluated', 'void')"
                " GROUP BY s.code ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
    headers = test_db.headers("dispatcher")
    filtered = client.get(f"/board/cases/columns?street={street}", headers=headers).json()
    expected = _geojson_all(client, headers, f"&street={street}")
    assert [r["id"] for r in _rows(filtered)] == [r["id"] for r in expected]
    assert {r["street_code"] for r in _rows(filtered)} == {street}

    admin = test_db.headers("admin")
    made = client.post(
        "/admin/keys", json={"role": "dispatcher", "name": "街道调度员"}, headers=admin
    )
    assert made.status_code == 201, made.text
    posted = client.post(
        f"/platform/units/S{street}/staff", json={"key_id": made.json()["id"]}, headers=admin
    )
    assert posted.status_code == 201, posted.text
    mine = {"Authorization": f"Bearer {made.json()['key']}"}
    scoped = client.get("/board/cases/columns", headers=mine).json()
    assert 0 < scoped["total"] < client.get("/board/cases/columns", headers=headers).json()["total"]
    assert [r["id"] for r in _rows(scoped)] == [r["id"] for r in _geojson_all(client, mine)]


def test_workers_columns_match_the_geojson_and_bad_parts_are_refused(
    client: TestClient, test_db
) -> None:
    headers = test_db.headers("dispatcher")
    geo = client.get("/board/workers", headers=headers).json()["features"]
    cols = client.get("/board/workers/columns", headers=headers).json()
    got = {r["id"]: r for r in _rows(cols)}
    assert cols["total"] == len(geo) == len(got) > 0
    for f in geo:
        row, p = got[f["properties"]["id"]], f["properties"]
        assert (row["name"], row["level"], row["open_cases"]) == (
            p["name"],
            p["level"],
            p["open_cases"],
        )
        assert abs(row["lon"] - f["geometry"]["coordinates"][0]) <= 5e-7
    beyond = client.get("/board/cases/columns?parts=2&part=2", headers=headers)
    assert (beyond.status_code, beyond.json()["code"]) == (400, "invalid_part")
    for query in ("parts=0", "parts=99", "part=-1"):
        refused = client.get(f"/board/cases/columns?{query}", headers=headers)
        assert refused.status_code == 422, (query, refused.text)
    assert client.get("/board/cases/columns").status_code == 401


def test_descriptions_come_for_the_first_rows_and_the_rest_by_id(
    client: TestClient, test_db
) -> None:
    headers = test_db.headers("dispatcher")
    whole = _rows(client.get("/board/cases/columns?parts=2&part=1", headers=headers).json())
    short = client.get("/board/cases/columns?parts=2&part=1&describe=5", headers=headers).json()
    assert short["described"] == 5 and len(short["rows"]) == len(whole) > 10
    got = _rows(short)
    assert [r["description"] for r in got[:5]] == [r["description"] for r in whole[:5]]
    assert all(r["description"] for r in got[:5])  # the demo's cases all have one
    assert {r["description"] for r in got[5:]} == {None}
    assert [{**r, "description": None} for r in got] == [
        {**r, "description": None} for r in whole
    ]  # nothing else differs

    later = [r["id"] for r in whole[5:9]]
    named = client.get(
        f"/board/cases/columns?ids={','.join(map(str, later))}", headers=headers
    ).json()
    assert {r["id"]: r["description"] for r in _rows(named)} == {
        r["id"]: r["description"] for r in whole[5:9]
    }
    too_many = ",".join(str(i) for i in range(1, 502))
    refused = client.get(f"/board/cases/columns?ids={too_many}", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (400, "too_many_ids")
    bad = client.get("/board/cases/columns?ids=1,x", headers=headers)
    assert bad.status_code == 422

"""Part 3: CQL2 text and JSON filters give what the same SQL gives, and nothing else."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from layers.ogc.cql import Binds, compile_filter
from layers.ogc.crs_uris import CRS84
from layers.ogc.registry import get_collection
from layers.tables.grid_cells import LIVE

SP = "/ogc/collections/service_points/items"
L3 = "/ogc/collections/grid_cells_l3/items"
BOX = "POLYGON((104.10 30.64, 104.14 30.64, 104.14 30.68, 104.10 30.68, 104.10 30.64))"
BOX_SQL = "ST_GeomFromText('" + BOX + "', 4326)"


def count(engine: Engine, table: str, where: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table} t WHERE {where}")).scalar())


def hits(client: TestClient, url: str, cql: str, lang: str = "cql2-text") -> int:
    resp = client.get(f"{url}?filter={quote(cql)}&filter-lang={lang}&resultType=hits")
    assert resp.status_code == 200, resp.text
    return resp.json()["numberMatched"]


CASES = [
    (SP, "kind = 'clinic'", "service_points", "kind = 'clinic'"),
    (
        SP,
        "kind <> 'clinic' AND name LIKE '%社区%'",
        "service_points",
        "kind <> 'clinic' AND name LIKE '%社区%'",
    ),
    (SP, "kind IN ('police', 'school')", "service_points", "kind IN ('police', 'school')"),
    (
        SP,
        "NOT (kind IN ('police', 'school'))",
        "service_points",
        "NOT (kind IN ('police', 'school'))",
    ),
    (
        SP,
        "address IS NULL OR phone IS NOT NULL",
        "service_points",
        "address IS NULL OR phone IS NOT NULL",
    ),
    (SP, "CASEI(kind) = casei('CLINIC')", "service_points", "kind = 'clinic'"),
    (
        "/ogc/collections/courtyards/items",
        "households BETWEEN 100 AND 300",
        "courtyards",
        "households BETWEEN 100 AND 300",
    ),
    (
        "/ogc/collections/courtyards/items",
        "residents > households",
        "courtyards",
        "residents > households",
    ),
    ("/ogc/collections/courtyards/items", "is_three_nos = true", "courtyards", "is_three_nos"),
    (
        L3,
        f"S_INTERSECTS(geometry, {BOX})",
        "grid_cells",
        f"level = 3 AND {LIVE} AND ST_Intersects(geom, {BOX_SQL})",
    ),
    (
        L3,
        f"S_WITHIN(geometry, {BOX})",
        "grid_cells",
        f"level = 3 AND {LIVE} AND ST_Within(geom, {BOX_SQL})",
    ),
    (
        L3,
        "S_INTERSECTS(geometry, BBOX(104.10, 30.64, 104.14, 30.68))",
        "grid_cells",
        f"level = 3 AND {LIVE} AND ST_Intersects(geom, {BOX_SQL})",
    ),
    (
        L3,
        "households >= 50 AND population < 1000.5",
        "grid_cells",
        f"level = 3 AND {LIVE} AND households >= 50 AND population < 1000.5",
    ),
]


@pytest.mark.parametrize(("url", "cql", "table", "where"), CASES)
def test_cql2_text_matches_sql(
    client: TestClient, engine: Engine, url: str, cql: str, table: str, where: str
) -> None:
    expected = count(engine, table, where)
    assert hits(client, url, cql) == expected


def test_cql2_json_matches_sql(client: TestClient, engine: Engine) -> None:
    expr = {
        "op": "and",
        "args": [
            {"op": "between", "args": [{"property": "households"}, 10, 500]},
            {
                "op": "s_intersects",
                "args": [{"property": "geometry"}, {"bbox": [104.10, 30.64, 104.14, 30.68]}],
            },
            {"op": "not", "args": [{"op": "isNull", "args": [{"property": "name"}]}]},
        ],
    }
    expected = count(
        engine,
        "grid_cells",
        f"level = 3 AND {LIVE} AND households BETWEEN 10 AND 500 "
        f"AND ST_Intersects(geom, {BOX_SQL}) AND name IS NOT NULL",
    )
    assert expected > 0
    assert hits(client, L3, json.dumps(expr), "cql2-json") == expected


def test_filter_crs_swaps_axes(client: TestClient) -> None:
    lat_first = "POLYGON((30.64 104.10, 30.64 104.14, 30.68 104.14, 30.68 104.10, 30.64 104.10))"
    crs = quote("http://www.opengis.net/def/crs/EPSG/0/4326")
    plain = hits(client, L3, f"S_INTERSECTS(geometry, {BOX})")
    resp = client.get(
        f"{L3}?filter={quote(f'S_INTERSECTS(geometry, {lat_first})')}&filter-crs={crs}"
        "&resultType=hits"
    )
    assert resp.json()["numberMatched"] == plain > 0


def test_filter_with_timestamps_on_incidents(client: TestClient, engine: Engine, test_db) -> None:
    cql = "created_at >= TIMESTAMP('2026-10-01T00:00:00Z') AND status = 'closed'"
    resp = client.get(
        f"/ogc/collections/incidents/items?filter={quote(cql)}&resultType=hits",
        headers=test_db.headers("dispatcher"),
    )
    expected = count(
        engine, "incidents", "created_at >= '2026-10-01T00:00:00Z' AND status = 'closed'"
    )
    assert resp.json()["numberMatched"] == expected


@pytest.mark.parametrize(
    "cql",
    [
        "name = 'x'' OR 1=1 --'",
        "name = 'x'; DROP TABLE service_points; --",
        "\"name; DROP TABLE service_points\" = 'x'",
        "reporter_phone = '1'",
        "households = 'many'",
        "S_INTERSECTS(name, POINT(1 2))",
        "kind LIKE 3",
    ],
)
def test_hostile_or_mistyped_filters_are_400(client: TestClient, engine: Engine, cql: str) -> None:
    before = count(engine, "service_points", "true")
    resp = client.get(f"{SP}?filter={quote(cql)}")
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_filter"
    assert count(engine, "service_points", "true") == before


def test_compiled_sql_binds_every_literal() -> None:
    binds = Binds()
    collection = get_collection("service_points", "resident")
    sql = compile_filter(
        "name = 'O;DROP' OR kind IN ('clinic') OR name LIKE '%DROP%'",
        "cql2-text",
        collection,
        "resident",
        CRS84,
        binds,
    )
    assert "DROP" not in sql and "clinic" not in sql
    assert set(binds.values.values()) == {"O;DROP", "clinic", "%DROP%"}


def test_queryables_is_json_schema(client: TestClient) -> None:
    resp = client.get("/ogc/collections/buildings/queryables")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/schema+json")
    body = resp.json()
    assert body["type"] == "object"
    assert body["properties"]["geometry"]["format"] == "geometry-polygon"
    assert body["properties"]["floors"]["type"] == "integer"
    assert body["properties"]["updated_at"]["format"] == "date-time"
    plain = client.get(
        "/ogc/collections/buildings/queryables", headers={"Accept": "application/json"}
    )
    assert plain.headers["content-type"] == "application/json"


def _or_chain(n: int, name: str = "households") -> str:
    return " OR ".join(f"{name}={i}" for i in range(n))


def _nested_not(n: int) -> str:
    leaf = '{"op": "=", "args": [{"property": "households"}, 1]}'
    return '{"op": "not", "args": [' * n + leaf + "]}" * n


@pytest.mark.parametrize(
    ("cql", "lang"),
    [
        (_or_chain(3000, "id"), "cql2-text"),  # was a RecursionError (500) in the compiler
        (_or_chain(1000), "cql2-text"),  # short enough, but over the operation bound
        (_nested_not(600), "cql2-json"),  # was a RecursionError in the parser
        ("[" * 5000, "cql2-json"),
    ],
    ids=["3000-or", "1000-or", "600-not", "deep-json"],
)
def test_filters_over_the_bounds_are_400(client: TestClient, engine: Engine, cql, lang) -> None:
    before = count(engine, "audit_log", "true")
    # spaces as `+` and `=` unescaped keep 3,000 terms under httpx's 64 KiB URL limit
    query = f"filter-lang={lang}&limit=1&filter=" + quote(cql, safe="=()").replace("%20", "+")
    resp = client.get(f"{L3}?{query}")
    assert resp.status_code == 400, resp.text[:500]
    assert resp.json()["code"] == "filter_too_complex"
    assert count(engine, "audit_log", "true") == before


def test_long_or_chains_within_the_bounds_are_answered(client: TestClient, engine: Engine) -> None:
    """Flattened, a chain of 900 ORs compiles without recursion and matches the SQL."""
    expected = count(engine, "grid_cells", f"level = 3 AND {LIVE} AND households < 900")
    assert hits(client, L3, _or_chain(900)) == expected

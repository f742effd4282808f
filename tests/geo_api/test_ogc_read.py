"""OGC API – Features read side against the real database: Part 1 core, Part 2 CRS, access."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import Engine, text

from layers.tables.grid_cells import LIVE
from tests.conftest import DemoDatabase as DemoDb

PUBLIC = [
    "streets",
    "communities",
    "grid_cells_l1",
    "grid_cells_l2",
    "grid_cells_l3",
    "courtyards",
    "buildings",
    "service_points",
]
STAFF_ONLY = ["cameras", "incidents"]
BASE_DATA = ["addresses", "units"]
"""Public collections of the base-data centre (listed after the staff-only ones)."""
L3 = "/ogc/collections/grid_cells_l3/items"


def scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_landing_page_links_what_qgis_needs(client: TestClient) -> None:
    resp = client.get("/ogc")
    assert resp.status_code == 200
    assert client.get("/ogc/").json() == resp.json()
    rels = {link["rel"]: link for link in resp.json()["links"]}
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert "conformance" in rels and "data" in rels
    api = client.get(rels["service-desc"]["href"].replace("http://testserver", ""))
    assert api.status_code == 200
    doc = api.json()
    hits = doc["components"]["parameters"]["resultType"]["schema"]["enum"]
    assert "hits" in hits
    assert "/collections/grid_cells_l3/items" in doc["paths"]
    assert "/collections/cameras/items" not in doc["paths"]


def test_conformance_lists_the_filter_classes_gdal_looks_for(client: TestClient) -> None:
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    for suffix in ("features-filter", "/filter", "cql2-text", "basic-cql2", "crs", "core"):
        assert any(c.endswith(suffix) for c in classes), suffix


def test_anonymous_sees_only_public_collections(client: TestClient) -> None:
    ids = [c["id"] for c in client.get("/ogc/collections").json()["collections"]]
    assert ids == [*PUBLIC, *BASE_DATA]


def test_staff_see_cameras_and_incidents(client: TestClient, test_db: DemoDb) -> None:
    resp = client.get("/ogc/collections", headers=test_db.headers("grid_worker"))
    ids = [c["id"] for c in resp.json()["collections"]]
    assert ids == [*PUBLIC, *STAFF_ONLY, *BASE_DATA]


@pytest.mark.parametrize("collection", STAFF_ONLY)
@pytest.mark.parametrize(
    "suffix", ["", "/items", "/items/1", "/queryables", "/items?f=gpkg", "/items?resultType=hits"]
)
def test_hidden_collections_are_404_for_residents(
    client: TestClient, collection: str, suffix: str
) -> None:
    resp = client.get(f"/ogc/collections/{collection}{suffix}")
    assert resp.status_code == 404
    body = resp.json()
    assert body["code"] == "unknown_collection" and "description" in body


def test_reporter_fields_only_for_dispatchers(client: TestClient, test_db: DemoDb) -> None:
    url = "/ogc/collections/incidents/items?limit=5"
    worker = client.get(url, headers=test_db.headers("grid_worker")).json()["features"]
    dispatcher = client.get(url, headers=test_db.headers("dispatcher")).json()["features"]
    assert worker and dispatcher
    assert all("reporter_phone" not in f["properties"] for f in worker)
    assert all("reporter_name" not in f["properties"] for f in worker)
    assert all("reporter_phone" in f["properties"] for f in dispatcher)
    queryables = client.get(
        "/ogc/collections/incidents/queryables", headers=test_db.headers("planner")
    ).json()["properties"]
    assert "reporter_phone" not in queryables and "status" in queryables


def test_number_matched_and_cursor_paging_cover_the_collection(
    client: TestClient, engine: Engine
) -> None:
    expected = scalar(engine, f"SELECT count(*) FROM grid_cells WHERE level=3 AND {LIVE}")
    url, seen, pages = f"{L3}?limit=200", [], 0
    while url:
        resp = client.get(url, headers={"Accept": "application/geo+json"})
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "application/geo+json"
        body = resp.json()
        assert body["numberMatched"] == expected
        assert body["numberReturned"] == len(body["features"])
        seen += [f["id"] for f in body["features"]]
        nxt = [link for link in body["links"] if link["rel"] == "next"]
        assert all(link["type"] == "application/geo+json" for link in nxt)
        url = nxt[0]["href"].replace("http://testserver", "") if nxt else None
        pages += 1
    assert len(seen) == expected == len(set(seen))
    assert seen == sorted(seen)
    assert pages == -(-expected // 200)


def test_prev_link_returns_the_previous_page(client: TestClient) -> None:
    first = client.get(f"{L3}?limit=50").json()
    nxt = next(link for link in first["links"] if link["rel"] == "next")["href"]
    second = client.get(nxt.replace("http://testserver", "")).json()
    prev = next(link for link in second["links"] if link["rel"] == "prev")["href"]
    back = client.get(prev.replace("http://testserver", "")).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in first["features"]]


def test_sortby_and_offset_paging(client: TestClient, engine: Engine) -> None:
    top = scalar(engine, "SELECT max(households) FROM courtyards")
    body = client.get("/ogc/collections/courtyards/items?sortby=-households&limit=5").json()
    assert body["features"][0]["properties"]["households"] == top
    nxt = next(link for link in body["links"] if link["rel"] == "next")["href"]
    assert "offset=5" in nxt
    values = [f["properties"]["households"] for f in body["features"]]
    assert values == sorted(values, reverse=True)


def test_sortby_pages_cover_the_collection_once(client: TestClient, engine: Engine) -> None:
    expected = scalar(engine, "SELECT count(*) FROM courtyards")
    url, seen, last = "/ogc/collections/courtyards/items?sortby=-households,name&limit=7", [], None
    while url:
        body = client.get(url).json()
        assert body["numberMatched"] == expected
        for feature in body["features"]:
            households = feature["properties"]["households"]
            assert last is None or households <= last
            last = households
            seen.append(feature["id"])
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else None
    assert len(seen) == len(set(seen)) == expected


def test_properties_selects_fields(client: TestClient) -> None:
    body = client.get("/ogc/collections/buildings/items?limit=3&properties=code,floors").json()
    assert all(set(f["properties"]) == {"code", "floors"} for f in body["features"])


def test_bbox_matches_postgis(client: TestClient, engine: Engine) -> None:
    box = (104.10, 30.64, 104.14, 30.68)
    expected = scalar(
        engine,
        f"SELECT count(*) FROM grid_cells WHERE level=3 AND {LIVE} AND "
        "ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))",
        a=box[0],
        b=box[1],
        c=box[2],
        d=box[3],
    )
    assert expected > 0
    bbox = ",".join(map(str, box))
    body = client.get(f"{L3}?bbox={bbox}&limit=10000").json()
    assert body["numberMatched"] == body["numberReturned"] == expected
    lat_first = f"{box[1]},{box[0]},{box[3]},{box[2]}"
    crs = "http://www.opengis.net/def/crs/EPSG/0/4326"
    other = client.get(f"{L3}?bbox={lat_first}&bbox-crs={crs}&limit=10000").json()
    assert {f["id"] for f in other["features"]} == {f["id"] for f in body["features"]}
    hits = client.get(f"{L3}?bbox={bbox}&resultType=hits").json()
    assert hits["numberMatched"] == expected and hits["features"] == []


def test_bbox_in_utm_matches(client: TestClient) -> None:
    to_utm = Transformer.from_crs(4326, 32648, always_xy=True)
    x1, y1 = to_utm.transform(104.10, 30.64)
    x2, y2 = to_utm.transform(104.12, 30.66)
    crs = "http://www.opengis.net/def/crs/EPSG/0/32648"
    resp = client.get(f"{L3}?bbox={x1},{y1},{x2},{y2}&bbox-crs={crs}&resultType=hits")
    assert resp.status_code == 200 and resp.json()["numberMatched"] > 0


def test_antimeridian_bbox_is_accepted(client: TestClient) -> None:
    resp = client.get(f"{L3}?bbox=170,-10,-170,10")
    assert resp.status_code == 200
    assert resp.json()["numberMatched"] == 0
    wide = client.get(f"{L3}?bbox=100,20,-170,40&resultType=hits").json()
    assert wide["numberMatched"] > 0  # 100°E → 190°E wraps and covers Chengdu


def test_datetime_selects_grid_revision(client: TestClient, engine: Engine) -> None:
    start = scalar(engine, "SELECT min(valid_from) FROM grid_cells")
    before = (start.replace(year=start.year - 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(f"{L3}?datetime={before}&resultType=hits").json()["numberMatched"] == 0
    live = client.get(f"{L3}?resultType=hits").json()["numberMatched"]
    now = client.get(f"{L3}?datetime=2026-10-01T00:00:00Z&resultType=hits").json()
    assert now["numberMatched"] == live
    interval = client.get(f"{L3}?datetime=../{before}&resultType=hits").json()
    assert interval["numberMatched"] == 0


def test_property_equality_filter(client: TestClient, engine: Engine) -> None:
    expected = scalar(engine, "SELECT count(*) FROM service_points WHERE kind = 'clinic'")
    body = client.get("/ogc/collections/service_points/items?kind=clinic&resultType=hits").json()
    assert body["numberMatched"] == expected


def _round_trip(client: TestClient, engine: Engine, srid: int, lat_first: bool) -> float:
    crs = f"http://www.opengis.net/def/crs/EPSG/0/{srid}"
    resp = client.get(f"/ogc/collections/service_points/items?limit=50&crs={crs}")
    assert resp.headers["content-crs"] == f"<{crs}>"
    back = Transformer.from_crs(srid, 4326, always_xy=True)
    worst = 0.0
    with engine.connect() as conn:
        for feature in resp.json()["features"]:
            a, b = feature["geometry"]["coordinates"]
            x, y = (b, a) if lat_first else (a, b)
            lon, lat = back.transform(x, y)
            metres = conn.execute(
                text(
                    "SELECT ST_Distance(geom::geography, "
                    "ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) "
                    "FROM service_points WHERE id = :id"
                ),
                {"x": lon, "y": lat, "id": feature["id"]},
            ).scalar()
            worst = max(worst, metres)
    return worst


@pytest.mark.parametrize(("srid", "lat_first"), [(4490, True), (32648, False), (4326, True)])
def test_crs_round_trip_within_a_centimetre(
    client: TestClient, engine: Engine, srid: int, lat_first: bool
) -> None:
    assert _round_trip(client, engine, srid, lat_first) < 0.01


def test_epsg4326_output_is_latitude_first(client: TestClient) -> None:
    crs = "http://www.opengis.net/def/crs/EPSG/0/4326"
    plain = client.get("/ogc/collections/service_points/items/1").json()["geometry"]
    swapped = client.get(f"/ogc/collections/service_points/items/1?crs={crs}").json()["geometry"]
    assert swapped["coordinates"] == plain["coordinates"][::-1]
    assert 30 < swapped["coordinates"][0] < 31  # Chengdu's latitude first


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=0", "invalid_parameter"),
        ("limit=10001", "invalid_parameter"),
        ("limit=ten", "invalid_parameter"),
        ("bbox=1,2,3", "invalid_bbox"),
        ("bbox=104,31,105,30", "invalid_bbox"),
        ("bbox=a,b,c,d", "invalid_bbox"),
        ("crs=EPSG:9999", "invalid_crs"),
        ("bbox-crs=nonsense&bbox=1,2,3,4", "invalid_crs"),
        ("datetime=yesterday", "invalid_datetime"),
        ("filter=name%20%3D", "invalid_filter"),
        ("filter=nosuchfield%20%3D%201", "invalid_filter"),
        ("sortby=nosuch", "unknown_property"),
        ("colour=red", "unknown_parameter"),
        ("f=xml", "invalid_format"),
        ("cursor=zzz", "invalid_parameter"),
    ],
)
def test_bad_input_is_400_ogc_exception(client: TestClient, query: str, code: str) -> None:
    resp = client.get(f"{L3}?{query}")
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == code
    assert body["description"]
    assert resp.headers["content-type"] == "application/json"


def test_unknown_collection_and_feature_are_404(client: TestClient) -> None:
    assert client.get("/ogc/collections/rivers/items").json()["code"] == "unknown_collection"
    resp = client.get("/ogc/collections/streets/items/999999")
    assert resp.status_code == 404 and resp.json()["code"] == "unknown_feature"
    level1_id = client.get("/ogc/collections/grid_cells_l1/items?limit=1").json()["features"][0]
    wrong = client.get(f"/ogc/collections/grid_cells_l3/items/{level1_id['id']}")
    assert wrong.status_code == 404
    assert client.get("/ogc/no/such/path").json()["code"] == "not_found"

"""Part 4: create, replace, update, delete with ETags, validation and audit, on the real DB."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import DemoDatabase as DemoDb

SP = "/ogc/collections/service_points/items"
GEOJSON = {"Content-Type": "application/geo+json"}


def one(engine: Engine, sql: str, **params: object):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).one_or_none()


def point_inside(engine: Engine) -> tuple[float, float]:
    row = one(
        engine,
        "SELECT ST_X(p) x, ST_Y(p) y FROM (SELECT ST_PointOnSurface(geom) p "
        "FROM communities ORDER BY id LIMIT 1) s",
    )
    return row.x, row.y


def feature(x: float, y: float, **props: object) -> dict:
    base = {"code": "SP-TEST-1", "kind": "clinic", "name": "社区卫生服务站（测试）"}
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [x, y]},
        "properties": {**base, **props},
    }


def post(
    client: TestClient,
    db: DemoDb,
    body: dict,
    role: str = "planner",
    url: str = SP,
    headers: dict | None = None,
):
    return client.post(
        url, content=json.dumps(body), headers={**GEOJSON, **db.headers(role), **(headers or {})}
    )


def test_roles_that_may_not_edit(client: TestClient, test_db: DemoDb, engine: Engine) -> None:
    x, y = point_inside(engine)
    assert post(client, test_db, feature(x, y), role="resident").status_code == 401
    resp = post(client, test_db, feature(x, y), role="dispatcher")
    assert resp.status_code == 403 and resp.json()["code"] == "forbidden"
    resp = client.post("/ogc/collections/cameras/items", content="{}", headers=GEOJSON)
    assert resp.status_code == 401  # no key: the same answer for every collection
    assert one(engine, "SELECT id FROM service_points WHERE code = 'SP-TEST-1'") is None


def _create(client: TestClient, test_db: DemoDb, engine: Engine, x: float, y: float):
    """POST a service point as a planner: stored, placed in a community, audited; (id, ETag)."""
    resp = post(client, test_db, feature(x, y, phone="028-8888"))
    assert resp.status_code == 201, resp.text
    location, tag = resp.headers["location"], resp.headers["etag"]
    row_id = int(location.rsplit("/", 1)[1])
    row = one(
        engine, "SELECT name, version, community_id FROM service_points WHERE id=:i", i=row_id
    )
    assert row.name == "社区卫生服务站（测试）" and row.version == 1
    assert row.community_id is not None  # derived from the position
    audit = one(
        engine,
        "SELECT actor, role, action FROM audit_log WHERE entity='service_points' "
        "AND entity_id=:i AND action='ogc.create'",
        i=str(row_id),
    )
    assert audit.role == "planner"
    return row_id, tag


def test_create_read_replace_patch_delete(
    client: TestClient, test_db: DemoDb, engine: Engine
) -> None:
    x, y = point_inside(engine)
    row_id, tag = _create(client, test_db, engine, x, y)
    url = f"{SP}/{row_id}"
    got = client.get(url)
    assert got.headers["etag"] == tag
    assert got.json()["properties"]["phone"] == "028-8888"

    body = feature(x, y, name="改名")
    headers = {**GEOJSON, **test_db.headers("planner")}
    assert client.put(url, content=json.dumps(body), headers=headers).status_code == 428
    stale = client.put(url, content=json.dumps(body), headers={**headers, "If-Match": '"v9"'})
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    put = client.put(url, content=json.dumps(body), headers={**headers, "If-Match": tag})
    assert put.status_code == 204, put.text
    new_tag = put.headers["etag"]
    assert new_tag != tag
    row = one(engine, "SELECT name, phone, version FROM service_points WHERE id=:i", i=row_id)
    assert (row.name, row.phone, row.version) == ("改名", None, 2)  # PUT replaces entirely

    patch = {"properties": {"opening_hours": "Mo-Fr 08:30-17:30"}}
    merge = {"Content-Type": "application/merge-patch+json", **test_db.headers("admin")}
    again = client.patch(url, content=json.dumps(patch), headers={**merge, "If-Match": tag})
    assert again.status_code == 412  # the old ETag no longer matches
    ok = client.patch(url, content=json.dumps(patch), headers={**merge, "If-Match": new_tag})
    assert ok.status_code == 204
    row = one(
        engine, "SELECT name, opening_hours, version FROM service_points WHERE id=:i", i=row_id
    )
    assert (row.name, row.opening_hours, row.version) == ("改名", "Mo-Fr 08:30-17:30", 3)

    gone = client.delete(
        url, headers={**test_db.headers("planner"), "If-Match": ok.headers["etag"]}
    )
    assert gone.status_code == 204
    assert one(engine, "SELECT id FROM service_points WHERE id=:i", i=row_id) is None
    actions = one(
        engine,
        "SELECT array_agg(action ORDER BY id) a FROM audit_log "
        "WHERE entity='service_points' AND entity_id=:i",
        i=str(row_id),
    ).a
    assert actions == ["ogc.create", "ogc.replace", "ogc.update", "ogc.delete"]
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"geometry": {"type": "Point", "coordinates": [116.4, 39.9]}}, "geometry"),
        (
            {"geometry": {"type": "LineString", "coordinates": [[104.1, 30.6], [104.2, 30.7]]}},
            "geometry",
        ),
        ({"geometry": None}, "geometry"),
        ({"properties": {"code": "X", "kind": "spaceport", "name": "n"}}, "kind"),
        ({"properties": {"kind": "clinic", "name": "n"}}, "code"),
        ({"properties": {"code": "X", "kind": "clinic", "name": "n", "colour": "red"}}, "colour"),
        (
            {"properties": {"code": "X", "kind": "clinic", "name": "n", "community_id": 99999}},
            "community_id",
        ),
    ],
)
def test_invalid_features_are_400_and_write_nothing(
    client: TestClient, test_db: DemoDb, engine: Engine, change: dict, field: str
) -> None:
    before = one(engine, "SELECT count(*) n FROM service_points").n
    x, y = point_inside(engine)
    body = {**feature(x, y), **change}
    resp = post(client, test_db, body)
    assert resp.status_code == 400, resp.text
    problems = resp.json()["problems"]
    assert field in {p["field"] for p in problems}
    assert one(engine, "SELECT count(*) n FROM service_points").n == before


def test_self_intersecting_building_is_rejected(
    client: TestClient, test_db: DemoDb, engine: Engine
) -> None:
    x, y = point_inside(engine)
    d = 0.0005
    bowtie = [[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]
    body = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [bowtie]},
        "properties": {"code": "B-TEST-BOWTIE"},
    }
    resp = post(client, test_db, body, url="/ogc/collections/buildings/items")
    assert resp.status_code == 400
    assert "Self-intersection" in resp.json()["description"]


def test_duplicate_code_is_409(client: TestClient, test_db: DemoDb, engine: Engine) -> None:
    existing = one(engine, "SELECT code FROM service_points ORDER BY id LIMIT 1").code
    x, y = point_inside(engine)
    resp = post(client, test_db, feature(x, y, code=existing))
    assert resp.status_code == 409 and resp.json()["code"] == "duplicate_code"


def test_camera_with_content_crs_lat_first(
    client: TestClient, test_db: DemoDb, engine: Engine
) -> None:
    x, y = point_inside(engine)
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [y, x]},
        "properties": {
            "device_id": "51010800001320009999",
            "name": "测试摄像机",
            "level": "community",
            "mount_height_m": 4.5,
            "azimuth_deg": 90,
            "hfov_deg": 70,
            "range_m": 11,
        },
    }
    crs = {"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"}
    resp = post(client, test_db, body, url="/ogc/collections/cameras/items", headers=crs)
    assert resp.status_code == 201, resp.text
    row = one(
        engine,
        "SELECT ST_X(geom) x, ST_Y(geom) y FROM cameras WHERE device_id='51010800001320009999'",
    )
    assert abs(row.x - x) < 1e-9 and abs(row.y - y) < 1e-9


def test_courtyard_polygon_promoted_and_entrances_kept(
    client: TestClient, test_db: DemoDb, engine: Engine
) -> None:
    x, y = point_inside(engine)
    d = 0.0004
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    body = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "code": "YTEST0001",
            "name": "测试院落",
            "households": 12,
            "entrances": {"type": "MultiPoint", "coordinates": [[x, y + d / 2]]},
        },
    }
    resp = post(client, test_db, body, url="/ogc/collections/courtyards/items")
    assert resp.status_code == 201, resp.text
    row = one(
        engine,
        "SELECT GeometryType(geom) g, ST_NumGeometries(entrances) n, is_three_nos "
        "FROM courtyards WHERE code='YTEST0001'",
    )
    assert (row.g, row.n, row.is_three_nos) == ("MULTIPOLYGON", 1, True)


def test_grid_cells_are_read_only(client: TestClient, test_db: DemoDb) -> None:
    resp = post(client, test_db, {"type": "Feature"}, url="/ogc/collections/grid_cells_l3/items")
    assert resp.status_code == 405 and resp.json()["code"] == "read_only_collection"


def test_wrong_media_type_is_400(client: TestClient, test_db: DemoDb) -> None:
    resp = client.post(
        SP, content="x", headers={"Content-Type": "text/plain", **test_db.headers("planner")}
    )
    assert resp.status_code == 400 and resp.json()["code"] == "unsupported_media_type"


def test_patch_keeps_what_it_does_not_name(
    client: TestClient, test_db: DemoDb, engine: Engine
) -> None:
    before = one(
        engine,
        "SELECT id, name, version, ST_AsText(entrances) e, ST_AsText(geom) g "
        "FROM courtyards WHERE entrances IS NOT NULL ORDER BY id LIMIT 1",
    )
    url = f"/ogc/collections/courtyards/items/{before.id}"
    tag = client.get(url).headers["etag"]
    headers = {
        "Content-Type": "application/merge-patch+json",
        "If-Match": tag,
        **test_db.headers("planner"),
    }
    resp = client.patch(
        url, content=json.dumps({"properties": {"name": "新名字院落"}}), headers=headers
    )
    assert resp.status_code == 204, resp.text
    after = one(
        engine,
        "SELECT name, version, ST_AsText(entrances) e, ST_AsText(geom) g "
        "FROM courtyards WHERE id = :i",
        i=before.id,
    )
    assert (after.name, after.version) == ("新名字院落", before.version + 1)
    assert (after.e, after.g) == (before.e, before.g)

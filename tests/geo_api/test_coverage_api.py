"""Camera coverage through HTTP: occlusion, offline cameras, figures, cache, access."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from layers.core.crs import from_metric, to_metric

COURTYARD_CODE = "TESTOCCLUDE01"


def _audits(engine: Engine) -> int:
    with engine.connect() as c:
        return c.execute(
            text("SELECT count(*) FROM audit_log WHERE entity = 'derived:camera_views'")
        ).scalar_one()


def _empty_spot(engine: Engine) -> tuple[int, float, float]:
    """A community and a metric point inside it with no camera or building within 120 m."""
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT c.id, ST_X(p), ST_Y(p) FROM communities c,"
                " LATERAL (SELECT (ST_Dump(ST_GeneratePoints(c.geom, 40, 7))).geom AS p) g"
                " WHERE NOT EXISTS (SELECT 1 FROM cameras k WHERE ST_DWithin(k.geom::geography,"
                "   p::geography, 150))"
                " AND NOT EXISTS (SELECT 1 FROM buildings b WHERE ST_DWithin(b.geom::geography,"
                "   p::geography, 150))"
                " AND ST_DWithin(ST_Boundary(c.geom)::geography, p::geography, 200) IS FALSE"
                " ORDER BY c.id LIMIT 1"
            )
        ).one()
    x, y = to_metric(rows[1], rows[2])
    return rows[0], float(x), float(y)


def _wkt(geom) -> str:
    """A metric shapely geometry as WGS-84 WKT."""
    return shapely.transform(geom, lambda xy: np.column_stack(from_metric(xy[:, 0], xy[:, 1]))).wkt


@pytest.fixture(scope="module")
def scene(engine: Engine) -> dict[str, object]:
    """A camera looking north at a tall building, two gates: one in front, one behind."""
    community, x, y = _empty_spot(engine)
    params = {
        "c": community,
        "code": COURTYARD_CODE,
        "building": _wkt(shapely.box(x - 6, y + 24, x + 6, y + 30)),
        "yard": _wkt(shapely.MultiPolygon([shapely.box(x - 20, y - 5, x + 20, y + 45)])),
        "gates": _wkt(shapely.MultiPoint([(x, y + 15), (x, y + 38)])),
        "cam": _wkt(shapely.Point(x, y)),
    }
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO buildings (code, community_id, floors, height_m, geom)"
                " VALUES ('TESTB1', :c, 10, 30, ST_GeomFromText(:building, 4326))"
            ),
            params,
        )
        c.execute(
            text(
                "INSERT INTO courtyards (code, name, community_id, entrances, geom) VALUES"
                " (:code, '<b>测试</b>院', :c, ST_GeomFromText(:gates, 4326),"
                " ST_GeomFromText(:yard, 4326))"
            ),
            params,
        )
        camera_id = c.execute(
            text(
                "INSERT INTO cameras (device_id, name, level, mount_height_m, azimuth_deg,"
                " hfov_deg, range_m, online, community_id, geom) VALUES ('51010800001320000999',"
                " 'test cam', 'courtyard', 6, 0, 60, 45, true, :c, ST_GeomFromText(:cam, 4326))"
                " RETURNING id"
            ),
            params,
        ).scalar_one()
    return {"camera_id": camera_id, "community": community}


def _entrance_gaps(client: TestClient, headers) -> dict[str, str]:
    resp = client.get("/analytics/coverage/gaps?kind=entrance", headers=headers)
    assert resp.status_code == 200, resp.text
    return {
        f["properties"]["ref"]: f["properties"]["reason"]
        for f in resp.json()["features"]
        if f["properties"]["ref"].startswith(COURTYARD_CODE)
    }


def test_a_building_hides_the_gate_behind_it(client: TestClient, test_db, scene) -> None:
    gaps = _entrance_gaps(client, test_db.headers("planner"))
    assert f"{COURTYARD_CODE}#1" not in gaps  # in front of the building: seen
    assert gaps[f"{COURTYARD_CODE}#2"] == "occluded"  # behind it, inside the sector


def test_an_offline_camera_covers_nothing(client, test_db, engine: Engine, scene) -> None:
    with engine.begin() as c:
        c.execute(
            text("UPDATE cameras SET online = false WHERE id = :i"), {"i": scene["camera_id"]}
        )
    try:
        gaps = _entrance_gaps(client, test_db.headers("planner"))
        assert gaps[f"{COURTYARD_CODE}#1"] == "camera_offline"
        assert gaps[f"{COURTYARD_CODE}#2"] == "no_camera"
    finally:
        with engine.begin() as c:
            c.execute(
                text("UPDATE cameras SET online = true WHERE id = :i"), {"i": scene["camera_id"]}
            )


def test_figures_add_up_and_show_national_targets(client: TestClient, test_db, scene) -> None:
    resp = client.get("/analytics/coverage", headers=test_db.headers("grid_worker"))
    assert resp.status_code == 200
    body = resp.json()
    summary = body["summary"]
    kinds = summary["targets"]
    assert summary["all_targets"]["total"] == sum(k["total"] for k in kinds.values())
    assert summary["gaps"]["total"] == sum(summary["gaps"]["by_reason"].values())
    assert summary["gaps"]["total"] == summary["all_targets"]["total"] - sum(
        k["covered"] for k in kinds.values()
    )
    nat = summary["national_targets"]
    assert nat["cameras_online"]["target"] == 0.98
    assert nat["key_public_places_covered"]["target"] == 1.0
    streets = [a for a in body["areas"] if a["level"] == "street"]
    assert sum(a["targets"] for a in streets) == summary["all_targets"]["total"]


def test_scope_by_community_and_unknown_codes(client: TestClient, test_db, scene) -> None:
    h = test_db.headers("planner")
    with_scope = client.get("/analytics/coverage/courtyards?community=nope", headers=h)
    assert with_scope.status_code == 404 and with_scope.json()["code"] == "unknown_community"
    bad = client.get("/analytics/coverage/gaps?reason=bored", headers=h)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_filter"


def test_views_are_cached_until_inputs_change(client, test_db, engine: Engine, scene) -> None:
    h = test_db.headers("planner")
    assert client.get("/analytics/coverage", headers=h).status_code == 200
    before = _audits(engine)
    with engine.connect() as c:
        n_views = c.execute(text("SELECT count(*) FROM camera_views")).scalar_one()
        n_cams = c.execute(text("SELECT count(*) FROM cameras")).scalar_one()
    assert n_views == n_cams
    assert client.get("/analytics/coverage", headers=h).status_code == 200
    assert _audits(engine) == before  # nothing changed: no recomputation
    with engine.begin() as c:  # switching a camera off is applied live, no recomputation
        c.execute(text("UPDATE cameras SET online = NOT online WHERE id = :i"), {"i": 1})
    client.get("/analytics/coverage", headers=h)
    assert _audits(engine) == before
    with engine.begin() as c:
        c.execute(text("UPDATE cameras SET online = NOT online WHERE id = :i"), {"i": 1})
        c.execute(
            text("UPDATE cameras SET azimuth_deg = 90 WHERE id = :i"), {"i": scene["camera_id"]}
        )
    gaps = _entrance_gaps(client, h)
    assert _audits(engine) == before + 1
    assert gaps[f"{COURTYARD_CODE}#1"] == "no_camera"  # the camera now looks east
    with engine.begin() as c:
        c.execute(
            text("UPDATE cameras SET azimuth_deg = 0 WHERE id = :i"), {"i": scene["camera_id"]}
        )


def test_views_geojson_flags_offline(client: TestClient, test_db, scene) -> None:
    resp = client.get("/analytics/coverage/views?online=true", headers=test_db.headers("admin"))
    assert resp.status_code == 200
    feats = resp.json()["features"]
    assert feats and all(f["properties"]["online"] for f in feats)
    assert {f["geometry"]["type"] for f in feats} <= {
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }


@pytest.mark.parametrize(
    "path",
    ["/analytics/coverage", "/analytics/coverage/gaps", "/analytics/coverage/views"],
)
def test_coverage_needs_a_staff_key(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 401 and resp.json()["code"] == "not_authenticated"

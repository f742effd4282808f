"""Geometry and coordinates from outside are read strictly: a clear 4xx, nothing written.

Before: a draft with longitudes beyond ±180 was accepted and its impact was a
500; a 3-point unclosed ring was closed silently; `["104.1", "30.6"]` was read
as numbers; `bbox=NaN,…` answered 200; a chunked body over the limit was 400.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.geo_api.bad_input_helpers import inside_point, row_counts
from tests.geo_api.planning_helpers import draft_cells, new_draft, put_cells

GEOJSON = {"Content-Type": "application/geo+json"}


@pytest.fixture(scope="module")
def point(engine: Engine) -> tuple[float, float]:
    return inside_point(engine)


@pytest.fixture(scope="module")
def planner(test_db) -> dict[str, str]:
    return test_db.headers("planner")


def _square(x: float, y: float, d: float = 0.001) -> list[list[float]]:
    return [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]


def _cells(geometry: dict) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "510108001001001", "level": 1},
                "geometry": geometry,
            }
        ],
    }


@pytest.mark.parametrize(
    ("ring", "fragment"),
    [
        ([[200.0, 30.6], [200.1, 30.6], [200.1, 30.7], [200.0, 30.6]], "longitudes outside"),
        ([[104.1, 95.0], [104.2, 95.0], [104.2, 95.1], [104.1, 95.0]], "latitudes outside"),
        ([[104.1, 30.6], [104.2, 30.6], [104.2, 30.7]], "closed"),
        ([["104.1", 30.6], [104.2, 30.6], [104.2, 30.7], ["104.1", 30.6]], "numbers"),
    ],
    ids=["lon-200", "lat-95", "open-ring", "string-coordinates"],
)
def test_a_draft_refuses_coordinates_that_are_not_degrees(
    client: TestClient, planner, engine: Engine, ring, fragment
) -> None:
    rid = new_draft(client, planner)
    before_cells, before = draft_cells(client, planner, rid), row_counts(engine)
    resp = put_cells(client, planner, rid, _cells({"type": "Polygon", "coordinates": [ring]}))
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "bad_feature" and fragment in resp.json()["detail"]
    assert row_counts(engine) == before and draft_cells(client, planner, rid) == before_cells
    impact = client.get(f"/planning/revisions/{rid}/impact", headers=planner)
    assert impact.status_code == 200, impact.text  # was 500 after a PUT of lon 200


def _lenient(kind: str, x: float, y: float) -> tuple[str, dict]:
    """(collection, geometry) inside the district, wrong only in its form."""
    if kind == "string-coordinates":
        return "service_points", {"type": "Point", "coordinates": [str(x), str(y)]}
    if kind == "boolean-coordinate":
        return "service_points", {"type": "Point", "coordinates": [x, True]}
    return "buildings", {"type": "Polygon", "coordinates": [_square(x, y)[:3]]}  # open ring


@pytest.mark.parametrize("kind", ["string-coordinates", "boolean-coordinate", "open-ring"])
def test_ogc_edits_refuse_lenient_geometry(
    client: TestClient, test_db, engine: Engine, point, kind
) -> None:
    collection, geometry = _lenient(kind, *point)
    props = {"code": "GEOM-TEST-1"}
    if collection == "service_points":
        props |= {"kind": "clinic", "name": "测试"}
    body = {"type": "Feature", "geometry": geometry, "properties": props}
    before = row_counts(engine)
    resp = client.post(
        f"/ogc/collections/{collection}/items",
        content=json.dumps(body),
        headers={**GEOJSON, **test_db.headers("planner")},
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "invalid_feature"
    assert any(p["field"] == "geometry" for p in resp.json()["problems"])
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    "location",
    [
        {"lon": "104.1", "lat": "30.6"},
        {"type": "Point", "coordinates": ["104.1", "30.6"]},
        {"type": "Point", "coordinates": [104.1, 30.6, "1"]},
    ],
    ids=["lonlat-strings", "point-strings", "point-string-altitude"],
)
def test_a_report_refuses_coordinates_as_strings(
    client: TestClient, engine: Engine, location
) -> None:
    before = row_counts(engine)
    resp = client.post(
        "/incidents",
        json={
            "location": location,
            "category": "0102",
            "channel": "resident_app",
            "description": "垃圾",
        },
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "invalid_request"
    assert row_counts(engine) == before


def test_a_report_refuses_nan_coordinates(client: TestClient, engine: Engine) -> None:
    """Python's JSON reader takes `NaN`; a coordinate must still be a finite number."""
    before = row_counts(engine)
    body = '{"location": {"lon": NaN, "lat": 30.6}, "category": "0102", '
    body += '"channel": "resident_app", "description": "垃圾"}'
    resp = client.post("/incidents", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 422, resp.text
    assert row_counts(engine) == before


def test_batch_locate_refuses_string_and_nan_coordinates(client: TestClient, test_db) -> None:
    headers = {**test_db.headers("dispatcher"), **GEOJSON}
    for coords in (["104.1", "30.6"], [float("nan"), 30.6], [104.1, 91.0]):
        fc = {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": coords}}],
        }
        resp = client.post("/locate", content=json.dumps(fc), headers=headers)
        assert resp.status_code == 400, (coords, resp.text)
        assert resp.json()["code"] == "invalid_points"
    csv = "lon,lat\nnan,30.6\n"
    resp = client.post("/locate", content=csv, headers={**headers, "Content-Type": "text/csv"})
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_points"


@pytest.mark.parametrize(
    ("url", "role", "code"),
    [
        ("/grid/cells?level=1&bbox=NaN,30.6,104.2,30.7", "resident", "bad_bbox"),
        ("/grid/cells?level=1&bbox=104.1,30.6,inf,30.7", "resident", "bad_bbox"),
        ("/dispatch/queue?bbox=NaN,30.6,104.2,30.7", "dispatcher", "invalid_bbox"),
        ("/ogc/collections/streets/items?bbox=NaN,30.6,104.2,30.7", "resident", "invalid_bbox"),
    ],
)
def test_a_nan_bbox_is_400(client: TestClient, test_db, url, role, code) -> None:
    resp = client.get(url, headers=test_db.headers(role))
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == code


def test_a_chunked_body_over_the_limit_is_413(
    client: TestClient, app, engine: Engine, point
) -> None:
    limit = app.state.settings.max_body_bytes
    lon, lat = point
    head = json.dumps(
        {"location": {"lon": lon, "lat": lat}, "category": "0102", "channel": "resident_app"}
    )[:-1]

    def chunks():  # no Content-Length: httpx sends it chunked
        yield (head + ', "description": "').encode()
        for _ in range(limit // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    before = row_counts(engine)
    resp = client.post("/incidents", content=chunks(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413, resp.text
    assert resp.json()["code"] == "payload_too_large"
    assert row_counts(engine) == before


def test_a_chunked_body_under_the_limit_still_arrives(client: TestClient, point) -> None:
    lon, lat = point
    body = json.dumps(
        {
            "location": {"lon": lon, "lat": lat},
            "category": "0102",
            "channel": "resident_app",
            "description": "分块发送的报告",
        }
    ).encode()
    resp = client.post(
        "/incidents",
        content=iter([body[:10], body[10:]]),
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 201, resp.text

"""A NUL (or a lone surrogate) anywhere in a request is a 400 `invalid_characters`, nothing written.

PostgreSQL cannot store U+0000 in text; before the edge check each of these
inputs was a 500 from the database.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.geo_api.bad_input_helpers import inside_point, row_counts
from tests.geo_api.planning_helpers import new_draft

NUL = "\x00"
GEOJSON = {"Content-Type": "application/geo+json"}


@pytest.fixture(scope="module")
def point(engine: Engine) -> tuple[float, float]:
    return inside_point(engine)


def _incident(point, **fields) -> dict:
    lon, lat = point
    return {
        "location": {"lon": lon, "lat": lat},
        "category": "0102",
        "channel": "resident_app",
        "description": "垃圾堆积",
        **fields,
    }


def _open311(point) -> dict:
    lon, lat = point
    return {"service_code": "0404", "lat": str(lat), "long": str(lon), "description": "井盖缺失"}


def _service_point(point, **props) -> str:
    lon, lat = point
    base = {"code": "SP-NUL-1", "kind": "clinic", "name": "社区卫生服务站"}
    return json.dumps(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {**base, **props},
        }
    )


Request = tuple[str, str, str, dict]
"""(role, method, url, httpx keyword arguments)."""


def _requests(point, draft_id: int) -> dict[str, Request]:
    """name → request, one per input of the issue."""
    return {
        **_report_requests(point),
        "open311 service path": ("resident", "GET", "/open311/v2/services/04%0004.json", {}),
        "dispatch street": ("dispatcher", "GET", "/dispatch/queue?street=510%00", {}),
        "coverage street": ("dispatcher", "GET", "/analytics/coverage?street=510%00", {}),
        **_ogc_requests(point),
        **_planning_requests(draft_id),
        "static path": ("resident", "GET", "/static/vendor/%00", {}),
        "json lone surrogate": (
            "resident",
            "POST",
            "/incidents",
            {
                "content": json.dumps(_incident(point, description="\ud800")),
                "headers": {"Content-Type": "application/json"},
            },
        ),
    }


def _report_requests(point) -> dict[str, Request]:
    """Reporting a case, as JSON on `/incidents` and as an Open311 form."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    return {
        "incident description": (
            "resident",
            "POST",
            "/incidents",
            {"json": _incident(point, description=f"垃圾{NUL}堆积")},
        ),
        "incident reporter_name": (
            "resident",
            "POST",
            "/incidents",
            {"json": _incident(point, reporter_name=f"李{NUL}四")},
        ),
        "incident external_id": (
            "dispatcher",
            "POST",
            "/incidents",
            {"json": _incident(point, external_id=f"X{NUL}1")},
        ),
        "open311 description": (
            "resident",
            "POST",
            "/open311/v2/requests.json",
            {"data": {**_open311(point), "description": f"井盖{NUL}"}, "headers": form},
        ),
        "open311 service_code": (
            "resident",
            "POST",
            "/open311/v2/requests.json",
            {"data": {**_open311(point), "service_code": f"04{NUL}04"}, "headers": form},
        ),
    }


def _ogc_requests(point) -> dict[str, Request]:
    """Writing a feature and filtering items through OGC API Features."""
    return {
        "ogc post name": (
            "planner",
            "POST",
            "/ogc/collections/service_points/items",
            {"content": _service_point(point, name=f"站{NUL}"), "headers": GEOJSON},
        ),
        "ogc post code": (
            "planner",
            "POST",
            "/ogc/collections/service_points/items",
            {"content": _service_point(point, code=f"SP{NUL}"), "headers": GEOJSON},
        ),
        "ogc filter name": (
            "resident",
            "GET",
            "/ogc/collections/service_points/items?name=%00",
            {},
        ),
        "ogc filter code": ("resident", "GET", "/ogc/collections/streets/items?code=5%001", {}),
    }


def _planning_requests(draft_id: int) -> dict[str, Request]:
    """A draft's cells (a NUL in a cell code) and a new draft's note."""
    cell = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": f"510108001{NUL}", "level": 1},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[104.1, 30.6], [104.2, 30.6], [104.2, 30.7], [104.1, 30.6]]],
                },
            }
        ],
    }
    return {
        "planning cell code": (
            "planner",
            "PUT",
            f"/planning/revisions/{draft_id}/cells",
            {"json": cell},
        ),
        "planning draft note": (
            "planner",
            "POST",
            "/planning/revisions",
            {"json": {"scope": "district", "note": f"新{NUL}网格"}},
        ),
    }


@pytest.fixture(scope="module")
def draft_id(client: TestClient, test_db) -> int:
    return new_draft(client, test_db.headers("planner"))


CASES = [
    "incident description",
    "incident reporter_name",
    "incident external_id",
    "open311 description",
    "open311 service_code",
    "open311 service path",
    "dispatch street",
    "coverage street",
    "ogc post name",
    "ogc post code",
    "ogc filter name",
    "ogc filter code",
    "planning cell code",
    "planning draft note",
    "static path",
    "json lone surrogate",
]


@pytest.mark.parametrize("name", CASES)
def test_a_nul_is_a_400_and_writes_nothing(
    client: TestClient, test_db, engine: Engine, point, draft_id, name: str
) -> None:
    role, method, url, kwargs = _requests(point, draft_id)[name]
    headers = {**kwargs.pop("headers", {}), **test_db.headers(role)}
    before = row_counts(engine)
    resp = client.request(method, url, headers=headers, **kwargs)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "invalid_characters"
    assert row_counts(engine) == before


def test_the_same_requests_without_the_nul_are_fine(
    client: TestClient, test_db, point, draft_id
) -> None:
    """The check refuses the character, not the request: a clean twin goes through."""
    resp = client.get("/dispatch/queue?street=510", headers=test_db.headers("dispatcher"))
    assert resp.status_code == 200
    resp = client.get("/ogc/collections/service_points/items?name=x")
    assert resp.status_code == 200
    resp = client.post("/incidents", json=_incident(point, description="垃圾\u0001堆积"))
    assert resp.status_code == 201, resp.text  # other control characters are storable

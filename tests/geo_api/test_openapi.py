"""/openapi.json declares what the service really answers (what the fuzz run relies on)."""

from __future__ import annotations

import typing

from fastapi.datastructures import DefaultPlaceholder
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, text

from geo_api.routers import ROUTERS


def test_every_operation_declares_problem_errors(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for status in ("400", "401", "403", "404", "409", "412", "413", "422", "428", "503"):
                content = op["responses"][status]["content"]
                assert "application/problem+json" in content, (method, path, status)
            if path.startswith("/ogc"):
                assert "application/json" in op["responses"]["400"]["content"]  # OGC exception
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # FastAPI's 422 shape


def test_success_media_types_and_format_enums(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    items = paths["/ogc/collections/{collection_id}/items"]["get"]
    assert {"application/geo+json", "application/geopackage+sqlite3"} <= set(
        items["responses"]["200"]["content"]
    )
    names = {p["name"]: p["schema"] for p in items["parameters"]}
    assert {"bbox", "datetime", "filter", "filter-lang", "limit", "crs"} <= set(names)
    assert names["f"]["enum"] == ["json", "geojson", "gpkg", "fgb", "csv", "parquet"]
    tile = paths["/ogc/collections/{collection_id}/tiles/WebMercatorQuad/{z}/{y}/{x}"]["get"]
    assert "application/vnd.mapbox-vector-tile" in tile["responses"]["200"]["content"]
    assert {"204", "304"} <= set(tile["responses"])
    services = paths["/open311/v2/services.{fmt}"]["get"]
    fmt = next(p for p in services["parameters"] if p["name"] == "fmt")
    assert fmt["schema"]["enum"] == ["json", "xml"]
    assert {"application/json", "text/xml"} <= set(services["responses"]["200"]["content"])


def test_lon_lat_are_bounded_by_the_district(client: TestClient, engine: Engine) -> None:
    with engine.connect() as conn:
        west, south, east, north = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) e FROM districts) s"
            )
        ).one()
    doc = client.get("/openapi.json").json()
    params = {p["name"]: p["schema"] for p in doc["paths"]["/locate"]["get"]["parameters"]}
    assert params["lon"]["minimum"] <= west and params["lon"]["maximum"] >= east
    assert params["lat"]["minimum"] <= south and params["lat"]["maximum"] >= north
    assert params["lon"]["maximum"] - params["lon"]["minimum"] < 1  # the district, not ±180
    body = doc["components"]["schemas"]["LonLat"]["properties"]
    assert body["lon"]["minimum"] == params["lon"]["minimum"]


def _declares_its_answer(route) -> bool:
    model = route.response_model
    inner = typing.get_args(model)[0] if typing.get_origin(model) is list else model
    typed = isinstance(inner, type) and issubclass(inner, BaseModel)
    return typed or not isinstance(route.response_class, DefaultPlaceholder)


def _routes(routes):
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _routes(inner.routes) if inner is not None else (route,)


def test_every_route_declares_a_model_or_a_response_class() -> None:
    """A JSON route names its pydantic model; a Response route its class (and media types)."""
    missing = [
        (method, route.path)
        for route in _routes([r for router in ROUTERS for r in router.routes])
        if getattr(route, "include_in_schema", False)
        for method in route.methods
        if not _declares_its_answer(route)
    ]
    assert missing == []


def test_answers_are_not_bounded_like_inputs(client: TestClient) -> None:
    """The district bounds what a caller sends, not what an answer echoes."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "maximum" not in schemas["NearbyQuery"]["properties"]["lon"]
    assert "maximum" in schemas["LonLat"]["properties"]["lon"]

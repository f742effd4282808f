"""The OpenAPI document says what the service really answers, for every route, also new ones.

FastAPI documents a 200 in `application/json` and a 422 of its own shape.  The
service answers more: problem+json errors (401, 403, 404, 409, 412, 413, 422,
428, 429, 503) from any route, OGC exception JSON under `/ogc`, the Open311
error list in JSON or XML, GeoJSON, vector tiles, HTML, redirects.  This
module rewrites the generated document once, in one place, by path and by
what every route shares, so routes added later are described (and fuzzed) too:

- every operation lists the error statuses any route may give, each with the
  media types its face uses (problem+json; OGC exception JSON; Open311 lists);
- success media types by path (`SUCCESS`), and the enums of format parameters;
- the OGC items parameters (`/ogc/api` declares them per collection);
- longitudes and latitudes bounded by the district's outline (plus a margin for
  GCJ-02/BD-09 input), read from the database when the document is first made.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import text

from geo_api.routers.ogc.openapi_doc import PARAMETERS as OGC_PARAMETERS
from geo_api.schemas import media

logger = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
ERROR_STATUSES = {
    "400": "Bad input (a parameter, the body, or characters text cannot hold)",
    "401": "No or an unknown API key where one is needed",
    "403": "The caller's role may not do this",
    "404": "Not found, or hidden from the caller",
    "405": "The resource does not take this method",
    "406": "No acceptable representation",
    "409": "Conflicts with the current state",
    "412": "If-Match names a stale version",
    "413": "The request body is over the limit",
    "415": "Unsupported media type",
    "422": "Well-formed but not acceptable (validation)",
    "428": "If-Match is required",
    "429": "Too many requests",
    "503": "The database is unavailable",
}
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable, machine-readable reason."},
    },
}
OGC_EXCEPTION = {
    "type": "object",
    "required": ["code", "description"],
    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
}
OPEN311_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
SUCCESS: list[tuple[str, dict[str, Any]]] = [
    (r"^/ogc/collections/\{collection_id\}/items$", {**media.GEOJSON, **media.DOWNLOADS}),
    (r"^/ogc/collections/\{collection_id\}/items/\{feature_id\}$", media.GEOJSON),
    (r"^/ogc/api$", media.OGC_OPENAPI),
    (r"^/ogc/collections/\{collection_id\}/queryables$", media.QUERYABLES),
    (r"/tiles/WebMercatorQuad/\{z\}/\{y\}/\{x\}$", media.MVT),
    (r"^/open311/", media.OPEN311),
    (r"^/maps/", media.HTML),
]
"""Media types of a 2xx, by path (first match); others keep what FastAPI generated."""
EXTRA_SUCCESS: list[tuple[str, str, str]] = [
    (r"/tiles/WebMercatorQuad/\{z\}/\{y\}/\{x\}$", "204", "An empty tile"),
    (r"/tiles/WebMercatorQuad/\{z\}/\{y\}/\{x\}$", "304", "The client's copy is current"),
    (r"^/log(in|out)$", "303", "Redirect to the next page"),
    (r"^/maps/", "303", "A browser without a key is sent to the sign-in page"),
    (r"^/ogc/collections/\{collection_id\}/items(/\{feature_id\})?$", "201", "Created"),
    (r"^/ogc/collections/\{collection_id\}/items(/\{feature_id\})?$", "204", "Changed"),
    (r"^/open311/v2/requests", "201", "Created"),
    (r"^/health$", "503", "The database does not answer"),
]
ENUMS = {
    "fmt": ["json", "xml"],
    "f": ["json", "geojson", "gpkg", "fgb", "csv", "parquet"],
    "interval": ["week", "month", "none"],
    "inference": ["analytic", "permutation"],
}
"""Format-like parameters typed `str` in code (so a bad value keeps its face's own error)."""
LON_NAMES, LAT_NAMES = ("lon", "long", "longitude"), ("lat", "latitude")
MARGIN_DEG = 0.05
"""Bounds margin: GCJ-02/BD-09 coordinates of points inside are up to ~0.01° off WGS-84."""


def _error_content(path: str) -> dict[str, Any]:
    content: dict[str, Any] = {PROBLEM: {"schema": PROBLEM_SCHEMA}}
    if path.startswith("/ogc"):
        content["application/json"] = {"schema": OGC_EXCEPTION}
    if path.startswith("/open311"):
        content["application/json"] = {"schema": OPEN311_ERRORS}
        content["text/xml"] = {"schema": {"type": "string"}}
    return content


def _describe_errors(path: str, op: dict[str, Any]) -> None:
    responses = op.setdefault("responses", {})
    for status, description in ERROR_STATUSES.items():
        responses[status] = {"description": description, "content": _error_content(path)}


def _describe_success(path: str, op: dict[str, Any]) -> None:
    responses = op["responses"]
    for pattern, content in SUCCESS:
        if re.search(pattern, path):
            for status, answer in responses.items():
                if status.startswith("2") and "content" in answer:
                    answer["content"] = copy.deepcopy(content)
            break
    for pattern, status, description in EXTRA_SUCCESS:
        if re.search(pattern, path):
            responses.setdefault(status, {"description": description})


def _describe_parameters(path: str, method: str, op: dict[str, Any], bounds: tuple | None) -> None:
    params = op.get("parameters", [])
    if method == "get" and re.search(r"^/ogc/collections/\{collection_id\}/items$", path):
        known = {p["name"] for p in params}
        params += [copy.deepcopy(p) for n, p in OGC_PARAMETERS.items() if n not in known]
        op["parameters"] = params
    for param in params:
        schema = param.get("schema", {})
        name = param.get("name")
        if name in ENUMS and schema.get("type") in ("string", None) and "enum" not in schema:
            schema["enum"] = ENUMS[name]
        _bound(name, schema, bounds)


def _bound(name: str | None, schema: dict[str, Any], bounds: tuple | None) -> None:
    if bounds is None or name not in LON_NAMES + LAT_NAMES:
        return
    west, south, east, north = bounds
    low, high = (west, east) if name in LON_NAMES else (south, north)
    target = schema
    for option in schema.get("anyOf", []):
        if option.get("type") in ("number", "string"):
            target = option
    if target.get("type") == "number":
        target["minimum"], target["maximum"] = (
            round(low - MARGIN_DEG, 4),
            round(high + MARGIN_DEG, 4),
        )


def _refs(node: Any) -> set[str]:
    """Names of the component schemas a piece of the document refers to."""
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _body_schemas(doc: dict[str, Any]) -> set[str]:
    """Component schemas a request body uses, directly or nested (answers are not bounded:
    they echo what was asked or say where a point is, which may lie outside)."""
    schemas = doc.get("components", {}).get("schemas", {})
    todo = set().union(
        *(
            _refs(op.get("requestBody", {}))
            for ops in doc.get("paths", {}).values()
            for op in ops.values()
        )
    )
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen and name in schemas:
            seen.add(name)
            todo |= _refs(schemas[name])
    return seen


def _bound_components(doc: dict[str, Any], bounds: tuple | None) -> None:
    """LonLat / PointIn bodies: the same bounds as the query parameters."""
    schemas = doc.get("components", {}).get("schemas", {})
    for name in _body_schemas(doc):
        schema = schemas[name]
        for prop_name, prop in (schema.get("properties") or {}).items():
            _bound(prop_name, prop, bounds)
        coords = (schema.get("properties") or {}).get("coordinates")
        for option in (coords or {}).get("anyOf", []):
            items = option.get("prefixItems") or []
            for item_name, item in zip(("lon", "lat"), items, strict=False):
                _bound(item_name, item, bounds)


def district_bounds(app: FastAPI) -> tuple[float, float, float, float] | None:
    """West, south, east, north of the districts (WGS-84), or None without data."""
    try:
        with app.state.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                    "FROM (SELECT ST_Extent(geom) AS e FROM districts) s"
                )
            ).one()
    except Exception:  # no database yet: the document still answers, with ±180/±90
        logger.warning("district bounds unavailable for the OpenAPI document", exc_info=True)
        return None
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def truthful_document(app: FastAPI, doc: dict[str, Any]) -> dict[str, Any]:
    """The generated document with every operation's real answers (see the module docstring)."""
    bounds = district_bounds(app)
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            _describe_errors(path, op)
            _describe_success(path, op)
            _describe_parameters(path, method, op, bounds)
    _bound_components(doc, bounds)
    for unused in ("HTTPValidationError", "ValidationError"):
        doc.get("components", {}).get("schemas", {}).pop(unused, None)
    return doc


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` (and so /openapi.json and /docs) serve the truthful document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = truthful_document(app, doc)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

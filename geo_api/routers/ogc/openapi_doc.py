"""The OpenAPI 3.0 document of /ogc, with one path per collection the caller may see.

Written per collection (as pygeoapi does) because clients look parameters up
by the literal path: GDAL asks for `resultType=hits` only when the items path
of that very collection declares it, and reads `limit`'s maximum for paging.
"""

from __future__ import annotations

from typing import Any

from layers.ogc.crs_uris import CRS84_URI, SUPPORTED_URIS
from layers.ogc.params import DEFAULT_LIMIT, MAX_LIMIT
from layers.ogc.registry import Field, visible_collections


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "schema": schema,
        "description": description,
    }


_CRS = {"type": "string", "format": "uri", "enum": list(SUPPORTED_URIS), "default": CRS84_URI}
PARAMETERS: dict[str, dict[str, Any]] = {
    "limit": _param(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "Features per page.",
    ),
    "bbox": _param(
        "bbox",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        "Features whose geometry intersects the box (bbox-crs axis order).",
    ),
    "bbox-crs": _param("bbox-crs", _CRS, "CRS of bbox."),
    "datetime": _param(
        "datetime", {"type": "string"}, "Instant or interval (RFC 3339, `..` for open)."
    ),
    "crs": _param("crs", _CRS, "CRS of the response geometries."),
    "filter": _param("filter", {"type": "string"}, "CQL2 filter."),
    "filter-lang": _param(
        "filter-lang",
        {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text"},
        "Language of filter (`cql-text`, the draft name older GDAL sends, means cql2-text).",
    ),
    "filter-crs": _param("filter-crs", _CRS, "CRS of the filter's geometry literals."),
    "sortby": _param(
        "sortby", {"type": "array", "items": {"type": "string"}}, "Sort keys, `-` = descending."
    ),
    "properties": _param(
        "properties", {"type": "array", "items": {"type": "string"}}, "Properties to return."
    ),
    "resultType": _param(
        "resultType",
        {"type": "string", "enum": ["results", "hits"], "default": "results"},
        "`hits` returns only numberMatched.",
    ),
    "cursor": _param("cursor", {"type": "string"}, "Position from a next/prev link."),
    "offset": _param("offset", {"type": "integer", "minimum": 0}, "Rows to skip (with sortby)."),
    "f": _param(
        "f",
        {"type": "string", "enum": ["json", "geojson", "gpkg", "fgb", "csv", "parquet"]},
        "Output format.",
    ),
}
_JSON = {"application/json": {"schema": {"type": "object"}}}
_GEOJSON = {"application/geo+json": {"schema": {"type": "object"}}}


def _ok(content: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"200": {"description": description, "content": content}}


def _get(summary: str, op_id: str, content: dict[str, Any], params: list[str] | None = None):
    op: dict[str, Any] = {"summary": summary, "operationId": op_id, "responses": _ok(content)}
    if params:
        op["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in params]
    return {"get": op}


def _schema(field: Field) -> dict[str, Any]:
    if field.type == "datetime":
        return {"type": "string", "format": "date-time"}
    return {"type": field.type}


def openapi_document(base: str, role: str) -> dict[str, Any]:
    """The document for `role` (hidden collections do not appear)."""
    paths: dict[str, Any] = {
        "/": _get("Landing page", "getLandingPage", _JSON),
        "/conformance": _get("Conformance classes", "getConformance", _JSON),
        "/collections": _get("Collections", "getCollections", _JSON),
    }
    for c in visible_collections(role):
        root = f"/collections/{c.id}"
        paths[root] = _get(c.title, f"describe_{c.id}", _JSON)
        paths[f"{root}/queryables"] = _get(f"Queryables of {c.id}", f"queryables_{c.id}", _JSON)
        items = _get(f"Features of {c.id}", f"items_{c.id}", _GEOJSON, list(PARAMETERS))
        items["get"]["parameters"] += [
            _param(f.name, _schema(f), f"Features whose {f.name} equals this value.")
            for f in c.visible_fields(role)
        ]
        paths[f"{root}/items"] = items
        paths[f"{root}/items/{{featureId}}"] = _get(
            f"One feature of {c.id}", f"item_{c.id}", _GEOJSON, ["crs", "f"]
        )
        paths[f"{root}/items/{{featureId}}"]["get"]["parameters"].insert(
            0, {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}}
        )
    return {
        "openapi": "3.0.3",
        "info": {"title": "wangge OGC API – Features", "version": "1.0.0"},
        "servers": [{"url": base}],
        "paths": paths,
        "components": {"parameters": PARAMETERS},
    }

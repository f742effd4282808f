"""Success bodies that are not one JSON model: GeoJSON, downloads, tiles, HTML, Open311 XML.

A route that answers a `Response` declares its `response_class` and names one of
these in `responses=`; `geo_api.openapi` applies the same ones by path, so a
route added later is described too.  One definition of each, used by both.
"""

from __future__ import annotations

from typing import Any

ANY_JSON: dict[str, Any] = {}
BINARY = {"type": "string", "format": "binary"}
HTML = {"text/html": {"schema": {"type": "string"}}}
GEOJSON = {"application/geo+json": {"schema": {"type": "object"}}}
OPEN311 = {"application/json": {"schema": ANY_JSON}, "text/xml": {"schema": {"type": "string"}}}
DOWNLOADS = {
    media: {"schema": BINARY}
    for media in (
        "application/geopackage+sqlite3",
        "application/flatgeobuf",
        "text/csv",
        "application/vnd.apache.parquet",
    )
}
OGC_OPENAPI = {"application/vnd.oai.openapi+json;version=3.0": {"schema": ANY_JSON}}
QUERYABLES = {"application/schema+json": {"schema": ANY_JSON}, "application/json": {}}
MVT = {"application/vnd.mapbox-vector-tile": {}}


def ok(content: dict[str, Any], description: str, status: int = 200) -> dict[int | str, Any]:
    """`responses=` of a route: its success status with these media types."""
    return {status: {"description": description, "content": content}}

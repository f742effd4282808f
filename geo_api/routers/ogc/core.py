"""OGC API – Features: landing page, conformance, API document, collections, queryables."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from geo_api.auth import EVERYONE, PrincipalDep, allow
from geo_api.deps import ReadSessionDep
from geo_api.middleware.http_cache import conditional
from geo_api.routers.ogc.openapi_doc import openapi_document
from geo_api.routers.ogc.route import (
    GEOJSON,
    JSON,
    OPENAPI,
    SCHEMA_JSON,
    OGCRoute,
    base_url,
    json_bytes,
    link,
)
from geo_api.routers.ogc.state import EXTENTS
from geo_api.schemas import media
from geo_api.schemas.media import ok
from geo_api.schemas.ogc import CollectionDoc, Collections, Conformance, OGCLanding
from layers.ogc.crs_uris import CRS84_URI, SUPPORTED_URIS
from layers.ogc.queryables import queryables_schema
from layers.ogc.registry import Collection
from layers.ogc.service import describe_collections

router = APIRouter(prefix="/ogc", tags=["ogc"], route_class=OGCRoute)

_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_F4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"
_CQL = "http://www.opengis.net/spec/cql2/1.0/conf/"
_TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
CONFORMANCE = [
    *(_F1 + c for c in ("core", "oas30", "geojson")),
    _F2 + "crs",
    *(_F3 + c for c in ("queryables", "queryables-query-parameters", "filter", "features-filter")),
    *(_F4 + c for c in ("create-replace-delete", "update", "features")),
    *(
        _CQL + c
        for c in (
            "cql2-text",
            "cql2-json",
            "basic-cql2",
            "advanced-comparison-operators",
            "case-insensitive-comparison",
            "basic-spatial-functions",
            "basic-spatial-functions-plus",
            "spatial-functions",
            "property-property",
        )
    ),
    *(_TILES + c for c in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt")),
]
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
REL_CONFORMANCE = "http://www.opengis.net/def/rel/ogc/1.0/conformance"
REL_DATA = "http://www.opengis.net/def/rel/ogc/1.0/data"
DOWNLOADS = {
    "gpkg": ("application/geopackage+sqlite3", "GeoPackage"),
    "fgb": ("application/flatgeobuf", "FlatGeobuf"),
    "csv": ("text/csv", "CSV (WKT geometry)"),
    "parquet": ("application/vnd.apache.parquet", "GeoParquet"),
}


@router.get(
    "", response_model=OGCLanding, dependencies=[allow(*EVERYONE)], summary="OGC API landing page"
)
@router.get(
    "/", response_model=OGCLanding, dependencies=[allow(*EVERYONE)], include_in_schema=False
)
def landing(request: Request) -> JSONResponse:
    """Links to the API document, conformance and collections (what QGIS and GDAL read)."""
    base = base_url(request)
    return JSONResponse(
        {
            "title": "wangge — district layers (OGC API – Features)",
            "description": "Grid cells, courtyards, buildings, service points and more.",
            "links": [
                link(base, "self", JSON, "this document"),
                link(f"{base}/api", "service-desc", OPENAPI, "the API definition"),
                link(f"{base}/conformance", "conformance", JSON, "conformance classes"),
                link(f"{base}/conformance", REL_CONFORMANCE, JSON, "conformance classes"),
                link(f"{base}/collections", "data", JSON, "the collections"),
                link(f"{base}/collections", REL_DATA, JSON, "the collections"),
            ],
        }
    )


@router.get(
    "/conformance",
    response_model=Conformance,
    dependencies=[allow(*EVERYONE)],
    summary="Conformance classes",
)
def conformance() -> JSONResponse:
    """The conformance classes GDAL and QGIS check before pushing filters to the server."""
    return JSONResponse({"conformsTo": CONFORMANCE})


@router.get(
    "/api",
    response_class=JSONResponse,
    responses=ok(media.OGC_OPENAPI, "OpenAPI 3.0"),
    dependencies=[allow(*EVERYONE)],
    summary="OpenAPI document of /ogc",
)
def api_document(request: Request, principal: PrincipalDep) -> JSONResponse:
    """The OpenAPI 3.0 document with one path per visible collection (GDAL reads it)."""
    doc = openapi_document(base_url(request), principal.role)
    return JSONResponse(doc, media_type=OPENAPI)


def collection_doc(request: Request, collection: Collection, extent: dict[str, Any]) -> dict:
    """The description of one collection, with its links."""
    href = f"{base_url(request)}/collections/{collection.id}"
    links = [
        link(href, "self", JSON, collection.title),
        link(f"{href}/items", "items", GEOJSON, "features (GeoJSON)"),
        *(link(f"{href}/items?f={f}", "items", m, t) for f, (m, t) in DOWNLOADS.items()),
        link(f"{href}/queryables", REL_QUERYABLES, SCHEMA_JSON, "queryable properties"),
        link(f"{href}/tiles", REL_TILESETS, JSON, "vector tiles"),
    ]
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "keywords": list(collection.keywords),
        "itemType": "feature",
        "crs": list(SUPPORTED_URIS),
        "storageCrs": CRS84_URI,
        "extent": extent,
        "links": links,
    }


@router.get(
    "/collections",
    response_model=Collections,
    dependencies=[allow(*EVERYONE)],
    summary="The feature collections",
)
def collections(request: Request, session: ReadSessionDep, principal: PrincipalDep) -> Response:
    """The collections the caller may see (cameras, incidents: staff only); 304 if unchanged."""
    found = describe_collections(session=session, role=principal.role, extents=EXTENTS)
    base = base_url(request)
    doc = {
        "links": [link(f"{base}/collections", "self", JSON, "the collections")],
        "crs": list(SUPPORTED_URIS),
        "collections": [collection_doc(request, c, e) for c, e in found],
    }
    return conditional(request, json_bytes(doc), media_type=JSON, private=principal.authenticated)


@router.get(
    "/collections/{collection_id}",
    response_model=CollectionDoc,
    dependencies=[allow(*EVERYONE)],
    summary="One collection",
)
def collection(
    collection_id: str, request: Request, session: ReadSessionDep, principal: PrincipalDep
) -> Response:
    """One collection's description (404 when it does not exist or is hidden); 304 if unchanged."""
    [(found, extent)] = describe_collections(
        session=session, role=principal.role, extents=EXTENTS, collection_id=collection_id
    )
    body = json_bytes(collection_doc(request, found, extent))
    private = found.staff_only or principal.authenticated
    return conditional(request, body, media_type=JSON, private=private)


@router.get(
    "/collections/{collection_id}/queryables",
    response_class=JSONResponse,
    responses=ok(media.QUERYABLES, "A JSON Schema"),
    dependencies=[allow(*EVERYONE)],
    summary="Queryable properties (JSON Schema)",
)
def queryables(collection_id: str, request: Request, principal: PrincipalDep) -> JSONResponse:
    """The properties a filter may use, as a JSON Schema (Part 3)."""
    href = f"{base_url(request)}/collections/{collection_id}/queryables"
    accept = request.headers.get("accept", "")
    plain = JSON in accept and SCHEMA_JSON not in accept  # clients that only take JSON
    return JSONResponse(
        queryables_schema(collection_id, principal.role, href),
        media_type=JSON if plain else SCHEMA_JSON,
    )

"""OGC API – Tiles (vector, WebMercatorQuad) and TileJSON for every feature collection.

Same access rules as the features: hidden collections are 404 here too, and a
tile of cases holds the caller's cases only (never reporter data).  Tiles
carry an ETag (304 on If-None-Match) and Cache-Control — public for public
collections, private for the staff-only ones; an empty tile is a 204, and so is
every tile below the collection's minimum zoom (TileJSON's `minzoom`).  No tile
is larger than `WANGGE_TILE_MAX_BYTES` (`layers.ogc.tiles`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from geo_api.auth import EVERYONE, PrincipalDep, allow
from geo_api.deps import ReadSessionDep
from geo_api.middleware.http_cache import conditional
from geo_api.routers.ogc.route import JSON, MVT, OGCRoute, base_url, json_bytes, link
from geo_api.routers.ogc.state import EXTENTS
from geo_api.routers.ogc.tile_reply import tile_reply
from geo_api.schemas import media
from geo_api.schemas.case_shapes import viewer_of
from geo_api.schemas.media import ok
from geo_api.schemas.ogc import TileJSON, Tileset, Tilesets
from layers.ogc.queryables import field_schema
from layers.ogc.registry import get_collection
from layers.ogc.service import describe_collections
from layers.ogc.tiles import MAX_ZOOM, render_tile

router = APIRouter(prefix="/ogc", tags=["ogc"], route_class=OGCRoute)
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
WEB_MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"
_TILESET = "/collections/{collection_id}/tiles/WebMercatorQuad"


def _tileset(request: Request, collection_id: str) -> dict:
    root = f"{base_url(request)}/collections/{collection_id}/tiles/WebMercatorQuad"
    return {
        "title": f"{collection_id} (WebMercatorQuad)",
        "dataType": "vector",
        "crs": WEB_MERCATOR,
        "tileMatrixSetURI": TMS_URI,
        "links": [
            link(root, "self", JSON, "tileset"),
            link(TMS_URI, "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", JSON),
            link(f"{root}/tilejson.json", "describedby", JSON, "TileJSON"),
            {
                **link(f"{root}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}", "item", MVT, "tiles"),
                "templated": True,
            },
        ],
    }


@router.get(
    "/collections/{collection_id}/tiles",
    response_model=Tilesets,
    dependencies=[allow(*EVERYONE)],
    summary="Tilesets",
)
def tilesets(collection_id: str, request: Request, principal: PrincipalDep) -> JSONResponse:
    """The collection's vector tilesets (one: WebMercatorQuad)."""
    get_collection(collection_id, principal.role)
    return JSONResponse({"tilesets": [_tileset(request, collection_id)]})


@router.get(
    _TILESET, response_model=Tileset, dependencies=[allow(*EVERYONE)], summary="Tileset metadata"
)
def tileset(collection_id: str, request: Request, principal: PrincipalDep) -> JSONResponse:
    """Metadata of the WebMercatorQuad tileset."""
    get_collection(collection_id, principal.role)
    return JSONResponse(_tileset(request, collection_id))


@router.get(
    f"{_TILESET}/tilejson.json",
    response_model=TileJSON,
    dependencies=[allow(*EVERYONE)],
    summary="TileJSON",
)
def tilejson(
    collection_id: str, request: Request, session: ReadSessionDep, principal: PrincipalDep
) -> Response:
    """TileJSON 3.0.0 for web maps (MapLibre, Leaflet plugins, QGIS); 304 if unchanged."""
    [(collection, extent)] = describe_collections(
        session=session, role=principal.role, extents=EXTENTS, collection_id=collection_id
    )
    bbox = extent.get("spatial", {}).get("bbox", [[-180, -85.05, 180, 85.05]])[0]
    root = f"{base_url(request)}/collections/{collection.id}/tiles/WebMercatorQuad"
    fields = {f.name: field_schema(f)["type"] for f in collection.tile_fields(principal.role)}
    doc = {
        "tilejson": "3.0.0",
        "name": collection.id,
        "description": collection.title,
        "scheme": "xyz",
        "tiles": [f"{root}/{{z}}/{{y}}/{{x}}"],
        "minzoom": collection.min_zoom,
        "maxzoom": MAX_ZOOM,
        "bounds": bbox,
        "center": [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, max(12, collection.min_zoom)],
        "vector_layers": [
            {
                "id": collection.id,
                "fields": fields,
                "minzoom": collection.min_zoom,
                "maxzoom": MAX_ZOOM,
            }
        ],
    }
    private = collection.staff_only or principal.authenticated
    return conditional(request, json_bytes(doc), media_type=JSON, private=private)


@router.get(
    f"{_TILESET}/{{z}}/{{y}}/{{x}}",
    response_class=Response,
    responses=ok(media.MVT, "A Mapbox vector tile"),
    dependencies=[allow(*EVERYONE)],
    summary="A vector tile",
)
def tile(
    collection_id: str,
    z: int,
    y: int,
    x: int,
    request: Request,
    session: ReadSessionDep,
    principal: PrincipalDep,
) -> Response:
    """A Mapbox vector tile (204 when empty, 304 when the client's ETag is current)."""
    made = request.app.state.tile_cache.entry(
        session=session,
        collection_id=collection_id,
        role=principal.role,
        zxy=(z, x, y),
        render=lambda: render_tile(
            session=session,
            collection_id=collection_id,
            role=principal.role,
            z=z,
            x=x,
            y=y,
            viewer=viewer_of(principal),
            max_bytes=request.app.state.settings.tile_max_bytes,
        ),
    )
    status, body, headers = tile_reply(
        made,
        accept_encoding=request.headers.get("accept-encoding", ""),
        if_none_match=request.headers.get("if-none-match"),
    )
    return Response(body, status_code=status, headers=headers)

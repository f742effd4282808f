"""OGC API – Features (Parts 1–4) and Tiles under /ogc, for QGIS, GDAL and other GIS clients."""

from fastapi import APIRouter

from geo_api.auth import EVERYONE, allow
from geo_api.routers.ogc import core, edit, items, tiles
from geo_api.routers.ogc.route import OGCRoute
from layers.core.errors import NotFoundError

_fallback = APIRouter(prefix="/ogc", route_class=OGCRoute)


@_fallback.get("/{rest:path}", dependencies=[allow(*EVERYONE)], include_in_schema=False)
def not_found(rest: str) -> None:
    """Anything else under /ogc is a 404 in OGC exception JSON."""
    raise NotFoundError(f"no resource /ogc/{rest}", code="not_found")


router = APIRouter()
for _part in (core.router, items.router, edit.router, tiles.router, _fallback):
    router.include_router(_part)

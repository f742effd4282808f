"""One router per audience or standard; `ROUTERS` is what the app mounts, in order."""

from fastapi import APIRouter

from geo_api.routers import analytics, maps, meta, residents_nearby, static

ROUTERS: list[APIRouter] = [
    meta.router,
    analytics.router,
    maps.router,
    residents_nearby.router,
    static.router,
]

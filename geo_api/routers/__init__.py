"""One router per audience or standard; `ROUTERS` is what the app mounts, in order."""

from fastapi import APIRouter

from geo_api.routers import (
    analytics,
    grid_history,
    maps,
    meta,
    ogc,
    planning,
    residents_nearby,
    static,
)

ROUTERS: list[APIRouter] = [
    meta.router,
    ogc.router,
    planning.router,
    grid_history.router,
    analytics.router,
    maps.router,
    residents_nearby.router,
    static.router,
]

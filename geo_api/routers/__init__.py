"""One router per audience or standard; `ROUTERS` is what the app mounts, in order."""

from fastapi import APIRouter

from geo_api.routers import dispatch, incidents, kpis, locate, meta, open311

ROUTERS: list[APIRouter] = [
    meta.router,
    locate.router,
    incidents.router,
    dispatch.router,
    kpis.router,
    open311.router,
]

"""One router per audience or standard; `ROUTERS` is what the app mounts, in order."""

from fastapi import APIRouter

from geo_api.routers import grid_history, meta, ogc, planning

ROUTERS: list[APIRouter] = [meta.router, ogc.router, planning.router, grid_history.router]

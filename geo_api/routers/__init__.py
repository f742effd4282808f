"""One router per audience or standard; `ROUTERS` is what the app mounts, in order."""

from fastapi import APIRouter

from geo_api.routers import grid_history, meta, planning

ROUTERS: list[APIRouter] = [meta.router, planning.router, grid_history.router]

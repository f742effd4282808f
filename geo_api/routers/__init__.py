"""One router per audience or standard; `ROUTERS` is what the app mounts, in order."""

from fastapi import APIRouter

from geo_api.routers import meta, ogc

ROUTERS: list[APIRouter] = [meta.router, ogc.router]

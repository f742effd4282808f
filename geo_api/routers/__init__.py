"""One router per audience or standard; `ROUTERS` is what the app mounts, in order."""

from fastapi import APIRouter

from geo_api.routers import (
    admin_keys,
    analytics,
    base_data,
    calendar_days,
    dispatch,
    geocode,
    grid_history,
    incidents,
    jobs,
    kpis,
    locate,
    maps,
    meta,
    ogc,
    open311,
    planning,
    residents_nearby,
    session,
    static,
)

ROUTERS: list[APIRouter] = [
    meta.router,
    session.router,
    locate.router,
    geocode.router,
    base_data.router,
    incidents.router,
    dispatch.router,
    kpis.router,
    calendar_days.router,
    open311.router,
    ogc.router,
    planning.router,
    jobs.router,
    grid_history.router,
    analytics.router,
    maps.router,
    residents_nearby.router,
    static.router,
    admin_keys.router,
]

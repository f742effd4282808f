"""The service's front door: a landing document and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from geo_api.auth import EVERYONE, allow
from geo_api.deps import SettingsDep
from geo_api.errors import RETRY_AFTER_S
from geo_api.schemas.meta import Health, Landing, Link
from layers.core.errors import DatabaseUnavailableError
from layers.store.db import check_connection

router = APIRouter(tags=["meta"])


@router.get(
    "/", response_model=Landing, dependencies=[allow(*EVERYONE)], summary="What this service offers"
)
def landing(request: Request, settings: SettingsDep) -> Landing:
    """Links to the API documentation and the other entry points."""
    base = settings.base_url()
    return Landing(
        title="wangge — 网格 grid governance",
        links=[
            Link(rel="service-doc", href=f"{base}/docs", title="API documentation"),
            Link(rel="service-desc", href=f"{base}/openapi.json", title="OpenAPI"),
            Link(rel="health", href=f"{base}/health", title="Health check"),
        ],
    )


@router.get(
    "/health",
    response_model=Health,
    dependencies=[allow(*EVERYONE)],
    summary="Is the database reachable?",
)
def health(request: Request) -> JSONResponse:
    """200 with the PostGIS version when the database answers, 503 otherwise.

    The reason of a failure names the database user, host and port: it goes to
    the server's log (once per outage), never to the caller.
    """
    try:
        postgis = check_connection(request.app.state.engine)
    except DatabaseUnavailableError as exc:
        request.app.state.outage.down(exc.message)
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    router = request.app.state.read_router
    replica = "none"
    if router.replica is not None:
        replica = "serving" if router.health().usable else "standing_by"
    return JSONResponse({"status": "ok", "database": "ok", "postgis": postgis, "replica": replica})

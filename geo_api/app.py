"""The application factory: settings in, a FastAPI app with its database out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from geo_api import docs_pages
from geo_api.background import (
    address_listen,
    board_feed,
    case_events,
    case_tasks,
    job_runner,
)
from geo_api.background.suggest_runs import SUGGEST_JOB, suggest_job
from geo_api.credentials import AuthGuard
from geo_api.errors import install_error_handlers
from geo_api.intake_batcher import IntakeBatcher
from geo_api.middleware.cached_tiles import CachedTiles
from geo_api.middleware.compression import Compression
from geo_api.middleware.cors import ReadOnlyCORS
from geo_api.middleware.form_charset import FormCharset
from geo_api.middleware.limits import BodySizeLimit
from geo_api.middleware.log_redaction import install_access_log_redaction
from geo_api.middleware.security_headers import SecurityHeaders
from geo_api.middleware.text_guard import refuse_unstorable_text
from geo_api.openapi import install_openapi
from geo_api.routers import ROUTERS
from geo_api.settings import Settings
from layers.core.now import Clock, system_clock
from layers.ogc.tile_cache import TileCache
from layers.store.db import make_engine, make_sessionmaker, resolve_service_url
from layers.store.outage import OutageLog
from layers.store.read_routing import ReadRouter, replica_service_url

logger = logging.getLogger(__name__)

DESCRIPTION = """
Spatial governance of a city district: the three-level grid (网格), courtyards,
cameras, service points and cases, routed to the responsible grid worker by
location.  No key = resident; staff send `Authorization: Bearer <key>`.
"""


def _engines(settings: Settings) -> tuple[str, Engine, Engine | None]:
    """The service role's URL, the primary's engine and the replica's (None without one).

    The service role: rows yes, schema no; its sessions bounded by the limits.
    """
    url = resolve_service_url(settings.db)
    limits = settings.db.session_limits()
    engine = make_engine(url, pool_size=settings.db.pool_size, limits=limits)
    replica_url = replica_service_url(settings.db, url)
    if replica_url is None:
        return url, engine, None
    replica = make_engine(
        replica_url, pool_size=settings.db.pool_size, limits=limits, application_name="wangge-read"
    )
    return url, engine, replica


def _install_hot_engine(app: FastAPI, url: str, settings: Settings) -> None:
    """A second, autocommit engine for the hot single-statement paths (nearest, a booking).

    Its connections never open a transaction (no BEGIN/COMMIT round trips, see
    `geo_api.deps.autocommit_session`); it is disposed with the app.
    """
    hot = make_engine(
        url,
        pool_size=max(2, settings.db.pool_size // 2),
        limits=settings.db.session_limits(),
        autocommit=True,
    )
    app.state.outage.watch(hot)
    app.state.autocommit_sessionmaker = make_sessionmaker(hot)
    batcher = IntakeBatcher(app.state.autocommit_sessionmaker)
    app.state.intake_batcher = batcher
    app.state.shutdown_hooks.append(lambda _app: batcher.close())
    app.state.shutdown_hooks.append(lambda _app: hot.dispose())


def _install_state(
    app: FastAPI, settings: Settings, engine: Engine, replica: Engine | None
) -> None:
    """What every request reaches through `app.state`: settings, sessions, caches, guards."""
    app.state.settings = settings
    app.state.engine = engine
    app.state.outage = OutageLog()
    app.state.outage.watch(engine)
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.read_router = ReadRouter(
        app.state.sessionmaker,
        replica,
        max_lag_s=settings.db.replica_max_lag_s,
        recheck_s=settings.db.replica_recheck_s,
    )
    app.state.auth_guard = AuthGuard(settings.auth)
    app.state.tile_cache = TileCache(settings.tile_cache_bytes)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the app; the database engines (as the service role) live as long as the app does.
    `clock` is where every route takes "now" from (the wall clock by default; the
    tests pass one that starts at a fixed date).
    """
    settings = settings or Settings()
    url, engine, replica = _engines(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_access_log_redaction()  # after the server configured its loggers
        for hook in app.state.startup_hooks:
            hook(app)
        yield
        for hook in app.state.shutdown_hooks:
            hook(app)
        for pool in (engine, replica) if replica else (engine,):
            pool.dispose()

    app = FastAPI(
        title="wangge",
        summary="网格 — grid governance: locate, dispatch, plan, map",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served offline by geo_api.docs_pages instead of from a CDN
        redoc_url=None,
        # Every route, also those added later: no NUL or lone surrogate reaches SQL.
        dependencies=[Depends(refuse_unstorable_text)],
    )
    _install_state(app, settings, engine, replica)
    app.state.clock = clock or system_clock
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    _install_hot_engine(app, url, settings)
    case_tasks.install(app)
    address_listen.install(app)
    case_events.install(app)
    board_feed.install(app)
    job_runner.install(app, kinds={SUGGEST_JOB: suggest_job})
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    docs_pages.install(app)
    install_openapi(app)
    app.add_middleware(FormCharset)  # inside the size limit: it reads whole forms
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(ReadOnlyCORS, origins=settings.cors_origins)
    app.add_middleware(CachedTiles, state=app.state)  # outside CORS: it passes `Origin` on
    app.add_middleware(Compression)
    app.add_middleware(SecurityHeaders)
    return app

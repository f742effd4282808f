"""The application factory: settings in, a FastAPI app with its database out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from geo_api import case_tasks
from geo_api.errors import install_error_handlers
from geo_api.form_charset import FormCharset
from geo_api.limits import BodySizeLimit
from geo_api.openapi import install_openapi
from geo_api.routers import ROUTERS
from geo_api.settings import Settings
from geo_api.text_guard import refuse_unstorable_text
from layers.db import make_engine, make_sessionmaker, resolve_database_url
from layers.now import Clock, system_clock

logger = logging.getLogger(__name__)

DESCRIPTION = """
Spatial governance of a city district: the three-level grid (网格), courtyards,
cameras, service points and cases, routed to the responsible grid worker by
location.  No key = resident; staff send `Authorization: Bearer <key>`.
"""


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the app; the database engine lives as long as the app does.

    `clock` is where every route takes "now" from (the wall clock by default; the
    tests pass one that starts at a fixed date).
    """
    settings = settings or Settings()
    url = resolve_database_url(settings.db)
    engine = make_engine(url, pool_size=settings.db.pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in app.state.startup_hooks:
            hook(app)
        yield
        for hook in app.state.shutdown_hooks:
            hook(app)
        engine.dispose()

    app = FastAPI(
        title="wangge",
        summary="网格 — grid governance: locate, dispatch, plan, map",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        # Every route, also those added later: no NUL or lone surrogate reaches SQL.
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock or system_clock
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.startup_hooks = []
    app.state.shutdown_hooks = []
    case_tasks.install(app)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    install_openapi(app)
    app.add_middleware(FormCharset)  # inside the size limit: it reads whole forms
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app

"""The anonymous fast path for warm vector tiles: memory and one counter query, no framework.

Why: a resident's web map asks every visitor for the same public tiles.  Once a
tile is kept (`layers.ogc.tile_cache`), what is left of a request is routing,
dependency injection, a session and the response machinery — most of its cost.
This middleware answers a GET of `/ogc/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}`
itself when the request carries no credentials (no `Authorization`, no cookie:
the resident's view), no query and no `Origin` (CORS stays with its middleware),
and the kept tile is still current: its layer's `layer_versions` counter, and
whether a change since then met the tile (`layers.ogc.tile_changes`: a tile no
edit touched is re-stamped here, not sent to be rendered), are read in one
query on an autocommit connection (no BEGIN/ROLLBACK round trips) of the same
database the route would read (the replica while the read router uses it), so
an edit or a publish is seen by the next request exactly as on the full path.
Anything else — a miss, a stale tile, a staff or hidden collection, a database
error — goes to the app unchanged, which renders, keeps and answers.  Status,
body and headers come from `tile_reply`, the route's own; it sits inside
`Compression` (which leaves the pre-gzipped body alone and weakens its ETag).
"""

from __future__ import annotations

import re
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Receive, Scope, Send

from geo_api.routers.ogc.tile_reply import tile_reply
from layers.core.errors import NotFoundError
from layers.core.roles import Role
from layers.ogc.registry import get_collection
from layers.ogc.tile_cache import still_current, table_of

TILE_PATH = re.compile(r"/ogc/collections/([A-Za-z0-9_]+)/tiles/WebMercatorQuad/(\d+)/(\d+)/(\d+)")
CREDENTIALS = (b"authorization", b"cookie", b"origin")
"""Requests with any of these go the full way: they may be someone else than a resident."""


class CachedTiles:
    """ASGI middleware: answers anonymous requests for current kept tiles (see the module)."""

    def __init__(self, app: ASGIApp, *, state: Any) -> None:
        self.app = app
        self.state = state
        self._autocommit: dict[int, Engine] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer from memory when the kept tile is current; else the app answers."""
        found = self._kept(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        key, entry, table, headers = found
        try:
            version, still = await anyio.to_thread.run_sync(
                self._current, table, entry.version, key[2:]
            )
        except SQLAlchemyError:
            still = False  # the route knows how to fall back (replica down, outage)
        if not still:
            await self.app(scope, receive, send)
            return
        if version == entry.version:
            self.state.tile_cache.hit(key, fast=True)
        else:
            self.state.tile_cache.restamp(key, entry, version, fast=True)
        status, body, out = tile_reply(
            entry,
            accept_encoding=headers.get(b"accept-encoding", b"").decode("latin-1"),
            if_none_match=headers[b"if-none-match"].decode("latin-1")
            if b"if-none-match" in headers
            else None,
        )
        raw = [(k.lower().encode(), v.encode()) for k, v in out.items()]
        if status == 200:
            raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    def _kept(self, scope: Scope) -> tuple | None:
        """(key, entry, table, request headers) of a kept tile this path may answer, or None."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("query_string"):
            return None
        match = TILE_PATH.fullmatch(scope["path"])
        if match is None:
            return None
        headers = dict(scope["headers"])
        if any(name in headers for name in CREDENTIALS):
            return None
        cache = self.state.tile_cache
        try:
            collection = get_collection(match[1], Role.RESIDENT)
        except NotFoundError:
            return None
        if not cache.cacheable(collection):
            return None
        z, y, x = int(match[2]), int(match[3]), int(match[4])
        key = cache.key(collection, Role.RESIDENT, (z, x, y))
        entry = cache.peek(key)
        if entry is None:
            return None
        return key, entry, table_of(collection), headers

    def _current(self, table: str, since: int, zxy: tuple[int, int, int]) -> tuple[int, bool]:
        """`still_current` on the database the route would read (in a worker thread)."""
        router = self.state.read_router
        _, on_replica = router.choose()
        engine = router.replica_engine if on_replica else self.state.engine
        fast = self._autocommit.get(id(engine))
        if fast is None:
            fast = engine.execution_options(isolation_level="AUTOCOMMIT")
            self._autocommit[id(engine)] = fast
        with fast.connect() as conn:
            return still_current(conn, table, since, zxy)

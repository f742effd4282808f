"""CORS for the read-only OGC API and its tiles, so web maps on other intranet origins can use them.

Off unless `WANGGE_CORS_ORIGINS` names origins.  Then Starlette's CORS middleware
answers for `/ogc` only, and only for reads: preflights may ask for GET or HEAD
(a preflight for POST, PUT, PATCH or DELETE is refused), other methods get no
CORS headers at all, and credentials are never allowed
(`Access-Control-Allow-Credentials` is never sent), so a browser never lets
another origin read what a signed-in user's cookie fetched.  A request that
carries the sign-in cookie gets no CORS headers either.  A page that wants
staff layers sends its own `Authorization: Bearer` key, which the preflight
allows.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from geo_api.auth import SESSION_COOKIE

PREFIX = "/ogc"
READ_METHODS = ("GET", "HEAD")
ALLOW_HEADERS = ("Authorization", "If-None-Match", "If-Modified-Since")
EXPOSE_HEADERS = ("ETag", "Content-Crs", "Content-Disposition", "Link")
MAX_AGE_S = 600


def _in_scope(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _has_session_cookie(headers: Headers) -> bool:
    cookies = headers.get("cookie", "")
    return any(part.strip().startswith(f"{SESSION_COOKIE}=") for part in cookies.split(";"))


class ReadOnlyCORS:
    """ASGI middleware: CORS on `/ogc` reads for `origins` (see the module)."""

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=READ_METHODS,
            allow_headers=ALLOW_HEADERS,
            allow_credentials=False,
            expose_headers=EXPOSE_HEADERS,
            max_age=MAX_AGE_S,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand `/ogc` reads and their preflights to the CORS middleware, the rest straight on."""
        if (
            scope["type"] == "http"
            and _in_scope(scope["path"])
            and scope["method"] in (*READ_METHODS, "OPTIONS")
            and not _has_session_cookie(Headers(scope=scope))
        ):
            await self.cors(scope, receive, send)
            return
        await self.app(scope, receive, send)

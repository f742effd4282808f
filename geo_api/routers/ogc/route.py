"""What every /ogc route shares: OGC exception JSON for errors, links, media types.

OGC API – Common prescribes its own error body (`{"code", "description"}`), so
the /ogc routes use `OGCRoute`, which shapes every failure of the route (its
dependencies and access checks included) that way instead of problem+json.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo_api.replica_route import ReplicaFallbackRoute
from layers.core.errors import InvalidInputError, WanggeError

logger = logging.getLogger(__name__)

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
MVT = "application/vnd.mapbox-vector-tile"
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 406: "not_acceptable"}


def ogc_error(status: int, code: str, description: str, **extra: Any) -> JSONResponse:
    """An OGC API exception response."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = {"code": code, "description": description, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def _shape(request: Request, exc: Exception) -> Response:
    if isinstance(exc, WanggeError):
        if exc.status_code >= 500:
            logger.error("%s on %s: %s", exc.code, request.url.path, exc.message)
        return ogc_error(exc.status_code, exc.code, exc.message, **exc.details)
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return ogc_error(400, "invalid_parameter", f"{where}: {first.get('msg', 'invalid')}")
    if isinstance(exc, StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return ogc_error(exc.status_code, code, str(exc.detail))
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return ogc_error(500, "internal_error", "internal error; the incident was logged")


class OGCRoute(ReplicaFallbackRoute):
    """An APIRoute whose failures answer OGC exception JSON (after the replica's retry)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler (dependencies included) with the OGC error shaping."""
        handler = super().get_route_handler()

        async def shaped(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return _shape(request, exc)

        return shaped


def base_url(request: Request) -> str:
    """Where clients reach /ogc: the configured public URL, else what the request says."""
    settings = request.app.state.settings
    root = settings.public_url.rstrip("/") if settings.public_url else str(request.base_url)
    return root.rstrip("/") + "/ogc"


def json_bytes(doc: Any) -> bytes:
    """A JSON document rendered the way `JSONResponse` renders it (compact UTF-8)."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    """One link object."""
    out = {"href": href, "rel": rel, "type": media_type}
    if title:
        out["title"] = title
    return out


def url_with(request: Request, path: str, **changes: str | None) -> str:
    """`base/path` with the request's query string, some parameters changed or removed."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, v) for k, v in changes.items() if v is not None]
    query = urlencode(params)
    return f"{base_url(request)}{path}" + (f"?{query}" if query else "")


def wants(request: Request, f: str | None, offers: dict[str, str], default: str) -> str:
    """Pick a format key from `f=` or the Accept header (first acceptable in `offers`)."""
    if f:
        if f not in offers:
            raise InvalidInputError(
                f"f: unsupported format {f!r}; one of {', '.join(offers)}",
                code="invalid_format",
                parameter="f",
            )
        return f
    accept = request.headers.get("accept", "")
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        for key, offered in offers.items():
            if media and media == offered.split(";")[0]:
                return key
    return default

"""Turn every error into an RFC 9457 problem response, in one place.

A `WanggeError` answers its own status, machine-readable `code` and safe message.
Validation errors answer 422 with the fields at fault.  Anything else is logged
with its traceback and answers a bare 500 that echoes nothing internal.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from layers.errors import WanggeError

logger = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://wangge.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response; `code` is the stable machine-readable reason."""
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _wants_sign_in_page(request: Request, exc: WanggeError) -> bool:
    """A browser (HTML) opening a staff map page without a key goes to the sign-in form."""
    return (
        exc.status_code == 401
        and request.method == "GET"
        and request.url.path.startswith("/maps/")
        and "text/html" in request.headers.get("accept", "")
    )


async def _wangge_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WanggeError)
    if _wants_sign_in_page(request, exc):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    if exc.status_code >= 500:
        logger.error("%s on %s %s: %s", exc.code, request.method, request.url.path, exc.message)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
    if isinstance(exc.details.get("retry_after_s"), int):
        headers["Retry-After"] = str(exc.details["retry_after_s"])
    return problem(exc.status_code, exc.code, exc.message, headers=headers or None, **exc.details)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return problem(422, "invalid_request", f"{where}: {first['msg']}", errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return problem(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "internal_error", "internal error; the incident was logged")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(WanggeError, _wangge_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)

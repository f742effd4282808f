"""Turn every error into an RFC 9457 problem response, in one place.

A `WanggeError` answers its own status, machine-readable `code` and safe message.
Validation errors answer 422 with the fields at fault.  A lost database answers
503 `database_unavailable` with `Retry-After` (logged once per outage, no
traceback); a statement cut off by `statement_timeout` answers 503
`statement_timeout`.  Anything else is logged with its traceback and answers a
bare 500 that echoes nothing internal; a failed SQL statement is logged without
its parameters or the server's message, which may quote personal data.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo_api.middleware.log_redaction import redact_target
from layers.core.errors import WanggeError
from layers.store.outage import OutageLog, describe, first_line, is_query_canceled, is_unavailable

logger = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://wangge.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_S = 5
"""What a 503 asks clients to wait: a restarting PostgreSQL is back within seconds."""


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
    if exc.code == "database_unavailable":  # its message names the user, host and port
        _outage(request).down(exc.message)
        return database_unavailable()
    if exc.status_code >= 500:
        logger.error("%s on %s %s: %s", exc.code, request.method, _target(request), exc.message)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
    if exc.status_code == 503:
        headers["Retry-After"] = str(RETRY_AFTER_S)
    if isinstance(exc.details.get("retry_after_s"), int):
        headers["Retry-After"] = str(exc.details["retry_after_s"])
    return problem(exc.status_code, exc.code, exc.message, headers=headers or None, **exc.details)


def _target(request: Request) -> str:
    """The request's path and query as they may be logged (no coordinates, no tokens)."""
    query = request.url.query
    return redact_target(request.url.path + (f"?{query}" if query else ""))


def _outage(request: Request) -> OutageLog:
    return request.app.state.outage


def database_unavailable() -> JSONResponse:
    """503 with Retry-After: the database is restarting or unreachable."""
    return problem(
        503,
        "database_unavailable",
        "the database is not available at the moment; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if is_unavailable(exc):
        _outage(request).down(first_line(exc))
        return database_unavailable()
    if is_query_canceled(exc):
        logger.warning("statement timeout on %s %s", request.method, _target(request))
        return problem(
            503,
            "statement_timeout",
            "the request took longer than the database allows; narrow it down and try again",
        )
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error(
        "database error on %s %s: %s\nTraceback (values withheld):\n%s",
        request.method,
        _target(request),
        describe(exc),
        frames.rstrip(),
    )
    return problem(500, "internal_error", "internal error; the incident was logged")


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
    logger.exception("unhandled error on %s %s", request.method, _target(request))
    return problem(500, "internal_error", "internal error; the incident was logged")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(WanggeError, _wangge_error)
    # Its own handler, not the catch-all: Starlette re-raises what reaches the
    # catch-all, and the server would log it again with the driver's message.
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)

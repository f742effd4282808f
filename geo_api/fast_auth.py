"""`Allow` for hot public routes: no database session, no thread hop for anonymous callers.

FastAPI runs every sync dependency in a worker thread; for `GET /locate` the
session, principal and role dependencies cost more than locating the point.
`FastAllow` is an `Allow` (so `geo_api.access` lists it and the access test
covers it) whose check is async: a request without a key is the anonymous
resident at once; a request with a key is resolved exactly like `Allow` does,
in a worker thread with its own short session.
"""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from geo_api.auth import ANONYMOUS, Allow, Principal, Role, current_principal, session_cookie


def _resolve(request: Request) -> Principal:
    with request.app.state.sessionmaker() as session:
        return current_principal(request, session)


class FastAllow(Allow):
    """Admit `roles`, resolving the key (if any) off the event loop."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        """The admitted principal; 401/403 (or 404 when hidden) otherwise."""
        credentials = request.headers.get("authorization") or session_cookie(request)
        principal = await run_in_threadpool(_resolve, request) if credentials else ANONYMOUS
        return Allow.__call__(self, principal)


def allow_fast(*roles: Role, hide: bool = False) -> object:
    """`Depends(FastAllow(...))` for a parameter default or `dependencies=[...]`."""
    return Depends(FastAllow(*roles, hide=hide))

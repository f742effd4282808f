"""Browser sign-in for staff: paste an API key once, open the staff map pages.

`POST /login` checks the key and opens a server-side session: the cookie holds
an opaque random id (HttpOnly, SameSite=Strict) whose hash is stored with the
role, expiry and last use.  The server honours it for GET requests only (see
`geo_api.auth`); every write still needs the Authorization header.  Signing in
again replaces the browser's previous session; `POST /logout` ends it.
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from geo_api.auth import EVERYONE, LEGACY_COOKIE, SESSION_COOKIE, STAFF, allow
from geo_api.credentials import check_key, client_address
from geo_api.deps import NowDep, SessionDep
from geo_api.middleware.security_headers import LOGIN_CSP
from layers.core.errors import ForbiddenError
from layers.tables.web_sessions import end_session, start_session

router = APIRouter(tags=["session"])

_PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<title>wangge 登录 sign in</title><style>body{{font:16px sans-serif;margin:3em auto;max-width:30em}}
input{{width:100%;padding:.4em;margin:.4em 0}}</style></head><body>
<h1>网格 wangge — 工作人员登录 staff sign-in</h1>
<p>Paste your API key (from your administrator, or <code>demo-keys.json</code>).</p>
<form method="post" action="/login"><input type="hidden" name="next" value="{next}">
<input name="key" type="password" autocomplete="off" required placeholder="wg_…">
<input type="submit" value="登录 sign in"></form>{message}</body></html>"""


def _safe_next(target: str) -> str:
    """Only a path on this service: never an open redirect to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get(
    "/login", response_class=HTMLResponse, dependencies=[allow(*EVERYONE)], include_in_schema=False
)
def login_page(next: str = "/maps/coverage") -> HTMLResponse:
    """The sign-in form (no script at all, hence the strictest page policy)."""
    page = _PAGE.format(next=html.escape(_safe_next(next)), message="")
    return HTMLResponse(page, headers={"Content-Security-Policy": LOGIN_CSP})


@router.post(
    "/login",
    response_class=RedirectResponse,
    dependencies=[allow(*EVERYONE)],
    summary="Sign a browser in with a key",
)
def login(
    request: Request,
    session: SessionDep,
    now: NowDep,
    key: str = Form(max_length=200),
    next: str = Form("/maps/coverage"),
) -> RedirectResponse:
    """Check the key, open a session (ending the browser's old one), go on to `next`.

    401 for a wrong key, 429 (``Retry-After``) after too many, 403 for a
    resident key (residents need no sign-in).
    """
    owner = check_key(request, session, key.strip(), via="login")
    if owner.role not in STAFF:
        raise ForbiddenError("only staff keys sign in; residents need none", code="staff_only")
    guard = request.app.state.auth_guard
    token = start_session(
        session=session,
        owner=owner,
        now=now,
        lifetime=guard.session_lifetime,
        client=client_address(request),
        replaces=request.cookies.get(SESSION_COOKIE),
    )
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(guard.session_lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(LEGACY_COOKIE, path="/")
    return response


@router.post(
    "/logout",
    response_class=RedirectResponse,
    dependencies=[allow(*EVERYONE)],
    summary="Sign a browser out",
)
def logout(request: Request, session: SessionDep, now: NowDep) -> RedirectResponse:
    """End the browser's session on the server and forget the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(session=session, token=token, now=now, client=client_address(request))
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(LEGACY_COOKIE, path="/")
    return response

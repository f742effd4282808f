"""Browser sign-in for staff: paste an API key once, open the staff map pages.

`POST /login` checks the key and stores it in an HttpOnly, SameSite=Strict
cookie that the server honours for GET requests only (see `geo_api.auth`);
every write still needs the Authorization header.
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from geo_api.auth import EVERYONE, SESSION_COOKIE, allow
from geo_api.deps import SessionDep
from layers.api_keys import find_key_owner
from layers.audit import record
from layers.errors import NotAuthenticatedError

router = APIRouter(tags=["session"])

COOKIE_MAX_AGE_S = 12 * 3600
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


@router.get("/login", dependencies=[allow(*EVERYONE)], include_in_schema=False)
def login_page(next: str = "/maps/coverage") -> HTMLResponse:
    """The sign-in form."""
    return HTMLResponse(_PAGE.format(next=html.escape(_safe_next(next)), message=""))


@router.post("/login", dependencies=[allow(*EVERYONE)], summary="Sign a browser in with a key")
def login(
    request: Request,
    session: SessionDep,
    key: str = Form(max_length=200),
    next: str = Form("/maps/coverage"),
) -> RedirectResponse:
    """Check the key, set the session cookie, go on to `next`; an unknown key is 401."""
    owner = find_key_owner(session=session, key=key.strip())
    if owner is None:
        raise NotAuthenticatedError("unknown or revoked API key", code="invalid_api_key")
    record(
        session=session,
        actor=owner.name,
        role=owner.role,
        action="login",
        entity="api_keys",
        entity_id=owner.key_id,
        data={"client": request.client.host if request.client else None},
    )
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        key.strip(),
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout", dependencies=[allow(*EVERYONE)], summary="Sign a browser out")
def logout() -> RedirectResponse:
    """Forget the session cookie."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

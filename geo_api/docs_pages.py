"""`/docs` (Swagger UI) and `/redoc` (ReDoc), served with no CDN, no Google Fonts, no inline script.

FastAPI's own pages load their bundles from jsDelivr and start them with an
inline script, which an intranet without internet cannot load and a strict
Content-Security-Policy forbids.  These pages load the bundles pinned in
`maps/static/vendor.txt` from `/static` and start them from a static script
that reads its settings from `data-` attributes.  They stay FastAPI-style plain
routes (public, outside the OpenAPI document; see `geo_api.access.OPEN_PATHS`).
"""

from __future__ import annotations

import html

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from geo_api.middleware.security_headers import DOCS_CSP
from maps.assets import pinned_versions

DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
REDOC_PATH = "/redoc"


def _vendor(package: str, path: str) -> str:
    return f"/static/vendor/{package}@{pinned_versions()[package]}/{path}"


def _page(title: str, head: str, body: str) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>{head}</head><body>{body}</body></html>"
    )
    return HTMLResponse(
        document, headers={"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"}
    )


def _spec_url(request: Request) -> str:
    return request.scope.get("root_path", "") + (request.app.openapi_url or "/openapi.json")


async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI on the service's OpenAPI document ("try it out" sends requests here)."""
    pkg = "swagger-ui-dist"
    head = (
        f'<link rel="stylesheet" href="{_vendor(pkg, "swagger-ui.css")}">'
        f'<link rel="icon" type="image/png" href="{_vendor(pkg, "favicon-32x32.png")}">'
    )
    spec = html.escape(_spec_url(request), quote=True)
    redirect = html.escape(request.scope.get("root_path", "") + OAUTH2_REDIRECT_PATH, quote=True)
    body = (
        f'<div id="swagger-ui" data-spec-url="{spec}" data-oauth2-redirect-url="{redirect}"></div>'
        f'<script src="{_vendor(pkg, "swagger-ui-bundle.js")}"></script>'
        '<script src="/static/wangge/swagger-init.js"></script>'
    )
    return _page(f"{request.app.title} - Swagger UI", head, body)


async def swagger_oauth2_redirect(request: Request) -> HTMLResponse:
    """Where an OAuth2 flow started in Swagger UI returns (Swagger UI's own script)."""
    body = f'<script src="{_vendor("swagger-ui-dist", "oauth2-redirect.js")}"></script>'
    return _page("Swagger UI: OAuth2 redirect", "", body)


async def redoc(request: Request) -> HTMLResponse:
    """ReDoc on the service's OpenAPI document (system fonts, no Google Fonts, no CDN logo)."""
    spec = html.escape(_spec_url(request), quote=True)
    head = "<style>body{margin:0;padding:0}</style>"
    body = (
        f'<redoc spec-url="{spec}"></redoc>'
        '<script src="/static/wangge/redoc-init.js"></script>'
        f'<script src="{_vendor("redoc", "bundles/redoc.standalone.js")}"></script>'
    )
    return _page(f"{request.app.title} - ReDoc", head, body)


def install(app: FastAPI) -> None:
    """Add the three documentation routes (create the app with `docs_url=None, redoc_url=None`)."""
    app.add_route(DOCS_PATH, swagger_ui, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT_PATH, swagger_oauth2_redirect, include_in_schema=False)
    app.add_route(REDOC_PATH, redoc, include_in_schema=False)

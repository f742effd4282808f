"""Security headers: a Content-Security-Policy for every HTML page, nosniff and no referrer.

Each page states the narrowest policy it works with: the sign-in form runs no
script at all; the API documentation runs only scripts served by this service;
the map pages run those plus their own inline script, admitted by a nonce made
per response (`map_csp`).  No page allows inline scripts it did not write, and
none may be framed (clickjacking).  `SecurityHeaders` adds what every response
needs and gives an HTML response that set no policy the strictest one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_FRAMING = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"

STRICT_CSP = f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; {_FRAMING}"
"""For an HTML response that declares nothing else: no script, nothing loaded but images."""
LOGIN_CSP = f"default-src 'none'; style-src 'unsafe-inline'; {_FRAMING}"
"""The sign-in form: no script, no external resource; the form posts to this service."""
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; font-src 'self' data:; connect-src 'self';"
    f" worker-src 'self' blob:; {_FRAMING}"
)
"""Swagger UI and ReDoc: their bundles and start-up scripts come from /static, nothing inline."""


def new_nonce() -> str:
    """A fresh random nonce for one response's inline script."""
    return secrets.token_urlsafe(18)


def map_csp(nonce: str, img_src: str = "'self' data:") -> str:
    """A map page's policy: scripts from /static and the page's own inline script (`nonce`)."""
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline';"
        f" img-src {img_src}; font-src 'self' data:; connect-src 'self'; {_FRAMING}"
    )


_EVERY = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
_HTML = (
    (b"content-security-policy", STRICT_CSP.encode()),
    (b"x-frame-options", b"DENY"),
)


def _with_security_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The raw response headers plus the missing security headers (on the hot path: no parsing)."""
    headers = list(raw)
    present = {name.lower(): value for name, value in headers}
    wanted = _EVERY
    if present.get(b"content-type", b"").startswith(b"text/html"):
        wanted = _EVERY + _HTML
    headers.extend(pair for pair in wanted if pair[0] not in present)
    return headers


class SecurityHeaders:
    """ASGI middleware: nosniff and no referrer on every response, a policy on every HTML page.

    The referrer is withheld because page URLs can carry a resident's
    coordinates (`/maps/residents?lon=…&lat=…`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response as it starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_security_headers(message.get("headers", ()))
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""Conditional GETs: ETags of what reads answer, and 304 when the client's copy is current.

The ETag of a body is a digest of its bytes, so it changes exactly when what the
client would receive changes (an edit, a publish, an import) and no data
version has to be kept anywhere.  `If-None-Match` compares weakly, as RFC 9110
prescribes for it: `W/"x"` (what a gzipped response carries, `geo_api.middleware.compression`)
and `"x"` are the same representation's tag.  Responses say `no-cache`: clients
keep them but ask again each time, which a 304 answers cheaply, so nobody sees
stale features after an edit.
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response

VARY = "Authorization, Cookie"
"""What else than the URL a read's answer depends on: who asks (roles see different fields)."""


def body_etag(*parts: bytes) -> str:
    """A strong ETag: a digest of the bytes that make the body."""
    digest = hashlib.blake2b(digest_size=12)
    for part in parts:
        digest.update(part)
    return f'"{digest.hexdigest()}"'


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def none_match(request: Request, etag: str) -> bool:
    """True when `If-None-Match` names `etag` (weak comparison) or is `*`: answer 304."""
    return held_matches(request.headers.get("if-none-match"), etag)


def held_matches(held: str | None, etag: str) -> bool:
    """`none_match` on the header's value, for paths that have no `Request` (ASGI middleware)."""
    if not held:
        return False
    tags = {_opaque(t) for t in held.split(",")}
    return "*" in tags or _opaque(etag) in tags


def cache_control(*, private: bool, max_age: int = 0) -> str:
    """`Cache-Control` of a read: revalidate every time unless `max_age` is given."""
    scope = "private" if private else "public"
    return f"{scope}, max-age={max_age}" if max_age else f"{scope}, no-cache"


def conditional(
    request: Request,
    body: bytes,
    *,
    media_type: str,
    private: bool,
    etag: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The 200 with `body`, or a 304 when the client already holds it.

    `etag` defaults to the digest of `body`; `private` is for what only staff
    (or this caller) may see, which shared caches must not keep.
    """
    tag = etag or body_etag(body)
    out = {
        **(headers or {}),
        "ETag": tag,
        "Cache-Control": cache_control(private=private),
        "Vary": VARY,
    }
    if none_match(request, tag):
        return Response(status_code=304, headers=out)
    return Response(body, media_type=media_type, headers=out)

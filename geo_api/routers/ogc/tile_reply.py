"""What a tile request is answered with: status, body and headers, from a kept tile.

Shared by the tile route and the anonymous fast path (`geo_api.middleware.cached_tiles`)
so both send the same bytes and validators.  A tile worth compressing goes out
as the gzip kept beside it in the cache (`Content-Encoding` set here, so
`geo_api.middleware.compression` leaves it alone and only weakens its ETag);
a warm tile then costs no compression at all.
"""

from __future__ import annotations

from geo_api.middleware.compression import MIN_BYTES, accepts_gzip
from geo_api.middleware.http_cache import held_matches
from geo_api.routers.ogc.route import MVT
from layers.ogc.tile_cache import Cached


def tile_reply(
    entry: Cached, *, accept_encoding: str, if_none_match: str | None
) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers): 304 when the client's ETag is current, 204 when empty, else 200."""
    tile = entry.tile
    headers = {
        "ETag": tile.etag,
        "Cache-Control": "private, max-age=60" if tile.private else "public, max-age=300",
        "Vary": "Authorization",
    }
    if held_matches(if_none_match, tile.etag):
        return 304, b"", headers
    if not tile.content:
        return 204, b"", headers
    headers["Content-Type"] = MVT
    if len(tile.content) >= MIN_BYTES and accepts_gzip(accept_encoding):
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Authorization, Accept-Encoding"
        return 200, entry.gzip(), headers
    return 200, tile.content, headers

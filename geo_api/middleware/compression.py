"""Negotiated zstd or gzip for what reads answer: JSON, GeoJSON, HTML, XML, CSV and vector tiles.

Starlette's GZip responders do the gzip (streamed bodies included), `ZstdResponder`
the zstd; this middleware decides which and when, and keeps the cache validators honest:

- a client that accepts zstd (browsers do, RFC 8878) gets zstd: at level 3 it is ten
  times cheaper than gzip's level 6 for a smaller body (the board's 2.6 MB part: 4 ms
  and 179 KB against 40 ms and 197 KB), and the board's first load was waiting on that
  CPU.  Everyone else (GDAL, curl, Open311 clients) gets gzip as before.

- only GET responses are compressed.  Write responses are small and carry fresh
  secrets next to what the caller sent (a case token beside the description),
  which is what BREACH-style length attacks need; they go out as they are.
- `Accept-Encoding` is honoured with its q-values (`gzip;q=0` means no).
- bodies under `MIN_BYTES` go out as they are: below about one packet
  compression saves no time on the wire and costs CPU.
- already compressed formats (zip, GeoParquet, images, fonts) are left alone;
  everything else — including `application/vnd.mapbox-vector-tile`, which web
  maps expect to be gzipped — is compressed.
- a compressed response is a different representation, so its strong `ETag`
  becomes weak (`W/"…"`, as nginx does); a 304 to a client that holds the weak
  tag answers it back.  Conditional requests compare weakly (`geo_api.middleware.http_cache`),
  so both forms revalidate.  Every response that may be compressed says
  `Vary: Accept-Encoding`.
"""

from __future__ import annotations

import zstandard
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import (
    DEFAULT_EXCLUDED_CONTENT_TYPES,
    GZipResponder,
    IdentityResponder,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_BYTES = 1024
"""Smaller bodies are not worth compressing (they fit in one packet anyway)."""
LEVEL = 6
"""zlib's default: within a few percent of level 9's size at a fraction of its CPU."""
ZSTD_LEVEL = 3
"""zstd's default level; its window (2 MB) is within what browsers decode (8 MB)."""
INCOMPRESSIBLE = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/vnd.apache.parquet",
    "application/octet-stream",
)
"""Formats that are compressed already (or opaque): gzip would only cost CPU."""


def accepts_gzip(accept_encoding: str) -> bool:
    """True when `Accept-Encoding` allows gzip (named or `*`, with a q-value above 0)."""
    named = _q_values(accept_encoding)
    if "gzip" in named:
        return named["gzip"] > 0
    if "x-gzip" in named:
        return named["x-gzip"] > 0
    return named.get("*", 0.0) > 0


def accepts_zstd(accept_encoding: str) -> bool:
    """True when `Accept-Encoding` names zstd with a q-value above 0 and not below gzip's.

    Only a client that names it: `*` alone keeps gzip, which every client decodes.
    """
    named = _q_values(accept_encoding)
    zstd = named.get("zstd", 0.0)
    return zstd > 0 and zstd >= named.get("gzip", named.get("x-gzip", 0.0))


def _q_values(accept_encoding: str) -> dict[str, float]:
    """Coding → q-value as the header gives them (a bad q-value counts as 0)."""
    named: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding.strip():
            named[coding.strip().lower()] = q
    return named


def _weak(tag: str) -> str:
    return tag if tag.startswith("W/") else f"W/{tag}"


class ZstdResponder(IdentityResponder):
    """Starlette's responder logic with a zstd frame: whole bodies in one call, streams flushed
    block by block so each chunk reaches the client as it is sent."""

    content_encoding = "zstd"

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int,
        level: int = ZSTD_LEVEL,
        *,
        exclude_content_types: tuple[str, ...] = DEFAULT_EXCLUDED_CONTENT_TYPES,
    ) -> None:
        super().__init__(app, minimum_size, exclude_content_types=exclude_content_types)
        self._level = level
        self._stream: zstandard.ZstdCompressionObj | None = None

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        """Inline, not in a thread: zstd's level 3 does 2.6 MB in about 4 ms."""
        if self._stream is None:
            if not more_body:  # the usual case: one body, one frame with its size
                return zstandard.ZstdCompressor(level=self._level).compress(body)
            self._stream = zstandard.ZstdCompressor(level=self._level).compressobj()
        out = self._stream.compress(body)
        if more_body:
            return out + self._stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        return out + self._stream.flush()


class Compression:
    """ASGI middleware: zstd or gzip GET responses when the client accepts it (see the module)."""

    def __init__(self, app: ASGIApp, *, minimum_size: int = MIN_BYTES, level: int = LEVEL) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pick the responder for the request, and fix validators on the way out."""
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        responder: ASGIApp
        accept = headers.get("accept-encoding", "")
        if accepts_zstd(accept):
            responder = ZstdResponder(
                self.app, self.minimum_size, exclude_content_types=INCOMPRESSIBLE
            )
        elif accepts_gzip(accept):
            responder = GZipResponder(
                self.app,
                self.minimum_size,
                compresslevel=self.level,
                exclude_content_types=INCOMPRESSIBLE,
            )
        else:
            responder = IdentityResponder(
                self.app, self.minimum_size, exclude_content_types=INCOMPRESSIBLE
            )
        held = headers.get("if-none-match", "")

        async def validating_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                _fix_validators(message, held)
            await send(message)

        await responder(scope, receive, validating_send)


def _fix_validators(message: Message, held: str) -> None:
    """Weaken the ETag of a compressed body; a 304 echoes the tag form the client holds."""
    out = MutableHeaders(raw=message.setdefault("headers", []))
    tag = out.get("etag")
    if message["status"] == 304:
        out.add_vary_header("Accept-Encoding")
        if tag and _weak(tag) in {t.strip() for t in held.split(",")}:
            out["ETag"] = _weak(tag)
    elif tag and out.get("content-encoding"):
        out["ETag"] = _weak(tag)

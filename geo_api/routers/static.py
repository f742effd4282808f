"""The map pages' scripts, styles and fonts, served by the service itself (no CDN)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from geo_api.auth import EVERYONE, allow
from layers.core.errors import NotFoundError
from maps.assets import STATIC_DIR

router = APIRouter(tags=["maps"])

mimetypes.add_type("font/woff2", ".woff2")
mimetypes.add_type("application/json", ".map")


@router.get(
    "/static/{path:path}",
    dependencies=[allow(*EVERYONE)],
    summary="Front-end assets of the map pages",
    include_in_schema=False,
)
def static_file(path: str) -> FileResponse:
    """A file under maps/static (vendor assets are fetched by `make setup`)."""
    root = STATIC_DIR.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file() or target.name.startswith("."):
        hint = " (run `make setup` to fetch the map assets)" if path.startswith("vendor/") else ""
        raise NotFoundError(f"no static file {path}{hint}", code="not_found")
    versioned = Path(path).parts[:1] == ("vendor",)
    cache = "public, max-age=31536000, immutable" if versioned else "public, max-age=3600"
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media, headers={"Cache-Control": cache})

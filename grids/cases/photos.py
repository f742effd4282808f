"""Case photos: checked by content, EXIF stripped, thumbnailed, stored by content, served by case.

A resident attaches up to `MAX_REPORT_PHOTOS` to their report (with the case
token); staff who may see a case add photos before and after handling
(处置前/处置后).  The type is what the bytes are (Pillow reads them), never the
file's name or the client's content type; JPEG, PNG and WebP only, at most
`MAX_PHOTO_BYTES`.  The image is decoded and encoded again without its
metadata, so the GPS position and device ids phones embed in EXIF (and PNG
text chunks) never reach the store; the orientation is applied first so the
photo still stands the right way up.  Every addition is audited.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grids.cases.access import Actor
from grids.cases.views import visible_case
from layers.core.errors import ConflictError, InvalidInputError, NotFoundError, UnprocessableError
from layers.core.roles import Role
from layers.store import media
from layers.tables.audit import record
from layers.tables.case_photos import PHOTO_KINDS, CasePhoto

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_REPORT_PHOTOS = 3
MAX_PIXELS = 60_000_000
"""Larger images are refused before decoding (a small file can unpack to gigabytes)."""
THUMB_PX = 320
FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}


@dataclass(frozen=True)
class CleanImage:
    """An image re-encoded without metadata, and its thumbnail (JPEG)."""

    data: bytes
    content_type: str
    suffix: str
    width: int
    height: int
    thumb: bytes


def _open(data: bytes) -> Image.Image:
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInputError("a photo may be 10 MB at most", code="photo_too_large")
    try:
        probe = Image.open(io.BytesIO(data))
        if probe.format not in FORMATS:
            raise UnprocessableError(
                f"{probe.format} is not accepted: JPEG, PNG or WebP", code="unsupported_photo_type"
            )
        if probe.width * probe.height > MAX_PIXELS:
            raise InvalidInputError("the photo has too many pixels", code="photo_too_large")
        probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UnprocessableError(
            "not a readable JPEG, PNG or WebP image", code="unsupported_photo_type"
        ) from exc
    return image


def clean_image(data: bytes) -> CleanImage:
    """The photo re-encoded in its own format without EXIF or text chunks, plus a thumbnail."""
    image = _open(data)
    fmt = image.format or ""
    content_type, suffix = FORMATS[fmt]
    upright = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    if fmt == "JPEG":
        upright.convert("RGB").save(out, "JPEG", quality=90, optimize=True)
    elif fmt == "PNG":
        upright.save(out, "PNG", optimize=True)
    else:
        upright.save(out, "WEBP", quality=90)
    thumb = upright.convert("RGB")
    thumb.thumbnail((THUMB_PX, THUMB_PX))
    small = io.BytesIO()
    thumb.save(small, "JPEG", quality=80)
    return CleanImage(
        out.getvalue(), content_type, suffix, upright.width, upright.height, small.getvalue()
    )


def add_photo(
    *,
    session: Session,
    incident_id: int,
    actor: Actor,
    token: str | None,
    kind: str,
    data: bytes,
    media_root: Path,
    now: datetime,
) -> CasePhoto:
    """Store a photo of a case the actor may see; the same photo twice is stored once."""
    visible_case(session=session, incident_id=incident_id, actor=actor, token=token)
    if kind not in PHOTO_KINDS or (actor.role == Role.RESIDENT and kind != "report"):
        raise InvalidInputError(
            "residents add report photos; staff add before/after photos", code="invalid_photo_kind"
        )
    clean = clean_image(data)
    sha = media.digest(clean.data)
    found = session.scalar(
        select(CasePhoto).where(CasePhoto.incident_id == incident_id, CasePhoto.sha256 == sha)
    )
    if found is not None:
        return found
    if kind == "report":
        count = session.scalar(
            select(func.count()).where(
                CasePhoto.incident_id == incident_id, CasePhoto.kind == "report"
            )
        )
        if (count or 0) >= MAX_REPORT_PHOTOS:
            raise ConflictError("a report has 3 photos at most", code="too_many_photos")
    media.put(media_root, sha, clean.suffix, clean.data)
    media.put(media_root, sha, ".thumb.jpg", clean.thumb)
    photo = CasePhoto(
        incident_id=incident_id,
        sha256=sha,
        kind=kind,
        content_type=clean.content_type,
        width=clean.width,
        height=clean.height,
        bytes=len(clean.data),
        uploaded_at=now.astimezone(UTC),
        uploaded_by=actor.name,
        role=actor.role,
    )
    session.add(photo)
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action="add_photo",
        entity="incident",
        entity_id=incident_id,
        data={"sha256": sha, "kind": kind},
        at=now,
    )
    session.flush()
    return photo


def photos_of(
    *, session: Session, incident_id: int, actor: Actor, token: str | None
) -> list[CasePhoto]:
    """The case's photos, oldest first, for a caller who may see the case."""
    visible_case(session=session, incident_id=incident_id, actor=actor, token=token)
    return list(
        session.scalars(
            select(CasePhoto).where(CasePhoto.incident_id == incident_id).order_by(CasePhoto.id)
        )
    )


def photo_file(
    *,
    session: Session,
    incident_id: int,
    sha: str,
    thumb: bool,
    actor: Actor,
    token: str | None,
    media_root: Path,
) -> tuple[Path, str]:
    """The stored file of one photo of a visible case and its content type (404 otherwise)."""
    visible_case(session=session, incident_id=incident_id, actor=actor, token=token)
    photo = session.scalar(
        select(CasePhoto).where(CasePhoto.incident_id == incident_id, CasePhoto.sha256 == sha)
    )
    if photo is None:
        raise NotFoundError("no such photo", code="photo_not_found")
    if thumb:
        return media.path_of(media_root, sha, ".thumb.jpg"), "image/jpeg"
    return media.path_of(media_root, sha, FORMATS_BY_TYPE[photo.content_type]), photo.content_type


FORMATS_BY_TYPE = {content_type: suffix for content_type, suffix in FORMATS.values()}

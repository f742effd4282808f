"""Case photos over HTTP: add one (multipart), list them, fetch one or its thumbnail.

Whoever may see the case may see its photos (residents with the case token in
``X-Case-Token``); the page fetches them with the header and shows them as
blob URLs, so the token never appears in an image URL.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from geo_api.auth import EVERYONE, Principal, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.routers.incidents import CaseId, CaseToken
from geo_api.schemas.case_shapes import actor_of
from geo_api.schemas.faces import PhotoOut
from grids.cases.photos import MAX_PHOTO_BYTES, add_photo, photo_file, photos_of
from layers.core.errors import InvalidInputError
from layers.tables.case_photos import CasePhoto

router = APIRouter(tags=["incidents"])
Sha = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="The photo's SHA-256.")]


def _out(incident_id: int, p: CasePhoto) -> dict[str, Any]:
    url = f"/incidents/{incident_id}/photos/{p.sha256}"
    return {
        "sha256": p.sha256,
        "kind": p.kind,
        "content_type": p.content_type,
        "width": p.width,
        "height": p.height,
        "bytes": p.bytes,
        "uploaded_at": p.uploaded_at.isoformat(),
        "url": url,
        "thumbnail_url": url + "?thumb=true",
    }


@router.post(
    "/incidents/{incident_id}/photos",
    response_model=PhotoOut,
    status_code=201,
    summary="Add a photo to a case",
)
async def upload(
    incident_id: CaseId,
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, 10 MB at most.")],
    kind: Annotated[
        str, Form(description="report (residents), before or after (staff).")
    ] = "report",
    token: CaseToken = None,
) -> dict[str, Any]:
    """Checked by content, EXIF stripped, thumbnailed, stored by its SHA-256; audited.

    400 ``photo_too_large``, 422 ``unsupported_photo_type``, 409 ``too_many_photos``
    (a report has 3), 404 when the caller may not see the case.
    """
    data = await file.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInputError("a photo may be 10 MB at most", code="photo_too_large")
    root = request.app.state.settings.media_root

    def store() -> CasePhoto:
        photo = add_photo(
            session=session,
            incident_id=incident_id,
            actor=actor_of(principal),
            token=token,
            kind=kind,
            data=data,
            media_root=root,
            now=now,
        )
        session.commit()
        return photo

    return _out(incident_id, await run_in_threadpool(store))


@router.get(
    "/incidents/{incident_id}/photos", response_model=list[PhotoOut], summary="A case's photos"
)
def listing(
    incident_id: CaseId,
    session: SessionDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: CaseToken = None,
) -> list[dict[str, Any]]:
    """Oldest first, with the URLs of each photo and its thumbnail."""
    found = photos_of(
        session=session, incident_id=incident_id, actor=actor_of(principal), token=token
    )
    return [_out(incident_id, p) for p in found]


@router.get(
    "/incidents/{incident_id}/photos/{sha}",
    response_class=FileResponse,
    summary="One photo of a case (or its thumbnail)",
)
def one(
    incident_id: CaseId,
    sha: Sha,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: CaseToken = None,
    thumb: Annotated[bool, Query()] = False,
) -> FileResponse:
    """The stored bytes (no metadata), private to those who may see the case."""
    path, content_type = photo_file(
        session=session,
        incident_id=incident_id,
        sha=sha,
        thumb=thumb,
        actor=actor_of(principal),
        token=token,
        media_root=request.app.state.settings.media_root,
    )
    return FileResponse(
        path, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"}
    )

"""The materials library (证照库): store with consent, list your own, read, delete on request.

The owner's ``X-Library-Token`` (answered by the first upload) reaches their
documents; service staff read one only with ``purpose=proxy_handling`` and the
``proxy_request`` that references it; an admin may delete.  Contents are never
listed or logged; every store, read and deletion is audited.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response

from geo_api.auth import EVERYONE, Principal, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.schemas.case_shapes import actor_of
from geo_api.schemas.media import BINARY
from geo_api.schemas.services import DocumentIn, DocumentOut
from grids.services.documents import (
    delete_document,
    list_documents,
    purge_files,
    read_document,
    store_document,
)
from layers.core.errors import UnprocessableError

router = APIRouter(prefix="/services/documents", tags=["services"])

DocId = Annotated[int, Path(ge=1, le=2**62)]
LibraryToken = Annotated[
    str | None, Header(alias="X-Library-Token", description="Your materials library's token.")
]


def _root(request: Request):
    settings = request.app.state.settings
    return settings.services.media_root(settings.db.home)


@router.post(
    "",
    status_code=201,
    response_model=DocumentOut,
    summary="Store a document in your library (with consent)",
)
def upload(
    body: DocumentIn,
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: LibraryToken = None,
) -> dict[str, Any]:
    """Answers `library_token` (the one you sent, or a new library's)."""
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnprocessableError("content_base64 is not base64", code="invalid_base64") from exc
    s = request.app.state.settings.services
    doc, library_token = store_document(
        session=session,
        root=_root(request),
        kind=body.kind,
        media_type=body.media_type,
        content=content,
        consent=body.consent,
        purpose=body.purpose,
        library_token=token,
        retention_days=s.document_retention_days,
        max_bytes=s.max_document_bytes,
        actor=actor_of(principal),
        now=now,
    )
    session.commit()
    return {
        "id": doc.id,
        "kind": doc.kind,
        "media_type": doc.media_type,
        "size_bytes": doc.size_bytes,
        "stored_at": doc.created_at,
        "retention_until": doc.retention_until,
        "library_token": library_token,
    }


@router.get(
    "",
    response_model=list[DocumentOut],
    dependencies=[allow(*EVERYONE)],
    summary="Your library (metadata only)",
)
def mine(session: SessionDep, now: NowDep, token: LibraryToken = None) -> list[dict[str, Any]]:
    """Only the documents of the library whose token you send; empty without one."""
    return list_documents(session=session, token=token, now=now)


@router.get(
    "/{doc_id}/content",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {"schema": BINARY}}}},
    summary="A document's content (owner, or staff for a purpose)",
)
def content(
    doc_id: DocId,
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: LibraryToken = None,
    purpose: Annotated[str | None, Query(max_length=40)] = None,
    proxy_request: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """Audited; never cached."""
    doc, data = read_document(
        session=session,
        root=_root(request),
        doc_id=doc_id,
        actor=actor_of(principal),
        token=token,
        purpose=purpose,
        proxy_request_id=proxy_request,
        now=now,
    )
    session.commit()
    return Response(data, media_type=doc.media_type, headers={"Cache-Control": "no-store"})


@router.delete(
    "/{doc_id}", status_code=204, response_class=Response, summary="Delete a document on request"
)
def remove(
    doc_id: DocId,
    request: Request,
    session: SessionDep,
    now: NowDep,
    principal: Annotated[Principal, allow(*EVERYONE)],
    token: LibraryToken = None,
) -> Response:
    """The owner (token) or an admin; the file goes when no other live entry shares it."""
    sha = delete_document(
        session=session, doc_id=doc_id, actor=actor_of(principal), token=token, now=now
    )
    session.commit()
    purge_files(session=session, root=_root(request), shas=[sha])
    return Response(status_code=204)

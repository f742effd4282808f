"""The materials library (证照库): documents stored once with consent, reused by reference.

Content-addressed like photos: the bytes go to ``<media>/<sha[:2]>/<sha>`` (one
file however often the same scan is uploaded), the row keeps only metadata.
The owner holds a library token (``X-Library-Token``); service staff read a
document only for a stated purpose on a proxy request that references it; each
store, read and deletion is audited without content.  Documents expire at
`retention_until`; deletion on request marks the row and removes the file once
no live row points at it.  Nothing here logs content, names or kinds per person.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from grids.cases.access import Actor, token_hash
from grids.services.tokens import new_token, require
from layers.core.errors import (
    ForbiddenError,
    NotFoundError,
    PayloadTooLargeError,
    UnprocessableError,
)
from layers.core.roles import SERVICE_STAFF, Role
from layers.tables.audit import record
from layers.tables.resident_documents import ResidentDocument
from layers.tables.service_items import MATERIAL_KINDS

MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG", "application/pdf": b"%PDF"}
"""Accepted media types and how their content starts."""
PURPOSES = ("proxy_handling",)
"""Why staff may read a document (they must say which, and on which request)."""


def media_path(root: Path, sha: str) -> Path:
    """Where the content of `sha` lives."""
    return root / sha[:2] / sha


def _write_once(root: Path, sha: str, content: bytes) -> None:
    path = media_path(root, sha)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{sha}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    tmp.replace(path)


def _check_upload(
    kind: str, media_type: str, content: bytes, consent: bool, max_bytes: int
) -> None:
    if not consent:
        raise UnprocessableError("storing a document needs your consent", code="consent_required")
    if kind not in MATERIAL_KINDS:
        raise UnprocessableError(
            f"unknown material kind {kind!r}", code="unknown_material", allowed=list(MATERIAL_KINDS)
        )
    if len(content) > max_bytes:
        raise PayloadTooLargeError(f"a document is at most {max_bytes} bytes")
    magic = MAGIC.get(media_type)
    if magic is None or not content.startswith(magic):
        raise UnprocessableError(
            "only JPEG, PNG or PDF documents are accepted",
            code="unsupported_document",
            allowed=list(MAGIC),
        )


def store_document(
    *,
    session: Session,
    root: Path,
    kind: str,
    media_type: str,
    content: bytes,
    consent: bool,
    purpose: str,
    library_token: str | None,
    retention_days: int,
    max_bytes: int,
    actor: Actor,
    now: datetime,
) -> tuple[ResidentDocument, str]:
    """Store a document (validated first); answers it and the library token (new if none given)."""
    _check_upload(kind, media_type, content, consent, max_bytes)
    if library_token:
        owner = token_hash(library_token)
        if (
            session.scalar(
                select(ResidentDocument.id)
                .where(ResidentDocument.owner_token_hash == owner)
                .limit(1)
            )
            is None
        ):
            raise NotFoundError("no such library", code="unknown_library")
        token = library_token
    else:
        token, owner = new_token()
    sha = hashlib.sha256(content).hexdigest()
    doc = ResidentDocument(
        owner_token_hash=owner,
        kind=kind,
        sha256=sha,
        size_bytes=len(content),
        media_type=media_type,
        consent_purpose=purpose,
        consent_at=now,
        retention_until=now + timedelta(days=retention_days),
        created_at=now,
    )
    session.add(doc)
    session.flush()
    _write_once(root, sha, content)
    _audit(session, actor, "document_stored", doc.id, now, {"retention_days": retention_days})
    return doc, token


def _audit(
    session: Session, actor: Actor, action: str, doc_id: int, now: datetime, data: dict
) -> None:
    record(
        session=session,
        actor=actor.name,
        role=actor.role,
        action=action,
        entity="resident_documents",
        entity_id=doc_id,
        data=data,
        at=now,
    )


def owned_kinds(*, session: Session, ids: Iterable[int], token: str | None) -> set[str]:
    """Kinds of the live documents `ids` of the token's library; 422 for any not in it."""
    wanted = set(ids)
    if not wanted:
        return set()
    rows = session.execute(
        text(
            "SELECT id, kind FROM resident_documents WHERE id = ANY(:ids) AND deleted_at IS NULL "
            "AND owner_token_hash = :o"
        ),
        {"ids": list(wanted), "o": token_hash(token) if token else ""},
    ).all()
    if len(rows) != len(wanted):
        raise UnprocessableError("some documents are not in your library", code="unknown_document")
    return {r.kind for r in rows}


def list_documents(*, session: Session, token: str | None, now: datetime) -> list[dict]:
    """The owner's live documents as metadata (never content); empty without a token."""
    if not token:
        return []
    docs = session.scalars(
        select(ResidentDocument)
        .where(
            ResidentDocument.owner_token_hash == token_hash(token),
            ResidentDocument.deleted_at.is_(None),
            ResidentDocument.retention_until > now,
        )
        .order_by(ResidentDocument.id)
    )
    return [
        {
            "id": d.id,
            "kind": d.kind,
            "media_type": d.media_type,
            "size_bytes": d.size_bytes,
            "stored_at": d.created_at,
            "retention_until": d.retention_until,
        }
        for d in docs
    ]


def _live(session: Session, doc_id: int, now: datetime) -> ResidentDocument:
    doc = session.get(ResidentDocument, doc_id)
    if doc is None or doc.deleted_at is not None or doc.retention_until <= now:
        raise NotFoundError("no such document", code="unknown_document")
    return doc


def read_document(
    *,
    session: Session,
    root: Path,
    doc_id: int,
    actor: Actor,
    token: str | None,
    purpose: str | None,
    proxy_request_id: int | None,
    now: datetime,
) -> tuple[ResidentDocument, bytes]:
    """The document's content for its owner, or for service staff with a purpose (audited)."""
    doc = _live(session, doc_id, now)
    if actor.role not in SERVICE_STAFF:
        require(token, doc.owner_token_hash, what="document", code="unknown_document")
    else:
        if purpose not in PURPOSES or proxy_request_id is None:
            raise ForbiddenError(
                "say why: purpose=proxy_handling and the proxy_request it serves",
                code="purpose_required",
            )
        used = session.execute(
            text("SELECT 1 FROM proxy_requests WHERE id = :r AND :d = ANY(document_ids)"),
            {"r": proxy_request_id, "d": doc.id},
        ).scalar()
        if used is None:
            raise ForbiddenError("that request does not use this document", code="not_referenced")
    _audit(
        session,
        actor,
        "document_read",
        doc.id,
        now,
        {"purpose": purpose or "owner", "proxy_request": proxy_request_id},
    )
    return doc, media_path(root, doc.sha256).read_bytes()


def delete_document(
    *, session: Session, doc_id: int, actor: Actor, token: str | None, now: datetime
) -> str:
    """Delete on request (owner, or an admin); answers the hash to purge after the commit."""
    doc = _live(session, doc_id, now)
    if actor.role != Role.ADMIN:
        require(token, doc.owner_token_hash, what="document", code="unknown_document")
    doc.deleted_at = now
    _audit(session, actor, "document_deleted", doc.id, now, {})
    return doc.sha256


def expire_documents(*, session: Session, actor: Actor, now: datetime) -> list[str]:
    """Mark every document past its retention deleted; answers their hashes to purge."""
    rows = session.execute(
        text(
            "UPDATE resident_documents SET deleted_at = :n WHERE deleted_at IS NULL "
            "AND retention_until <= :n RETURNING id, sha256"
        ),
        {"n": now},
    ).all()
    if rows:
        record(
            session=session,
            actor=actor.name,
            role=actor.role,
            action="documents_expired",
            entity="resident_documents",
            data={"count": len(rows)},
            at=now,
        )
    return [r.sha256 for r in rows]


def purge_files(*, session: Session, root: Path, shas: Iterable[str]) -> int:
    """Remove the files of `shas` no live row references any more (after the commit)."""
    removed = 0
    for sha in set(shas):
        live = session.execute(
            text(
                "SELECT 1 FROM resident_documents WHERE sha256 = :s AND deleted_at IS NULL LIMIT 1"
            ),
            {"s": sha},
        ).scalar()
        path = media_path(root, sha)
        if live is None and path.exists():
            path.unlink()
            removed += 1
    return removed

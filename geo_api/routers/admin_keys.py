"""Key and sign-in session management for administrators (`wangge keys` does the same).

Every write is audited.  Writes need the admin's key in the Authorization
header: a browser's sign-in cookie authorises reads only, so a page opened
elsewhere cannot create or revoke keys on an admin's behalf.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from geo_api.auth import Principal, Role, allow
from geo_api.deps import NowDep, SessionDep
from geo_api.schemas.keys import KeyCreated, KeyIn, KeyOut, SessionOut
from layers.tables.api_keys import KeyInfo, issue_key, list_keys, revoke_key
from layers.tables.web_sessions import list_sessions, revoke_session

router = APIRouter(prefix="/admin", tags=["admin"])

Admin = Annotated[Principal, allow(Role.ADMIN)]
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The key's id.")]
SessionId = Annotated[int, Path(ge=1, le=2**62, description="The session's id.")]
NO_STORE = {"Cache-Control": "no-store"}


def _key_out(info: KeyInfo, now) -> dict[str, Any]:
    return {**asdict(info), "active": info.active(now)}


@router.get("/keys", response_model=list[KeyOut], summary="API keys (admin)")
def keys(
    session: SessionDep,
    now: NowDep,
    _admin: Admin,
    include_revoked: Annotated[bool, Query(description="List revoked keys too.")] = False,
) -> list[dict[str, Any]]:
    """Every live key (or every key), oldest first: name, role, worker, created, last used."""
    return [_key_out(k, now) for k in list_keys(session=session, include_revoked=include_revoked)]


@router.post("/keys", status_code=201, response_model=KeyCreated, summary="Create an API key")
def create(body: KeyIn, session: SessionDep, now: NowDep, admin: Admin) -> JSONResponse:
    """A new key; the answer is the only time the key itself is shown (not cached).

    A ``grid_worker`` key names its ``worker_id`` (its "own cells" are that
    worker's); 422 ``worker_required``, ``worker_not_allowed``, ``unknown_worker``
    or ``bad_expiry`` otherwise.
    """
    key, info = issue_key(
        session=session,
        role=body.role,
        name=body.name,
        now=now,
        actor=admin.name,
        actor_role=admin.role,
        worker_id=body.worker_id,
        expires_at=body.expires_at,
    )
    session.commit()
    content = KeyCreated(**_key_out(info, now), key=key).model_dump(mode="json")
    return JSONResponse(content, status_code=201, headers=NO_STORE)


@router.post("/keys/{key_id}/revoke", response_model=KeyOut, summary="Revoke an API key")
def revoke(key_id: KeyId, session: SessionDep, now: NowDep, admin: Admin) -> dict[str, Any]:
    """The key stops working at once, and so do the browser sessions opened with it."""
    info = revoke_key(
        session=session, key_id=key_id, now=now, actor=admin.name, actor_role=admin.role
    )
    session.commit()
    return _key_out(info, now)


@router.get("/sessions", response_model=list[SessionOut], summary="Signed-in browsers (admin)")
def sessions(session: SessionDep, now: NowDep, _admin: Admin) -> list[dict[str, Any]]:
    """Live sign-in sessions, most recently used first."""
    return [asdict(s) for s in list_sessions(session=session, now=now)]


@router.post(
    "/sessions/{session_id}/revoke", response_model=SessionOut, summary="End a sign-in session"
)
def end(session_id: SessionId, session: SessionDep, now: NowDep, admin: Admin) -> dict[str, Any]:
    """Sign a browser out from here (its key keeps working)."""
    info = revoke_session(
        session=session, session_id=session_id, now=now, actor=admin.name, actor_role=admin.role
    )
    session.commit()
    return asdict(info)

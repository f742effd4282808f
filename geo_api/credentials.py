"""Checking presented credentials: API keys (throttled, audited) and sign-in session ids.

Failed authentications are counted per client address and per key prefix
(`geo_api.throttle`, in this process).  A blocked address is refused with 429
before its key is even looked up; a blocked prefix refuses the wrong keys that
carry it, while the right key with that prefix still works, so nobody can lock
a colleague out by sending wrong keys that start like theirs.  Each failure is
audited, and so is the one that starts a block (not every refusal after it,
which would let a flood write a row per request).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy.orm import Session

from geo_api.auth_settings import AuthSettings
from geo_api.throttle import FailureThrottle, UseMarks
from layers.core.errors import NotAuthenticatedError, TooManyRequestsError
from layers.core.roles import Role
from layers.tables.api_keys import LAST_USE_EVERY, KeyOwner, find_key_owner, key_prefix, touch_key
from layers.tables.audit import record
from layers.tables.web_sessions import SessionOwner, find_session_owner, touch_session


class AuthGuard:
    """This process's failed-authentication throttle and last-use memo."""

    def __init__(self, settings: AuthSettings) -> None:
        window = timedelta(seconds=settings.failure_window_s)
        self.by_address = FailureThrottle(limit=settings.failures_per_address, window=window)
        self.by_prefix = FailureThrottle(limit=settings.failures_per_prefix, window=window)
        self.marks = UseMarks(LAST_USE_EVERY)
        self.session_lifetime = timedelta(hours=settings.session_hours)
        idle = settings.session_idle_minutes
        self.session_idle = timedelta(minutes=idle) if idle > 0 else None


def client_address(request: Request) -> str:
    """The caller's address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else "unknown"


def client_fingerprint(request: Request) -> str:
    """What tells callers without a key apart: their address and their user agent."""
    return f"{client_address(request)}\n{request.headers.get('user-agent', '')}"


def _guard(request: Request) -> AuthGuard:
    return request.app.state.auth_guard


def _now(request: Request) -> datetime:
    return request.app.state.clock()


def _audit(session: Session, request: Request, action: str, **data: object) -> None:
    record(
        session=session,
        actor="unauthenticated",
        role=Role.RESIDENT,
        action=action,
        entity="api_keys",
        data={"client": client_address(request), "path": request.url.path, **data},
    )


def _throttled(wait: int, what: str) -> TooManyRequestsError:
    return TooManyRequestsError(
        f"too many failed authentications from this {what}; retry in {wait} s",
        code="auth_throttled",
        retry_after_s=wait,
    )


def refuse_if_blocked(request: Request) -> None:
    """429 when the caller's address is blocked (checked before any key work)."""
    wait = _guard(request).by_address.retry_after(client_address(request), _now(request))
    if wait is not None:
        raise _throttled(wait, "address")


def failed(
    request: Request, session: Session, *, via: str, reason: str, prefix: str | None = None
) -> None:
    """Count and audit one failed authentication (committed at once: the request fails next)."""
    guard, now, client = _guard(request), _now(request), client_address(request)
    blocked = guard.by_address.fail(client, now)
    if prefix is not None:
        blocked = guard.by_prefix.fail(prefix, now) or blocked
    _audit(session, request, "auth_failed", via=via, reason=reason, prefix=prefix)
    if blocked:
        _audit(session, request, "auth_throttled", via=via, prefix=prefix)
    session.commit()


def check_key(request: Request, session: Session, key: str, *, via: str) -> KeyOwner:
    """The owner of a presented API key; 401 for a wrong one, 429 while throttled."""
    refuse_if_blocked(request)
    now = _now(request)
    owner = find_key_owner(session=session, key=key, now=now)
    if owner is not None:
        if _guard(request).marks.due(f"key:{owner.key_id}", now):
            touch_key(session=session, key_id=owner.key_id, now=now)
            session.commit()
        return owner
    prefix = key_prefix(key)
    wait = _guard(request).by_prefix.retry_after(prefix, now)
    if wait is not None:
        raise _throttled(wait, "key prefix")
    failed(request, session, via=via, reason="invalid_api_key", prefix=prefix)
    raise NotAuthenticatedError("unknown, revoked or expired API key", code="invalid_api_key")


def check_session(request: Request, session: Session, token: str) -> SessionOwner | None:
    """The owner of a live sign-in session id, or None (a stale cookie is simply no sign-in)."""
    guard, now = _guard(request), _now(request)
    found = find_session_owner(session=session, token=token, now=now, idle=guard.session_idle)
    if found is not None and guard.marks.due(f"session:{found.session_id}", now):
        touch_session(session=session, session_id=found.session_id, now=now)
        session.commit()
    return found

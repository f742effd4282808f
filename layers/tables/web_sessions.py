"""Browser sign-in sessions: an opaque random id in the cookie, only its hash in the database.

A session belongs to one live API key and carries its role, an absolute expiry,
its last use and the address it was opened from.  It is not the key: it cannot
be presented as a Bearer key (keys and session ids live in different tables and
look different), and ending it (logout, an admin) leaves the key alone.  A
revoked or expired key ends every session opened with it, because a session is
only honoured while its key is live.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    String,
    Text,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from layers.core.errors import NotFoundError
from layers.core.roles import STAFF, role_check_sql
from layers.tables.api_keys import ApiKey, KeyOwner
from layers.tables.audit import record
from layers.tables.base import Base

SESSION_ID_PREFIX = "ws_"
MAX_SESSION_ID_LENGTH = 200
LAST_USE_EVERY = timedelta(minutes=1)
"""`last_used_at` is written at most this often per session (no write per page view)."""


class WebSession(Base):
    """One signed-in browser."""

    __tablename__ = "web_sessions"
    __table_args__ = (CheckConstraint(role_check_sql(STAFF), name="role"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False, index=True
    )
    role: Mapped[str] = mapped_column(Text, nullable=False)
    client: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class SessionOwner:
    """Who a presented session id stands for: the session and its key's owner."""

    session_id: int
    owner: KeyOwner


@dataclass(frozen=True)
class SessionInfo:
    """What an administrator sees of a session (never the id itself)."""

    id: int
    key_id: int
    key_name: str
    role: str
    client: str | None
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime
    revoked_at: datetime | None


def hash_session_id(session_id: str) -> str:
    """Hex SHA-256 of a session id (random, so no salt is needed)."""
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def start_session(
    *,
    session: Session,
    owner: KeyOwner,
    now: datetime,
    lifetime: timedelta,
    client: str | None,
    replaces: str | None = None,
) -> str:
    """Open a session for a key's owner and return its id (shown once, stored hashed).

    `replaces` is the session id the browser held before, if any: signing in
    ends it, so a session id planted in a browser before sign-in (fixation) or
    left over from another user never becomes a signed-in session.
    """
    if replaces:
        _end(session, replaces, now)
    token = SESSION_ID_PREFIX + secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=hash_session_id(token),
        key_id=owner.key_id,
        role=owner.role,
        client=client,
        created_at=now,
        expires_at=now + lifetime,
        last_used_at=now,
    )
    session.add(row)
    session.flush()
    record(
        session=session,
        actor=owner.name,
        role=owner.role,
        action="login",
        entity="api_keys",
        entity_id=owner.key_id,
        data={"client": client, "session_id": row.id},
    )
    return token


def find_session_owner(
    *, session: Session, token: str, now: datetime, idle: timedelta | None = None
) -> SessionOwner | None:
    """The owner of a session live at `now` (and used within `idle`, if given), else None.

    A session is live while it is neither revoked nor expired and its key is live.
    """
    if not token.startswith(SESSION_ID_PREFIX) or len(token) > MAX_SESSION_ID_LENGTH:
        return None  # an API key or garbage in the cookie: never a session
    query = (
        select(WebSession.id, WebSession.role, ApiKey.id.label("key_id"), ApiKey.name)
        .add_columns(ApiKey.worker_id)
        .join(ApiKey, ApiKey.id == WebSession.key_id)
        .where(
            WebSession.token_hash == hash_session_id(token),
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > now,
            ApiKey.revoked_at.is_(None),
            or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
        )
    )
    if idle is not None:
        # last_used_at is written at most once a minute, so allow for that much lag
        query = query.where(WebSession.last_used_at > now - idle - LAST_USE_EVERY)
    row = session.execute(query).first()
    if row is None:
        return None
    return SessionOwner(row.id, KeyOwner(row.key_id, row.role, row.name, row.worker_id))


def touch_session(*, session: Session, session_id: int, now: datetime) -> None:
    """Note the session's use at `now`, unless a use within `LAST_USE_EVERY` is noted already."""
    session.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.last_used_at < now - LAST_USE_EVERY)
        .values(last_used_at=now)
    )


def _end(session: Session, token: str, now: datetime) -> WebSession | None:
    row = session.execute(
        select(WebSession).where(WebSession.token_hash == hash_session_id(token))
    ).scalar_one_or_none()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        session.flush()
        return row
    return None


def end_session(*, session: Session, token: str, now: datetime, client: str | None) -> bool:
    """Sign a browser out: revoke its session (audited); False when it held no live one."""
    row = _end(session, token, now)
    if row is None:
        return False
    name = session.execute(select(ApiKey.name).where(ApiKey.id == row.key_id)).scalar_one()
    record(
        session=session,
        actor=name,
        role=row.role,
        action="logout",
        entity="web_sessions",
        entity_id=row.id,
        data={"client": client},
    )
    return True


def _info_query():
    return select(WebSession, ApiKey.name).join(ApiKey, ApiKey.id == WebSession.key_id)


def _info(row: WebSession, key_name: str) -> SessionInfo:
    return SessionInfo(
        row.id,
        row.key_id,
        key_name,
        row.role,
        row.client,
        row.created_at,
        row.expires_at,
        row.last_used_at,
        row.revoked_at,
    )


def list_sessions(*, session: Session, now: datetime) -> list[SessionInfo]:
    """The sessions live at `now` (their key live too), most recently used first."""
    query = _info_query().where(
        WebSession.revoked_at.is_(None),
        WebSession.expires_at > now,
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
    )
    rows = session.execute(query.order_by(WebSession.last_used_at.desc(), WebSession.id)).all()
    return [_info(row, name) for row, name in rows]


def revoke_session(
    *, session: Session, session_id: int, now: datetime, actor: str, actor_role: str
) -> SessionInfo:
    """End a session by its id (an administrator's act, audited); 404 for no such session."""
    found = session.execute(
        _info_query().where(WebSession.id == session_id).with_for_update(of=WebSession)
    ).first()
    if found is None:
        raise NotFoundError(f"no session {session_id}", code="unknown_session")
    row, name = found
    if row.revoked_at is None:
        row.revoked_at = now
        record(
            session=session,
            actor=actor,
            role=actor_role,
            action="session_revoke",
            entity="web_sessions",
            entity_id=session_id,
            data={"key_id": row.key_id},
        )
        session.flush()
    return _info(row, name)

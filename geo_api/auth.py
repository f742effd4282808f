"""Who is calling, and may they call this endpoint?

Every route declares the roles allowed to call it with `Allow(...)` (a
dependency), so the role × endpoint table is in the code and can be listed
(`geo_api.access.access_table`) and tested for every route.  A request without
a key is a resident; a key that is unknown or revoked is refused, never
silently downgraded.  A browser signs in once (`POST /login`) and then holds
a session cookie that authorises reading, and writing with its CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from geo_api.credentials import check_key, check_session, failed, refuse_if_blocked
from geo_api.deps import SessionDep
from layers.core.errors import ForbiddenError, NotAuthenticatedError, NotFoundError
from layers.core.roles import EVERYONE as EVERYONE  # the routes read the roles from here
from layers.core.roles import STAFF, Role
from layers.tables.api_keys import KeyOwner


@dataclass(frozen=True)
class Principal:
    """The caller: a role, a display name for audit trails, and the key behind it."""

    role: Role
    name: str
    key_id: int | None = None
    worker_id: int | None = None

    @property
    def is_staff(self) -> bool:
        """Staff see personal data and sensitive layers; residents never do."""
        return self.role in STAFF

    @property
    def authenticated(self) -> bool:
        """True when the caller presented a valid key."""
        return self.key_id is not None


ANONYMOUS = Principal(Role.RESIDENT, "anonymous")


SESSION_COOKIE = "wangge_session"
"""Cookie set by `POST /login`: an opaque sign-in session id (never the API key)."""
LEGACY_COOKIE = "wangge_key"
"""The cookie that used to hold the raw key: ignored, and deleted at sign-in and sign-out."""
SAFE_METHODS = frozenset({"GET", "HEAD"})


CSRF_HEADER = "X-CSRF-Token"
"""The header a signed-in page sends its session's CSRF token in, on every write."""


def csrf_token(session_token: str) -> str:
    """The CSRF token of a sign-in session: derived from its secret id, so it needs no storage.

    Only a page of this service can know it (the server writes it into the page;
    the cookie itself is HttpOnly), and another site cannot set a custom header
    on a request it makes the browser send.
    """
    return hmac.new(session_token.encode(), b"wangge-csrf", hashlib.sha256).hexdigest()


def session_cookie(request: Request) -> str | None:
    """The sign-in session id in the cookie: for reading (GET/HEAD), or with its CSRF token.

    A cookie travels with every request a browser makes, so alone it never
    authorises a write (that would open the door to cross-site request
    forgery): a write needs the Authorization header, or the session's CSRF
    token in `X-CSRF-Token` (a session without it stays read-only).
    """
    token = request.cookies.get(SESSION_COOKIE) or None
    if request.method in SAFE_METHODS or token is None:
        return token
    sent = request.headers.get(CSRF_HEADER)
    if sent and hmac.compare_digest(sent, csrf_token(token)):
        return token
    return None


def principal_of(owner: KeyOwner) -> Principal:
    """The principal a key (or a session opened with it) stands for."""
    return Principal(Role(owner.role), owner.name, owner.key_id, owner.worker_id)


def current_principal(request: Request, session: SessionDep) -> Principal:
    """Resolve the `Authorization: Bearer <key>` header, else the session cookie (reads only).

    No credentials = the anonymous resident.  A bad header is refused (401, and
    429 once a client or key prefix has failed too often); a cookie whose
    session ended (logout, expiry, revoked key) is ignored, which leaves the
    caller a resident.
    """
    header = request.headers.get("authorization")
    if not header:
        token = session_cookie(request)
        found = check_session(request, session, token) if token else None
        return ANONYMOUS if found is None else principal_of(found.owner)
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        refuse_if_blocked(request)
        failed(request, session, via="header", reason="malformed_credentials")
        raise NotAuthenticatedError(
            "the Authorization header must be `Bearer <api key>`", code="malformed_credentials"
        )
    return principal_of(check_key(request, session, key.strip(), via="bearer"))


PrincipalDep = Annotated[Principal, Depends(current_principal)]


class Allow:
    """Dependency admitting only `roles`; `hide=True` answers 404 instead of 401/403.

    Hiding is for resources whose very existence is sensitive (camera positions):
    a resident must not learn that a hidden collection or item exists.
    """

    def __init__(self, *roles: Role, hide: bool = False) -> None:
        self.roles: frozenset[Role] = frozenset(roles)
        self.hide = hide

    def __call__(self, principal: PrincipalDep) -> Principal:
        """Return the principal when admitted; raise otherwise."""
        if principal.role in self.roles:
            return principal
        if self.hide:
            raise NotFoundError("not found")
        if not principal.authenticated:
            raise NotAuthenticatedError(
                "this endpoint needs an API key (Authorization: Bearer <key>)"
            )
        allowed = ", ".join(sorted(self.roles))
        raise ForbiddenError(f"role {principal.role} may not do this; allowed: {allowed}")

    def __repr__(self) -> str:
        return f"Allow({', '.join(sorted(self.roles))}{', hide=True' if self.hide else ''})"


def allow(*roles: Role, hide: bool = False) -> object:
    """`Depends(Allow(...))`, for a route's `dependencies=[...]` or a parameter default."""
    return Depends(Allow(*roles, hide=hide))

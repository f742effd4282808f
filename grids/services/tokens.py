"""Residents' tokens for their appointments, requests and library, checked in constant time.

Like the case token of the intake: handed out once, only the SHA-256 stored, sent
back in a header.  A wrong or missing token answers 404, as if the thing did not
exist, so ids cannot be probed.
"""

from __future__ import annotations

import hmac
import secrets

from grids.cases.access import token_hash
from layers.core.errors import NotFoundError


def new_token() -> tuple[str, str]:
    """(token, its hash)."""
    token = secrets.token_urlsafe(24)
    return token, token_hash(token)


def matches(token: str | None, stored_hash: str | None) -> bool:
    """Does `token` hash to `stored_hash`?"""
    return bool(token and stored_hash) and hmac.compare_digest(
        token_hash(token or ""), stored_hash or ""
    )


def require(token: str | None, stored_hash: str | None, *, what: str, code: str) -> None:
    """404 `code` unless `token` matches (staff callers skip this check)."""
    if not matches(token, stored_hash):
        raise NotFoundError(f"no such {what}", code=code)

"""Request and response models of key and session management (administrators only)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from layers.core.roles import ROLES

if TYPE_CHECKING:
    KeyRole = str
else:
    KeyRole = Literal[tuple(str(r) for r in ROLES)]
    # A Literal of `ROLES`, not the enum: the schema stays an inline enum, an error literal_error.


class KeyIn(BaseModel):
    """A key to create: its role, a name saying whose it is, its worker (grid workers)."""

    model_config = ConfigDict(extra="forbid")

    role: KeyRole
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    worker_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the key stops working (with a time zone); none = never."
    )


class KeyOut(BaseModel):
    """A key as listed: never the key or its hash, only its first characters."""

    id: int
    prefix: str
    role: KeyRole
    name: str
    worker_id: int | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="Updated at most once a minute.")
    revoked_at: datetime | None
    active: bool


class KeyCreated(KeyOut):
    """A key just created: `key` is shown this once and never again."""

    key: str


class SessionOut(BaseModel):
    """A browser sign-in session (its id is never shown, only its number)."""

    id: int
    key_id: int
    key_name: str
    role: KeyRole
    client: str | None
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime
    revoked_at: datetime | None

"""What "the live grid" is right now, and the lock that keeps it still under a writer.

Intake and publish share the live grid: an intake routes a case by it, a
publish replaces part of it and moves the open cases off the cells it closes.
Without a common lock a case located in the old grid could commit after the
publish had moved the cases it could see, and stay on a closed cell for good.
So every writer that routes by the live grid holds ``LIVE_GRID_LOCK`` in share
mode for its transaction (cheap: shared holders never wait for each other), and
a publish takes it exclusively just before it swaps cells.  Under the share lock
the writer reads the grid's version — the newest published revision — so it can
tell whether the grid it holds in memory is still the live one.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

LIVE_GRID_LOCK = 5_202_612
"""Advisory lock on the live grid: share = routing by it, exclusive = replacing it."""

_VERSION_SQL = text("SELECT coalesce(max(id), 0) FROM grid_revisions WHERE status = 'published'")


def live_grid_version(*, session: Session) -> int:
    """The live grid's version: the id of the newest published revision (0 for none)."""
    return int(session.execute(_VERSION_SQL).scalar_one())


_HOLD_SQL = text(
    "SELECT pg_advisory_xact_lock_shared(:k); "
    "SELECT coalesce(max(id), 0) FROM grid_revisions WHERE status = 'published'"
)


def hold_live_grid(*, session: Session) -> int:
    """Keep the live grid from changing until this transaction ends; returns its version.

    Two statements on purpose, sent in one round trip (psycopg2 sends the string as
    one simple query, whose statements each take their own snapshot): in READ
    COMMITTED a statement sees the data as of its start, so the version must be
    read by a statement that starts after the lock is granted — a publish may
    commit while we wait for it.
    """
    return int(session.execute(_HOLD_SQL, {"k": LIVE_GRID_LOCK}).scalar_one())


def lock_live_grid(*, session: Session) -> None:
    """Wait for every transaction routing by the live grid, and keep new ones waiting."""
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LIVE_GRID_LOCK})
